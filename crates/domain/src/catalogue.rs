//! What the orders context knows of the others: its replica of the catalogue and of the customers,
//! kept from their events. Orders validates and prices a new order against it, reading nothing of
//! another context's data, as FTGO's order service keeps a replica of the restaurants' menus.

use serde::{Deserialize, Serialize};

use crate::events::{CustomerRegistered, ProductAdded};
use crate::ids::{CustomerId, ProductId};
use crate::measures::{Dimensions, Weight};
use crate::money::Money;

/// A product as orders sees it. Invariant: it mirrors the last catalogue event applied for the
/// product; `sold` is false once the product may no longer be ordered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogueEntry {
    pub product_id: ProductId,
    pub name: String,
    pub price: Money,
    pub weight: Weight,
    pub dimensions: Dimensions,
    pub sold: bool,
}

impl From<&ProductAdded> for CatalogueEntry {
    fn from(e: &ProductAdded) -> Self {
        CatalogueEntry {
            product_id: e.product_id,
            name: e.name.clone(),
            price: e.price,
            weight: e.weight,
            dimensions: e.dimensions,
            sold: true,
        }
    }
}

/// A customer orders knows exists, and may take orders for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KnownCustomer {
    pub customer_id: CustomerId,
}

impl From<&CustomerRegistered> for KnownCustomer {
    fn from(e: &CustomerRegistered) -> Self {
        KnownCustomer { customer_id: e.customer_id }
    }
}
