//! The records the sample events in `events/` refer to: one customer, two products and one PENDING
//! order, with the ids those files carry. `tests/events_replay.rs` replays every file against
//! them, and the `local-aws` binary seeds them so a function invoked with its own event file
//! answers as it would on AWS with the same data.
//!
//! They are written through the DynamoDB repositories, exactly as the functions store them,
//! together with what the orders context's replica holds of the customer and the products once
//! their events have arrived.

use std::str::FromStr;

use app::ports::{
    Commit, CustomerRepository, CustomerWrite, OrderRepository, OrderWrite, ProductRepository, ProductWrite,
    StoreError, Transactional,
};
use aws_adapters::{DynamoCustomerRepository, DynamoOrderRepository, DynamoProductRepository, TableNames};
use chrono::{DateTime, Utc};
use domain::events::LineRequest;
use domain::{
    Address, CatalogueEntry, Currency, Customer, CustomerId, CustomerName, Dimensions, DomainError, Email,
    KnownCustomer, Money, Order, OrderId, Product, ProductId, ProductName, Quantity, ShippingSpeed, StockLevel, Weight,
};

/// The customer of every order in `events/`.
pub const CUSTOMER: &str = "3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f";
/// The order the saga events and the order routes in `events/` are about.
pub const ORDER: &str = "0b6f8b8e-6c53-4a52-bb5f-7f0f1d1f0a01";
/// The products on that order's lines (2 of the first, 1 of the second).
pub const PRODUCTS: [&str; 2] = ["7c9e6679-7425-40de-944b-e07fc1f90ae7", "16fd2706-8baf-433b-82eb-8c7fada847da"];
/// Stock on hand of each fixture product.
pub const STOCK: i64 = 50;

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("a fixture value is invalid: {0}")]
    Domain(#[from] DomainError),
    #[error("cannot store the fixture {what}")]
    Store {
        what: String,
        #[source]
        source: StoreError,
    },
}

fn store(what: impl Into<String>) -> impl FnOnce(StoreError) -> FixtureError {
    let what = what.into();
    move |source| FixtureError::Store { what, source }
}

/// What [`seed`] did with each record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seeded {
    /// ("customer 3f2b…", true when written now, false when it was there already).
    pub records: Vec<(String, bool)>,
}

fn usd(cents: i64) -> Result<Money, DomainError> {
    Money::new(cents, Currency::USD)
}

fn address() -> Result<Address, DomainError> {
    Address::new("12 Analytical Way", "San Francisco", "CA", "94107", "US")
}

/// A line of `quantity` of `product`.
pub fn line(product: &str, quantity: i64) -> Result<LineRequest, DomainError> {
    Ok(LineRequest { product_id: ProductId::from_str(product)?, quantity: Quantity::new(quantity)? })
}

/// Writes the customer, the products and the PENDING order into `names`' tables. A record that
/// exists already is left as it is (so seeding twice changes nothing); to start over, use fresh
/// tables.
pub async fn seed(client: &aws_sdk_dynamodb::Client, names: &TableNames) -> Result<Seeded, FixtureError> {
    let now = Utc::now();
    let mut out = Seeded::default();

    let customers = DynamoCustomerRepository::new(client.clone(), names.customers.clone());
    let orders = DynamoOrderRepository::new(client.clone(), names.orders.clone());
    let id = CustomerId::from_str(CUSTOMER)?;
    let what = format!("customer {CUSTOMER}");
    let exists = customers.get(id).await.map_err(store(&what))?.is_some();
    if !exists {
        let (c, registered) = Customer::register(
            id,
            CustomerName::parse("Fixture Customer")?,
            Email::parse("fixture@example.com")?,
            address()?,
            usd(1_000_000)?,
            now,
        );
        let put = CustomerWrite::Customer { customer: c, expected_version: 0 };
        customers.commit(Commit::new(vec![put], &[])).await.map_err(store(&what))?;
        let known = OrderWrite::Customer { customer: KnownCustomer::from(&registered), expected_version: 0 };
        orders.commit(Commit::new(vec![known], &[])).await.map_err(store(&what))?;
    }
    out.records.push((what, !exists));

    let products = DynamoProductRepository::new(client.clone(), names.products.clone());
    for p in PRODUCTS {
        let id = ProductId::from_str(p)?;
        let what = format!("product {p}");
        let exists = products.get(id).await.map_err(store(&what))?.is_some();
        if !exists {
            let (product, added) = Product::add(
                id,
                ProductName::parse("Fixture Product")?,
                usd(2_499)?,
                Weight::new(1_200)?,
                Dimensions::new(30, 20, 15)?,
                StockLevel::new(STOCK)?,
                now,
            );
            let put = ProductWrite::Product { product, expected_version: 0 };
            products.commit(Commit::new(vec![put], &[])).await.map_err(store(&what))?;
            let entry = OrderWrite::Catalogue { entry: CatalogueEntry::from(&added), expected_version: 0 };
            orders.commit(Commit::new(vec![entry], &[])).await.map_err(store(&what))?;
        }
        out.records.push((what, !exists));
    }

    let lines = vec![line(PRODUCTS[0], 2)?, line(PRODUCTS[1], 1)?];
    let written = place_order(client, names, OrderId::from_str(ORDER)?, lines, now).await?;
    out.records.push((format!("order {ORDER}"), written));
    Ok(out)
}

/// Stores a PENDING order of the fixture customer, placed at `at`, unless an order with `id`
/// exists already. True when it was written now.
pub async fn place_order(
    client: &aws_sdk_dynamodb::Client,
    names: &TableNames,
    id: OrderId,
    lines: Vec<LineRequest>,
    at: DateTime<Utc>,
) -> Result<bool, FixtureError> {
    let orders = DynamoOrderRepository::new(client.clone(), names.orders.clone());
    let what = format!("order {id}");
    if orders.get(id).await.map_err(store(&what))?.is_some() {
        return Ok(false);
    }
    let customer = CustomerId::from_str(CUSTOMER)?;
    let (order, _) = Order::place(id, customer, lines, address()?, ShippingSpeed::Express, at)?;
    let put = OrderWrite::Put { order, expected_version: 0 };
    orders.commit(Commit::new(vec![put], &[])).await.map_err(store(&what))?;
    Ok(true)
}
