//! The outbox relay's translation: INSERTs of outbox items in a DynamoDB Streams batch go to the
//! bus, in stream order. Other records (aggregates, markers, TTL deletions) are not ours to relay.

use app::ports::{PublishError, StoreError};
use app::relay::OutboxRelay;

/// Why a batch of stream records was not relayed. Either way the batch fails as a whole and
/// the stream delivers it again (bisecting on repeated failure), so nothing is lost.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("an outbox record in the stream does not decode")]
    Corrupt(#[source] StoreError),
    #[error("publishing failed")]
    Publish(#[source] PublishError),
}

/// Publishes the outbox records of one stream batch.
pub async fn relay_stream(relay: &OutboxRelay, event: aws_lambda_events::dynamodb::Event) -> Result<usize, RelayError> {
    let mut records = vec![];
    for r in event.records {
        if r.event_name != "INSERT" {
            continue;
        }
        if let Some(record) = aws_adapters::outbox_record_from_image(r.change.new_image).map_err(RelayError::Corrupt)? {
            records.push(record);
        }
    }
    let sent = relay.relay(&records).await.map_err(RelayError::Publish)?;
    tracing::info!(sent, "relayed outbox records");
    Ok(sent)
}
