//! GET /customers/{id}/orders: a customer's orders, newest first, paged, optionally by status.

const FUNCTION: &str = "find-order-history";

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let cold = handlers::bootstrap::start(FUNCTION).await?;
    let env = app::SystemEnvironment::shared();
    let service = app::orders::OrderService::new(cold.orders()?, env);
    cold.warm().await;
    handlers::bootstrap::serve_http(|req| handlers::http::find_order_history(&service, req)).await
}
