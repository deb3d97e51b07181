//! POST /orders: stores the order PENDING with its OrderCreated event, starting the saga; honours Idempotency-Key.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::CreateOrder)
}
