//! The outbox relay: DynamoDB Streams INSERTs of outbox items, from all three tables, go to the
//! event bus through PutEvents. The only code that publishes.

use std::sync::Arc;

const FUNCTION: &str = "outbox-relay";

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let cold = handlers::bootstrap::start(FUNCTION).await?;
    let client = aws_adapters::eventbridge_client(&cold.sdk);
    let publisher = aws_adapters::EventBridgePublisher::new(client, cold.config.bus_name()?);
    handlers::bootstrap::serve_relay(app::relay::OutboxRelay::new(Arc::new(publisher))).await
}
