//! Domain events of the three contexts and the envelope they travel in. How they look on a bus
//! (source, detail-type, detail JSON) is the adapters' business (`app::bus`), not the model's.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
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
    /// The trace the current request or invocation belongs to, when there is one: a saga's first
    /// event takes it, and every event caused by that one carries it on.
    fn trace(&self) -> Option<TraceHeader> {
        None
    }
}

/// An AWS X-Ray trace header (`Root=1-…;Parent=…;Sampled=1`), as Lambda and API Gateway pass it.
/// Invariant: 1 to 256 printable ASCII characters naming a `Root`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct TraceHeader(String);

impl TraceHeader {
    pub const MAX_LEN: usize = 256;

    /// The header, when `raw` is one.
    pub fn parse(raw: &str) -> Option<TraceHeader> {
        let raw = raw.trim();
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw.bytes().all(|b| b.is_ascii_graphic())
            && raw.split(';').any(|part| part.starts_with("Root=1-"));
        ok.then(|| TraceHeader(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn field(&self, name: &str) -> Option<&str> {
        self.0.split(';').find_map(|part| part.strip_prefix(name)?.strip_prefix('='))
    }

    /// The trace id, `1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx`.
    pub fn root(&self) -> Option<&str> {
        self.field("Root")
    }

    /// The same trace as a W3C `traceparent` (`00-<trace id>-<parent id>-<flags>`), for
    /// OpenTelemetry: the X-Ray root without its version and dashes, its parent segment, and
    /// whether it is sampled. `None` without a well-formed root and parent.
    pub fn traceparent(&self) -> Option<String> {
        let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
        let root = self.root()?.strip_prefix("1-")?;
        let (time, unique) = root.split_once('-')?;
        let parent = self.field("Parent")?;
        if !(hex(time, 8) && hex(unique, 24) && hex(parent, 16)) {
            return None;
        }
        let sampled = if self.field("Sampled") == Some("1") { "01" } else { "00" };
        Some(format!("00-{}{}-{}-{sampled}", time.to_lowercase(), unique.to_lowercase(), parent.to_lowercase()))
    }
}

impl TryFrom<String> for TraceHeader {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        TraceHeader::parse(&s).ok_or_else(|| "not an X-Ray trace header".to_owned())
    }
}

impl From<TraceHeader> for String {
    fn from(t: TraceHeader) -> String {
        t.0
    }
}

/// The bounded context that emits an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Context {
    Orders,
    Products,
    Customers,
}

/// A requested line as the order states it, before prices are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct LineRequest {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

/// A line as products reserved it: with the unit price, weight and size pricing needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE", rename_all_fields = "camelCase")]
pub enum StockFailure {
    UnknownProduct { product_id: ProductId },
    InsufficientStock { product_id: ProductId, requested: u32, available: u32 },
}

/// Why customers could not reserve an order's credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE", rename_all_fields = "camelCase")]
pub enum CreditFailure {
    UnknownCustomer,
    CreditLimitExceeded { requested: Money, available: Money },
    CurrencyMismatch,
}

/// A customer was registered, with a credit limit. Ids, not personal data: its consumers need
/// no more (the orders replica keeps the id), and what is on the bus stays in the outbox for 7
/// days and in dead-letter queues for 14. (Schema version 2; version 1 carried the email.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CustomerRegistered {
    pub customer_id: CustomerId,
    pub credit_limit: Money,
}

/// A product entered the catalogue with its price, weight, size and initial stock, at catalogue
/// revision 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProductAdded {
    pub product_id: ProductId,
    pub name: String,
    pub price: Money,
    pub weight: Weight,
    pub dimensions: Dimensions,
    pub stock: u32,
}

/// How a product is listed in the catalogue after a change, whole, so a replica can take it as
/// it is whatever it saw before: later `revision`s replace earlier ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Listing {
    pub product_id: ProductId,
    pub name: String,
    pub price: Money,
    pub weight: Weight,
    pub dimensions: Dimensions,
    /// False once the product is discontinued: no new orders.
    pub sold: bool,
    /// The product's catalogue revision: 1 when added, one more per change.
    pub revision: u32,
}

