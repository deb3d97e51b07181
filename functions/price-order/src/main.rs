//! Saga step on StockReserved: prices the order (lines, shipping, total).

const FUNCTION: &str = "price-order";

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let cold = handlers::bootstrap::start(FUNCTION).await?;
    let env = app::SystemEnvironment::shared();
    let service = app::orders::OrderSaga::with_pricing(cold.orders()?, cold.config.shipping()?, env);
    cold.warm().await;
    let service = &service;
    handlers::bootstrap::serve_step(FUNCTION, |event| async move { service.price(&event).await }).await
}
