//! POST /products/{id}/discontinue: the product takes no new orders.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::DiscontinueProduct)
}
