//! POST /products/{id}/restock: adds stock on hand; honours Idempotency-Key.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::RestockProduct)
}
