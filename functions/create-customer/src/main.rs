//! POST /customers: registers a customer (unique email, credit limit); honours Idempotency-Key.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::CreateCustomer)
}
