//! Outbox items: written in each commit's transaction, read back from the table's stream by the
//! relay. Their key has the `OUTBOX#` prefix the relay's stream filter selects on, and their
//! attributes are top-level and plain (strings), so a person can read them in the console.

use app::ports::{OutboxRecord, StoreError};
use chrono::{DateTime, Utc};
use domain::EventId;
use serde::{Deserialize, Serialize};

use crate::items::Key;
use crate::schema::{PK, SK};

/// The `SK` of every outbox item.
pub(crate) const OUTBOX_SK: &str = "OUTBOX";

/// An outbox item as written.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OutboxItem<'a> {
    #[serde(rename = "PK")]
    pk: &'a str,
    #[serde(rename = "SK")]
    sk: &'static str,
    event_id: EventId,
    source: &'a str,
    detail_type: &'a str,
    detail: &'a str,
    occurred_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_header: Option<&'a str>,
    expires_at: i64,
}

impl<'a> OutboxItem<'a> {
    pub(crate) fn new(key: &'a Key, r: &'a OutboxRecord, expires_at: i64) -> Self {
        OutboxItem {
            pk: &key.pk,
            sk: key.sk,
            event_id: r.event_id,
            source: &r.source,
            detail_type: &r.detail_type,
            detail: &r.detail,
            occurred_at: r.occurred_at,
            trace_header: r.trace_header.as_deref(),
            expires_at,
        }
    }
}

/// An outbox item as read (keys and TTL are not part of the record).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredOutbox {
    event_id: EventId,
    source: String,
    detail_type: String,
    detail: String,
    occurred_at: DateTime<Utc>,
    #[serde(default)]
    trace_header: Option<String>,
}

/// The outbox record in a DynamoDB Streams `NEW_IMAGE` (as `aws_lambda_events` delivers it), or
/// `None` when the image is some other item of the table (the relay's stream filter should
/// already keep those out). An outbox item that does not decode is [`StoreError::Corrupt`].
pub fn outbox_record_from_image(image: serde_dynamo::Item) -> Result<Option<OutboxRecord>, StoreError> {
    let text = |name: &str| match image.inner().get(name) {
        Some(serde_dynamo::AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    };
    if text(SK).as_deref() != Some(OUTBOX_SK) {
        return Ok(None);
    }
    let key = text(PK).unwrap_or_else(|| "<outbox item without PK>".to_owned());
    let stored: StoredOutbox =
        serde_dynamo::from_item(image).map_err(|e| StoreError::Corrupt { key, source: e.into() })?;
    Ok(Some(stored.into()))
}

impl From<StoredOutbox> for OutboxRecord {
    fn from(stored: StoredOutbox) -> Self {
        OutboxRecord {
            event_id: stored.event_id,
            source: stored.source,
            detail_type: stored.detail_type,
            detail: stored.detail,
            occurred_at: stored.occurred_at,
            trace_header: stored.trace_header,
        }
    }
}

/// Every outbox record of `table`, by scan: for a process that relays without a stream (the
/// offline runner pointed at a DynamoDB endpoint). Not for production tables: it reads them whole.
pub async fn scan_outbox(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<Vec<OutboxRecord>, StoreError> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let mut out: Vec<OutboxRecord> = vec![];
    let mut start: Option<std::collections::HashMap<String, AttributeValue>> = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .filter_expression("SK = :outbox")
            .expression_attribute_values(":outbox", AttributeValue::S(OUTBOX_SK.to_owned()))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        for item in page.items.unwrap_or_default() {
            let key = match item.get(PK) {
                Some(AttributeValue::S(s)) => s.clone(),
                _ => "<outbox item without PK>".to_owned(),
            };
            let stored: StoredOutbox =
                serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt { key, source: e.into() })?;
            out.push(stored.into());
        }
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => break,
        }
    }
    out.sort_by_key(|r| r.occurred_at);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `NewImage` exactly as DynamoDB Streams puts it in the Lambda event.
    const OUTBOX_IMAGE: &str = r#"{
        "PK": {"S": "OUTBOX#6f1c2a8e-4b7d-4c1e-9a3f-2d5e8b7c9a10"},
        "SK": {"S": "OUTBOX"},
        "eventId": {"S": "6f1c2a8e-4b7d-4c1e-9a3f-2d5e8b7c9a10"},
        "source": {"S": "shop.orders"},
        "detailType": {"S": "OrderCreated"},
        "detail": {"S": "{\"orderId\":\"0b6f8b8e-6c53-4a52-bb5f-7f0f1d1f0a01\"}"},
        "occurredAt": {"S": "2026-11-27T10:15:30.123456Z"},
        "expiresAt": {"N": "1796379330"}
    }"#;

    fn image(json: &str) -> serde_dynamo::Item {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn an_outbox_image_becomes_its_record() {
        let record = outbox_record_from_image(image(OUTBOX_IMAGE)).unwrap().unwrap();
        assert_eq!(record.event_id.to_string(), "6f1c2a8e-4b7d-4c1e-9a3f-2d5e8b7c9a10");
        assert_eq!(record.source, "shop.orders");
        assert_eq!(record.detail_type, "OrderCreated");
        assert_eq!(record.detail, r#"{"orderId":"0b6f8b8e-6c53-4a52-bb5f-7f0f1d1f0a01"}"#);
        assert_eq!(record.occurred_at.to_rfc3339(), "2026-11-27T10:15:30.123456+00:00");
    }

    #[test]
    fn other_items_are_not_outbox_records() {
        let order = r#"{"PK": {"S": "ORDER#1"}, "SK": {"S": "ORDER"}, "version": {"N": "1"}}"#;
        assert!(outbox_record_from_image(image(order)).unwrap().is_none());
        assert!(outbox_record_from_image(serde_dynamo::Item::from(std::collections::HashMap::<
            String,
            serde_dynamo::AttributeValue,
        >::new()))
        .unwrap()
        .is_none());
    }

    #[test]
    fn a_broken_outbox_image_is_corrupt_and_named() {
        let broken = OUTBOX_IMAGE
            .replace(r#""eventId": {"S": "6f1c2a8e-4b7d-4c1e-9a3f-2d5e8b7c9a10"}"#, r#""eventId": {"N": "7"}"#);
        match outbox_record_from_image(image(&broken)) {
            Err(StoreError::Corrupt { key, .. }) => assert_eq!(key, "OUTBOX#6f1c2a8e-4b7d-4c1e-9a3f-2d5e8b7c9a10"),
            other => panic!("expected corrupt, got {other:?}"),
        }
    }
}
