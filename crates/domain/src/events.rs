//! Domain events of the three contexts and the envelope they travel in.
//!
//! On the bus an event is `source` = `shop.<context>`, `detail-type` = the event's name and
//! `detail` = `{"metadata": {...}, "data": {...}}`. Rules match on source, detail-type and fields
//! of `detail.data`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::ids::{CustomerId, EventId, OrderId, ProductId};
use crate::measures::{Dimensions, Quantity, Weight};
use crate::money::Money;
use crate::order::RejectionReason;
use crate::shipping::ShippingSpeed;
use crate::text::Address;

/// Where time and fresh ids come from. Production passes the clock and random UUIDs; tests and the
/// simulation pass a fixed clock and a seeded sequence, so every decision is reproducible.
pub trait Environment {
    fn now(&self) -> DateTime<Utc>;
    fn new_uuid(&self) -> Uuid;
}

/// The bounded context that emits an event; it names the event's `source` on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Context {
    Orders,
    Products,
    Customers,
}

impl Context {
    pub const ALL: [Context; 3] = [Context::Orders, Context::Products, Context::Customers];

    /// The EventBridge `source` of this context's events.
    pub fn source(self) -> &'static str {
        match self {
            Context::Orders => "shop.orders",
            Context::Products => "shop.products",
            Context::Customers => "shop.customers",
        }
    }
}

/// A requested line as the order states it, before prices are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineRequest {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

/// A line as products reserved it: with the unit price, weight and size pricing needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservedLine {
    pub product_id: ProductId,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub weight: Weight,
    pub dimensions: Dimensions,
}

/// Why products could not reserve an order's stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE", rename_all_fields = "camelCase")]
pub enum StockFailure {
    UnknownProduct { product_id: ProductId },
    InsufficientStock { product_id: ProductId, requested: u32, available: u32 },
}

/// Why customers could not reserve an order's credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE", rename_all_fields = "camelCase")]
pub enum CreditFailure {
    UnknownCustomer,
    CreditLimitExceeded { requested: Money, available: Money },
    CurrencyMismatch,
}

/// A customer was registered with a unique email and a credit limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRegistered {
    pub customer_id: CustomerId,
    pub email: String,
    pub credit_limit: Money,
}

/// A product entered the catalogue with its price and initial stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductAdded {
    pub product_id: ProductId,
    pub name: String,
    pub price: Money,
    pub stock: u32,
}

/// An order was placed and waits PENDING; it starts the saga. Lines are distinct products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCreated {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub lines: Vec<LineRequest>,
    pub shipping_address: Address,
    pub shipping_speed: ShippingSpeed,
}

/// Every line of the order is held; the lines carry price, weight and size for pricing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockReserved {
    pub order_id: OrderId,
    pub lines: Vec<ReservedLine>,
}

/// Nothing of the order is held; `failure` names the first line that could not be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockReservationFailed {
    pub order_id: OrderId,
    pub failure: StockFailure,
}

/// The stock an order held is back on the shelf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockReleased {
    pub order_id: OrderId,
    pub lines: Vec<LineRequest>,
}

/// The order has its price: `total = subtotal + shipping_cost`, one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderPriced {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub subtotal: Money,
    pub shipping_cost: Money,
    pub total: Money,
}

/// `amount` (the order total) is held against the customer's limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditReserved {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub amount: Money,
}

/// No credit is held for the order; `failure` says why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditReservationFailed {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub failure: CreditFailure,
}

/// The credit an order held is available again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditReleased {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub amount: Money,
}

/// Stock and credit are held: the order is accepted. Terminal until cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderApproved {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub total: Money,
}

/// The order will not be fulfilled; `reason` drives which compensations run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRejected {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub reason: RejectionReason,
}

/// An approved order was cancelled; its stock and credit are to be released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCancelled {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
}

/// Compensation: a reservation arrived for an order that is already over; products must let it go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockReleaseRequested {
    pub order_id: OrderId,
}

/// Compensation: credit was reserved for an order that is already over; customers must let it go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditReleaseRequested {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
}

/// Every event the system emits. The variant name is the EventBridge `detail-type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum DomainEvent {
    CustomerRegistered(CustomerRegistered),
    CreditReserved(CreditReserved),
    CreditReservationFailed(CreditReservationFailed),
    CreditReleased(CreditReleased),
    ProductAdded(ProductAdded),
    StockReserved(StockReserved),
    StockReservationFailed(StockReservationFailed),
    StockReleased(StockReleased),
    OrderCreated(OrderCreated),
    OrderPriced(OrderPriced),
    OrderApproved(OrderApproved),
    OrderRejected(OrderRejected),
    OrderCancelled(OrderCancelled),
    StockReleaseRequested(StockReleaseRequested),
    CreditReleaseRequested(CreditReleaseRequested),
}

