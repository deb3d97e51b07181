//! POST /customers: registers a customer (unique email, credit limit); honours Idempotency-Key.

const FUNCTION: &str = "create-customer";

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let cold = handlers::bootstrap::start(FUNCTION).await?;
    let env = app::SystemEnvironment::shared();
    let service = app::customers::CustomerService::new(cold.customers()?, env);
    cold.warm().await;
    handlers::bootstrap::serve_http(|req| handlers::http::create_customer(&service, req)).await
}
