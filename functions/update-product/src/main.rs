//! PATCH /products/{id}: renames and/or reprices a product.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::UpdateProduct)
}
