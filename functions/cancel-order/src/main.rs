//! POST /orders/{id}/cancel: APPROVED becomes CANCELLED; the saga then releases stock and credit.

const FUNCTION: &str = "cancel-order";

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let cold = handlers::bootstrap::start(FUNCTION).await?;
    let env = app::SystemEnvironment::shared();
    let service = app::orders::OrderService::new(cold.orders()?, env);
    cold.warm().await;
    handlers::bootstrap::serve_http(|req| handlers::http::cancel_order(&service, req)).await
}
