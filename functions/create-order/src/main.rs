//! POST /orders: stores the order PENDING with its OrderCreated event, starting the saga; honours Idempotency-Key.

const FUNCTION: &str = "create-order";

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let cold = handlers::bootstrap::start(FUNCTION).await?;
    let env = app::SystemEnvironment::shared();
    let service = app::orders::OrderPlacement::new(
        cold.orders()?,
        cold.products()?,
        cold.customers()?,
        cold.config.shipping()?,
        env,
    );
    cold.warm().await;
    handlers::bootstrap::serve_http(|req| handlers::http::create_order(&service, req)).await
}
