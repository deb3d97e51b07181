//! The outbox relay: hands committed outbox records to the bus. The only path to PutEvents.

use std::sync::Arc;

use crate::env::SharedEnv;
use crate::ports::{EventPublisher, OutboxRecord, OutboxStream, PublishError, StoreError, StreamError, StreamRange};

#[derive(Clone)]
pub struct OutboxRelay {
    publisher: Arc<dyn EventPublisher>,
    env: SharedEnv,
}

impl OutboxRelay {
    pub fn new(publisher: Arc<dyn EventPublisher>, env: SharedEnv) -> Self {
        OutboxRelay { publisher, env }
    }

    /// Publishes the records in order; an error means "deliver this batch again".
    pub async fn relay(&self, records: &[OutboxRecord]) -> Result<usize, PublishError> {
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
    #[error("publishing failed")]
    Publish(#[from] PublishError),
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
                | RedriveError::Publish(PublishError::TooLarge(_))
        )
    }
}

/// The relay's second chance: when the stream's event source gives up on a batch (the bus was
/// down for longer than its retries), it leaves only a pointer to the batch's range in the
/// on-failure queue. `Redrive` reads that range back from the stream, which keeps it for 24
/// hours, and publishes its outbox records as the relay would have. Republishing an event that
/// did go out after all is safe: every consumer is idempotent.
#[derive(Clone)]
pub struct Redrive {
    stream: Arc<dyn OutboxStream>,
    relay: OutboxRelay,
}

impl Redrive {
    pub fn new(stream: Arc<dyn OutboxStream>, publisher: Arc<dyn EventPublisher>, env: SharedEnv) -> Self {
        Redrive { stream, relay: OutboxRelay::new(publisher, env) }
    }

    /// Publishes the outbox records of `range`; answers how many went out.
    pub async fn redrive(&self, range: &StreamRange) -> Result<usize, RedriveError> {
        let records = self.stream.outbox_records(range).await?;
        let sent = self.relay.relay(&records).await?;
        crate::measure::redriven(sent);
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use domain::events::OrderCancelled;
    use domain::{CustomerId, DomainEvent, EventEnvelope, EventId, OrderId};

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

    fn ids(records: &[OutboxRecord]) -> Vec<EventId> {
        records.iter().map(|r| r.event_id).collect()
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
        let streams = MemoryStreams(vec![products.clone(), orders.clone()]);
        let redrive = Redrive::new(Arc::new(streams), bus.clone(), SystemEnvironment::shared());
        let range = orders.stream_range(&emitted[1..4]).unwrap();

        *bus.down.lock().unwrap() = true;
        let refused = redrive.redrive(&range).await.unwrap_err();
        assert!(!refused.is_permanent(), "a bus that is down is worth retrying: {refused}");
        assert!(bus.got.lock().unwrap().is_empty());

        *bus.down.lock().unwrap() = false;
        assert_eq!(redrive.redrive(&range).await.unwrap(), 3);
        assert_eq!(redrive.redrive(&range).await.unwrap(), 3, "a second delivery of the pointer publishes again");
        let got = bus.got.lock().unwrap().clone();
        assert_eq!(ids(&got[..3]), emitted[1..4].to_vec(), "the range, in commit order, and nothing else");
        assert_eq!(ids(&got[3..]), emitted[1..4].to_vec());
    }

    #[tokio::test]
    async fn a_range_that_cannot_be_read_is_a_permanent_failure() {
        let orders = Arc::new(InMemoryOrderRepository::default());
        let first = emit(&orders).await;
        let redrive = Redrive::new(
            Arc::new(MemoryStreams(vec![orders.clone()])),
            Arc::new(Bus::default()),
            SystemEnvironment::shared(),
        );
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
