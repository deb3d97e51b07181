//! The EventBridge publisher: PutEvents in batches within the API's limits, re-sending only the
//! entries the bus refused, a bounded number of times.

use std::ops::Range;
use std::time::Duration;

use app::ports::{EventPublisher, OutboxRecord, PublishError};
use async_trait::async_trait;
use aws_sdk_eventbridge::primitives::DateTime as AwsDateTime;
use aws_sdk_eventbridge::types::{PutEventsRequestEntry, PutEventsResultEntry};
use aws_sdk_eventbridge::Client;

/// Entries per PutEvents call (an API limit).
pub const MAX_ENTRIES_PER_CALL: usize = 10;
/// Total entry size per PutEvents call, and so also the largest single entry (an API limit).
pub const MAX_CALL_BYTES: usize = 256 * 1024;
/// What the `Time` parameter counts for in an entry's size.
const TIME_BYTES: usize = 14;

/// How often and how patiently refused entries are re-sent. Invariant: `max_attempts >= 1`
/// counts the first send; delays double from `base_delay` up to `max_delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 4, base_delay: Duration::from_millis(100), max_delay: Duration::from_secs(2) }
    }
}

impl RetryPolicy {
    /// The pause after failed attempt `attempt` (1-based): exponential, with up to half of it
    /// added as jitter so that concurrent relays do not retry in step.
    fn delay(&self, attempt: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(self.max_delay);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let half = exp.as_nanos() / 2;
        let jitter = if half == 0 { 0 } else { u128::from(nanos) % half };
        exp + Duration::from_nanos(u64::try_from(jitter).unwrap_or(0))
    }
}

/// [`EventPublisher`] on one EventBridge bus. Invariant: every PutEvents call it makes holds at
/// most [`MAX_ENTRIES_PER_CALL`] entries of at most [`MAX_CALL_BYTES`] in total, each entry
/// carrying the record's source, detail-type, detail and occurred-at time.
#[derive(Clone)]
pub struct EventBridgePublisher {
    client: Client,
    bus: String,
    retry: RetryPolicy,
}

impl EventBridgePublisher {
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        EventBridgePublisher { client, bus: bus.into(), retry: RetryPolicy::default() }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = RetryPolicy { max_attempts: retry.max_attempts.max(1), ..retry };
        self
    }

    fn entry(&self, r: &OutboxRecord) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(&r.source)
            .detail_type(&r.detail_type)
            .detail(&r.detail)
            .time(AwsDateTime::from_millis(r.occurred_at.timestamp_millis()))
            .set_trace_header(r.trace_header.clone())
            .build()
    }

    /// Sends one batch until every entry is accepted or the attempts run out; answers how many
    /// entries were still refused.
    async fn send_batch(&self, batch: &[OutboxRecord]) -> Result<usize, PublishError> {
        let mut pending: Vec<&OutboxRecord> = batch.iter().collect();
        for attempt in 1..=self.retry.max_attempts {
            let entries = pending.iter().map(|r| self.entry(r)).collect();
            let out = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| PublishError::Unavailable(Box::new(e)))?;
            let failed = failed_positions(pending.len(), out.failed_entry_count(), out.entries());
            if failed.is_empty() {
                return Ok(0);
            }
            for &i in &failed {
                let (code, message) =
                    out.entries().get(i).map_or((None, None), |e| (e.error_code(), e.error_message()));
                if let Some(r) = pending.get(i) {
                    tracing::warn!(
                        event_id = %r.event_id, detail_type = %r.detail_type, attempt,
                        code = code.unwrap_or("-"), message = message.unwrap_or("-"),
                        "the bus refused an entry"
                    );
                }
            }
            pending = failed.into_iter().filter_map(|i| pending.get(i).copied()).collect();
            if attempt < self.retry.max_attempts {
                tokio::time::sleep(self.retry.delay(attempt)).await;
            }
        }
        Ok(pending.len())
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, records: &[OutboxRecord]) -> Result<(), PublishError> {
        let sizes: Vec<usize> = records.iter().map(entry_size).collect();
        let batches = plan_batches(&sizes).map_err(|i| match records.get(i) {
            Some(r) => PublishError::TooLarge(r.event_id),
            None => PublishError::Rejected { failed: records.len(), total: records.len(), attempts: 0 },
        })?;
        let mut refused = 0;
        // Every batch is tried even after one is refused: what can be delivered now is.
        for range in batches {
            refused += self.send_batch(&records[range]).await?;
        }
        if refused > 0 {
            return Err(PublishError::Rejected {
                failed: refused,
                total: records.len(),
                attempts: self.retry.max_attempts,
            });
        }
        Ok(())
    }
}

