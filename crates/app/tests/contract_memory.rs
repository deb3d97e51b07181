//! The storage contract, run against the in-memory adapters.

use std::sync::Arc;

use app::contract::Fixture;
use app::memory::{InMemoryCustomerRepository, InMemoryOrderRepository, InMemoryProductRepository};
use app::SystemEnvironment;

async fn fixture() -> Fixture {
    Fixture {
        orders: Arc::new(InMemoryOrderRepository::default()),
        products: Arc::new(InMemoryProductRepository::default()),
        customers: Arc::new(InMemoryCustomerRepository::default()),
        env: SystemEnvironment::shared(),
    }
}

app::contract_suite!(fixture);