impl DomainEvent {
    /// Every detail-type with the context that emits it: the catalogue drift tests check the
    /// template's rules against.
    pub const TYPES: [(&'static str, Context); 15] = [
        ("CustomerRegistered", Context::Customers),
        ("CreditReserved", Context::Customers),
        ("CreditReservationFailed", Context::Customers),
        ("CreditReleased", Context::Customers),
        ("ProductAdded", Context::Products),
        ("StockReserved", Context::Products),
        ("StockReservationFailed", Context::Products),
        ("StockReleased", Context::Products),
        ("OrderCreated", Context::Orders),
        ("OrderPriced", Context::Orders),
        ("OrderApproved", Context::Orders),
        ("OrderRejected", Context::Orders),
        ("OrderCancelled", Context::Orders),
        ("StockReleaseRequested", Context::Orders),
        ("CreditReleaseRequested", Context::Orders),
    ];

    pub fn event_type(&self) -> &'static str {
        match self {
            DomainEvent::CustomerRegistered(_) => "CustomerRegistered",
            DomainEvent::CreditReserved(_) => "CreditReserved",
            DomainEvent::CreditReservationFailed(_) => "CreditReservationFailed",
            DomainEvent::CreditReleased(_) => "CreditReleased",
            DomainEvent::ProductAdded(_) => "ProductAdded",
            DomainEvent::StockReserved(_) => "StockReserved",
            DomainEvent::StockReservationFailed(_) => "StockReservationFailed",
            DomainEvent::StockReleased(_) => "StockReleased",
            DomainEvent::OrderCreated(_) => "OrderCreated",
            DomainEvent::OrderPriced(_) => "OrderPriced",
            DomainEvent::OrderApproved(_) => "OrderApproved",
            DomainEvent::OrderRejected(_) => "OrderRejected",
            DomainEvent::OrderCancelled(_) => "OrderCancelled",
            DomainEvent::StockReleaseRequested(_) => "StockReleaseRequested",
            DomainEvent::CreditReleaseRequested(_) => "CreditReleaseRequested",
        }
    }

    pub fn context(&self) -> Context {
        let t = self.event_type();
        Self::TYPES.iter().find(|(n, _)| *n == t).map_or(Context::Orders, |(_, c)| *c)
    }

    /// The saga an event belongs to: the order id for order events, else the aggregate's id.
    pub fn correlation_id(&self) -> Uuid {
        match self {
            DomainEvent::CustomerRegistered(e) => e.customer_id.as_uuid(),
            DomainEvent::ProductAdded(e) => e.product_id.as_uuid(),
            DomainEvent::CreditReserved(e) => e.order_id.as_uuid(),
            DomainEvent::CreditReservationFailed(e) => e.order_id.as_uuid(),
            DomainEvent::CreditReleased(e) => e.order_id.as_uuid(),
            DomainEvent::StockReserved(e) => e.order_id.as_uuid(),
            DomainEvent::StockReservationFailed(e) => e.order_id.as_uuid(),
            DomainEvent::StockReleased(e) => e.order_id.as_uuid(),
            DomainEvent::OrderCreated(e) => e.order_id.as_uuid(),
            DomainEvent::OrderPriced(e) => e.order_id.as_uuid(),
            DomainEvent::OrderApproved(e) => e.order_id.as_uuid(),
            DomainEvent::OrderRejected(e) => e.order_id.as_uuid(),
            DomainEvent::OrderCancelled(e) => e.order_id.as_uuid(),
            DomainEvent::StockReleaseRequested(e) => e.order_id.as_uuid(),
            DomainEvent::CreditReleaseRequested(e) => e.order_id.as_uuid(),
        }
    }
}

/// Envelope metadata, as it travels in `detail.metadata`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventMetadata {
    pub event_id: EventId,
    pub occurred_at: DateTime<Utc>,
    pub correlation_id: Uuid,
    pub causation_id: Option<EventId>,
    pub schema_version: u32,
}

/// One emitted event: unique id, what happened, when, in which saga and because of which event.
/// Invariant: `metadata.correlation_id` is the event's own correlation id and the source on the
/// bus is always `event.context().source()`, so neither can disagree with the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEnvelope {
    pub metadata: EventMetadata,
    pub event: DomainEvent,
}

/// Why bytes from the bus are not one of our events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventDecodeError {
    #[error("unknown detail-type {0:?}")]
    UnknownType(String),
    #[error("{detail_type} must come from {expected}, not {actual:?}")]
    WrongSource { detail_type: String, expected: &'static str, actual: String },
    #[error("malformed detail: {0}")]
    Malformed(String),
    #[error("unsupported schema version {0}")]
    UnsupportedVersion(u32),
}

#[derive(Serialize, Deserialize)]
struct Detail<M, D> {
    metadata: M,
    data: D,
}

impl EventEnvelope {
    pub const SCHEMA_VERSION: u32 = 1;

    /// A first event, caused by a command rather than by another event.
    pub fn new(event: DomainEvent, env: &dyn Environment) -> Self {
        Self::build(event, None, env)
    }

