//! GET /orders/{id}: one order with its state, price and rejection reason.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::GetOrder)
}
