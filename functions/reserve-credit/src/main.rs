//! Saga step on OrderPriced: holds the order's total against the customer's credit limit.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::ReserveCredit)
}