    /// An event emitted while handling `cause`: same correlation as the saga, causation = cause.
    pub fn caused_by(event: DomainEvent, cause: &EventMetadata, env: &dyn Environment) -> Self {
        Self::build(event, Some(cause.event_id), env)
    }

    fn build(event: DomainEvent, causation_id: Option<EventId>, env: &dyn Environment) -> Self {
        EventEnvelope {
            metadata: EventMetadata {
                event_id: EventId::from_uuid(env.new_uuid()),
                occurred_at: env.now(),
                correlation_id: event.correlation_id(),
                causation_id,
                schema_version: Self::SCHEMA_VERSION,
            },
            event,
        }
    }

    pub fn id(&self) -> EventId {
        self.metadata.event_id
    }

    pub fn source(&self) -> &'static str {
        self.event.context().source()
    }

    pub fn detail_type(&self) -> &'static str {
        self.event.event_type()
    }

    /// The `detail` object for the bus.
    pub fn detail(&self) -> Value {
        let data = match serde_json::to_value(&self.event) {
            Ok(Value::Object(mut m)) => m.remove("data").unwrap_or(Value::Null),
            _ => Value::Null,
        };
        serde_json::json!({ "metadata": self.metadata, "data": data })
    }

    /// Reads an event back from the parts of a bus event, checking that type and source agree.
    pub fn from_bus(source: &str, detail_type: &str, detail: &Value) -> Result<Self, EventDecodeError> {
        let expected = DomainEvent::TYPES
            .iter()
            .find(|(t, _)| *t == detail_type)
            .map(|(_, c)| c.source())
            .ok_or_else(|| EventDecodeError::UnknownType(detail_type.to_owned()))?;
        if source != expected {
            return Err(EventDecodeError::WrongSource {
                detail_type: detail_type.to_owned(),
                expected,
                actual: source.to_owned(),
            });
        }
        let parts: Detail<EventMetadata, Value> =
            serde_json::from_value(detail.clone()).map_err(|e| EventDecodeError::Malformed(e.to_string()))?;
        if parts.metadata.schema_version != Self::SCHEMA_VERSION {
            return Err(EventDecodeError::UnsupportedVersion(parts.metadata.schema_version));
        }
        let event: DomainEvent = serde_json::from_value(serde_json::json!({ "type": detail_type, "data": parts.data }))
            .map_err(|e| EventDecodeError::Malformed(e.to_string()))?;
        Ok(EventEnvelope { metadata: parts.metadata, event })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::cell::Cell;
    use std::str::FromStr;

    /// A fixed clock and a counting id source.
    pub struct FixedEnv {
        pub now: DateTime<Utc>,
        pub next: Cell<u128>,
    }

    impl FixedEnv {
        pub fn new() -> Self {
            FixedEnv { now: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(), next: Cell::new(1) }
        }
    }

    impl Environment for FixedEnv {
        fn now(&self) -> DateTime<Utc> {
            self.now
        }
        fn new_uuid(&self) -> Uuid {
            let n = self.next.get();
            self.next.set(n + 1);
            Uuid::from_u128(n)
        }
    }

    fn cancelled() -> DomainEvent {
        DomainEvent::OrderCancelled(OrderCancelled {
            order_id: OrderId::from_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap(),
            customer_id: CustomerId::from_str("11111111-10b1-426f-9247-bb680e5fe0c8").unwrap(),
        })
    }

    #[test]
    fn an_envelope_round_trips_through_the_bus_format() {
        let env = FixedEnv::new();
        let first = EventEnvelope::new(cancelled(), &env);
        let second = EventEnvelope::caused_by(cancelled(), &first.metadata, &env);
        assert_eq!(second.metadata.causation_id, Some(first.id()));
        assert_eq!(second.metadata.correlation_id, first.metadata.correlation_id);
        assert_ne!(second.id(), first.id());
        let back = EventEnvelope::from_bus(second.source(), second.detail_type(), &second.detail()).unwrap();
        assert_eq!(back, second);
        assert_eq!(second.detail()["data"]["orderId"], "67e55044-10b1-426f-9247-bb680e5fe0c8");
    }

    #[test]
    fn a_bus_event_from_the_wrong_source_is_refused() {
        let e = EventEnvelope::new(cancelled(), &FixedEnv::new());
        assert!(matches!(
            EventEnvelope::from_bus("shop.products", "OrderCancelled", &e.detail()),
            Err(EventDecodeError::WrongSource { .. })
        ));
        assert!(matches!(
            EventEnvelope::from_bus("shop.orders", "OrderExploded", &e.detail()),
            Err(EventDecodeError::UnknownType(_))
        ));
        assert!(matches!(
            EventEnvelope::from_bus("shop.orders", "OrderCancelled", &serde_json::json!({"data": {}})),
            Err(EventDecodeError::Malformed(_))
        ));
    }

    #[test]
    fn every_event_type_is_listed_once_with_its_context() {
        let mut names: Vec<_> = DomainEvent::TYPES.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DomainEvent::TYPES.len());
        assert_eq!(cancelled().context(), Context::Orders);
    }
}
