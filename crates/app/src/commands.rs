//! Commands: what a caller asks for, already parsed into domain types (parse, don't validate).
//! They serialize so an idempotent create can fingerprint the request it answers.

use domain::events::LineRequest;
use domain::{
    Address, CustomerId, CustomerName, Dimensions, Email, Money, ProductName, ShippingItem, ShippingSpeed, StockLevel,
    Weight,
};
use serde::Serialize;

/// Register a customer with a unique email and a credit limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisterCustomer {
    pub name: CustomerName,
    pub email: Email,
    pub address: Address,
    pub credit_limit: Money,
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
    pub customer_id: CustomerId,
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
