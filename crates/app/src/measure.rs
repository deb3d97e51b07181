//! What the application counts, through the `metrics` facade: the saga funnel, its duration, and
//! how the steps and the relay are doing. Lambda functions install a CloudWatch Embedded Metric
//! Format recorder (`bundle::telemetry`), so each becomes a CloudWatch metric with no API call;
//! without a recorder (the runner, the tests) these cost nothing. The names here are the ones the
//! template's dashboard and alarms use.

use chrono::{DateTime, Utc};
use domain::{DomainEvent, RejectionReason};
use metrics::{counter, histogram};

/// An order stored PENDING (not counting idempotent replays).
pub const ORDERS_CREATED: &str = "OrdersCreated";
pub const ORDERS_APPROVED: &str = "OrdersApproved";
/// Label `reason`: the rejection reason, as on the event.
pub const ORDERS_REJECTED: &str = "OrdersRejected";
pub const ORDERS_CANCELLED: &str = "OrdersCancelled";
/// Milliseconds from an order's creation to its approval or rejection.
pub const SAGA_DURATION: &str = "SagaDurationMs";
/// Label `operation`: a create answered from its Idempotency-Key record.
pub const IDEMPOTENT_REPLAYS: &str = "IdempotentReplays";
/// Label `step`: an event this step had already applied (EventBridge delivers at least once).
pub const DUPLICATE_DELIVERIES: &str = "DuplicateDeliveriesSkipped";
/// Label `step`: a commit lost to a concurrent writer, retried.
pub const VERSION_CONFLICTS: &str = "VersionConflicts";
/// Label `step`: a hold the invariant refused (the stock or credit was taken since the read), so
/// the step decided again.
pub const HOLDS_REFUSED: &str = "HoldsRefused";
/// Label `step`: a step that gave up after its attempts (the delivery is retried).
pub const STEP_GAVE_UP: &str = "StepGaveUp";
pub const RELAY_BATCH_SIZE: &str = "RelayBatchSize";
pub const RELAY_ENTRIES_FAILED: &str = "RelayEntriesFailed";
/// Milliseconds from an event's commit to its acceptance by the bus.
pub const RELAY_LAG: &str = "RelayLagMs";
pub const COLD_STARTS: &str = "ColdStarts";
/// Events put back on the bus from a stream range the relay had given up on.
pub const EVENTS_REDRIVEN: &str = "EventsRedriven";
/// Outbox records the relay refused to publish: they named another context's source than the
/// one of the table they were committed in. Alarmed: each is a forgery or a bug.
pub const RELAY_RECORDS_REFUSED: &str = "RelayRecordsRefused";

pub fn order_created() {
    counter!(ORDERS_CREATED).increment(1);
}

pub fn order_cancelled() {
    counter!(ORDERS_CANCELLED).increment(1);
}

pub fn idempotent_replay(operation: &str) {
    counter!(IDEMPOTENT_REPLAYS, "operation" => operation.to_owned()).increment(1);
}

pub fn duplicate_delivery(step: &'static str) {
    counter!(DUPLICATE_DELIVERIES, "step" => step).increment(1);
}

pub fn version_conflict(step: &'static str) {
    counter!(VERSION_CONFLICTS, "step" => step).increment(1);
}

pub fn hold_refused(step: &'static str) {
    counter!(HOLDS_REFUSED, "step" => step).increment(1);
}

pub fn step_gave_up(step: &'static str) {
    counter!(STEP_GAVE_UP, "step" => step).increment(1);
}

/// The funnel's terminal counts, from the events a committed step emitted.
pub fn emitted(events: &[DomainEvent]) {
    for e in events {
        match e {
            DomainEvent::OrderApproved(_) => counter!(ORDERS_APPROVED).increment(1),
            DomainEvent::OrderRejected(r) => rejected(r.reason),
            _ => {}
        }
    }
}

pub fn rejected(reason: RejectionReason) {
    counter!(ORDERS_REJECTED, "reason" => reason.as_str()).increment(1);
}

/// A saga that ended (approved or rejected) `now`, for an order created at `created`.
pub fn saga_ended(created: DateTime<Utc>, now: DateTime<Utc>) {
    histogram!(SAGA_DURATION).record((now - created).num_milliseconds().max(0) as f64);
}

/// One relay batch: its size, the entries the bus refused, and each accepted event's lag.
pub fn relayed(batch: usize, failed: usize, lags_ms: impl IntoIterator<Item = i64>) {
    histogram!(RELAY_BATCH_SIZE).record(batch as f64);
    if failed > 0 {
        counter!(RELAY_ENTRIES_FAILED).increment(failed as u64);
    }
    for lag in lags_ms {
        histogram!(RELAY_LAG).record(lag.max(0) as f64);
    }
}

pub fn records_refused(records: usize) {
    if records > 0 {
        counter!(RELAY_RECORDS_REFUSED).increment(records as u64);
    }
}

pub fn redriven(events: usize) {
    counter!(EVENTS_REDRIVEN).increment(events as u64);
}

pub fn cold_start() {
    counter!(COLD_STARTS).increment(1);
}
