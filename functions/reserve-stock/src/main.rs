//! Saga step on OrderCreated: reserves every line of the order, or none.

const FUNCTION: &str = "reserve-stock";

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let cold = handlers::bootstrap::start(FUNCTION).await?;
    let env = app::SystemEnvironment::shared();
    let service = app::products::ProductService::new(cold.products()?, env);
    cold.warm().await;
    let service = &service;
    handlers::bootstrap::serve_step(FUNCTION, |event| async move { service.reserve_stock(&event).await }).await
}
