//! Event handlers: saga steps fed by EventBridge, and the sweeper fed by a schedule.
//! Business outcomes (a rejection) end normally; infrastructure failures end in an error so
//! Lambda and EventBridge deliver again; events that are not ours end in an error too, and so
//! in the dead-letter queue, where someone can look at them.

use app::customers::CustomerService;
use app::orders::{OrderSaga, SweepReport, Sweeper};
use app::ports::StoreError;
use app::products::ProductService;
use app::step::StepOutcome;
use app::StepError;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use domain::EventEnvelope;
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

/// What a step answers to the Lambda runtime: visible in the invocation record and the logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    pub outcome: &'static str,
    pub emitted: Vec<&'static str>,
}

impl From<StepOutcome> for StepReport {
    fn from(o: StepOutcome) -> Self {
        match o {
            StepOutcome::Applied { emitted } => StepReport { outcome: "applied", emitted },
            StepOutcome::Skipped(_) => StepReport { outcome: "skipped", emitted: vec![] },
            StepOutcome::AlreadyApplied => StepReport { outcome: "already-applied", emitted: vec![] },
        }
    }
}

/// Reads our envelope out of an EventBridge event.
pub fn decode(event: &EventBridgeEvent<Value>) -> Result<EventEnvelope, StepError> {
    Ok(EventEnvelope::from_bus(&event.source, &event.detail_type, &event.detail)?)
}

/// Every saga step, by function name, for a process that runs them all (the local runner).
#[derive(Clone)]
pub struct SagaApp {
    pub products: ProductService,
    pub orders: OrderSaga,
    pub customers: CustomerService,
}

impl SagaApp {
    /// Runs step `name` on `ev`; `None` when `name` is not a saga step.
    pub async fn run(&self, name: &str, ev: &EventEnvelope) -> Option<Result<StepOutcome, StepError>> {
        let span = step_span(name, ev);
        let fut = async {
            Some(match name {
                "reserve-stock" => self.products.reserve_stock(ev).await,
                "release-stock" => self.products.release_stock(ev).await,
                "price-order" => self.orders.price(ev).await,
                "approve-order" => self.orders.approve(ev).await,
                "reject-order" => self.orders.reject(ev).await,
                "reserve-credit" => self.customers.reserve_credit(ev).await,
                "release-credit" => self.customers.release_credit(ev).await,
                _ => return None,
            })
        };
        fut.instrument(span).await
    }
}

fn step_span(step: &str, ev: &EventEnvelope) -> tracing::Span {
    tracing::info_span!(
        "step",
        step,
        event_type = ev.detail_type(),
        event_id = %ev.id(),
        correlation_id = %ev.metadata.correlation_id,
        causation_id = ev.metadata.causation_id.map(|c| c.to_string()).unwrap_or_default(),
    )
}

/// Decodes a bus event, runs one step on it inside a span carrying the saga's ids, and logs
/// the outcome. `run` is the step's service call.
pub async fn handle<F, Fut>(step: &'static str, event: EventBridgeEvent<Value>, run: F) -> Result<StepReport, StepError>
where
    F: FnOnce(EventEnvelope) -> Fut,
    Fut: std::future::Future<Output = Result<StepOutcome, StepError>>,
{
    let envelope = match decode(&event) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(step, error = %e, source = %event.source, detail_type = %event.detail_type, "not one of our events");
            return Err(e);
        }
    };
    let span = step_span(step, &envelope);
    async move {
        match run(envelope).await {
            Ok(outcome) => {
                let report = StepReport::from(outcome);
                tracing::info!(outcome = report.outcome, emitted = ?report.emitted, "step done");
                Ok(report)
            }
            Err(e) => {
                tracing::error!(error = %e, retryable = e.is_retryable(), "step failed");
                Err(e)
            }
        }
    }
    .instrument(span)
    .await
}

/// The scheduled sweep: rejects orders stuck in PENDING.
pub async fn sweep(sweeper: &Sweeper) -> Result<SweepReport, StoreError> {
    let report = sweeper.sweep().await?;
    tracing::info!(examined = report.examined, rejected = report.rejected, "sweep done");
    Ok(report)
}

/// Why a batch of stream records was not relayed. Either way the batch fails as a whole and
/// the stream delivers it again (bisecting on repeated failure), so nothing is lost.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("an outbox record in the stream does not decode")]
    Corrupt(#[source] StoreError),
    #[error("publishing failed")]
    Publish(#[source] app::ports::PublishError),
}

/// The outbox relay: INSERTs of outbox items in a DynamoDB Streams batch go to the bus, in
/// stream order. Other records (aggregates, markers, TTL deletions) are not ours to relay.
pub async fn relay_stream(
    relay: &app::relay::OutboxRelay,
    event: aws_lambda_events::dynamodb::Event,
) -> Result<usize, RelayError> {
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
