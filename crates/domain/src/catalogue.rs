//! What the orders context knows of the others: its replica of the catalogue and of the customers,
//! kept from their events. Orders validates and prices a new order against it, reading nothing of
//! another context's data, as FTGO's order service keeps a replica of the restaurants' menus.

use serde::{Deserialize, Serialize};

use crate::events::{CustomerRegistered, Listing, ProductAdded};
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
    /// The product's catalogue revision this entry reflects: a later one replaces it, an
    /// earlier one (a reordered event) does not.
    #[serde(default = "first_revision")]
    pub revision: u32,
}

fn first_revision() -> u32 {
    1
}

impl From<&Listing> for CatalogueEntry {
    fn from(l: &Listing) -> Self {
        CatalogueEntry {
            product_id: l.product_id,
            name: l.name.clone(),
            price: l.price,
            weight: l.weight,
            dimensions: l.dimensions,
            sold: l.sold,
            revision: l.revision,
        }
    }
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
            revision: 1,
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
