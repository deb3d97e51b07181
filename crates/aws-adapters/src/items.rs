//! Keys and item shapes: how each stored thing is laid out (see [`crate::schema`]), and the
//! serde_dynamo mapping between items and values.

use std::collections::HashMap;

use app::ports::{AppliedEvent, IdempotencyRecord, Item, StoreError, Versioned};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use domain::EventId;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::schema::{PK, SK};

pub(crate) type Attrs = HashMap<String, AttributeValue>;

pub(crate) const APPLIED_TTL: chrono::Duration = chrono::Duration::days(7);
pub(crate) const IDEMPOTENCY_TTL: chrono::Duration = chrono::Duration::hours(24);
pub(crate) const OUTBOX_TTL: chrono::Duration = chrono::Duration::days(7);

/// The primary key of one item. Invariant: `pk` starts with the prefix that `sk` names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub pk: String,
    pub sk: &'static str,
}

impl Key {
    /// The key of an aggregate or reservation record.
    pub fn of(item: Item) -> Key {
        match item {
            Item::Order(id) => Key { pk: format!("ORDER#{id}"), sk: "ORDER" },
            Item::CatalogueEntry(id) => Key { pk: format!("CATALOGUE#{id}"), sk: "CATALOGUE" },
            Item::KnownCustomer(id) => Key { pk: format!("KNOWN_CUSTOMER#{id}"), sk: "KNOWN_CUSTOMER" },
            Item::Product(id) => Key { pk: format!("PRODUCT#{id}"), sk: "PRODUCT" },
            Item::StockReservation(order) => Key { pk: format!("RESERVATION#{order}"), sk: "RESERVATION" },
            // Its own partition key per shard, so a hot product's shards spread over partitions
            // (one partition takes about 1,000 write units a second whatever its items); under
            // the product's `PRODUCT#` prefix, so the same IAM leading key covers them.
            Item::StockShard(id, n) => Key { pk: format!("PRODUCT#{id}#STOCK#{n}"), sk: "STOCK" },
            Item::Customer(id) => Key { pk: format!("CUSTOMER#{id}"), sk: "CUSTOMER" },
            Item::CreditReservation(order) => Key { pk: format!("CREDIT#{order}"), sk: "CREDIT" },
        }
    }
    pub fn applied(a: &AppliedEvent) -> Key {
        Key { pk: format!("APPLIED#{}#{}", a.consumer, a.event_id), sk: "APPLIED" }
    }
    pub fn idempotency(scope: &str, key: &str) -> Key {
        Key { pk: format!("IDEMPOTENCY#{scope}#{key}"), sk: "IDEMPOTENCY" }
    }
    pub fn outbox(event: EventId) -> Key {
        Key { pk: format!("OUTBOX#{event}"), sk: "OUTBOX" }
    }

    pub fn attrs(&self) -> Attrs {
        HashMap::from([
            (PK.to_owned(), AttributeValue::S(self.pk.clone())),
            (SK.to_owned(), AttributeValue::S(self.sk.to_owned())),
        ])
    }
}

/// The top-level index attributes of an aggregate item; absent ones are not written at all (a
/// sparse index must not see the item).
#[derive(Debug, Default, Serialize)]
pub(crate) struct IndexAttrs {
    #[serde(rename = "GSI1PK", skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    #[serde(rename = "GSI2PK", skip_serializing_if = "Option::is_none")]
    pub gsi2pk: Option<&'static str>,
    #[serde(rename = "GSI2SK", skip_serializing_if = "Option::is_none")]
    pub gsi2sk: Option<String>,
    #[serde(rename = "GSI3PK", skip_serializing_if = "Option::is_none")]
    pub gsi3pk: Option<String>,
    #[serde(rename = "GSI3SK", skip_serializing_if = "Option::is_none")]
    pub gsi3sk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
}

