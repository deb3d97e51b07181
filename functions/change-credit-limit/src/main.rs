//! PUT /customers/{id}/credit-limit: sets a customer's credit limit.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::ChangeCreditLimit)
}
