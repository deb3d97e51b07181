//! SDK configuration and clients, built once per cold start, and the warm-up read that opens the
//! DynamoDB connection during init.

use std::collections::HashMap;
use std::sync::OnceLock;

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

/// The SDK configuration of a Lambda function, from the variables Lambda sets: the region
/// (`AWS_REGION`) and the execution role's credentials (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`); plus, when set, `AWS_ENDPOINT_URL` and the
/// per-service `AWS_ENDPOINT_URL_<SERVICE>` (ministack runs the deployed functions with them) and
/// `AWS_MAX_ATTEMPTS`. Its HTTPS client trusts [`AMAZON_ROOTS`].
///
/// [`load_sdk_config`]'s default chain also looks in profile files, SSO, STS web identity, ECS
/// and instance metadata, none of which a function on Lambda has: ~300 KiB of every binary
/// (aws-config's providers and an STS client) that this configuration does not link.
pub fn lambda_sdk_config() -> SdkConfig {
    let vars = std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    lambda_sdk_config_from(vars.collect())
}

/// [`lambda_sdk_config`] of the variables `vars` (the credentials still come from the process's
/// environment).
pub fn lambda_sdk_config_from(vars: HashMap<String, String>) -> SdkConfig {
    use aws_config::retry::RetryConfig;
    use aws_sdk_dynamodb::config::SharedCredentialsProvider;
    let var = |name: &str| vars.get(name).filter(|v| !v.is_empty()).cloned();
    let credentials = aws_config::environment::EnvironmentVariableCredentialsProvider::new();
    let mut retry = RetryConfig::standard();
    if let Some(attempts) = var("AWS_MAX_ATTEMPTS") {
        match attempts.parse::<u32>() {
            Ok(n) if n > 0 => retry = retry.with_max_attempts(n),
            _ => tracing::warn!(value = %attempts, "AWS_MAX_ATTEMPTS is not a positive integer: ignored"),
        }
    }
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(https_client())
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .retry_config(retry)
        .region(var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")).map(Region::new));
    if let Some(endpoint) = var("AWS_ENDPOINT_URL") {
        builder = builder.endpoint_url(endpoint);
    }
    let endpoints: HashMap<String, String> =
        vars.into_iter().filter(|(k, v)| k.starts_with("AWS_ENDPOINT_URL") && !v.is_empty()).collect();
    builder.service_config(EnvEndpoints(endpoints)).build()
}

/// The endpoint variables, as each client asks for its own: `AWS_ENDPOINT_URL_<SERVICE ID>` (in
/// capitals, spaces as `_`: `AWS_ENDPOINT_URL_EVENTBRIDGE`), else `AWS_ENDPOINT_URL`.
#[derive(Debug)]
struct EnvEndpoints(HashMap<String, String>);

impl aws_types::service_config::LoadServiceConfig for EnvEndpoints {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        let service = key.service_id().to_ascii_uppercase().replace(' ', "_");
        self.0.get(&format!("{}_{service}", key.env())).or_else(|| self.0.get(key.env())).cloned()
    }
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
    // `build` cannot fail today (it only moves the trust store in); should a later version refuse
    // it, the SDK's own default (the machine's store, still verified TLS) is used, and said.
    let context = TlsContext::builder().with_trust_store(trust).build().unwrap_or_else(|e| {
        tracing::error!(error = %e, "TLS configuration refused; using the machine's trust store instead");
        TlsContext::default()
    });
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
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
        .http_client(https_client())
        .endpoint_url(endpoint)
        .region(Region::new(LOCAL_REGION))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "local"))
        .load()
        .await
}

/// The clients of one process, each built on first use from one SDK configuration: a Lambda
/// function builds (and links) only the clients of the services it calls. Clients are cheap to
/// clone and share one connection pool; building one opens no connection.
#[derive(Debug, Clone)]
pub struct Clients {
    sdk: SdkConfig,
    dynamo: OnceLock<aws_sdk_dynamodb::Client>,
    events: OnceLock<aws_sdk_eventbridge::Client>,
    streams: OnceLock<aws_sdk_dynamodbstreams::Client>,
}

