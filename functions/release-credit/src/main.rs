//! Saga step on OrderRejected / OrderCancelled / CreditReleaseRequested: gives the order's credit back.

const FUNCTION: &str = "release-credit";

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let cold = handlers::bootstrap::start(FUNCTION).await?;
    let env = app::SystemEnvironment::shared();
    let service = app::customers::CustomerService::new(cold.customers()?, env);
    cold.warm().await;
    let service = &service;
    handlers::bootstrap::serve_step(FUNCTION, |event| async move { service.release_credit(&event).await }).await
}
