//! The saga step loop, written once: attempts { load; decide; commit with the applied marker as
//! a condition (a redelivery is refused there); back off on a version conflict }. Each step supplies only its attempt (load
//! what it decides on, ask the domain, say which writes store the new state).

use std::future::Future;
use std::time::Duration;

use domain::saga::{Skip, Step};
use domain::{DomainEvent, EventEnvelope};

use crate::env::SharedEnv;
use crate::error::StepError;
use crate::measure;
use crate::ports::{AppliedEvent, Commit, Duplicate, StoreError, Transactional};

/// Conflicting attempts before a step gives up and lets Lambda deliver the event again.
pub const MAX_ATTEMPTS: u32 = 12;

/// Attempts of an HTTP write that meets a concurrent write (a saga's stock or credit hold on the
/// same aggregate) before it answers 409.
pub const HTTP_ATTEMPTS: u32 = 5;

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

/// The name a consumer records the events it applied under. It is the name of the function that
/// runs the step, handed down by the composition root, so it is written in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Consumer(&'static str);

impl Consumer {
    pub const fn new(name: &'static str) -> Self {
        Consumer(name)
    }

    pub fn name(self) -> &'static str {
        self.0
    }

    /// The error for an event this consumer does not handle (a routing mistake).
    pub(crate) fn unroutable(self, ev: &EventEnvelope) -> StepError {
        StepError::Unroutable { consumer: self.0, detail_type: ev.detail_type() }
    }
}

/// What one attempt decided: the domain's decision with its new state already turned into the
/// context's writes, and the writes that guard an emission without a state change (the versions
/// the decision was taken on).
pub(crate) struct Attempt<W> {
    pub decision: Step<Vec<W>>,
    pub guard: Vec<W>,
}

impl<W> Attempt<W> {
    /// A decision whose emission needs no guard.
    pub(crate) fn unguarded(decision: Step<Vec<W>>) -> Self {
        Attempt { decision, guard: vec![] }
    }
}

/// Runs one step for `ev` on `store`: `attempt` (load and decide) and one commit of its writes,
/// the emitted events and the applied marker, conditional on the marker being new (so nothing
/// changes when `consumer` already applied `ev`); again after a jittered backoff while the commit
/// meets a version conflict.
pub(crate) async fn run<W, F, Fut>(
    store: &dyn Transactional<W>,
    consumer: Consumer,
    ev: &EventEnvelope,
    env: &SharedEnv,
    attempt: F,
) -> Result<StepOutcome, StepError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Attempt<W>, StepError>>,
{
    // The applied marker is not read first: it is a condition of the commit, which refuses a
    // redelivery as `Duplicate::AppliedEvent` (one read request less on every first delivery,
    // the common case). Only a decision to do nothing asks whether it was a redelivery.
    let applied = AppliedEvent { consumer: consumer.name(), event_id: ev.id() };
    let mut backoff = Backoff::new(env);
    loop {
        let Attempt { decision, guard } = attempt().await?;
        let (writes, events) = match decision {
            Step::Apply { state, events } => (state, events),
            Step::Emit(events) => (guard, events),
            Step::Skip(s) => {
                if store.is_applied(&applied).await? {
                    measure::duplicate_delivery(consumer.name());
                    return Ok(StepOutcome::AlreadyApplied);
                }
                return Ok(StepOutcome::Skipped(s));
            }
        };
        let emitted = events.iter().map(DomainEvent::event_type).collect();
        let counted = events.clone();
        let envelopes: Vec<EventEnvelope> =
            events.into_iter().map(|e| EventEnvelope::caused_by(e, &ev.metadata, env.as_ref())).collect();
        match store.commit(Commit::new(writes, &envelopes).applying(applied.clone())).await {
            Ok(()) => {
                measure::emitted(&counted);
                return Ok(StepOutcome::Applied { emitted });
            }
            Err(StoreError::Conflict { item }) => {
                measure::version_conflict(consumer.name());
                tracing::debug!(%item, "version conflict, retrying the step")
            }
            // The stock or credit was taken since the read: decide again on what is stored now,
            // at once (the next decision sees less left, and refuses if it is not enough).
            Err(StoreError::Refused { item }) => {
                measure::hold_refused(consumer.name());
                tracing::debug!(%item, "hold refused by the invariant, deciding again");
                backoff.count().inspect_err(|_| measure::step_gave_up(consumer.name()))?;
                continue;
            }
            // A concurrent delivery of the same event won the race.
            Err(StoreError::Duplicate(Duplicate::AppliedEvent)) => {
                measure::duplicate_delivery(consumer.name());
                return Ok(StepOutcome::AlreadyApplied);
            }
            Err(e) => return Err(StepError::Store(e)),
        }
        backoff.wait().await.inspect_err(|_| measure::step_gave_up(consumer.name()))?;
    }
}

/// Counts attempts and sleeps with jittered exponential backoff between them.
struct Backoff<'a> {
    n: u32,
    env: &'a SharedEnv,
}

impl<'a> Backoff<'a> {
    fn new(env: &'a SharedEnv) -> Self {
        Backoff { n: 1, env }
    }

    /// One more attempt, at once; an error once the attempts are spent.
    fn count(&mut self) -> Result<(), StepError> {
        if self.n >= MAX_ATTEMPTS {
            return Err(StepError::Contention { attempts: self.n });
        }
        self.n += 1;
        Ok(())
    }

    async fn wait(&mut self) -> Result<(), StepError> {
        let cap_ms = (5u64 << self.n.min(7)).min(400);
        self.count()?;
        let jitter = (self.env.new_uuid().as_u128() % u128::from(cap_ms + 1)) as u64;
        tokio::time::sleep(Duration::from_millis(jitter)).await;
        Ok(())
    }
}