/// An aggregate as written: keys, kind, version, index attributes, and the aggregate itself as a
/// nested map (serde_dynamo), so the domain's serde shape is the stored shape.
#[derive(Serialize)]
struct AggregateItem<'a, T> {
    #[serde(rename = "PK")]
    pk: &'a str,
    #[serde(rename = "SK")]
    sk: &'static str,
    entity: &'static str,
    version: u64,
    #[serde(flatten)]
    index: IndexAttrs,
    data: &'a T,
}

/// An aggregate as read: only what the repositories return.
#[derive(Deserialize)]
struct StoredAggregate<T> {
    version: u64,
    data: T,
}

impl<T> From<StoredAggregate<T>> for Versioned<T> {
    fn from(s: StoredAggregate<T>) -> Self {
        Versioned { value: s.data, version: s.version }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AppliedItem<'a> {
    #[serde(rename = "PK")]
    pk: &'a str,
    #[serde(rename = "SK")]
    sk: &'static str,
    consumer: &'a str,
    event_id: EventId,
    expires_at: i64,
}

/// The stored answer to one Idempotency-Key. `response` is kept as JSON text so that what is
/// replayed is byte-for-byte what was answered (no number re-typing through DynamoDB's N).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdempotencyItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    scope: String,
    key: String,
    fingerprint: String,
    resource_id: Uuid,
    response: String,
    expires_at: i64,
}

pub(crate) fn expiry(now: DateTime<Utc>, ttl: chrono::Duration) -> i64 {
    (now + ttl).timestamp()
}

fn pk_of(item: &Attrs) -> String {
    match item.get(PK) {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => "<item without PK>".to_owned(),
    }
}

/// Serialises `value` into item attributes. Fails only for a type serde_dynamo cannot express,
/// which is a bug in this crate: reported as [`StoreError::Corrupt`] for the item's key.
pub(crate) fn encode(key: &Key, value: &impl Serialize) -> Result<Attrs, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::Corrupt { key: key.pk.clone(), source: e.into() })
}

pub(crate) fn decode<T: DeserializeOwned>(item: Attrs) -> Result<T, StoreError> {
    let key = pk_of(&item);
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt { key, source: e.into() })
}

pub(crate) fn decode_versioned<T: DeserializeOwned>(item: Attrs) -> Result<Versioned<T>, StoreError> {
    decode::<StoredAggregate<T>>(item).map(Versioned::from)
}

/// The attributes of an aggregate item at `version`.
pub(crate) fn aggregate_item<T: Serialize>(
    key: &Key,
    entity: &'static str,
    version: u64,
    index: IndexAttrs,
    data: &T,
) -> Result<Attrs, StoreError> {
    encode(key, &AggregateItem { pk: &key.pk, sk: key.sk, entity, version, index, data })
}

pub(crate) fn applied_item(key: &Key, a: &AppliedEvent, now: DateTime<Utc>) -> Result<Attrs, StoreError> {
    let item = AppliedItem {
        pk: &key.pk,
        sk: key.sk,
        consumer: a.consumer,
        event_id: a.event_id,
        expires_at: expiry(now, APPLIED_TTL),
    };
    encode(key, &item)
}

pub(crate) fn idempotency_item(key: &Key, r: &IdempotencyRecord, now: DateTime<Utc>) -> Result<Attrs, StoreError> {
    let item = IdempotencyItem {
        pk: key.pk.clone(),
        sk: key.sk.to_owned(),
        scope: r.scope.clone(),
        key: r.key.clone(),
        fingerprint: r.fingerprint.clone(),
        resource_id: r.resource_id,
        response: r.response.to_string(),
        expires_at: expiry(now, IDEMPOTENCY_TTL),
    };
    encode(key, &item)
}

pub(crate) fn idempotency_record(item: Attrs) -> Result<IdempotencyRecord, StoreError> {
    let stored: IdempotencyItem = decode(item)?;
    let response = serde_json::from_str(&stored.response)
        .map_err(|e| StoreError::Corrupt { key: stored.pk.clone(), source: e.into() })?;
    Ok(IdempotencyRecord {
        scope: stored.scope,
        key: stored.key,
        fingerprint: stored.fingerprint,
        resource_id: stored.resource_id,
        response,
    })
}
