//! The outbox relay: hands committed outbox records to the bus. The only path to PutEvents.
//!
//! A record speaks for the context whose table it was committed in, and for no other: the relay
//! publishes it only when its `source` is that context's (known from the stream that delivered
//! it). A record that names another context's source (a forgery, or a bug in the function that
//! wrote it) is refused: not published, logged at ERROR with where it came from, and counted
//! ([`crate::measure::RELAY_RECORDS_REFUSED`], alarmed). It is not retried: no retry can make it
//! true, and failing its batch would hold every event behind it on the shard for the stream's
//! retry window. The item stays in its table until its TTL, for the investigation.

use std::sync::Arc;

use domain::Context;

use crate::env::SharedEnv;
use crate::ports::{EventPublisher, OutboxRecord, OutboxStream, PublishError, StoreError, StreamError, StreamRange};

/// Which context's outbox each table's stream carries, by the table's name: the one source the
/// records its stream delivers may put on the bus. A stream is named by its ARN on AWS
/// (`arn:…:table/<table>/stream/<label>`, as stream records and on-failure pointers carry it),
/// by its table's name in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamSources(Vec<(String, Context)>);

impl StreamSources {
    /// `(table name, context)` pairs.
    pub fn new(tables: impl IntoIterator<Item = (String, Context)>) -> Self {
        StreamSources(tables.into_iter().collect())
    }

    /// The tables, each with its context.
    pub fn tables(&self) -> impl Iterator<Item = (&str, Context)> {
        self.0.iter().map(|(t, c)| (t.as_str(), *c))
    }

    /// The context of the table whose stream `stream` is.
    pub fn context(&self, stream: &str) -> Option<Context> {
        let table = table_of(stream);
        self.0.iter().find(|(t, _)| t == table).map(|(_, c)| *c)
    }
}

/// The table a stream belongs to: the `<table>` of a DynamoDB stream ARN, or the name itself.
fn table_of(stream: &str) -> &str {
    match stream.split_once(":table/") {
        Some((_, rest)) => rest.split_once("/stream/").map_or(rest, |(table, _)| table),
        None => stream,
    }
}

/// Why a batch was not relayed. Either way nothing of it was acknowledged as published.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// A stream the relay was not configured with: its records cannot be checked, so none is
    /// published and the batch is delivered again (a configuration to fix, then it goes out).
    #[error("no context is configured for stream {0}")]
    UnknownStream(String),
    #[error("publishing failed")]
    Publish(#[from] PublishError),
}

/// What became of a batch: `sent` went to the bus, `refused` named another context's source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relayed {
    pub sent: usize,
    pub refused: usize,
}

#[derive(Clone)]
pub struct OutboxRelay {
    publisher: Arc<dyn EventPublisher>,
    sources: Arc<StreamSources>,
    env: SharedEnv,
}

impl OutboxRelay {
    pub fn new(publisher: Arc<dyn EventPublisher>, sources: StreamSources, env: SharedEnv) -> Self {
        OutboxRelay { publisher, sources: Arc::new(sources), env }
    }

    /// Publishes, in order, the records `stream` delivered whose source is its context's;
    /// refuses (and reports) the others. An error means "deliver this batch again".
    pub async fn relay(&self, stream: &str, records: &[OutboxRecord]) -> Result<Relayed, RelayError> {
        if records.is_empty() {
            return Ok(Relayed::default());
        }
        let context = self.sources.context(stream).ok_or_else(|| RelayError::UnknownStream(stream.to_owned()))?;
        let expected = crate::bus::source(context);
        let (admitted, refused): (Vec<OutboxRecord>, Vec<OutboxRecord>) =
            records.iter().cloned().partition(|r| r.source == expected);
        for r in &refused {
            tracing::error!(
                event_id = %r.event_id, stream, claimed = %r.source, expected, detail_type = %r.detail_type,
                "refused an outbox record: its source is not the context of the table it was committed in"
            );
        }
        crate::measure::records_refused(refused.len());
        let sent = self.publish(&admitted).await?;
        Ok(Relayed { sent, refused: refused.len() })
    }

    async fn publish(&self, records: &[OutboxRecord]) -> Result<usize, PublishError> {
        if records.is_empty() {
            return Ok(0);
        }
        let published = self.publisher.publish(records).await;
        let failed = match &published {
            Err(PublishError::Rejected { failed, .. }) => *failed,
            _ => 0,
        };
        let now = self.env.now();
        let lags: Vec<i64> = match &published {
            Ok(()) => records.iter().map(|r| (now - r.occurred_at).num_milliseconds()).collect(),
            Err(_) => vec![],
        };
        crate::measure::relayed(records.len(), failed, lags);
        published?;
        Ok(records.len())
    }
}

