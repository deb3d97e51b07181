//! The application's storage contract (`app::contract`), run against the DynamoDB repositories on
//! fresh ministack tables: the same promises the in-memory adapters keep.

mod common;

use std::sync::Arc;

use app::contract::Fixture;
use app::SystemEnvironment;
use aws_adapters::{DynamoCustomerRepository, DynamoOrderRepository, DynamoProductRepository};

async fn dynamo_fixture() -> Fixture {
    let client = common::dynamo().await;
    let names = common::fresh_tables(&client).await;
    Fixture {
        orders: Arc::new(DynamoOrderRepository::new(client.clone(), names.orders)),
        products: Arc::new(DynamoProductRepository::new(client.clone(), names.products)),
        customers: Arc::new(DynamoCustomerRepository::new(client, names.customers)),
        env: SystemEnvironment::shared(),
    }
}

app::contract_suite!(dynamo_fixture);
