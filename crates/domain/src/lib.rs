//! The pure model of the shop: value objects, the three aggregates (Customer, Product, Order),
//! the domain events with their envelope, the shipping-cost service and the saga's decisions.
//!
//! Nothing here does I/O, spawns tasks or knows about AWS: time and ids come in through
//! [`events::Environment`], so every decision is deterministic and testable. Adapters and
//! functions depend on this crate; it depends on none of them.

// Nothing that comes from outside (requests, events, stored items, SDK answers) may panic.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod catalogue;
pub mod customer;
pub mod error;
pub mod events;
pub mod ids;
pub mod measures;
pub mod money;
pub mod order;
pub mod product;
pub mod reservation;
pub mod saga;
pub mod shipping;
pub mod stock;
pub mod text;

pub use catalogue::{CatalogueEntry, KnownCustomer};
pub use customer::{CreditOutcome, CreditReservation, Customer};
pub use error::{DomainError, Inconsistent, Problem};
pub use events::{Context, DomainEvent, Environment, EventEnvelope, EventMetadata, SchemaVersions, TraceHeader};
pub use ids::{CustomerId, EventId, OrderId, ProductId};
pub use measures::{Dimensions, Quantity, RestockQuantity, ShardCount, StockLevel, Weight};
pub use money::{Currency, Money};
pub use order::{Milestone, Order, OrderLine, OrderState, OrderStatus, Pricing, RejectionReason};
pub use product::{Product, StockOutcome, StockReservation};
pub use reservation::{Hold, HoldRefused, ReleaseOutcome, ReservationStatus};
pub use shipping::{ShippingCostService, ShippingItem, ShippingQuote, ShippingSpeed, Zone};
pub use stock::{ShardHold, StockShard};
pub use text::{Address, CountryCode, CustomerName, Email, ProductName};
