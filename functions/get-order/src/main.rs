//! GET /orders/{id}: one order with its state, price and rejection reason.

const FUNCTION: &str = "get-order";

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let cold = handlers::bootstrap::start(FUNCTION).await?;
    let env = app::SystemEnvironment::shared();
    let service = app::orders::OrderService::new(cold.orders()?, env);
    cold.warm().await;
    handlers::bootstrap::serve_http(|req| handlers::http::get_order(&service, req)).await
}
