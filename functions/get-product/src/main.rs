//! GET /products/{id}: one product with its available stock.

const FUNCTION: &str = "get-product";

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let cold = handlers::bootstrap::start(FUNCTION).await?;
    let env = app::SystemEnvironment::shared();
    let service = app::products::ProductService::new(cold.products()?, env);
    cold.warm().await;
    handlers::bootstrap::serve_http(|req| handlers::http::get_product(&service, req)).await
}
