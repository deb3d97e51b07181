//! Operator commands. `redrive` empties a rule's dead-letter queue back onto the event bus (or
//! the relay's failure queues: their messages point at stream ranges, which it reads back from
//! the stream); `republish` puts a time window of the outbox back on it.
//!
//! EventBridge drops an event in a rule's dead-letter queue, whole, when its target kept failing
//! (the function was down, throttled, or failed on it until the retry policy gave up). Putting it
//! back on the bus delivers it again to every rule it matches: that is safe because every
//! consumer is idempotent (a consumer that already applied the event finds its marker and changes
//! nothing), and it is what a retry by EventBridge would have done. Only our own events are
//! redriven: a message that does not decode as one (a foreign event, a corrupt body) is reported
//! and left in the queue for a person to look at. A message leaves the queue only after its event
//! was accepted by the bus.

// Nothing that comes from outside (messages, SDK answers) may panic.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::collections::HashSet;
use std::sync::Arc;

use app::ports::{EventPublisher, OutboxRecord, OutboxStream, PublishError};
use app::relay::{RedriveError, RelayError, Relayed, StreamSources};
use aws_adapters::StreamBatchInfo;
use aws_sdk_sqs::types::Message;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// How long a received message stays hidden while a run works on it.
const VISIBILITY_SECONDS: i32 = 60;

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("the queue could not be read or changed")]
    Queue(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the bus did not accept the events (a queue keeps its messages, the outbox its records)")]
    Publish(#[source] PublishError),
    #[error("the outbox could not be read")]
    Outbox(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn queue_error(e: impl std::error::Error + Send + Sync + 'static) -> OpsError {
    OpsError::Queue(Box::new(e))
}

/// What a run did. `redriven` are the messages whose events went back on the bus (or, in a dry
/// run, would have); `left` the ones kept in the queue, with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub dry_run: bool,
    pub examined: usize,
    pub redriven: Vec<String>,
    pub left: Vec<(String, String)>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.dry_run { "would redrive" } else { "redrove" };
        writeln!(
            f,
            "examined {} message(s); {verb} {}; left {} in the queue",
            self.examined,
            self.redriven.len(),
            self.left.len()
        )?;
        for what in &self.redriven {
            writeln!(f, "  {verb} {what}")?;
        }
        for (message, why) in &self.left {
            writeln!(f, "  left message {message}: {why}")?;
        }
        Ok(())
    }
}

/// Redrives the dead-letter queue at `queue_url` through `publisher` (which names the bus).
pub struct Redrive {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    publisher: Arc<dyn EventPublisher>,
    /// Reads back the stream ranges of the relay's failure messages.
    streams: Option<app::relay::Redrive>,
}

/// Our event in a dead-lettered message body, as its outbox record; why not otherwise.
fn event_of(message: &Message) -> Result<OutboxRecord, String> {
    let body: Value = serde_json::from_str(message.body().unwrap_or_default()).map_err(|e| format!("not JSON: {e}"))?;
    let text = |k: &str| body[k].as_str().ok_or_else(|| format!("no {k}"));
    let envelope =
        app::bus::decode(text("source")?, text("detail-type")?, &body["detail"]).map_err(|e| e.to_string())?;
    OutboxRecord::of(&envelope).map_err(|e| e.to_string())
}

impl Redrive {
    pub fn new(sqs: aws_sdk_sqs::Client, queue_url: impl Into<String>, publisher: Arc<dyn EventPublisher>) -> Self {
        Redrive { sqs, queue_url: queue_url.into(), publisher, streams: None }
    }

    /// Also redrives the relay's failure messages (pointers to stream ranges), reading each
    /// range back through `stream` while the stream still holds it (24 hours), with the relay's
    /// check: a record is published only under the source of its table's context (`tables`); a
    /// range of a table not named there stays in the queue.
    pub fn reading_streams(mut self, stream: Arc<dyn OutboxStream>, tables: StreamSources) -> Self {
        let clock = app::SystemEnvironment::shared();
        self.streams = Some(app::relay::Redrive::new(stream, self.publisher.clone(), tables, clock));
        self
    }

    /// A relay failure message: republishes its range (unless `dry_run`); `Ok` with what was
    /// done, `Err` with why the message stays.
    async fn stream_range(&self, batch: &StreamBatchInfo, dry_run: bool) -> Result<String, String> {
        let what = format!(
            "stream range {}..{} of {}",
            batch.start_sequence_number, batch.end_sequence_number, batch.stream_arn
        );
        let Some(redrive) = &self.streams else {
            return Err(format!("{what}: this run reads no streams"));
        };
        if dry_run {
            return Ok(what);
        }
        match redrive.redrive(&batch.range()).await {
            Ok(Relayed { sent, refused: 0 }) => Ok(format!("{what} ({sent} events)")),
            Ok(Relayed { sent, refused }) => Ok(format!(
                "{what} ({sent} events; {refused} refused for naming another context's source: see the log)"
            )),
            Err(RedriveError::Relay(RelayError::UnknownStream(_))) => {
                Err(format!("{what}: its table is not named: run with --table <context>=<table name>"))
            }
            Err(e) if e.is_permanent() => Err(format!(
                "{what}: {e}; publish its events from the outbox: ops republish --since {}",
                batch.approximate_arrival_of_first_record.as_deref().unwrap_or("<the message's timestamp>")
            )),
            Err(e) => Err(format!("{what}: {e}")),
        }
    }

    /// Receives up to `max` messages; unless `dry_run`, puts their events back on the bus and
    /// deletes them. Every message that stays (a dry run, an undecodable body) is made visible
    /// again at the end of the run.
    pub async fn run(&self, dry_run: bool, max: usize) -> Result<Report, OpsError> {
        let mut report = Report { dry_run, ..Report::default() };
        let mut seen = HashSet::new();
        let mut keep = vec![];
        while report.examined < max {
            let batch = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages((max - report.examined).min(10) as i32)
                .visibility_timeout(VISIBILITY_SECONDS)
                .wait_time_seconds(0)
                .send()
                .await
                .map_err(queue_error)?
                .messages
                .unwrap_or_default();
            let fresh: Vec<Message> =
                batch.into_iter().filter(|m| seen.insert(m.message_id().unwrap_or_default().to_owned())).collect();
            if fresh.is_empty() {
                break;
            }
            let mut records = vec![];
            let mut handled = vec![];
            for m in fresh {
                report.examined += 1;
                let id = m.message_id().unwrap_or_default().to_owned();
                if let Ok(batch) = StreamBatchInfo::parse(m.body().unwrap_or_default()) {
                    match self.stream_range(&batch, dry_run).await {
                        Ok(done) if dry_run => {
                            report.redriven.push(done);
                            keep.push(m);
                        }
                        Ok(done) => {
                            report.redriven.push(done);
                            self.delete(&m).await?;
                        }
                        Err(why) => {
                            report.left.push((id, why));
                            keep.push(m);
                        }
                    }
                    continue;
                }
                match event_of(&m) {
                    Ok(record) => {
                        report.redriven.push(format!("event {}", record.event_id));
                        records.push(record);
                        handled.push(m);
                    }
                    Err(why) => {
                        report.left.push((id, why));
                        keep.push(m);
                    }
                }
            }
            if dry_run {
                keep.extend(handled);
                continue;
            }
            if let Err(e) = self.publisher.publish(&records).await {
                keep.extend(handled);
                self.release(&keep).await?;
                return Err(OpsError::Publish(e));
            }
            for m in handled {
                self.delete(&m).await?;
            }
        }
        self.release(&keep).await?;
        Ok(report)
    }

    async fn delete(&self, m: &Message) -> Result<(), OpsError> {
        self.sqs
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(m.receipt_handle().unwrap_or_default())
            .send()
            .await
            .map_err(queue_error)?;
        Ok(())
    }

    /// Makes `messages` visible again at once, for the next run or a person.
    async fn release(&self, messages: &[Message]) -> Result<(), OpsError> {
        for m in messages {
            self.sqs
                .change_message_visibility()
                .queue_url(&self.queue_url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .visibility_timeout(0)
                .send()
                .await
                .map_err(queue_error)?;
        }
        Ok(())
    }
}

/// What a `republish` run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepublishReport {
    pub dry_run: bool,
    /// Outbox records in the window, oldest first (their event ids).
    pub events: Vec<String>,
    /// Records in the window that name another context's source than their table's: never put
    /// on the bus (event id, table, the source it claims).
    pub refused: Vec<String>,
}

impl std::fmt::Display for RepublishReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.dry_run { "would republish" } else { "republished" };
        writeln!(f, "{verb} {} event(s) from the outbox", self.events.len())?;
        for id in &self.events {
            writeln!(f, "  {verb} event {id}")?;
        }
        if !self.refused.is_empty() {
            writeln!(f, "refused {} record(s) that speak for another context than their table's:", self.refused.len())?;
            for what in &self.refused {
                writeln!(f, "  refused {what}")?;
            }
        }
        Ok(())
    }
}