/// Why a stream range the relay gave up on was not put back on the bus.
#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    #[error("the stream range could not be read")]
    Stream(#[from] StreamError),
    #[error("the range was not relayed")]
    Relay(#[from] RelayError),
}

impl RedriveError {
    /// Whether trying the same range again can never succeed: the stream no longer holds it, it
    /// is not a range at all, or one of its records does not decode. Such a pointer is for a
    /// person (`ops republish` from the outbox items); anything else is worth retrying.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            RedriveError::Stream(StreamError::Trimmed(_) | StreamError::Invalid(_))
                | RedriveError::Stream(StreamError::Store(StoreError::Corrupt { .. }))
                | RedriveError::Relay(RelayError::Publish(PublishError::TooLarge(_)))
        )
    }
}

/// The relay's second chance: when the stream's event source gives up on a batch (the bus was
/// down for longer than its retries), it leaves only a pointer to the batch's range in the
/// on-failure queue. `Redrive` reads that range back from the stream, which keeps it for 24
/// hours, and publishes its outbox records as the relay would have (refusing what it refuses).
/// Republishing an event that did go out after all is safe: every consumer is idempotent.
#[derive(Clone)]
pub struct Redrive {
    stream: Arc<dyn OutboxStream>,
    relay: OutboxRelay,
}

impl Redrive {
    pub fn new(
        stream: Arc<dyn OutboxStream>,
        publisher: Arc<dyn EventPublisher>,
        sources: StreamSources,
        env: SharedEnv,
    ) -> Self {
        Redrive { stream, relay: OutboxRelay::new(publisher, sources, env) }
    }

