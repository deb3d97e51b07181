//! Saga step on OrderRejected / OrderCancelled / StockReleaseRequested: gives the order's stock back.

const FUNCTION: &str = "release-stock";

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let cold = handlers::bootstrap::start(FUNCTION).await?;
    let env = app::SystemEnvironment::shared();
    let service = app::products::ProductService::new(cold.products()?, env);
    cold.warm().await;
    let service = &service;
    handlers::bootstrap::serve_step(FUNCTION, |event| async move { service.release_stock(&event).await }).await
}
