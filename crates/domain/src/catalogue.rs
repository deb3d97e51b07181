//! What the orders context knows of the others: its replica of the catalogue and of the customers,
//! kept from their events. Orders validates and prices a new order against it, reading nothing of
//! another context's data, as FTGO's order service keeps a replica of the restaurants' menus.

use serde::{Deserialize, Serialize};

use crate::events::{CustomerRegistered, Listing, ProductAdded};
use crate::ids::CustomerId;

/// A product as orders sees it: the listing of the last catalogue event applied for it. Products
/// events carry the whole listing with its revision, so the replica simply keeps the latest.
pub type CatalogueEntry = Listing;

impl From<&ProductAdded> for Listing {
    fn from(e: &ProductAdded) -> Self {
        Listing {
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct KnownCustomer {
    pub customer_id: CustomerId,
}

impl From<&CustomerRegistered> for KnownCustomer {
    fn from(e: &CustomerRegistered) -> Self {
        KnownCustomer { customer_id: e.customer_id }
    }
}