/// Republishes what the outboxes of some tables committed in a time window: the recovery for an
/// outage of the bus (or of the relay) longer than the stream relay's retries, for as long as the
/// outbox keeps its records (7 days). Every consumer is idempotent, so events that did reach the
/// bus the first time are applied once all the same. As the relay does, it publishes a record
/// only under the source of its table's context, and reports the others. It scans each table
/// whole (its cost is the table's size in read units): an operator's command, not a routine.
pub struct Republish {
    dynamo: aws_sdk_dynamodb::Client,
    publisher: Arc<dyn EventPublisher>,
}

impl Republish {
    pub fn new(dynamo: aws_sdk_dynamodb::Client, publisher: Arc<dyn EventPublisher>) -> Self {
        Republish { dynamo, publisher }
    }

    /// The records of `tables` (each with its context) that occurred in `[since, until)`, oldest
    /// first; unless `dry_run`, put on the bus. A record that does not decode stops the run
    /// before anything is published.
    pub async fn run(
        &self,
        tables: &StreamSources,
        since: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        dry_run: bool,
    ) -> Result<RepublishReport, OpsError> {
        let mut records = vec![];
        let mut refused = vec![];
        for (table, context) in tables.tables() {
            let all =
                aws_adapters::scan_outbox(&self.dynamo, table).await.map_err(|e| OpsError::Outbox(Box::new(e)))?;
            let source = app::bus::source(context);
            for r in all.into_iter().filter(|r| r.occurred_at >= since && until.is_none_or(|u| r.occurred_at < u)) {
                if r.source == source {
                    records.push(r);
                } else {
                    refused.push(format!("event {} in {table}: claims {}", r.event_id, r.source));
                }
            }
        }
        records.sort_by_key(|r| r.occurred_at);
        let events = records.iter().map(|r| r.event_id.to_string()).collect();
        let report = RepublishReport { dry_run, events, refused };
        if !dry_run {
            for chunk in records.chunks(10) {
                self.publisher.publish(chunk).await.map_err(OpsError::Publish)?;
            }
        }
        Ok(report)
    }
}
