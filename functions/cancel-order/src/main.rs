//! POST /orders/{id}/cancel: APPROVED becomes CANCELLED; the saga then releases stock and credit.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::CancelOrder)
}