impl Clients {
    pub fn new(sdk: &SdkConfig) -> Clients {
        Clients { sdk: sdk.clone(), dynamo: OnceLock::new(), events: OnceLock::new(), streams: OnceLock::new() }
    }

    /// These clients, with `dynamo` as the DynamoDB client (one built with interceptors, say).
    pub fn with_dynamo(self, dynamo: aws_sdk_dynamodb::Client) -> Clients {
        Clients { dynamo: OnceLock::from(dynamo), ..self }
    }

    /// These clients, with `events` as the EventBridge client.
    pub fn with_events(self, events: aws_sdk_eventbridge::Client) -> Clients {
        Clients { events: OnceLock::from(events), ..self }
    }

    /// These clients, with `streams` as the DynamoDB Streams client.
    pub fn with_streams(self, streams: aws_sdk_dynamodbstreams::Client) -> Clients {
        Clients { streams: OnceLock::from(streams), ..self }
    }

    pub fn dynamo(&self) -> &aws_sdk_dynamodb::Client {
        self.dynamo.get_or_init(|| aws_sdk_dynamodb::Client::new(&self.sdk))
    }

    pub fn events(&self) -> &aws_sdk_eventbridge::Client {
        self.events.get_or_init(|| aws_sdk_eventbridge::Client::new(&self.sdk))
    }

    pub fn streams(&self) -> &aws_sdk_dynamodbstreams::Client {
        self.streams.get_or_init(|| aws_sdk_dynamodbstreams::Client::new(&self.sdk))
    }
}

