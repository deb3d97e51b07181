//! SDK configuration and clients, built once per cold start, and the warm-up read that opens the
//! DynamoDB connection during init.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::schema::{PK, SK};

/// The partition (and sort) key of the cold start's warm-up read: no item has it.
pub const WARM_UP_KEY: &str = "WARMUP";

/// The shared SDK configuration: region, credentials and endpoint from the environment. It honours
/// `AWS_ENDPOINT_URL` (and the per-service `AWS_ENDPOINT_URL_DYNAMODB`, ...), which is how the
/// tests point every client at ministack. Its HTTPS client trusts [`AMAZON_ROOTS`].
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).http_client(https_client()).load().await
}

/// The root certificates of Amazon Trust Services (Amazon Root CA 1 to 4 and Starfield Services
/// Root CA G2), which every AWS service endpoint's certificate chains to, compiled in. The SDK's
/// default client instead loads the machine's whole store at start (on Debian, a bundle and
/// every file of /etc/ssl/certs: a few milliseconds of every cold start).
pub const AMAZON_ROOTS: &[u8] = include_bytes!("amazon-trust-services.pem");

/// The SDK's HTTPS client (rustls with aws-lc, as by default) trusting [`AMAZON_ROOTS`], plus the
/// machine's store when `SSL_CERT_FILE` or `SSL_CERT_DIR` is set (an endpoint behind another CA,
/// such as a TLS-inspecting proxy).
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
    let native = std::env::var_os("SSL_CERT_FILE").is_some() || std::env::var_os("SSL_CERT_DIR").is_some();
    let trust = TrustStore::empty().with_native_roots(native).with_pem_certificate(AMAZON_ROOTS);
    let context = TlsContext::builder().with_trust_store(trust).build().unwrap_or_default();
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
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
    /// Opens the EventBridge connection to `bus` during init, for a function that publishes:
    /// one `DescribeEventBus`. A failure is only logged.
    pub async fn warm_up_bus(&self, bus: &str) {
        let started = std::time::Instant::now();
        match self.events.describe_event_bus().name(bus).send().await {
            Ok(_) => tracing::debug!(ms = started.elapsed().as_millis() as u64, "bus connection opened"),
            Err(e) => {
                tracing::warn!(error = %aws_sdk_eventbridge::error::DisplayErrorContext(&e), "bus warm-up failed")
            }
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    /// The compiled-in roots are the five of Amazon Trust Services and the client takes them: a
    /// request over HTTPS builds its TLS configuration from them (an unparsable certificate would
    /// panic there) and then fails only on the closed port it was sent to.
    #[tokio::test]
    async fn the_https_client_trusts_the_compiled_in_roots() {
        assert_eq!(String::from_utf8_lossy(AMAZON_ROOTS).matches("-----BEGIN CERTIFICATE-----").count(), 5);
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .http_client(https_client())
            .endpoint_url("https://127.0.0.1:9")
            .region(Region::new(LOCAL_REGION))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "test"))
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .load()
            .await;
        let err = aws_sdk_dynamodb::Client::new(&sdk).list_tables().send().await.expect_err("nothing listens on :9");
        let text = format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&err));
        assert!(text.contains("onnect"), "a connection error, not a TLS configuration error: {text}");
    }
}
