//! GET /customers/{id}/orders: a customer's orders, newest first, paged, optionally by status.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::FindOrderHistory)
}