/// Opens `dynamo`'s connection (DNS, TCP, TLS) to `table` during init, so the first request does
/// not pay for it: one read of a key no item has. A failure is only logged; the first request will
/// then pay for the connection.
pub async fn open_table(dynamo: &aws_sdk_dynamodb::Client, table: &str) {
    // An item that never exists, under a key each function's IAM allows (`LeadingKeys`).
    let started = std::time::Instant::now();
    let result = dynamo
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

/// Opens `events`' connection to `bus` during init, for a function that publishes: one
/// `DescribeEventBus`. A failure is only logged.
pub async fn open_bus(events: &aws_sdk_eventbridge::Client, bus: &str) {
    let started = std::time::Instant::now();
    match events.describe_event_bus().name(bus).send().await {
        Ok(_) => tracing::debug!(ms = started.elapsed().as_millis() as u64, "bus connection opened"),
        Err(e) => tracing::warn!(error = %aws_sdk_eventbridge::error::DisplayErrorContext(&e), "bus warm-up failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(vars: &[(&str, &str)]) -> HashMap<String, String> {
        vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_lambda_config_takes_region_endpoint_and_attempts_from_the_environment() {
        let sdk = lambda_sdk_config_from(vars(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
            ("AWS_MAX_ATTEMPTS", "1"),
        ]));
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(sdk.endpoint_url(), Some("http://127.0.0.1:4566"));
        assert_eq!(sdk.retry_config().map(|r| r.max_attempts()), Some(1));
        assert!(sdk.http_client().is_some(), "the compiled-in roots' client");
        assert!(sdk.credentials_provider().is_some(), "the environment's credentials");
    }

    /// What each client asks the configuration for its endpoint (service id as in the SDK's
    /// `service_config_key`); the e2e test's relay outage proves a real client takes the answer.
    #[test]
    fn a_service_takes_its_own_endpoint_variable_before_the_shared_one() {
        let endpoints = EnvEndpoints(vars(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
            ("AWS_ENDPOINT_URL_EVENTBRIDGE", "http://127.0.0.1:9"),
            ("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "http://127.0.0.1:8"),
        ]));
        let endpoint = |service: &str| {
            let key = aws_types::service_config::ServiceConfigKey::builder()
                .service_id(service)
                .env("AWS_ENDPOINT_URL")
                .profile("endpoint_url")
                .build()
                .expect("a key");
            aws_types::service_config::LoadServiceConfig::load_config(&endpoints, key)
        };
        assert_eq!(endpoint("EventBridge").as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(endpoint("DynamoDB Streams").as_deref(), Some("http://127.0.0.1:8"));
        assert_eq!(endpoint("DynamoDB").as_deref(), Some("http://127.0.0.1:4566"));
    }

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

    /// One DER element at the start of `der`: its tag, the whole element, and its contents.
    fn der_element(der: &[u8]) -> (u8, &[u8], &[u8]) {
        let (tag, first) = (der[0], der[1] as usize);
        let (header, len) = if first < 0x80 {
            (2, first)
        } else {
            let n = first & 0x7f;
            (2 + n, der[2..2 + n].iter().fold(0usize, |acc, b| acc << 8 | *b as usize))
        };
        (tag, &der[..header + len], &der[header..header + len])
    }

    /// The DER SubjectPublicKeyInfo of a certificate: tbsCertificate's seventh field (after the
    /// optional version, serial, signature algorithm, issuer, validity and subject).
    fn subject_public_key_info(cert: &[u8]) -> &[u8] {
        let (_, _, certificate) = der_element(cert);
        let (_, _, mut tbs) = der_element(certificate);
        if tbs[0] == 0xa0 {
            tbs = &tbs[der_element(tbs).1.len()..];
        }
        for _ in 0..5 {
            tbs = &tbs[der_element(tbs).1.len()..];
        }
        let (tag, spki, _) = der_element(tbs);
        assert_eq!(tag, 0x30, "a SubjectPublicKeyInfo is a SEQUENCE");
        spki
    }

    fn sha256_hex(bytes: &[u8]) -> String {
        use sha2::Digest;
        sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The bundled roots are exactly the five Amazon Trust Services publishes, byte for byte: a
    /// swapped, added or altered certificate fails here. Pinned twice: the SHA-256 of each root's
    /// public key (SubjectPublicKeyInfo) as https://www.amazontrust.com/repository/ lists it, and
    /// the SHA-256 fingerprint of each self-signed certificate as the root programs list it (the
    /// Mozilla/CCADB entries; ATS publishes the certificates themselves, not their hashes).
    #[test]
    fn the_bundled_roots_are_the_five_amazon_trust_services_publishes() {
        use base64::Engine;
        const PUBLISHED: [(&str, &str, &str); 5] = [
            (
                "Amazon Root CA 1",
                "fbe3018031f9586bcbf41727e417b7d1c45c2f47f93be372a17b96b50757d5a2",
                "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e",
            ),
            (
                "Amazon Root CA 2",
                "7f4296fc5b6a4e3b35d3c369623e364ab1af381d8fa7121533c9d6c633ea2461",
                "1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4",
            ),
            (
                "Amazon Root CA 3",
                "36abc32656acfc645c61b71613c4bf21c787f5cabbee48348d58597803d7abc9",
                "18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4",
            ),
            (
                "Amazon Root CA 4",
                "f7ecded5c66047d28ed6466b543c40e0743abe81d109254dcf845d4c2c7853c5",
                "e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092",
            ),
            (
                "Starfield Services Root Certificate Authority - G2",
                "2b071c59a0a0ae76b0eadb2bad23bad4580b69c3601b630c2eaf0613afa83f92",
                "568d6905a2c88708a4b3025190edcfedb1974a606a13c6e5290fcb2ae63edab5",
            ),
        ];
        let pem = std::str::from_utf8(AMAZON_ROOTS).expect("PEM is text");
        let certificates: Vec<Vec<u8>> = pem
            .split("-----BEGIN CERTIFICATE-----")
            .skip(1)
            .map(|block| {
                let body = block.split("-----END CERTIFICATE-----").next().unwrap_or_default();
                let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
                base64::engine::general_purpose::STANDARD.decode(b64).expect("base64")
            })
            .collect();
        assert_eq!(certificates.len(), PUBLISHED.len(), "the bundle holds exactly the five roots");
        assert_eq!(pem.matches("-----END CERTIFICATE-----").count(), PUBLISHED.len());
        for (cert, (name, spki, fingerprint)) in certificates.iter().zip(PUBLISHED) {
            assert_eq!(sha256_hex(subject_public_key_info(cert)), spki, "{name}: public key");
            assert_eq!(sha256_hex(cert), fingerprint, "{name}: certificate");
            let printable = String::from_utf8_lossy(cert);
            assert!(printable.contains(name), "{name}: named in the certificate");
        }
    }
}
