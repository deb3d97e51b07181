//! Building SDK clients: once per cold start, from the standard configuration chain.

use aws_config::{BehaviorVersion, SdkConfig};

/// The shared SDK configuration: region, credentials and endpoint from the environment. It honours
/// `AWS_ENDPOINT_URL` (and the per-service `AWS_ENDPOINT_URL_DYNAMODB`, ...), which is how the
/// offline runner and the tests point every client at ministack.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::load_defaults(BehaviorVersion::latest()).await
}

/// A DynamoDB client for `config`. Clients are cheap to clone and share one connection pool.
pub fn dynamo_client(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

/// An EventBridge client for `config`.
pub fn eventbridge_client(config: &SdkConfig) -> aws_sdk_eventbridge::Client {
    aws_sdk_eventbridge::Client::new(config)
}
