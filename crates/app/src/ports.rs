//! Ports: what the application needs from storage and from the bus, named by role.
//!
//! Each context has one repository whose `commit` is the context's only way to write. A commit
//! carries the aggregate writes (each conditional on the version it was read at), the outbox
//! records of the events it emits, the applied-event marker of the event it consumed and the
//! idempotency record of the request it answers: all of it lands, or none of it does. That is the
//! transactional outbox: no code path writes state and then publishes on its own.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    CatalogueEntry, CreditReservation, Customer, CustomerId, EventEnvelope, EventId, Hold, KnownCustomer, Order,
    OrderId, OrderStatus, Product, ProductId, StockReservation, StockShard,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::page::{Page, PageRequest};

/// A stored value and the version it was read at. Invariant: `version` starts at 1 for the first
/// write and grows by one per write; 0 means "not stored yet" when used as an expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

/// An event ready for the bus, as the outbox stores it. Invariant: `detail` is the JSON of the
/// envelope's `detail` and `source`/`detail_type` agree with it (built only from an envelope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxRecord {
    pub event_id: EventId,
    pub source: String,
    pub detail_type: String,
    pub detail: String,
    pub occurred_at: DateTime<Utc>,
    /// The saga's X-Ray trace, for the bus to continue it (PutEvents' `TraceHeader`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
}

impl OutboxRecord {
    /// The record of `e` in the bus format ([`crate::bus`]). A store that cannot encode an event
    /// refuses the commit with [`StoreError::Corrupt`] naming the event.
    pub fn of(e: &EventEnvelope) -> Result<Self, StoreError> {
        let detail = crate::bus::detail(e).map_err(|source| StoreError::Corrupt {
            key: format!("outbox record {}", e.id()),
            source: source.into(),
        })?;
        Ok(OutboxRecord {
            event_id: e.id(),
            source: crate::bus::source(e.event.context()).to_owned(),
            detail_type: e.detail_type().to_owned(),
            detail: detail.to_string(),
            occurred_at: e.metadata.occurred_at,
            trace_header: e.metadata.trace.as_ref().map(|t| t.as_str().to_owned()),
        })
    }
}

/// "Consumer `consumer` has applied event `event_id`": written in the same transaction as the
/// state change, so a redelivered event finds it and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedEvent {
    pub consumer: &'static str,
    pub event_id: EventId,
}

/// A client's Idempotency-Key: 1 to 128 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty() && raw.len() <= Self::MAX_LEN && raw.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| IdempotencyKey(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a create answered for one key. Invariant: `fingerprint` is the hash of the request the
/// response belongs to; `response` is that response's body, replayed as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyRecord {
    pub scope: String,
    pub key: String,
    pub fingerprint: String,
    pub resource_id: Uuid,
    pub response: serde_json::Value,
}

/// Everything one local transaction writes. Empty `writes` with events is a pure emission
/// (a compensation request) guarded by `Check` writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit<W> {
    pub writes: Vec<W>,
    /// The events to put in the outbox, in order.
    pub events: Vec<EventEnvelope>,
    pub applied: Option<AppliedEvent>,
    pub idempotency: Option<IdempotencyRecord>,
}

impl<W> Commit<W> {
    pub fn new(writes: Vec<W>, events: &[EventEnvelope]) -> Self {
        Commit { writes, events: events.to_vec(), applied: None, idempotency: None }
    }

    pub fn applying(mut self, applied: AppliedEvent) -> Self {
        self.applied = Some(applied);
        self
    }

    pub fn answering(mut self, record: Option<IdempotencyRecord>) -> Self {
        self.idempotency = record;
        self
    }
}

/// A write to the orders table. (The size difference between the variants is fine: writes are
/// few and short-lived.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum OrderWrite {
    /// Store `order`, provided its stored version is `expected_version` (0: it must not exist).
    Put { order: Order, expected_version: u64 },
    /// Write nothing, but only commit if the order is still at `version`.
    Check { id: OrderId, version: u64 },
    /// Store the replica of a product, provided its stored version is `expected_version`.
    Catalogue { entry: CatalogueEntry, expected_version: u64 },
    /// Store the replica of a customer, provided its stored version is `expected_version`.
    Customer { customer: KnownCustomer, expected_version: u64 },
}