/// A product's name or price changed. Orders placed before keep the price they were placed at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProductUpdated {
    #[serde(flatten)]
    pub listing: Listing,
}

/// A product is no longer sold: no new orders; reservations of orders placed before are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProductDiscontinued {
    #[serde(flatten)]
    pub listing: Listing,
}

/// `quantity` units arrived: stock on hand is now `on_hand`; reservations are untouched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StockAdded {
    pub product_id: ProductId,
    pub quantity: u32,
    pub on_hand: u32,
}

/// The product's stock is now spread over `shards` items (K); `on_hand` units in all, as before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StockResharded {
    pub product_id: ProductId,
    pub shards: u32,
    pub on_hand: u32,
}

/// A customer's credit limit is now `credit_limit`. Below what is reserved, nothing held is taken
/// back; new reservations are refused until enough is released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreditLimitChanged {
    pub customer_id: CustomerId,
    pub credit_limit: Money,
}

/// A customer's name or address changed (the event carries no personal data: read the customer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CustomerUpdated {
    pub customer_id: CustomerId,
}

/// An order was placed and waits PENDING; it starts the saga. Lines are distinct products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StockReserved {
    pub order_id: OrderId,
    pub lines: Vec<ReservedLine>,
}

/// Nothing of the order is held; `failure` names the first line that could not be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StockReservationFailed {
    pub order_id: OrderId,
    pub failure: StockFailure,
}

/// The stock an order held is back on the shelf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StockReleased {
    pub order_id: OrderId,
    pub lines: Vec<LineRequest>,
}

/// The order has its price: `total = subtotal + shipping_cost`, one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreditReserved {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub amount: Money,
}

/// No credit is held for the order; `failure` says why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreditReservationFailed {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub failure: CreditFailure,
}

/// The credit an order held is available again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreditReleased {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub amount: Money,
}

/// Stock and credit are held: the order is accepted. Terminal until cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrderApproved {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub total: Money,
}

/// The order will not be fulfilled; `reason` drives which compensations run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrderRejected {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub reason: RejectionReason,
    /// The products of the order's lines, so that releasing its stock reads the reservation and
    /// the products in one request. Empty in events recorded before the field existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub product_ids: Vec<ProductId>,
}

/// An approved order was cancelled; its stock and credit are to be released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrderCancelled {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    /// The products of the order's lines, so that releasing its stock reads the reservation and
    /// the products in one request. Empty in events recorded before the field existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub product_ids: Vec<ProductId>,
}

/// Compensation: a reservation arrived for an order that is already over; products must let it go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StockReleaseRequested {
    pub order_id: OrderId,
    /// The products of the order's lines, so that releasing its stock reads the reservation and
    /// the products in one request. Empty in events recorded before the field existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub product_ids: Vec<ProductId>,
}

/// Compensation: credit was reserved for an order that is already over; customers must let it go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreditReleaseRequested {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
}

/// Declares [`DomainEvent`] from one list of (context, event) pairs: the enum, its catalogue of
/// types with their contexts, and the name and context of each value, so no list is kept by hand
/// beside another.
macro_rules! domain_events {
    ($($context:ident => [$($event:ident),+ $(,)?]),+ $(,)?) => {
        /// Every event the system emits. The variant name is the event's type (its EventBridge
        /// `detail-type`).
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        #[serde(tag = "type", content = "data")]
        pub enum DomainEvent {
            $($($event($event),)+)+
        }

        impl DomainEvent {
            /// The JSON Schema of the payload (`detail.data`) of the events of `detail_type`,
            /// registered with `generator` (which collects the definitions it refers to).
            #[cfg(feature = "schema")]
            pub fn payload_schema(
                detail_type: &str,
                generator: &mut schemars::SchemaGenerator,
            ) -> Option<schemars::Schema> {
                match detail_type {
                    $($(stringify!($event) => Some(generator.subschema_for::<$event>()),)+)+
                    _ => None,
                }
            }
        }

        impl DomainEvent {
            /// Every event type with the context that emits it.
            pub const TYPES: &'static [(&'static str, Context)] = &[$($((stringify!($event), Context::$context),)+)+];

            pub fn event_type(&self) -> &'static str {
                match self {
                    $($(DomainEvent::$event(_) => stringify!($event),)+)+
                }
            }

            /// The context that emits this event.
            pub fn context(&self) -> Context {
                match self {
                    $($(DomainEvent::$event(_) => Context::$context,)+)+
                }
            }
        }
    };
}

