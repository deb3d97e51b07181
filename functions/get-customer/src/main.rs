//! GET /customers/{id}: one customer with available credit.

const FUNCTION: &str = "get-customer";

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let cold = handlers::bootstrap::start(FUNCTION).await?;
    let env = app::SystemEnvironment::shared();
    let service = app::customers::CustomerService::new(cold.customers()?, env);
    cold.warm().await;
    handlers::bootstrap::serve_http(|req| handlers::http::get_customer(&service, req)).await
}
