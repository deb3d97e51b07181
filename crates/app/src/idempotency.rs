//! Idempotent creates: the same Idempotency-Key with the same request replays the stored
//! response and writes nothing; with a different request it is refused. The record is written in
//! the create's own transaction, so there is no "in progress" state that could get stuck.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::AppError;
use crate::ports::{Duplicate, EventLedger, IdempotencyKey, IdempotencyRecord, StoreError};

/// The hex SHA-256 of a command's JSON: equal requests, equal fingerprints.
pub fn fingerprint(command: &impl Serialize) -> Result<String, AppError> {
    let bytes = serde_json::to_vec(command).map_err(AppError::Serialization)?;
    Ok(Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect())
}

/// What a create with a key should do.
pub enum Prior<V> {
    /// The key is new (or absent): go ahead.
    Fresh,
    /// The key answered this very request before: here is the response.
    Replay(V),
}

/// Looks the key up: replay, refuse a reused key, or let the create go ahead.
pub async fn check<V: DeserializeOwned>(
    ledger: &dyn EventLedger,
    scope: &str,
    key: Option<&IdempotencyKey>,
    fingerprint: &str,
) -> Result<Prior<V>, AppError> {
    let Some(key) = key else { return Ok(Prior::Fresh) };
    match ledger.idempotency(scope, key).await? {
        None => Ok(Prior::Fresh),
        Some(r) if r.fingerprint == fingerprint => serde_json::from_value(r.response).map(Prior::Replay).map_err(|e| {
            AppError::Store(StoreError::Corrupt { key: format!("{scope}/{}", key.as_str()), source: e.into() })
        }),
        Some(_) => Err(AppError::IdempotencyKeyReused),
    }
}

/// The record to commit with a create.
pub fn record(
    scope: &str,
    key: Option<&IdempotencyKey>,
    fingerprint: &str,
    resource_id: Uuid,
    response: &impl Serialize,
) -> Result<Option<IdempotencyRecord>, AppError> {
    let Some(k) = key else { return Ok(None) };
    Ok(Some(IdempotencyRecord {
        scope: scope.to_owned(),
        key: k.as_str().to_owned(),
        fingerprint: fingerprint.to_owned(),
        resource_id,
        response: serde_json::to_value(response).map_err(AppError::Serialization)?,
    }))
}

/// A create's answer: the resource as created, and whether it is a replay of an earlier answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created<V> {
    pub resource: V,
    pub replayed: bool,
}

/// Settles a create's commit. Losing the race for the key to a concurrent request with the same
/// body answers as the winner did; with another body it is refused like any reused key.
pub async fn settle<V: DeserializeOwned>(
    ledger: &dyn EventLedger,
    scope: &str,
    key: Option<&IdempotencyKey>,
    fingerprint: &str,
    committed: Result<(), StoreError>,
    resource: V,
) -> Result<Created<V>, AppError> {
    match committed {
        Ok(()) => Ok(Created { resource, replayed: false }),
        Err(StoreError::Duplicate(Duplicate::IdempotencyKey)) => match check(ledger, scope, key, fingerprint).await? {
            Prior::Replay(resource) => Ok(Created { resource, replayed: true }),
            Prior::Fresh => Err(AppError::Conflict),
        },
        Err(e) => Err(e.into()),
    }
}