domain_events! {
    Customers => [
        CustomerRegistered,
        CustomerUpdated,
        CreditLimitChanged,
        CreditReserved,
        CreditReservationFailed,
        CreditReleased,
    ],
    Products => [
        ProductAdded,
        ProductUpdated,
        ProductDiscontinued,
        StockAdded,
        StockResharded,
        StockReserved,
        StockReservationFailed,
        StockReleased,
    ],
    Orders => [
        OrderCreated,
        OrderPriced,
        OrderApproved,
        OrderRejected,
        OrderCancelled,
        StockReleaseRequested,
        CreditReleaseRequested,
    ],
}

impl DomainEvent {
    /// The saga an event belongs to: the order id for order events, else the aggregate's id.
    pub fn correlation_id(&self) -> Uuid {
        match self {
            DomainEvent::CustomerRegistered(e) => e.customer_id.as_uuid(),
            DomainEvent::CustomerUpdated(e) => e.customer_id.as_uuid(),
            DomainEvent::CreditLimitChanged(e) => e.customer_id.as_uuid(),
            DomainEvent::ProductAdded(e) => e.product_id.as_uuid(),
            DomainEvent::ProductUpdated(e) => e.listing.product_id.as_uuid(),
            DomainEvent::ProductDiscontinued(e) => e.listing.product_id.as_uuid(),
            DomainEvent::StockAdded(e) => e.product_id.as_uuid(),
            DomainEvent::StockResharded(e) => e.product_id.as_uuid(),
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

/// Envelope metadata, as it travels in `detail.metadata`. `trace` is the X-Ray trace of the
/// request that started the saga (absent when there was none), `traceparent` the same trace for
/// OpenTelemetry; both are optional fields, so events without them stay valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct EventMetadata {
    pub event_id: EventId,
    pub occurred_at: DateTime<Utc>,
    pub correlation_id: Uuid,
    pub causation_id: Option<EventId>,
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceHeader>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// One emitted event: unique id, what happened, when, in which saga and because of which event.
/// Invariant: `metadata.correlation_id` is the event's own correlation id, so it cannot disagree
/// with the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEnvelope {
    pub metadata: EventMetadata,
    pub event: DomainEvent,
}

/// The schema versions of one event type: the version its events are written at, and the
/// oldest its readers still decode (older events are still in flight after a change: in the
/// outbox for 7 days, in dead-letter queues for 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaVersions {
    pub current: u32,
    pub oldest_read: u32,
}

/// The event types whose schema version was raised; every other one is at version 1. A change to
/// a payload that would break its consumers (tests/event_schemas.rs tells) raises that type's
/// version alone, so the consumers of every other type carry on undisturbed.
const RAISED: &[(&str, SchemaVersions)] = &[
    // 2: no `email` (the bus carries ids, not personal data). Version 1 still decodes: the
    // field it has more is ignored.
    ("CustomerRegistered", SchemaVersions { current: 2, oldest_read: 1 }),
];

impl SchemaVersions {
    /// The versions of `detail_type`.
    pub fn of(detail_type: &str) -> SchemaVersions {
        RAISED
            .iter()
            .find(|(t, _)| *t == detail_type)
            .map_or(SchemaVersions { current: 1, oldest_read: 1 }, |(_, v)| *v)
    }

    /// Whether a reader of this type decodes events written at `version`.
    pub fn reads(self, version: u32) -> bool {
        (self.oldest_read..=self.current).contains(&version)
    }
}

impl EventEnvelope {
    /// A first event, caused by a command rather than by another event, in the environment's
    /// trace.
    pub fn new(event: DomainEvent, env: &dyn Environment) -> Self {
        Self::build(event, None, env.trace(), env)
    }