/// An entry's size as EventBridge counts it: 14 bytes for `Time`, plus the UTF-8 bytes of
/// `Source`, `DetailType` and `Detail` (and of `Resources`, which we never send).
pub fn entry_size(r: &OutboxRecord) -> usize {
    TIME_BYTES + r.source.len() + r.detail_type.len() + r.detail.len()
}

/// Splits entries of `sizes` (in order) into consecutive batches of at most
/// [`MAX_ENTRIES_PER_CALL`] entries and [`MAX_CALL_BYTES`] bytes. `Err(i)`: entry `i` is too
/// large to be sent at all.
pub fn plan_batches(sizes: &[usize]) -> Result<Vec<Range<usize>>, usize> {
    let mut batches = vec![];
    let mut start = 0;
    let mut bytes = 0;
    for (i, &size) in sizes.iter().enumerate() {
        if size > MAX_CALL_BYTES {
            return Err(i);
        }
        if i - start == MAX_ENTRIES_PER_CALL || bytes + size > MAX_CALL_BYTES {
            batches.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < sizes.len() {
        batches.push(start..sizes.len());
    }
    Ok(batches)
}

/// The positions (in the request) of the entries to send again: those whose result carries an
/// error code or no event id, and those the response has no result for. Should the response
/// count failures without saying which, every entry is sent again (consumers are idempotent).
pub fn failed_positions(sent: usize, failed_count: i32, results: &[PutEventsResultEntry]) -> Vec<usize> {
    let failed: Vec<usize> = (0..sent)
        .filter(|&i| results.get(i).is_none_or(|r| r.error_code().is_some() || r.event_id().is_none()))
        .collect();
    if failed.is_empty() && failed_count > 0 {
        return (0..sent).collect();
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(id: &str) -> PutEventsResultEntry {
        PutEventsResultEntry::builder().event_id(id).build()
    }

    fn refused(code: &str) -> PutEventsResultEntry {
        PutEventsResultEntry::builder().error_code(code).error_message("no").build()
    }

    #[test]
    fn batches_hold_at_most_ten_entries() {
        assert_eq!(plan_batches(&[100; 25]), Ok(vec![0..10, 10..20, 20..25]));
        let exactly_ten = plan_batches(&[100; 10]).unwrap();
        assert_eq!((exactly_ten.len(), exactly_ten.first().cloned()), (1, Some(0..10)));
        assert_eq!(plan_batches(&[]), Ok(vec![]));
    }

    #[test]
    fn batches_hold_at_most_256_kib() {
        let third = MAX_CALL_BYTES / 3;
        assert_eq!(plan_batches(&[third, third, third, 2]), Ok(vec![0..3, 3..4]));
        assert_eq!(plan_batches(&[third, third, third + 2, 1]), Ok(vec![0..2, 2..4]));
        assert_eq!(plan_batches(&[MAX_CALL_BYTES, 1, MAX_CALL_BYTES]), Ok(vec![0..1, 1..2, 2..3]));
    }

    #[test]
    fn an_entry_too_large_alone_is_named() {
        assert_eq!(plan_batches(&[10, MAX_CALL_BYTES + 1, 10]), Err(1));
    }

    #[test]
    fn the_entry_size_is_counted_as_aws_documents_it() {
        let r = OutboxRecord {
            event_id: domain::EventId::from_uuid(uuid::Uuid::nil()),
            source: "shop.orders".into(),
            detail_type: "OrderCreated".into(),
            detail: r#"{"name":"Crème"}"#.into(),
            occurred_at: chrono::DateTime::UNIX_EPOCH,
            trace_header: None,
        };
        assert_eq!(entry_size(&r), 14 + 11 + 12 + 17, "UTF-8 bytes, not chars");
    }

    #[test]
    fn only_refused_entries_are_sent_again() {
        let results = [ok("a"), refused("InternalFailure"), ok("c"), refused("ThrottlingException")];
        assert_eq!(failed_positions(4, 2, &results), vec![1, 3]);
        assert_eq!(failed_positions(3, 0, &[ok("a"), ok("b"), ok("c")]), Vec::<usize>::new());
    }

    #[test]
    fn an_unclear_response_sends_the_unaccounted_entries_again() {
        assert_eq!(failed_positions(3, 0, &[ok("a")]), vec![1, 2], "missing results");
        assert_eq!(failed_positions(2, 1, &[ok("a"), ok("b")]), vec![0, 1], "a count without a culprit");
    }

    #[test]
    fn retry_delays_grow_and_are_capped() {
        let p =
            RetryPolicy { max_attempts: 4, base_delay: Duration::from_millis(100), max_delay: Duration::from_secs(1) };
        for (attempt, lo) in [(1, 100), (2, 200), (3, 400), (4, 800), (9, 1000)] {
            let d = p.delay(attempt);
            assert!(d >= Duration::from_millis(lo) && d <= Duration::from_millis(lo * 3 / 2), "{attempt}: {d:?}");
        }
    }
}
