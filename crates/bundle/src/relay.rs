//! The outbox relay's translation: INSERTs of outbox items in a DynamoDB Streams batch go to the
//! bus, in stream order. Other records (aggregates, markers, TTL deletions) are not ours to relay.

use app::ports::{OutboxRecord, StoreError};
use app::relay::{OutboxRelay, Relayed};

/// Why a batch of stream records was not relayed. Either way the batch fails as a whole and
/// the stream delivers it again (bisecting on repeated failure), so nothing is lost.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("an outbox record in the stream does not decode")]
    Corrupt(#[source] StoreError),
    #[error("the batch was not relayed")]
    Relay(#[source] app::relay::RelayError),
}

/// Publishes the outbox records of one stream batch, each under the check of the stream that
/// delivered it (a batch comes from one shard of one stream; runs of records are relayed per
/// stream all the same, in order). What went out and what was refused.
pub async fn relay_stream(
    relay: &OutboxRelay,
    event: aws_lambda_events::dynamodb::Event,
) -> Result<Relayed, RelayError> {
    let mut runs: Vec<(String, Vec<OutboxRecord>)> = vec![];
    for r in event.records {
        if r.event_name != "INSERT" {
            continue;
        }
        let stream = r.event_source_arn.unwrap_or_default();
        let Some(record) = aws_adapters::outbox_record_from_image(r.change.new_image).map_err(RelayError::Corrupt)?
        else {
            continue;
        };
        match runs.last_mut() {
            Some((s, records)) if *s == stream => records.push(record),
            _ => runs.push((stream, vec![record])),
        }
    }
    let mut total = Relayed::default();
    for (stream, records) in runs {
        let relayed = relay.relay(&stream, &records).await.map_err(RelayError::Relay)?;
        total.sent += relayed.sent;
        total.refused += relayed.refused;
    }
    tracing::info!(sent = total.sent, refused = total.refused, "relayed outbox records");
    Ok(total)
}

/// Redrives every pointer in a batch of the relay's on-failure queue. A message whose range was
/// published is done; any other is reported as a batch item failure, so SQS delivers it again
/// after its visibility timeout until the queue's redrive policy moves it to the dead-letter
/// queue (the stream keeps its records for 24 hours; the retries span that).
pub async fn redrive_failures(
    redrive: &app::relay::Redrive,
    event: aws_lambda_events::sqs::SqsEvent,
) -> (usize, aws_lambda_events::sqs::SqsBatchResponse) {
    use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse};
    let mut sent = 0;
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let outcome = match aws_adapters::StreamBatchInfo::parse(message.body.as_deref().unwrap_or_default()) {
            Err(e) => {
                tracing::error!(message = %id, error = %e, permanent = true, "not a stream batch pointer");
                Err(())
            }
            Ok(batch) => match redrive.redrive(&batch.range()).await {
                Ok(r) => {
                    tracing::info!(message = %id, sent = r.sent, refused = r.refused, stream = %batch.stream_arn, first = %batch.start_sequence_number, last = %batch.end_sequence_number, "redrove a stream range the relay gave up on");
                    Ok(r.sent)
                }
                Err(e) => {
                    tracing::error!(message = %id, error = %e, cause = ?std::error::Error::source(&e), permanent = e.is_permanent(), stream = %batch.stream_arn, first = %batch.start_sequence_number, "redrive failed; the message will be delivered again");
                    Err(())
                }
            },
        };
        match outcome {
            Ok(n) => sent += n,
            Err(()) => {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    (sent, response)
}
