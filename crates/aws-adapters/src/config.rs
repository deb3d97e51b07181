//! SDK configuration and clients, built once per cold start, and the warm-up read that opens the
//! DynamoDB connection during init.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::schema::{PK, SK};

/// The partition (and sort) key of the cold start's warm-up read: no item has it.
pub const WARM_UP_KEY: &str = "WARMUP";

/// The shared SDK configuration: region, credentials and endpoint from the environment. It honours
/// `AWS_ENDPOINT_URL` (and the per-service `AWS_ENDPOINT_URL_DYNAMODB`, ...), which is how the
/// tests point every client at ministack.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::load_defaults(BehaviorVersion::latest()).await
}

/// The region of a local endpoint's resources.
pub const LOCAL_REGION: &str = "us-east-1";

/// The configuration for a local endpoint (a ministack): a fixed region and placeholder
/// credentials (a local endpoint takes any), so nothing is looked up from the machine's AWS
/// configuration and no real credential is ever sent.
pub async fn local_sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(LOCAL_REGION))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "local"))
        .load()
        .await
}

/// The clients of one process. Clients are cheap to clone and share one connection pool; building
/// one opens no connection.
#[derive(Debug, Clone)]
pub struct Clients {
    pub dynamo: aws_sdk_dynamodb::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub streams: aws_sdk_dynamodbstreams::Client,
}

impl Clients {
    pub fn new(sdk: &SdkConfig) -> Clients {
        Clients {
            dynamo: aws_sdk_dynamodb::Client::new(sdk),
            events: aws_sdk_eventbridge::Client::new(sdk),
            streams: aws_sdk_dynamodbstreams::Client::new(sdk),
        }
    }

    /// Opens the DynamoDB connection (DNS, TCP, TLS) to `table` during init, when Lambda does not
    /// bill the first request for it: one read of a key no item has. A failure is only logged;
    /// the first request will then pay for the connection.
    pub async fn warm_up(&self, table: &str) {
        // An item that never exists, under a key each function's IAM allows (`LeadingKeys`).
        let started = std::time::Instant::now();
        let result = self
            .dynamo
            .get_item()
            .table_name(table)
            .key(PK, AttributeValue::S(WARM_UP_KEY.into()))
            .key(SK, AttributeValue::S(WARM_UP_KEY.into()))
            .send()
            .await;
        match result {
            Ok(_) => tracing::debug!(ms = started.elapsed().as_millis() as u64, "connection opened"),
            Err(e) => tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "warm-up read failed"),
        }
    }
}
