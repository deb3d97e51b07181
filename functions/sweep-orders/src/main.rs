//! The sweeper, on a schedule: rejects orders PENDING longer than PENDING_TIMEOUT_SECONDS, so no
//! saga stays open forever; the rejection triggers the usual compensations.

const FUNCTION: &str = "sweep-orders";

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let cold = handlers::bootstrap::start(FUNCTION).await?;
    let env = app::SystemEnvironment::shared();
    let sweeper = app::orders::Sweeper::new(cold.orders()?, cold.config.pending_timeout()?, env);
    cold.warm().await;
    handlers::bootstrap::serve_sweeper(sweeper).await
}
