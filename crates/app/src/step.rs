//! What every saga step shares: the applied-event marker, the envelopes of what it emits, and the
//! retry loop around a version conflict (reload, decide again, commit again).

use std::time::Duration;

use domain::saga::{Skip, Step};
use domain::{DomainEvent, EventEnvelope};

use crate::env::SharedEnv;
use crate::error::StepError;
use crate::ports::{AppliedEvent, Commit, Duplicate, StoreError};

/// Conflicting attempts before a step gives up and lets Lambda deliver the event again.
pub const MAX_ATTEMPTS: u32 = 12;

/// What a step did with one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// State written and these events emitted (detail-types), in one transaction.
    Applied { emitted: Vec<&'static str> },
    /// The decision was to do nothing.
    Skipped(Skip),
    /// This consumer had already applied this event.
    AlreadyApplied,
}

/// The consumer names: each is the function that runs the step and the key of its markers.
pub mod consumer {
    pub const RESERVE_STOCK: &str = "reserve-stock";
    pub const RELEASE_STOCK: &str = "release-stock";
    pub const PRICE_ORDER: &str = "price-order";
    pub const APPROVE_ORDER: &str = "approve-order";
    pub const REJECT_ORDER: &str = "reject-order";
    pub const RESERVE_CREDIT: &str = "reserve-credit";
    pub const RELEASE_CREDIT: &str = "release-credit";
}

pub(crate) fn unroutable(consumer: &'static str, ev: &EventEnvelope) -> StepError {
    StepError::Unroutable { consumer, detail_type: ev.detail_type() }
}

pub(crate) fn marker(consumer: &'static str, ev: &EventEnvelope) -> AppliedEvent {
    AppliedEvent { consumer, event_id: ev.id() }
}

/// The commit a decided step asks for, or its outcome when it asks for nothing: the new state
/// becomes the context's writes (`writes`), an emission without a state change is guarded by
/// `guard`, and the events become envelopes caused by `cause`, committed with the marker.
pub(crate) fn plan<S, W>(
    step: Step<S>,
    writes: impl FnOnce(S) -> Vec<W>,
    guard: Vec<W>,
    cause: &EventEnvelope,
    applied: &AppliedEvent,
    env: &SharedEnv,
) -> Result<(Commit<W>, Vec<&'static str>), StepOutcome> {
    let (writes, events) = match step {
        Step::Apply { state, events } => (writes(state), events),
        Step::Emit(events) => (guard, events),
        Step::Skip(s) => return Err(StepOutcome::Skipped(s)),
    };
    let names = events.iter().map(DomainEvent::event_type).collect();
    let envelopes: Vec<EventEnvelope> =
        events.into_iter().map(|e| EventEnvelope::caused_by(e, &cause.metadata, env.as_ref())).collect();
    Ok((Commit::new(writes, &envelopes).applying(applied.clone()), names))
}

/// What a commit attempt means for the step: its outcome, or `None` to reload, decide again and
/// retry (a version conflict).
pub(crate) fn settle(
    result: Result<(), StoreError>,
    emitted: Vec<&'static str>,
) -> Result<Option<StepOutcome>, StepError> {
    match result {
        Ok(()) => Ok(Some(StepOutcome::Applied { emitted })),
        Err(StoreError::Conflict { item }) => {
            tracing::debug!(%item, "version conflict, retrying the step");
            Ok(None)
        }
        // A concurrent delivery of the same event won the race.
        Err(StoreError::Duplicate(Duplicate::AppliedEvent)) => Ok(Some(StepOutcome::AlreadyApplied)),
        Err(e) => Err(StepError::Store(e)),
    }
}

/// Counts attempts and sleeps with jittered exponential backoff between them.
pub(crate) struct Attempts<'a> {
    n: u32,
    env: &'a SharedEnv,
}

impl<'a> Attempts<'a> {
    pub(crate) fn new(env: &'a SharedEnv) -> Self {
        Attempts { n: 1, env }
    }

    pub(crate) async fn backoff(&mut self) -> Result<(), StepError> {
        if self.n >= MAX_ATTEMPTS {
            return Err(StepError::Contention { attempts: self.n });
        }
        let cap_ms = (5u64 << self.n.min(7)).min(400);
        let jitter = (self.env.new_uuid().as_u128() % u128::from(cap_ms + 1)) as u64;
        self.n += 1;
        tokio::time::sleep(Duration::from_millis(jitter)).await;
        Ok(())
    }
}
