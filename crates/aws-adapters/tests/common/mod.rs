//! Shared by this crate's test binaries: the connection to ministack (a real DynamoDB /
//! EventBridge / SQS API on 127.0.0.1, never a hand-written fake), fresh uniquely named tables,
//! and small builders for domain values.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use aws_adapters::{create_tables, TableNames};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use chrono::{DateTime, Utc};
use domain::events::LineRequest;
use domain::{
    Address, Currency, Customer, CustomerId, CustomerName, Dimensions, Email, Money, Order, OrderId, Product,
    ProductId, ProductName, Quantity, ShippingSpeed, StockLevel, Weight,
};
use uuid::Uuid;

/// The ministack endpoint. Panics, loudly and with the fix, when it is not configured: a test
/// that silently skips would pass in CI with nothing checked.
pub fn endpoint() -> String {
    let Ok(url) = std::env::var("AWS_ENDPOINT_URL") else {
        panic!(
            "AWS_ENDPOINT_URL is not set. The aws-adapters tests run against ministack (a local AWS emulator); \
             run them through `scripts/with-ministack.sh cargo nextest run -p aws-adapters`, which starts \
             ministack on 127.0.0.1 and sets AWS_ENDPOINT_URL and dummy credentials."
        )
    };
    let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"].iter().any(|p| url.starts_with(p));
    assert!(loopback, "AWS_ENDPOINT_URL={url} is not a loopback address: these tests never talk to real AWS");
    url
}

/// SDK configuration for ministack: its endpoint, a fixed region and dummy credentials, so no
/// real credentials or instance metadata are ever looked up.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(aws_adapters::https_client())
        .endpoint_url(endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "ministack-tests"))
        .load()
        .await
}

pub async fn dynamo() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config().await)
}

/// A name no other test uses: tests share one ministack and run in parallel.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", Uuid::new_v4().simple())
}

/// Three new, empty tables.
pub async fn fresh_tables(client: &aws_sdk_dynamodb::Client) -> TableNames {
    let names = TableNames::with_prefix(&format!("{}-", unique("t")));
    create_tables(client, &names).await.unwrap_or_else(|e| panic!("creating tables {names:?}: {e:?}"));
    names
}

pub fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("a valid test time")
}

pub fn usd(cents: i64) -> Money {
    Money::new(cents, Currency::USD).expect("a valid amount")
}

pub fn address() -> Address {
    Address::new("9 Elm St", "Dayton", "OH", "45402", "US").expect("a valid address")
}

pub fn new_product(name: &str, stock: i64) -> Product {
    Product::add(
        ProductId::from_uuid(Uuid::new_v4()),
        ProductName::parse(name).expect("a valid name"),
        usd(1_000),
        Weight::new(500).expect("a valid weight"),
        Dimensions::new(10, 10, 10).expect("valid dimensions"),
        StockLevel::new(stock).expect("a valid stock"),
        Utc::now(),
    )
    .0
}

pub fn new_customer(email: &str) -> Customer {
    Customer::register(
        CustomerId::from_uuid(Uuid::new_v4()),
        CustomerName::parse("Ada Lovelace").expect("a valid name"),
        Email::parse(email).expect("a valid email"),
        address(),
        usd(100_000),
        Utc::now(),
    )
    .0
}

/// A PENDING order of `customer`, created at `created`.
pub fn new_order(customer: CustomerId, created: DateTime<Utc>) -> Order {
    let line = LineRequest {
        product_id: ProductId::from_uuid(Uuid::new_v4()),
        quantity: Quantity::new(1).expect("a valid quantity"),
    };
    Order::place(OrderId::from_uuid(Uuid::new_v4()), customer, vec![line], address(), ShippingSpeed::Standard, created)
        .expect("a valid order")
        .0
}
