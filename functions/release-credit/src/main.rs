//! Saga step on OrderRejected / OrderCancelled / CreditReleaseRequested: gives the order's credit back.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::ReleaseCredit)
}
