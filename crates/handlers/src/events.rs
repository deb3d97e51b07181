//! Event handlers: saga steps fed by EventBridge, and the sweeper fed by a schedule.
//! Business outcomes (a rejection) end normally; infrastructure failures end in an error so
//! Lambda and EventBridge deliver again; events that are not ours end in an error too, and so
//! in the dead-letter queue, where someone can look at them.

use app::orders::{SweepReport, Sweeper};
use app::ports::StoreError;
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
    Ok(app::bus::decode(&event.source, &event.detail_type, &event.detail)?)
}

fn step_span(step: &str, ev: &EventEnvelope) -> tracing::Span {
    tracing::info_span!(
        "step",
        step,
        event_type = ev.detail_type(),
        event_id = %ev.id(),
        correlation_id = %ev.metadata.correlation_id,
        causation_id = ev.metadata.causation_id.map(|c| c.to_string()).unwrap_or_default(),
        trace_id = ev.metadata.trace.as_ref().and_then(|t| t.root()).unwrap_or_default(),
    )
}

/// Decodes a bus event, runs one step on it inside a span carrying the saga's ids, and logs
/// the outcome. `run` is the step's service call.
pub async fn handle<F, Fut>(
    step: &'static str,
    event: EventBridgeEvent<Value>,
    run: F,
) -> Result<StepOutcome, StepError>
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
                let report = StepReport::from(outcome.clone());
                if outcome == StepOutcome::Skipped(domain::saga::Skip::Mismatch) {
                    tracing::warn!("the event names another owner than the record it would change: refused");
                }
                tracing::info!(outcome = report.outcome, emitted = ?report.emitted, "step done");
                Ok(outcome)
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
    // Each unreadable item was logged at ERROR by the sweep; the count is in its answer.
    tracing::info!(examined = report.examined, rejected = report.rejected, "sweep done");
    Ok(report)
}
