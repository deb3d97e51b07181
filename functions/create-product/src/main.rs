//! POST /products: adds a product to the catalogue with its stock.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::CreateProduct)
}
