//! Saga step on CreditReserved: approves the order.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::ApproveOrder)
}
