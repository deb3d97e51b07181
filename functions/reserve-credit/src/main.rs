//! Saga step on OrderPriced: holds the order's total against the customer's credit limit.

const FUNCTION: &str = "reserve-credit";

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let cold = handlers::bootstrap::start(FUNCTION).await?;
    let env = app::SystemEnvironment::shared();
    let service = app::customers::CustomerService::new(cold.customers()?, env);
    cold.warm().await;
    let service = &service;
    handlers::bootstrap::serve_step(FUNCTION, |event| async move { service.reserve_credit(&event).await }).await
}
