//! Idempotent creates: the same Idempotency-Key with the same request replays the stored
//! response and writes nothing; with a different request it is refused. The record is written in
//! the create's own transaction, so there is no "in progress" state that could get stuck. Keys
//! are scoped to the caller ([`scope`]): two callers' keys never meet.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::access::Caller;
use crate::error::AppError;
use crate::ports::{Duplicate, EventLedger, IdempotencyKey, IdempotencyRecord, StoreError};

/// The scope of a caller's keys for one kind of create: `base` and the caller's subject.
pub fn scope(base: &str, caller: &Caller) -> String {
    format!("{base}:{}", caller.subject())
}

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
    judge(ledger.idempotency(scope, key).await?, scope, key, fingerprint)
}

/// What a key's stored record (read by [`check`], or together with a create's other reads)
/// means for this request: replay, refuse a reused key, or go ahead.
pub fn judge<V: DeserializeOwned>(
    record: Option<IdempotencyRecord>,
    scope: &str,
    key: &IdempotencyKey,
    fingerprint: &str,
) -> Result<Prior<V>, AppError> {
    match record {
        None => Ok(Prior::Fresh),
        Some(r) if r.fingerprint == fingerprint => {
            crate::measure::idempotent_replay(scope.split(':').next().unwrap_or(scope));
            serde_json::from_value(r.response).map(Prior::Replay).map_err(|e| {
                AppError::Store(StoreError::Corrupt { key: format!("{scope}/{}", key.as_str()), source: e.into() })
            })
        }
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
/// body answers as the winner did, whichever of the transaction's conditions the store names
/// (the winner's write can fail the loser on the email claim or the item's version before the
/// key); with another body it is refused like any reused key. Without a winner's record, a
/// refusal is mapped by `refused`.
pub async fn settle<V: DeserializeOwned>(
    ledger: &dyn EventLedger,
    scope: &str,
    key: Option<&IdempotencyKey>,
    fingerprint: &str,
    committed: Result<(), StoreError>,
    resource: V,
    refused: impl FnOnce(StoreError) -> AppError,
) -> Result<Created<V>, AppError> {
    let e = match committed {
        Ok(()) => return Ok(Created { resource, replayed: false }),
        Err(e @ (StoreError::Duplicate(_) | StoreError::Conflict { .. })) => e,
        Err(e) => return Err(e.into()),
    };
    match check(ledger, scope, key, fingerprint).await? {
        Prior::Replay(resource) => Ok(Created { resource, replayed: true }),
        Prior::Fresh if matches!(e, StoreError::Duplicate(Duplicate::IdempotencyKey)) => Err(AppError::Conflict),
        Prior::Fresh => Err(refused(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::InMemoryCustomerRepository;
    use crate::ports::{Commit, CustomerWrite, Item, Transactional};
    use domain::CustomerId;

    /// The loser of a race for one key may be refused on any condition of the winner's
    /// transaction (the store reports one); it answers with the winner's response all the same.
    #[tokio::test]
    async fn a_refusal_on_another_condition_replays_the_winners_answer() {
        let repo = InMemoryCustomerRepository::default();
        let caller = Caller::new(Uuid::from_u128(7), false);
        let scope = scope("customers", &caller);
        let key = IdempotencyKey::parse("k-1").unwrap();
        let record = record(&scope, Some(&key), "fp", Uuid::from_u128(1), &"the winner's answer").unwrap();
        repo.commit(Commit::<CustomerWrite>::new(vec![], &[]).answering(record)).await.unwrap();
        let lost = Err(StoreError::Conflict { item: Item::Customer(CustomerId::from_uuid(Uuid::from_u128(1))) });
        let r = settle(&repo, &scope, Some(&key), "fp", lost, "mine".to_owned(), AppError::from).await.unwrap();
        assert_eq!(r, Created { resource: "the winner's answer".to_owned(), replayed: true });
        // Another caller's same key is another scope: its refusal stands.
        let other = super::scope("customers", &Caller::new(Uuid::from_u128(8), false));
        let lost = Err(StoreError::Conflict { item: Item::Customer(CustomerId::from_uuid(Uuid::from_u128(2))) });
        let r = settle(&repo, &other, Some(&key), "fp", lost, "mine".to_owned(), AppError::from).await;
        assert!(matches!(r, Err(AppError::Conflict)), "{r:?}");
    }
}
