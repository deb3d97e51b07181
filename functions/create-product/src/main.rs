//! POST /products: adds a product to the catalogue with its stock.

const FUNCTION: &str = "create-product";

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let cold = handlers::bootstrap::start(FUNCTION).await?;
    let env = app::SystemEnvironment::shared();
    let service = app::products::ProductService::new(cold.products()?, env);
    cold.warm().await;
    handlers::bootstrap::serve_http(|req| handlers::http::create_product(&service, req)).await
}
