//! GET /products: the catalogue by name, paged.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::ListProducts)
}
