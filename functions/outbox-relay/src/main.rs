//! The outbox relay: DynamoDB Streams INSERTs of outbox items, from all three tables, go to the
//! event bus through PutEvents. The only code that publishes.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::OutboxRelay)
}