    /// Publishes the outbox records of `range`; answers what went out and what was refused.
    pub async fn redrive(&self, range: &StreamRange) -> Result<Relayed, RedriveError> {
        let records = self.stream.outbox_records(range).await?;
        let relayed = self.relay.relay(&range.stream, &records).await?;
        crate::measure::redriven(relayed.sent);
        Ok(relayed)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use domain::events::{CreditReserved, OrderCancelled};
    use domain::{Currency, CustomerId, DomainEvent, EventEnvelope, EventId, Money, OrderId};

    use super::*;
    use crate::memory::{InMemoryOrderRepository, InMemoryProductRepository, MemoryOutbox, MemoryStreams};
    use crate::ports::{Commit, OrderWrite, Transactional};
    use crate::SystemEnvironment;

    /// A bus that takes everything, or refuses everything while `down`.
    #[derive(Default)]
    struct Bus {
        got: Mutex<Vec<OutboxRecord>>,
        down: Mutex<bool>,
    }

    #[async_trait]
    impl EventPublisher for Bus {
        async fn publish(&self, records: &[OutboxRecord]) -> Result<(), PublishError> {
            if *self.down.lock().unwrap() {
                return Err(PublishError::Unavailable("down".into()));
            }
            self.got.lock().unwrap().extend_from_slice(records);
            Ok(())
        }
    }

    async fn emit(orders: &InMemoryOrderRepository) -> EventId {
        let env = SystemEnvironment::shared();
        let e = OrderCancelled {
            order_id: OrderId::from_uuid(env.new_uuid()),
            customer_id: CustomerId::from_uuid(env.new_uuid()),
            product_ids: vec![],
        };
        let envelope = EventEnvelope::new(DomainEvent::OrderCancelled(e), env.as_ref());
        orders.commit(Commit::<OrderWrite>::new(vec![], std::slice::from_ref(&envelope))).await.unwrap();
        envelope.id()
    }

    /// A customers-context event committed in the orders table: what a compromised or buggy
    /// orders function would write to speak for customers (here, credit it never reserved).
    async fn forge(orders: &InMemoryOrderRepository) -> EventId {
        let env = SystemEnvironment::shared();
        let e = CreditReserved {
            order_id: OrderId::from_uuid(env.new_uuid()),
            customer_id: CustomerId::from_uuid(env.new_uuid()),
            amount: Money::new(1, Currency::USD).unwrap(),
        };
        let envelope = EventEnvelope::new(DomainEvent::CreditReserved(e), env.as_ref());
        orders.commit(Commit::<OrderWrite>::new(vec![], std::slice::from_ref(&envelope))).await.unwrap();
        envelope.id()
    }

    fn ids(records: &[OutboxRecord]) -> Vec<EventId> {
        records.iter().map(|r| r.event_id).collect()
    }

    fn redrive_of(tables: Vec<Arc<dyn MemoryOutbox>>, bus: Arc<Bus>) -> Redrive {
        let streams = MemoryStreams(tables);
        let sources = streams.sources();
        Redrive::new(Arc::new(streams), bus, sources, SystemEnvironment::shared())
    }

    const ORDERS_STREAM: &str =
        "arn:aws:dynamodb:us-east-1:123456789012:table/shop-orders/stream/2026-12-01T08:00:00.000";

    #[test]
    fn a_stream_is_known_by_its_tables_name() {
        let sources = StreamSources::new([
            ("shop-orders".to_owned(), Context::Orders),
            ("products".to_owned(), Context::Products),
        ]);
        assert_eq!(sources.context(ORDERS_STREAM), Some(Context::Orders));
        assert_eq!(sources.context("products"), Some(Context::Products), "a memory table's stream");
        assert_eq!(sources.context(&ORDERS_STREAM.replace("shop-orders", "shop-orders-2")), None);
        assert_eq!(sources.context("arn:aws:dynamodb:us-east-1:123456789012:table/shop-customers/stream/x"), None);
    }

    fn relay_of(bus: Arc<Bus>) -> OutboxRelay {
        let sources = StreamSources::new([("shop-orders".to_owned(), Context::Orders)]);
        OutboxRelay::new(bus, sources, SystemEnvironment::shared())
    }

    #[tokio::test]
    async fn a_record_naming_another_contexts_source_is_refused_and_reported_and_the_rest_go_out_in_order() {
        let orders = InMemoryOrderRepository::default();
        let (first, forged, last) = (emit(&orders).await, forge(&orders).await, emit(&orders).await);
        let records = orders.unpublished();
        assert_eq!(ids(&records), [first, forged, last]);
        assert_eq!(records[1].source, "shop.customers", "the forged record claims the customers context");
        let bus = Arc::new(Bus::default());

        let relayed = relay_of(bus.clone()).relay(ORDERS_STREAM, &records).await.unwrap();

        assert_eq!(relayed, Relayed { sent: 2, refused: 1 }, "refused, and said so: not counted as sent");
        assert_eq!(ids(&bus.got.lock().unwrap()), [first, last], "only the orders' own events reach the bus");
    }

    #[tokio::test]
    async fn a_stream_the_relay_does_not_know_publishes_nothing_and_is_delivered_again() {
        let orders = InMemoryOrderRepository::default();
        emit(&orders).await;
        let bus = Arc::new(Bus::default());
        let elsewhere = ORDERS_STREAM.replace("shop-orders", "someone-elses");
        let refused = relay_of(bus.clone()).relay(&elsewhere, &orders.unpublished()).await.unwrap_err();
        assert!(matches!(refused, RelayError::UnknownStream(ref s) if *s == elsewhere), "{refused}");
        assert!(bus.got.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_redrive_refuses_what_the_relay_refuses() {
        let orders = Arc::new(InMemoryOrderRepository::default());
        let (own, forged) = (emit(&orders).await, forge(&orders).await);
        let bus = Arc::new(Bus::default());
        let redrive = redrive_of(vec![orders.clone()], bus.clone());
        let range = orders.stream_range(&[own, forged]).unwrap();
        assert_eq!(redrive.redrive(&range).await.unwrap(), Relayed { sent: 1, refused: 1 });
        assert_eq!(ids(&bus.got.lock().unwrap()), [own]);
    }

    #[tokio::test]
    async fn a_range_the_relay_gave_up_on_is_published_again_exactly_and_idempotently() {
        let orders = Arc::new(InMemoryOrderRepository::default());
        let products = Arc::new(InMemoryProductRepository::default());
        let mut emitted = vec![];
        for _ in 0..5 {
            emitted.push(emit(&orders).await);
        }
        let bus = Arc::new(Bus::default());
        let redrive = redrive_of(vec![products.clone(), orders.clone()], bus.clone());
        let range = orders.stream_range(&emitted[1..4]).unwrap();

        *bus.down.lock().unwrap() = true;
        let refused = redrive.redrive(&range).await.unwrap_err();
        assert!(!refused.is_permanent(), "a bus that is down is worth retrying: {refused}");
        assert!(bus.got.lock().unwrap().is_empty());

        *bus.down.lock().unwrap() = false;
        assert_eq!(redrive.redrive(&range).await.unwrap().sent, 3);
        assert_eq!(redrive.redrive(&range).await.unwrap().sent, 3, "a second delivery of the pointer publishes again");
        let got = bus.got.lock().unwrap().clone();
        assert_eq!(ids(&got[..3]), emitted[1..4].to_vec(), "the range, in commit order, and nothing else");
        assert_eq!(ids(&got[3..]), emitted[1..4].to_vec());
    }

    #[tokio::test]
    async fn a_range_that_cannot_be_read_is_a_permanent_failure() {
        let orders = Arc::new(InMemoryOrderRepository::default());
        let first = emit(&orders).await;
        let redrive = redrive_of(vec![orders.clone()], Arc::new(Bus::default()));
        let range = orders.stream_range(&[first]).unwrap();
        for bad in [
            StreamRange { stream: "elsewhere".into(), ..range.clone() },
            StreamRange { first: "x1".into(), ..range.clone() },
            StreamRange { first: "0".into(), last: "0".into(), ..range.clone() },
        ] {
            let e = redrive.redrive(&bad).await.unwrap_err();
            assert!(e.is_permanent(), "{bad:?}: {e}");
        }
    }
}
