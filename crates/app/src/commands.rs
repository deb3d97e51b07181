//! Commands: what a caller asks for, already parsed into domain types (parse, don't validate).
//! They serialize so an idempotent create can fingerprint the request it answers.

use domain::events::LineRequest;
use domain::{
    Address, CustomerId, CustomerName, Dimensions, Money, ProductName, RestockQuantity, ShardCount, ShippingItem,
    ShippingSpeed, StockLevel, Weight,
};
use serde::Serialize;

/// Register the caller as a customer: what the request says of them. Their email is not here:
/// it is the one their identity provider verified (the token's), never the request's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisterCustomer {
    pub name: CustomerName,
    pub address: Address,
}

/// Add a product to the catalogue with its initial stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddProduct {
    pub name: ProductName,
    pub price: Money,
    pub weight: Weight,
    pub dimensions: Dimensions,
    pub stock: StockLevel,
}

/// Place an order; lines name distinct products (the domain refuses duplicates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaceOrder {
    /// The customer the order is for, if the request names one: it must be the caller's.
    pub customer_id: Option<CustomerId>,
    pub lines: Vec<LineRequest>,
    pub shipping_address: Address,
    pub shipping_speed: ShippingSpeed,
}

/// Ask what shipping would cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuoteShipping {
    pub destination: Address,
    pub speed: ShippingSpeed,
    pub items: Vec<ShippingItem>,
    pub subtotal: Money,
}

/// Rename and/or reprice a product, and/or spread its stock over `shards` items; at least one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateProduct {
    pub name: Option<ProductName>,
    pub price: Option<Money>,
    pub shards: Option<ShardCount>,
}

/// Add units to a product's stock on hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Restock {
    pub quantity: RestockQuantity,
}

/// Set a customer's credit limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeCreditLimit {
    pub credit_limit: Money,
}

/// Change a customer's name and/or default shipping address; at least one of the two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateCustomer {
    pub name: Option<CustomerName>,
    pub address: Option<Address>,
}
