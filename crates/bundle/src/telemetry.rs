//! Logging on Lambda: JSON lines through tracing, one per event, with the fields of the enclosing
//! spans (request id from the Lambda runtime, correlation and causation ids from the saga steps).

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber once per process. The level comes from `AWS_LAMBDA_LOG_LEVEL`
/// (set by Lambda's logging configuration) or `RUST_LOG`, defaulting to `info`.
pub fn init_json() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned())
        .to_lowercase();
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(EnvFilter::try_new(&level).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_current_span(true)
        .with_span_list(true)
        .with_target(false)
        .try_init();
}
