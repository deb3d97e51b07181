//! The outbox relay: hands committed outbox records to the bus. The only path to PutEvents.

use std::sync::Arc;

use crate::ports::{EventPublisher, OutboxRecord, PublishError};

#[derive(Clone)]
pub struct OutboxRelay {
    publisher: Arc<dyn EventPublisher>,
}

impl OutboxRelay {
    pub fn new(publisher: Arc<dyn EventPublisher>) -> Self {
        OutboxRelay { publisher }
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
        let now = chrono::Utc::now();
        let lags: Vec<i64> = match &published {
            Ok(()) => records.iter().map(|r| (now - r.occurred_at).num_milliseconds()).collect(),
            Err(_) => vec![],
        };
        crate::measure::relayed(records.len(), failed, lags);
        published?;
        Ok(records.len())
    }
}