/// A write to the products table.
#[derive(Debug, Clone, PartialEq)]
pub enum ProductWrite {
    Product {
        product: Product,
        expected_version: u64,
    },
    Reservation {
        reservation: StockReservation,
        expected_version: u64,
    },
    /// Moves the reserved units of one stock shard of the product by `hold.delta`, on that
    /// shard's invariant alone (no version): refused with [`StoreError::Refused`] when the stored
    /// shard would break it. Concurrent reservations of one hot product do not conflict with each
    /// other. Shard 0 is the product's own item; shard n > 0 is [`Item::StockShard`].
    Hold {
        product_id: ProductId,
        shard: u16,
        hold: Hold,
    },
    /// Sets stock shard `shard` (> 0) of the product from `from` to `to`, provided it still holds
    /// `from` (an absent shard holds nothing): a conflict otherwise. Written with the product
    /// (which carries shard 0 and K) when a restock or a change of K moves units between shards.
    Shard {
        product_id: ProductId,
        shard: u16,
        from: StockShard,
        to: StockShard,
    },
}

/// A write to the customers table.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomerWrite {
    Customer {
        customer: Customer,
        expected_version: u64,
    },
    Reservation {
        reservation: CreditReservation,
        expected_version: u64,
    },
    /// Moves the customer's reserved credit by `hold.delta` minor units, on the invariant alone
    /// (see [`ProductWrite::Hold`]).
    Hold {
        customer_id: CustomerId,
        hold: Hold,
    },
}

/// A stored aggregate or reservation record, named by kind and id: what a version conflict is
/// about. Adapters derive their keys from it; nothing above them knows a key's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Item {
    Order(OrderId),
    /// The orders context's replica of a product.
    CatalogueEntry(ProductId),
    /// The orders context's replica of a customer.
    KnownCustomer(CustomerId),
    Product(ProductId),
    /// The products context's reservation record of one order.
    StockReservation(OrderId),
    /// Stock shard n > 0 of a product (shard 0 lives in the product's own item).
    StockShard(ProductId, u16),
    Customer(CustomerId),
    /// The customers context's reservation record of one order.
    CreditReservation(OrderId),
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Order(id) => write!(f, "order {id}"),
            Item::CatalogueEntry(id) => write!(f, "catalogue entry of product {id}"),
            Item::KnownCustomer(id) => write!(f, "known customer {id}"),
            Item::Product(id) => write!(f, "product {id}"),
            Item::StockReservation(id) => write!(f, "stock reservation of order {id}"),
            Item::StockShard(id, n) => write!(f, "stock shard {n} of product {id}"),
            Item::Customer(id) => write!(f, "customer {id}"),
            Item::CreditReservation(id) => write!(f, "credit reservation of order {id}"),
        }
    }
}

impl OrderWrite {
    /// The item this write is conditional on.
    pub fn item(&self) -> Item {
        match self {
            OrderWrite::Put { order, .. } => Item::Order(order.id()),
            OrderWrite::Check { id, .. } => Item::Order(*id),
            OrderWrite::Catalogue { entry, .. } => Item::CatalogueEntry(entry.product_id),
            OrderWrite::Customer { customer, .. } => Item::KnownCustomer(customer.customer_id),
        }
    }
}

impl ProductWrite {
    /// The item this write stores.
    pub fn item(&self) -> Item {
        match self {
            ProductWrite::Product { product, .. } => Item::Product(product.id()),
            ProductWrite::Reservation { reservation, .. } => Item::StockReservation(reservation.order_id),
            ProductWrite::Hold { product_id, shard: 0, .. } => Item::Product(*product_id),
            ProductWrite::Hold { product_id, shard, .. } | ProductWrite::Shard { product_id, shard, .. } => {
                Item::StockShard(*product_id, *shard)
            }
        }
    }
}

impl CustomerWrite {
    /// The item this write stores.
    pub fn item(&self) -> Item {
        match self {
            CustomerWrite::Customer { customer, .. } => Item::Customer(customer.id()),
            CustomerWrite::Reservation { reservation, .. } => Item::CreditReservation(reservation.order_id),
            CustomerWrite::Hold { customer_id, .. } => Item::Customer(*customer_id),
        }
    }
}

/// Which uniqueness a commit ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicate {
    IdempotencyKey,
    AppliedEvent,
}

impl fmt::Display for Duplicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Duplicate::IdempotencyKey => "idempotency key",
            Duplicate::AppliedEvent => "applied event",
        })
    }
}

/// How consistent a read is. DynamoDB answers a strongly consistent read with every write
/// acknowledged before it, for one read unit per 4 KB; an eventually consistent one may miss the
/// latest writes (usually by well under a second), for half that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    Strong,
    Eventual,
}

/// The consistency of the reads the repositories make, declared once: the DynamoDB adapter asks
/// DynamoDB for it (`ConsistentRead`) and the in-memory adapters charge the capacity model for it
/// ([`crate::capacity`]), so the model counts what DynamoDB bills.
///
/// A read is eventually consistent only where a conditional write already protects the decision
/// taken on it; everything else is read strongly ([`STRONG`]).
pub mod reads {
    use super::Consistency;

    /// Every read not named below: what a commit's version condition will be checked against.
    pub const STRONG: Consistency = Consistency::Strong;

