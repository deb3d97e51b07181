//! PATCH /customers/{id}: changes a customer's name and/or address.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::UpdateCustomer)
}
