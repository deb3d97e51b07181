//! How our events look on an event bus (EventBridge's format): `source` = `shop.<context>`,
//! `detail-type` = the event's type, `detail` = `{"metadata": {...}, "data": {...}}`. Rules
//! match on source, detail-type and fields of `detail.data`. The outbox stores events in this
//! shape, the relay publishes them as they are, and the steps decode them back with [`decode`].

use domain::{Context, DomainEvent, EventEnvelope, EventMetadata, SchemaVersions};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The bus `source` of a context's events.
pub fn source(context: Context) -> &'static str {
    match context {
        Context::Orders => "shop.orders",
        Context::Products => "shop.products",
        Context::Customers => "shop.customers",
    }
}

/// Why bytes from the bus are not one of our events.
#[derive(Debug, thiserror::Error)]
pub enum EventDecodeError {
    #[error("unknown detail-type {0:?}")]
    UnknownType(String),
    #[error("{detail_type} must come from {expected}, not {actual:?}")]
    WrongSource { detail_type: String, expected: &'static str, actual: String },
    #[error("malformed detail")]
    Malformed(#[source] serde_json::Error),
    #[error("unsupported schema version {0}")]
    UnsupportedVersion(u32),
}

#[derive(Serialize, Deserialize)]
struct Detail<M, D> {
    metadata: M,
    data: D,
}

/// The `detail` object of `e`.
pub fn detail(e: &EventEnvelope) -> Result<Value, serde_json::Error> {
    let data = match serde_json::to_value(&e.event)? {
        Value::Object(mut m) => m.remove("data").unwrap_or(Value::Null),
        other => other,
    };
    serde_json::to_value(Detail { metadata: &e.metadata, data })
}

/// Reads an event back from the parts of a bus event, checking that type and source agree and
/// that its schema version is one this code reads for its type (the current one, and the older
/// ones still in flight that decode into it: [`SchemaVersions`]).
pub fn decode(source_: &str, detail_type: &str, detail: &Value) -> Result<EventEnvelope, EventDecodeError> {
    let expected = DomainEvent::TYPES
        .iter()
        .find(|(t, _)| *t == detail_type)
        .map(|(_, c)| source(*c))
        .ok_or_else(|| EventDecodeError::UnknownType(detail_type.to_owned()))?;
    if source_ != expected {
        return Err(EventDecodeError::WrongSource {
            detail_type: detail_type.to_owned(),
            expected,
            actual: source_.to_owned(),
        });
    }
    let parts: Detail<EventMetadata, Value> =
        serde_json::from_value(detail.clone()).map_err(EventDecodeError::Malformed)?;
    if !SchemaVersions::of(detail_type).reads(parts.metadata.schema_version) {
        return Err(EventDecodeError::UnsupportedVersion(parts.metadata.schema_version));
    }
    let event: DomainEvent = serde_json::from_value(serde_json::json!({ "type": detail_type, "data": parts.data }))
        .map_err(EventDecodeError::Malformed)?;
    Ok(EventEnvelope { metadata: parts.metadata, event })
}

/// The JSON Schemas of the events on the bus: one per event type, describing its `detail`
/// (`metadata` at the type's current schema version, and `data`), generated from the very types
/// the domain emits. Each is `(file name, schema)`, the file name `<DetailType>.v<version>.json`.
#[cfg(feature = "schema")]
pub fn schemas() -> Vec<(String, Value)> {
    DomainEvent::TYPES
        .iter()
        .filter_map(|(detail_type, context)| {
            let version = SchemaVersions::of(detail_type).current;
            let mut generator = schemars::SchemaGenerator::default();
            let metadata = generator.subschema_for::<EventMetadata>();
            let data = DomainEvent::payload_schema(detail_type, &mut generator)?;
            let file = format!("{detail_type}.v{version}.json");
            let schema = serde_json::json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": format!("https://shop-saga.dev/schemas/events/{file}"),
                "title": detail_type,
                "description": format!(
                    "The `detail` of a `{detail_type}` event (source `{}`), schema version {version}.",
                    source(*context)
                ),
                "type": "object",
                "properties": {
                    "metadata": {"allOf": [metadata, {"properties": {"schemaVersion": {"const": version}}}]},
                    "data": data,
                },
                "required": ["metadata", "data"],
                "$defs": generator.definitions(),
            });
            Some((file, schema))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::events::OrderCancelled;
    use domain::{CustomerId, Environment, OrderId};
    use std::str::FromStr;

    struct Fixed;
    impl Environment for Fixed {
        fn now(&self) -> chrono::DateTime<chrono::Utc> {
            chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
        }
        fn new_uuid(&self) -> uuid::Uuid {
            uuid::Uuid::from_u128(42)
        }
    }

    fn cancelled() -> EventEnvelope {
        EventEnvelope::new(
            DomainEvent::OrderCancelled(OrderCancelled {
                order_id: OrderId::from_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap(),
                customer_id: CustomerId::from_str("11111111-10b1-426f-9247-bb680e5fe0c8").unwrap(),
                product_ids: vec![],
            }),
            &Fixed,
        )
    }

    #[test]
    fn an_envelope_round_trips_through_the_bus_format() {
        let e = cancelled();
        let d = detail(&e).unwrap();
        assert_eq!(d["data"]["orderId"], "67e55044-10b1-426f-9247-bb680e5fe0c8");
        assert_eq!(decode(source(e.event.context()), e.detail_type(), &d).unwrap(), e);
    }

    #[test]
    fn a_bus_event_from_the_wrong_source_or_of_another_type_is_refused() {
        let e = cancelled();
        let d = detail(&e).unwrap();
        assert!(matches!(decode("shop.products", "OrderCancelled", &d), Err(EventDecodeError::WrongSource { .. })));
        assert!(matches!(decode("shop.orders", "OrderExploded", &d), Err(EventDecodeError::UnknownType(_))));
        let no_metadata = serde_json::json!({"data": {}});
        assert!(matches!(decode("shop.orders", "OrderCancelled", &no_metadata), Err(EventDecodeError::Malformed(_))));
    }

    /// `CustomerRegistered` went to version 2 without the email; the version-1 events still in
    /// the outbox and the dead-letter queues decode all the same (their email is dropped), and a
    /// version no reader knows is refused, as is a raised version on a type that was not raised.
    #[test]
    fn a_type_reads_its_versions_still_in_flight_and_no_other() {
        let registered = |version: u32| {
            serde_json::json!({
                "metadata": {"eventId": "67e55044-10b1-426f-9247-bb680e5fe0c8", "occurredAt": "2026-11-27T10:00:00Z",
                             "correlationId": "11111111-10b1-426f-9247-bb680e5fe0c8", "causationId": null,
                             "schemaVersion": version},
                "data": {"customerId": "11111111-10b1-426f-9247-bb680e5fe0c8", "email": "ada@example.com",
                         "creditLimit": {"amount": 50000, "currency": "USD"}}
            })
        };
        let v1 = decode("shop.customers", "CustomerRegistered", &registered(1)).unwrap();
        assert_eq!(v1.metadata.schema_version, 1);
        let written = detail(&v1).unwrap();
        assert!(written["data"].get("email").is_none(), "what is decoded carries no email: {written}");
        assert!(decode("shop.customers", "CustomerRegistered", &registered(2)).is_ok());
        assert!(matches!(
            decode("shop.customers", "CustomerRegistered", &registered(3)),
            Err(EventDecodeError::UnsupportedVersion(3))
        ));
        let mut cancelled = detail(&cancelled()).unwrap();
        cancelled["metadata"]["schemaVersion"] = 2.into();
        assert!(matches!(
            decode("shop.orders", "OrderCancelled", &cancelled),
            Err(EventDecodeError::UnsupportedVersion(2))
        ));
    }
}
