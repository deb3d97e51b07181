//! Reading a range of a table's DynamoDB stream back: what the relay's redrive does with the
//! pointer the stream's event source leaves when it gives up on a batch.

use std::cmp::Ordering;

use app::ports::{OutboxStream, StoreError, StreamError, StreamRange};
use async_trait::async_trait;
use aws_sdk_dynamodbstreams::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodbstreams::types::{OperationType, ShardIteratorType};
use aws_sdk_dynamodbstreams::Client;

use crate::outbox_record_from_image;

/// Empty `GetRecords` pages in a row after which a read stops: an open shard answers empty pages
/// while it waits for new records, and the records of a range are never further apart than the
/// range itself.
const MAX_EMPTY_PAGES: usize = 20;
/// Pages one read may take in all (a range holds at most one relay batch, 10 outbox records
/// among the table's other changes; 1,000 records a page).
const MAX_PAGES: usize = 200;

/// [`OutboxStream`] over the DynamoDB Streams API (`GetShardIterator`, `GetRecords`).
#[derive(Debug, Clone)]
pub struct DynamoOutboxStream {
    client: Client,
}

impl DynamoOutboxStream {
    pub fn new(client: Client) -> Self {
        DynamoOutboxStream { client }
    }
}

/// A table's stream and its first shard, `(stream ARN, shard id)`: where a reader of the whole
/// stream starts (a local emulator's stream has one shard; DynamoDB's first is the oldest).
pub async fn table_stream(
    dynamo: &aws_sdk_dynamodb::Client,
    streams: &Client,
    table: &str,
) -> Result<(String, String), StoreError> {
    let unavailable = |e: String| StoreError::Unavailable(e.into());
    let described =
        dynamo.describe_table().table_name(table).send().await.map_err(|e| StoreError::Unavailable(Box::new(e)))?;
    let arn = described
        .table()
        .and_then(|t| t.latest_stream_arn())
        .ok_or_else(|| unavailable(format!("{table} has no stream")))?;
    let stream =
        streams.describe_stream().stream_arn(arn).send().await.map_err(|e| StoreError::Unavailable(Box::new(e)))?;
    let shard = stream.stream_description().and_then(|d| d.shards().first()).and_then(|s| s.shard_id());
    let shard = shard.ok_or_else(|| unavailable(format!("{arn} has no shard")))?;
    Ok((arn.to_owned(), shard.to_owned()))
}

/// Compares two sequence numbers: decimal strings of up to 40 digits, so by length, then text.
/// `None` when either is not a decimal number.
pub fn compare_sequence_numbers(a: &str, b: &str) -> Option<Ordering> {
    let decimal = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !decimal(a) || !decimal(b) {
        return None;
    }
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    Some(a.len().cmp(&b.len()).then_with(|| a.cmp(b)))
}

/// The stream's answer as a [`StreamError`]: a trimmed range or a vanished stream or shard is
/// permanent, anything else may pass.
fn stream_error<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    range: &StreamRange,
    e: SdkError<E>,
) -> StreamError {
    match e.as_service_error().and_then(|s| s.code()) {
        Some("TrimmedDataAccessException" | "ResourceNotFoundException") => {
            StreamError::Trimmed(format!("{} {} from {}", range.stream, range.shard, range.first))
        }
        Some("ValidationException") => StreamError::Invalid(format!("{range:?}")),
        _ => StreamError::Unavailable(Box::new(e)),
    }
}

#[async_trait]
impl OutboxStream for DynamoOutboxStream {
    async fn outbox_records(&self, range: &StreamRange) -> Result<Vec<app::ports::OutboxRecord>, StreamError> {
        if compare_sequence_numbers(&range.first, &range.last).is_none_or(Ordering::is_gt) {
            return Err(StreamError::Invalid(format!("sequence numbers {} to {}", range.first, range.last)));
        }
        let mut iterator = self
            .client
            .get_shard_iterator()
            .stream_arn(&range.stream)
            .shard_id(&range.shard)
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .sequence_number(&range.first)
            .send()
            .await
            .map_err(|e| stream_error(range, e))?
            .shard_iterator;
        let mut records = vec![];
        let (mut pages, mut empty) = (0, 0);
        while let Some(it) = iterator {
            pages += 1;
            if pages > MAX_PAGES || empty >= MAX_EMPTY_PAGES {
                return Err(StreamError::Unavailable(
                    format!("the stream did not reach sequence number {} in {pages} pages", range.last).into(),
                ));
            }
            let page = self.client.get_records().shard_iterator(it).send().await.map_err(|e| stream_error(range, e))?;
            empty = if page.records().is_empty() { empty + 1 } else { 0 };
            for r in page.records() {
                let Some(change) = r.dynamodb() else { continue };
                let position = compare_sequence_numbers(change.sequence_number().unwrap_or_default(), &range.last);
                if position.is_none_or(Ordering::is_gt) {
                    return Ok(records);
                }
                if r.event_name() == Some(&OperationType::Insert) {
                    let image = change.new_image().cloned().unwrap_or_default();
                    if let Some(record) = outbox_record_from_image(serde_dynamo::Item::from(image))? {
                        records.push(record);
                    }
                }
                if position == Some(Ordering::Equal) {
                    return Ok(records);
                }
            }
            iterator = page.next_shard_iterator;
        }
        // The shard is closed and ended before `last`: everything it had is read.
        Ok(records)
    }
}

/// What a DynamoDB stream event source writes to its on-failure destination when it gives up on
/// a batch (`DDBStreamBatchInfo`): where the batch is, never the records.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamBatchInfo {
    pub shard_id: String,
    pub start_sequence_number: String,
    pub end_sequence_number: String,
    pub stream_arn: String,
    #[serde(default)]
    pub approximate_arrival_of_first_record: Option<String>,
    #[serde(default)]
    pub approximate_arrival_of_last_record: Option<String>,
    #[serde(default)]
    pub batch_size: Option<u32>,
}

#[derive(Debug, serde::Deserialize)]
struct FailureRecord {
    #[serde(rename = "DDBStreamBatchInfo")]
    batch: StreamBatchInfo,
}

impl StreamBatchInfo {
    /// The batch pointer in an on-failure message's body.
    pub fn parse(body: &str) -> Result<StreamBatchInfo, serde_json::Error> {
        serde_json::from_str::<FailureRecord>(body).map(|r| r.batch)
    }

    pub fn range(&self) -> StreamRange {
        StreamRange {
            stream: self.stream_arn.clone(),
            shard: self.shard_id.clone(),
            first: self.start_sequence_number.clone(),
            last: self.end_sequence_number.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        assert_eq!(compare_sequence_numbers("9", "10"), Some(Ordering::Less));
        assert_eq!(compare_sequence_numbers("000123", "123"), Some(Ordering::Equal));
        assert_eq!(
            compare_sequence_numbers("400000000000000000000000000001", "39999999999999999999999999999"),
            Some(Ordering::Greater)
        );
        assert_eq!(compare_sequence_numbers("12a", "13"), None);
        assert_eq!(compare_sequence_numbers("", "13"), None);
    }
}