    /// An event emitted while handling `cause`: same correlation and trace as the saga,
    /// causation = cause.
    pub fn caused_by(event: DomainEvent, cause: &EventMetadata, env: &dyn Environment) -> Self {
        Self::build(event, Some(cause.event_id), cause.trace.clone(), env)
    }

    fn build(
        event: DomainEvent,
        causation_id: Option<EventId>,
        trace: Option<TraceHeader>,
        env: &dyn Environment,
    ) -> Self {
        EventEnvelope {
            metadata: EventMetadata {
                event_id: EventId::from_uuid(env.new_uuid()),
                occurred_at: env.now(),
                correlation_id: event.correlation_id(),
                causation_id,
                schema_version: SchemaVersions::of(event.event_type()).current,
                traceparent: trace.as_ref().and_then(TraceHeader::traceparent),
                trace,
            },
            event,
        }
    }

    pub fn id(&self) -> EventId {
        self.metadata.event_id
    }

    pub fn detail_type(&self) -> &'static str {
        self.event.event_type()
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
            product_ids: vec![],
        })
    }

    #[test]
    fn an_event_caused_by_another_shares_its_saga() {
        let env = FixedEnv::new();
        let first = EventEnvelope::new(cancelled(), &env);
        let second = EventEnvelope::caused_by(cancelled(), &first.metadata, &env);
        assert_eq!(second.metadata.causation_id, Some(first.id()));
        assert_eq!(second.metadata.correlation_id, first.metadata.correlation_id);
        assert_ne!(second.id(), first.id());
        assert_eq!(second.detail_type(), "OrderCancelled");
    }

    struct Traced(FixedEnv);
    impl Environment for Traced {
        fn now(&self) -> DateTime<Utc> {
            self.0.now()
        }
        fn new_uuid(&self) -> Uuid {
            self.0.new_uuid()
        }
        fn trace(&self) -> Option<TraceHeader> {
            TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
        }
    }

    #[test]
    fn a_saga_carries_the_trace_of_the_request_that_started_it() {
        let first = EventEnvelope::new(cancelled(), &Traced(FixedEnv::new()));
        let t = first.metadata.trace.clone().unwrap();
        assert_eq!(t.root(), Some("1-5759e988-bd862e3fe1be46a994272793"));
        assert_eq!(
            first.metadata.traceparent.as_deref(),
            Some("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01")
        );
        // A step runs in an invocation of its own, but the events it causes stay in the saga's trace.
        let next = EventEnvelope::caused_by(cancelled(), &first.metadata, &FixedEnv::new());
        assert_eq!(next.metadata.trace, Some(t));
        assert_eq!(next.metadata.traceparent, first.metadata.traceparent);
        assert!(EventEnvelope::new(cancelled(), &FixedEnv::new()).metadata.trace.is_none());
        assert!(TraceHeader::parse("Root=1-x;Par\nent=y").is_none() && TraceHeader::parse("Parent=1").is_none());
        assert_eq!(TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793").unwrap().traceparent(), None);
    }

    #[test]
    fn every_event_type_is_listed_once_with_its_context() {
        let mut names: Vec<_> = DomainEvent::TYPES.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DomainEvent::TYPES.len());
        assert_eq!(cancelled().context(), Context::Orders);
    }

    #[test]
    fn an_event_is_written_at_its_types_version_and_each_raised_version_names_a_type() {
        for (t, v) in RAISED {
            assert!(DomainEvent::TYPES.iter().any(|(n, _)| n == t), "{t} is not an event type");
            assert!(1 <= v.oldest_read && v.oldest_read <= v.current, "{t}: {v:?}");
        }
        let env = FixedEnv::new();
        assert_eq!(EventEnvelope::new(cancelled(), &env).metadata.schema_version, 1);
        let registered = DomainEvent::CustomerRegistered(CustomerRegistered {
            customer_id: CustomerId::from_uuid(Uuid::from_u128(1)),
            credit_limit: Money::zero(crate::Currency::USD),
        });
        assert_eq!(EventEnvelope::new(registered, &env).metadata.schema_version, 2);
        assert!(SchemaVersions::of("CustomerRegistered").reads(1) && !SchemaVersions::of("OrderCreated").reads(2));
    }
}
