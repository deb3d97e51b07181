//! POST /shipping/quote: what shipping would cost (zone, chargeable weight, speed, discount).
//! Pure domain: no table, nothing to warm.

const FUNCTION: &str = "quote-shipping";

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let cold = handlers::bootstrap::start(FUNCTION).await?;
    let shipping = cold.config.shipping()?;
    handlers::bootstrap::serve_http(|req| handlers::http::quote_shipping(&shipping, req)).await
}
