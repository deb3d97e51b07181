//! Views: what the API answers, in the wire format (camelCase JSON, Money as minor units), made
//! from the aggregates the application returns. They are the translation layer's: the model and
//! the use cases know nothing of the wire.

use app::page::Listing;
use chrono::{DateTime, Utc};
use domain::{
    Address, Customer, CustomerId, Dimensions, Money, Order, OrderId, OrderState, OrderStatus, Product, ProductId,
    Quantity, RejectionReason, ShippingQuote, ShippingSpeed, Zone,
};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CustomerView {
    pub id: CustomerId,
    pub name: String,
    /// The address the customer's identity provider verified when they registered (their token's
    /// `email` claim); the addresses the shop accepts follow this pattern.
    #[cfg_attr(feature = "openapi", schemars(length(min = 3, max = domain::Email::MAX_CHARS), pattern(domain::text::email_pattern())))]
    pub email: String,
    pub address: Address,
    pub credit_limit: Money,
    pub available_credit: Money,
    pub created_at: DateTime<Utc>,
}

impl From<&Customer> for CustomerView {
    fn from(c: &Customer) -> Self {
        CustomerView {
            id: c.id(),
            name: c.name().as_str().to_owned(),
            email: c.email().as_str().to_owned(),
            address: c.address().clone(),
            credit_limit: c.credit_limit(),
            available_credit: c.available_credit(),
            created_at: c.created_at(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DimensionsView {
    pub length: u32,
    pub width: u32,
    pub height: u32,
}

impl From<Dimensions> for DimensionsView {
    fn from(d: Dimensions) -> Self {
        DimensionsView { length: d.length.get(), width: d.width.get(), height: d.height.get() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProductView {
    pub id: ProductId,
    pub name: String,
    pub price: Money,
    pub weight_grams: u32,
    pub dimensions_cm: DimensionsView,
    /// Units on hand.
    pub stock: u32,
    /// Units on hand that no order holds.
    pub available: u32,
    /// How many stock items (shards) hold the units: 1 for an ordinary product. `stock` and
    /// `available` are summed over them.
    pub shards: u32,
    /// True once the product is discontinued: it takes no new orders.
    pub discontinued: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        ProductView {
            id: p.id(),
            name: p.name().as_str().to_owned(),
            price: p.price(),
            weight_grams: p.weight().get(),
            dimensions_cm: p.dimensions().into(),
            stock: p.on_hand(),
            available: p.available(),
            shards: p.shard_count(),
            discontinued: p.discontinued_at().is_some(),
            created_at: p.created_at(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrderLineView {
    pub product_id: ProductId,
    pub quantity: Quantity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    pub id: OrderId,
    pub customer_id: CustomerId,
    pub state: OrderStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<RejectionReason>,
    pub lines: Vec<OrderLineView>,
    pub shipping_address: Address,
    pub shipping_speed: ShippingSpeed,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtotal: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_cost: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `GET /orders/{id}/timeline`: the steps the order went through, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TimelineView {
    pub order_id: OrderId,
    pub state: OrderStatus,
    pub steps: Vec<StepView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StepView {
    pub at: DateTime<Utc>,
    /// The event the step emitted (`OrderCreated`, `OrderPriced` once the stock was reserved,
    /// `OrderApproved` once the credit was, `OrderRejected`, `OrderCancelled`).
    pub event: String,
    /// The order's state after it.
    pub state: OrderStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<RejectionReason>,
    /// Milliseconds since the order was created.
    pub elapsed_ms: i64,
}

impl From<&Order> for TimelineView {
    fn from(o: &Order) -> Self {
        let steps = o
            .timeline()
            .iter()
            .map(|m| StepView {
                at: m.at,
                event: m.event.clone(),
                state: m.status,
                reason: m.reason,
                elapsed_ms: (m.at - o.created_at()).num_milliseconds(),
            })
            .collect();
        TimelineView { order_id: o.id(), state: o.status(), steps }
    }
}

impl From<&Order> for OrderView {
    fn from(o: &Order) -> Self {
        let pricing = o.pricing();
        OrderView {
            id: o.id(),
            customer_id: o.customer_id(),
            state: o.status(),
            rejection_reason: match o.state() {
                OrderState::Rejected { reason } => Some(reason),
                _ => None,
            },
            lines: o
                .lines()
                .iter()
                .map(|l| OrderLineView { product_id: l.product_id, quantity: l.quantity, unit_price: l.unit_price })
                .collect(),
            shipping_address: o.shipping_address().clone(),
            shipping_speed: o.shipping_speed(),
            subtotal: pricing.map(|p| p.subtotal),
            shipping_cost: pricing.map(|p| p.shipping_cost),
            total: pricing.map(|p| p.total),
            created_at: o.created_at(),
            updated_at: o.updated_at(),
        }
    }
}

/// A page of items and, when more may follow, the cursor to ask for the next page with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(rename = "{T}Page"))]
#[serde(rename_all = "camelCase")]
pub struct PageView<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> PageView<T> {
    /// The page of `listing`, each item seen as a `T`.
    pub fn of<A>(listing: Listing<A>) -> Self
    where
        T: for<'a> From<&'a A>,
    {
        PageView { items: listing.items.iter().map(T::from).collect(), next_cursor: listing.next_cursor }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct QuoteView {
    pub zone: Zone,
    pub speed: ShippingSpeed,
    pub chargeable_weight_grams: u64,
    pub cost: Money,
    pub free_shipping_applied: bool,
}

impl From<ShippingQuote> for QuoteView {
    fn from(q: ShippingQuote) -> Self {
        QuoteView {
            zone: q.zone,
            speed: q.speed,
            chargeable_weight_grams: q.chargeable_grams,
            cost: q.cost,
            free_shipping_applied: q.free_shipping_applied,
        }
    }
}

schema_names! {
    /// A route's answer body, named for the manifest: its schema is the view's, and what it names
    /// decides where a client can go next (the OpenAPI document's links).
    ViewType {
        Customer => CustomerView,
        Product => ProductView,
        ProductPage => PageView<ProductView>,
        Order => OrderView,
        OrderPage => PageView<OrderView>,
        Timeline => TimelineView,
        Quote => QuoteView,
    }
}
