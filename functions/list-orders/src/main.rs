//! GET /orders: every customer's orders of one status, oldest first (admins).

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::ListOrders)
}
