//! GET /products: the catalogue by name, paged.

const FUNCTION: &str = "list-products";

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let cold = handlers::bootstrap::start(FUNCTION).await?;
    let env = app::SystemEnvironment::shared();
    let service = app::products::ProductService::new(cold.products()?, env);
    cold.warm().await;
    handlers::bootstrap::serve_http(|req| handlers::http::list_products(&service, req)).await
}
