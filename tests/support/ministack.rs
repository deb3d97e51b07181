//! Reaching the ministack that `scripts/test.sh` starts (through `scripts/with-ministack.sh`).

/// The SDK configuration for the test ministack. Fails loudly when there is none: these tests
/// are never skipped.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!("AWS_ENDPOINT_URL is not set: run the tests with ./scripts/test.sh (or scripts/with-ministack.sh cargo nextest run)")
    });
    assert!(
        endpoint.starts_with("http://127.0.0.1:") || endpoint.starts_with("http://localhost:"),
        "refusing to run against {endpoint}: tests talk to a local ministack only"
    );
    aws_adapters::load_sdk_config().await
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}-", uuid::Uuid::new_v4().simple())
}