    /// `POST /orders`' read of the placement ([`super::OrderRepository::placement`]): the
    /// orders context's replicas of the customer and the catalogue, which are eventually
    /// consistent copies of other contexts already (a strong read of a replica buys nothing),
    /// and the caller's idempotency record, whose stale absence the order's commit catches (the
    /// record is written on the condition that it does not exist; the loser re-reads it strongly
    /// and answers as the winner did).
    pub const PLACEMENT: Consistency = Consistency::Eventual;

    /// reserve-stock's first read of the reservation record and the products' stock shards. A
    /// stale view cannot oversell: each hold is a write conditional on its shard's invariant, and
    /// the reservation record is written on the condition that it is absent (as is the step's
    /// applied marker). A refused hold or a conflict sends the step to decide again on a
    /// [`STOCK_AGAIN`] read, and so does a decision to refuse the order, so a stale read never
    /// turns into a wrong refusal.
    pub const STOCK_FIRST: Consistency = Consistency::Eventual;

    /// reserve-stock's read after a refused hold or a conflict, and before it refuses an order:
    /// what is stored now.
    pub const STOCK_AGAIN: Consistency = Consistency::Strong;
}

/// How a storage call failed, in terms the application can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A version condition failed: someone wrote `item` since it was read. Reload and retry.
    #[error("conflict on {item}")]
    Conflict { item: Item },
    /// A hold's invariant failed on the stored `item` (not enough stock or credit left now, or
    /// its bound moved since the decision): decide again on what is stored now.
    #[error("the invariant of {item} refused the hold")]
    Refused { item: Item },
    /// A uniqueness condition failed.
    #[error("duplicate {0}")]
    Duplicate(Duplicate),
    /// A page cursor that this store did not issue for this query.
    #[error("invalid cursor")]
    InvalidCursor,
    /// A stored item that does not decode into a valid value (a bug or a foreign writer, never
    /// the caller's fault). `key` names the item for the operator; `source` says what is wrong.
    #[error("corrupt item {key}")]
    Corrupt { key: String, source: Box<dyn std::error::Error + Send + Sync> },
    /// The store could not be reached or refused for reasons of its own; retrying may help.
    #[error("storage unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A context's one way to write: `commit` lands every write of `Commit<W>` or none.
#[async_trait]
pub trait Transactional<W>: EventLedger {
    async fn commit(&self, commit: Commit<W>) -> Result<(), StoreError>;
}

/// What consumers and idempotent creates look up before they decide.
#[async_trait]
pub trait EventLedger: Send + Sync {
    async fn is_applied(&self, applied: &AppliedEvent) -> Result<bool, StoreError>;
    async fn idempotency(&self, scope: &str, key: &IdempotencyKey) -> Result<Option<IdempotencyRecord>, StoreError>;
}

/// A customer's orders, newest first, optionally of one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    pub customer_id: CustomerId,
    pub status: Option<OrderStatus>,
    pub page: PageRequest,
}

/// Every customer's orders of one status, oldest first (the operator's view: the longest-waiting
/// PENDING orders come first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusQuery {
    pub status: OrderStatus,
    pub page: PageRequest,
}

#[async_trait]
pub trait OrderRepository: Transactional<OrderWrite> {
    async fn get(&self, id: OrderId) -> Result<Option<Versioned<Order>>, StoreError>;
    async fn history(&self, query: &HistoryQuery) -> Result<Page<Order>, StoreError>;
    /// One read per page on DynamoDB: a query of the `ByStatus` index.
    async fn by_status(&self, query: &StatusQuery) -> Result<Page<Order>, StoreError>;
    /// The replica entries of the products among `ids` that orders knows, in no particular order.
    async fn catalogue(&self, ids: &[ProductId]) -> Result<Vec<Versioned<CatalogueEntry>>, StoreError>;
    /// The replica of a customer, when orders knows it.
    async fn known_customer(&self, id: CustomerId) -> Result<Option<Versioned<KnownCustomer>>, StoreError>;
    /// PENDING orders created before `cutoff`, oldest first, at most `limit`; an item that does
    /// not decode is named in `unreadable` instead of failing the whole read.
    async fn pending_before(&self, cutoff: DateTime<Utc>, limit: usize) -> Result<Overdue, StoreError>;

    /// Everything placing an order reads, together: the caller's idempotency record (when a key
    /// is given), the replica of the customer and the entries of `ids`. One read request on
    /// DynamoDB (a `BatchGetItem`); the default makes the single reads.
    async fn placement(
        &self,
        idempotency: Option<(&str, &IdempotencyKey)>,
        customer: CustomerId,
        ids: &[ProductId],
    ) -> Result<Placement, StoreError> {
        let prior = match idempotency {
            Some((scope, key)) => self.idempotency(scope, key).await?,
            None => None,
        };
        Ok(Placement { prior, customer: self.known_customer(customer).await?, catalogue: self.catalogue(ids).await? })
    }
}

