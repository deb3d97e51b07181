//! One table and the reads the repositories share: single items, batches, index pages, and the
//! ledger lookups.

use std::collections::HashMap;
use std::time::Duration;

use app::ports::{reads, AppliedEvent, Consistency, IdempotencyKey, IdempotencyRecord, StoreError, Versioned};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;

use crate::items::{decode_versioned, idempotency_record, Attrs, Key};
use crate::transaction::Transaction;

/// DynamoDB's limit on the keys of one `BatchGetItem`.
const MAX_BATCH_GET_KEYS: usize = 100;
/// Rounds of `UnprocessedKeys` before a batch read gives up.
const MAX_BATCH_GET_ROUNDS: u32 = 8;

pub(crate) fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

/// Keys DynamoDB kept leaving unprocessed.
#[derive(Debug, thiserror::Error)]
#[error("{0} batch-read keys still unprocessed after {MAX_BATCH_GET_ROUNDS} rounds")]
pub(crate) struct Unprocessed(usize);

/// Which side of a sort-key bound a query reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bound {
    Below,
    Above,
}

/// One partition of a secondary index, optionally bounded on its sort key and filtered on the
/// order status.
pub(crate) struct IndexQuery {
    pub index: &'static str,
    pub hash: (&'static str, String),
    pub range: Option<(&'static str, Bound, String)>,
    pub forward: bool,
    pub status: Option<&'static str>,
}

/// Items a filtered query evaluates per request: a filter applies after `Limit`, so reading a
/// little ahead saves round trips when most items do not match.
const FILTERED_QUERY_LIMIT: usize = 50;

/// One table and the client that reaches it.
#[derive(Clone)]
pub(crate) struct DynamoTable {
    client: Client,
    name: String,
}

impl DynamoTable {
    pub fn new(client: Client, name: String) -> Self {
        DynamoTable { client, name }
    }

    /// A strongly consistent read of one item: what a commit will be checked against.
    pub async fn get(&self, key: &Key) -> Result<Option<Attrs>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key.attrs()))
            .consistent_read(consistent_read(reads::STRONG))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }

    pub async fn get_versioned<T: DeserializeOwned>(&self, key: &Key) -> Result<Option<Versioned<T>>, StoreError> {
        self.get(key).await?.map(decode_versioned).transpose()
    }

    /// Reads of `keys` (distinct) at `consistency`, in chunks of 100, retrying what DynamoDB
    /// leaves unprocessed. Missing items are simply absent from the result.
    pub async fn get_many(&self, keys: Vec<Key>, consistency: Consistency) -> Result<Vec<Attrs>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_BATCH_GET_KEYS) {
            let mut pending: Vec<Attrs> = chunk.iter().map(Key::attrs).collect();
            let mut round = 0;
            while !pending.is_empty() {
                if round == MAX_BATCH_GET_ROUNDS {
                    return Err(unavailable(Unprocessed(pending.len())));
                }
                if round > 0 {
                    tokio::time::sleep(Duration::from_millis(25 << round.min(5))).await;
                }
                round += 1;
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(pending))
                    .consistent_read(consistent_read(consistency))
                    .build()
                    .map_err(unavailable)?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.name, request)
                    .send()
                    .await
                    .map_err(unavailable)?;
                if let Some(mut responses) = out.responses {
                    found.extend(responses.remove(&self.name).unwrap_or_default());
                }
                pending =
                    out.unprocessed_keys.and_then(|mut u| u.remove(&self.name)).map(|k| k.keys).unwrap_or_default();
            }
        }
        Ok(found)
    }

    /// [`DynamoTable::get_many`] of items of different kinds, sorted out by key: each found
    /// item under its partition key.
    pub async fn get_keyed(
        &self,
        keys: Vec<Key>,
        consistency: Consistency,
    ) -> Result<HashMap<String, Attrs>, StoreError> {
        let unique: std::collections::BTreeMap<String, Key> = keys.into_iter().map(|k| (k.pk.clone(), k)).collect();
        let found = self.get_many(unique.into_values().collect(), consistency).await?;
        Ok(found
            .into_iter()
            .filter_map(|item| match item.get("PK") {
                Some(AttributeValue::S(pk)) => Some((pk.clone(), item)),
                _ => None,
            })
            .collect())
    }

    /// Up to `want` aggregates of `q` that `keep` accepts, in index order. Keeps querying while the
    /// page is short and the index has more (a filter and `keep` apply after `Limit`).
    pub async fn query<T: DeserializeOwned>(
        &self,
        q: &IndexQuery,
        want: usize,
        keep: impl Fn(&Versioned<T>) -> bool,
    ) -> Result<Vec<Versioned<T>>, StoreError> {
        self.query_reporting(q, want, keep, Err).await
    }

    /// [`Self::query`], with each item that does not decode handed to `unreadable`: returning
    /// the error stops the query with it, returning `Ok` skips the item.
    pub async fn query_reporting<T: DeserializeOwned>(
        &self,
        q: &IndexQuery,
        want: usize,
        keep: impl Fn(&Versioned<T>) -> bool,
        mut unreadable: impl FnMut(StoreError) -> Result<(), StoreError>,
    ) -> Result<Vec<Versioned<T>>, StoreError> {
        let mut out: Vec<Versioned<T>> = Vec::with_capacity(want);
        if want == 0 {
            return Ok(out);
        }
        let mut names = HashMap::from([("#h".to_owned(), q.hash.0.to_owned())]);
        let mut values = HashMap::from([(":h".to_owned(), AttributeValue::S(q.hash.1.clone()))]);
        let mut key_condition = "#h = :h".to_owned();
        if let Some((attr, bound, value)) = &q.range {
            names.insert("#r".to_owned(), (*attr).to_owned());
            values.insert(":r".to_owned(), AttributeValue::S(value.clone()));
            key_condition.push_str(match bound {
                Bound::Below => " AND #r < :r",
                Bound::Above => " AND #r > :r",
            });
        }
        let filter = q.status.map(|s| {
            names.insert("#status".to_owned(), "status".to_owned());
            values.insert(":status".to_owned(), AttributeValue::S(s.to_owned()));
            "#status = :status".to_owned()
        });
        let mut start: Option<Attrs> = None;
        loop {
            let remaining = want - out.len();
            let limit = if filter.is_some() { remaining.max(FILTERED_QUERY_LIMIT) } else { remaining };
            let page = self
                .client
                .query()
                .table_name(&self.name)
                .index_name(q.index)
                .key_condition_expression(&key_condition)
                .set_filter_expression(filter.clone())
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(q.forward)
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items.unwrap_or_default() {
                let value = match decode_versioned::<T>(item) {
                    Ok(v) => v,
                    Err(e) => {
                        unreadable(e)?;
                        continue;
                    }
                };
                if keep(&value) {
                    out.push(value);
                    if out.len() == want {
                        return Ok(out);
                    }
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    pub async fn commit(&self, tx: Transaction) -> Result<(), StoreError> {
        tx.run(&self.client, &self.name).await
    }

    // ------------------------------------------------------------ the ledger

    pub async fn is_applied(&self, a: &AppliedEvent) -> Result<bool, StoreError> {
        Ok(self.get(&Key::applied(a)).await?.is_some())
    }

    pub async fn idempotency(
        &self,
        scope: &str,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let Some(item) = self.get(&Key::idempotency(scope, key.as_str())).await? else {
            return Ok(None);
        };
        idempotency_record(item).map(Some)
    }
}

/// DynamoDB's `ConsistentRead` for a read the application declares at `consistency`
/// ([`app::ports::reads`]; the in-memory adapters charge the capacity model for the same).
pub(crate) fn consistent_read(consistency: Consistency) -> bool {
    match consistency {
        Consistency::Strong => true,
        Consistency::Eventual => false,
    }
}

/// Implements [`app::ports::EventLedger`] for a repository with a `table: DynamoTable` field.
macro_rules! event_ledger {
    ($repo:ty) => {
        #[async_trait::async_trait]
        impl app::ports::EventLedger for $repo {
            async fn is_applied(&self, a: &app::ports::AppliedEvent) -> Result<bool, app::ports::StoreError> {
                self.table.is_applied(a).await
            }
            async fn idempotency(
                &self,
                scope: &str,
                key: &app::ports::IdempotencyKey,
            ) -> Result<Option<app::ports::IdempotencyRecord>, app::ports::StoreError> {
                self.table.idempotency(scope, key).await
            }
        }
    };
}
pub(crate) use event_ledger;

#[cfg(test)]
mod tests {
    use super::*;

    /// What `app::ports::reads` declares is what DynamoDB is asked for, and what the capacity
    /// model charges (`app::capacity::read_units`): a strong read only where it is declared.
    #[test]
    fn each_declared_read_asks_dynamodb_for_its_consistency() {
        for (declared, consistent, units) in [
            (reads::STRONG, true, 1.0),
            (reads::PLACEMENT, false, 0.5),
            (reads::STOCK_FIRST, false, 0.5),
            (reads::STOCK_AGAIN, true, 1.0),
        ] {
            assert_eq!(consistent_read(declared), consistent, "{declared:?}");
            assert_eq!(app::capacity::read_units(declared), units, "{declared:?}");
        }
    }
}
