//! The application layer's errors: one enum for requests, one for saga steps.

use domain::DomainError;

use crate::bus::EventDecodeError;

use crate::ports::{Item, StoreError};

/// Why a request was not carried out. The HTTP layer maps each variant to one status and one
/// problem type, in one place.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request breaks a rule of the model (bad value, illegal transition...).
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{0} not found")]
    NotFound(Item),
    /// The request names something the orders context does not know (a product on an order
    /// line...): it does not exist, is no longer sold, or was added a moment ago and its event has
    /// not reached the replica yet.
    #[error("{0} is unknown here: it does not exist, is no longer sold, or was added a moment ago and is not orderable yet (retry in a few seconds)")]
    UnknownReference(Item),
    /// The caller already has a customer: a subject registers once.
    #[error("the caller is already registered as a customer")]
    AlreadyRegistered,
    /// The caller may not do this, whatever the resource (see `access`).
    #[error("{0}")]
    Forbidden(&'static str),
    /// The resource changed while we were writing it; the client may retry.
    #[error("the resource was modified concurrently")]
    Conflict,
    /// The client wrote on the strength of a revision it had read (`If-Match`), and the item has
    /// moved on since: someone else changed it. Nothing was written.
    #[error("someone else changed {item} since you read it (you read revision {expected}; it is now at revision {current}); nothing was written: read it again and redo your change")]
    PreconditionFailed { item: Item, expected: u64, current: u32 },
    #[error("the Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("invalid page cursor")]
    InvalidCursor,
    #[error("storage failure")]
    Store(#[source] StoreError),
    /// A value could not be turned into JSON: a bug, answered as an internal error.
    #[error("serialization failure")]
    Serialization(#[source] serde_json::Error),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { .. } => AppError::Conflict,
            StoreError::InvalidCursor => AppError::InvalidCursor,
            other => AppError::Store(other),
        }
    }
}

/// Why a saga step did not complete. Every variant but `Unroutable` and `Malformed` is
/// retryable: the Lambda returns an error and EventBridge/Lambda deliver the event again.
/// A business outcome (a rejection) is never an error: it is an event.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("storage failure")]
    Store(#[from] StoreError),
    #[error("gave up after {attempts} conflicting attempts")]
    Contention { attempts: u32 },
    /// The item the event is about is not (yet) there: a replica behind, or a foreign event.
    #[error("{0} not found")]
    Missing(Item),
    /// The event is ours but this step does not consume it: a routing mistake.
    #[error("{consumer} does not handle {detail_type}")]
    Unroutable { consumer: &'static str, detail_type: &'static str },
    /// The bytes are not one of our events.
    #[error(transparent)]
    Malformed(#[from] EventDecodeError),
}

impl StepError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, StepError::Store(_) | StepError::Contention { .. } | StepError::Missing(_))
    }
}