/// What [`OrderRepository::placement`] read.
#[derive(Debug, Default)]
pub struct Placement {
    pub prior: Option<IdempotencyRecord>,
    pub customer: Option<Versioned<KnownCustomer>>,
    pub catalogue: Vec<Versioned<CatalogueEntry>>,
}

/// What [`OrderRepository::pending_before`] found.
#[derive(Debug, Default)]
pub struct Overdue {
    pub orders: Vec<Versioned<Order>>,
    /// Items in the PENDING index that do not decode into an order (a bug or a foreign writer):
    /// each is reported for an operator and skipped.
    pub unreadable: Vec<StoreError>,
}

#[async_trait]
pub trait ProductRepository: Transactional<ProductWrite> {
    async fn get(&self, id: ProductId) -> Result<Option<Versioned<Product>>, StoreError>;
    /// The products among `ids` that exist, in no particular order.
    async fn get_many(&self, ids: &[ProductId]) -> Result<Vec<Versioned<Product>>, StoreError>;
    /// The catalogue by name, then id.
    async fn list(&self, page: &PageRequest) -> Result<Page<Product>, StoreError>;
    async fn reservation(&self, order_id: OrderId) -> Result<Option<Versioned<StockReservation>>, StoreError>;

    /// The reservation record of `order_id` and the products among `ids` (with their stock
    /// shards), together, at `consistency`: one read request on DynamoDB (two with shards past
    /// 0); the default makes the single (strongly consistent) reads.
    async fn reservation_and_products(
        &self,
        order_id: OrderId,
        ids: &[ProductId],
        _consistency: Consistency,
    ) -> Result<(Option<Versioned<StockReservation>>, Vec<Versioned<Product>>), StoreError> {
        Ok((self.reservation(order_id).await?, self.get_many(ids).await?))
    }
}

#[async_trait]
pub trait CustomerRepository: Transactional<CustomerWrite> {
    async fn get(&self, id: CustomerId) -> Result<Option<Versioned<Customer>>, StoreError>;
    async fn reservation(&self, order_id: OrderId) -> Result<Option<Versioned<CreditReservation>>, StoreError>;

    /// The customer and the credit reservation record of `order_id`, together: one read request
    /// on DynamoDB; the default makes the single reads.
    #[allow(clippy::type_complexity)]
    async fn customer_and_reservation(
        &self,
        id: CustomerId,
        order_id: OrderId,
    ) -> Result<(Option<Versioned<Customer>>, Option<Versioned<CreditReservation>>), StoreError> {
        Ok((self.get(id).await?, self.reservation(order_id).await?))
    }
}

/// Why a publish did not deliver everything.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Some entries were still refused after the bounded retries; the caller should fail so the
    /// stream redelivers (consumers are idempotent, so re-sending the delivered ones is safe).
    #[error("{failed} of {total} events not accepted by the bus after {attempts} attempts")]
    Rejected { failed: usize, total: usize, attempts: u32 },
    /// An event too large for the bus even alone.
    #[error("event {0} exceeds the bus entry size limit")]
    TooLarge(EventId),
    #[error("bus unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Sends outbox records to the event bus. The relay is its only caller.
#[async_trait]
pub trait EventPublisher: Send + Sync {
    async fn publish(&self, records: &[OutboxRecord]) -> Result<(), PublishError>;
}

/// A contiguous range of one table's change stream: what the stream's event source hands to the
/// relay's on-failure queue when it gives up on a batch (the shard and the first and last
/// sequence numbers, never the records themselves).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StreamRange {
    /// The stream's ARN (a memory store's name offline).
    pub stream: String,
    pub shard: String,
    /// Sequence numbers, decimal, inclusive.
    pub first: String,
    pub last: String,
}

/// Why a stream range could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The range is older than the stream's retention (24 hours on DynamoDB) or the stream was
    /// replaced: only the outbox items (TTL 7 days) still hold its records (`ops republish`).
    #[error("the stream no longer holds {0}")]
    Trimmed(String),
    /// A sequence number that is not a decimal number, or a stream that is not one of ours.
    #[error("not a readable stream range: {0}")]
    Invalid(String),
    /// A record in the range is an outbox item that does not decode.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stream could not be reached; retrying may help.
    #[error("stream unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Reads back, from a table's change stream, the outbox records a range holds.
#[async_trait]
pub trait OutboxStream: Send + Sync {
    /// The outbox records inserted in `range`, in stream order (other items' changes skipped).
    async fn outbox_records(&self, range: &StreamRange) -> Result<Vec<OutboxRecord>, StreamError>;
}
