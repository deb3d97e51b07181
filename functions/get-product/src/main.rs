//! GET /products/{id}: one product with its available stock.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::GetProduct)
}
