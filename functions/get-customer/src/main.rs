//! GET /customers/{id}: one customer with available credit.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::GetCustomer)
}
