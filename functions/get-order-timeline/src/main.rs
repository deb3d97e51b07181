//! GET /orders/{id}/timeline: the steps of an order's saga, with their times and outcomes.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::GetOrderTimeline)
}
