//! A function's cold start: configuration, AWS clients built once, repositories, and a warm
//! connection, then the runtime loop. Each main is a few lines on top of this.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use app::ports::{CustomerRepository, OrderRepository, ProductRepository};
use app::step::StepOutcome;
use app::StepError;
use aws_adapters::{DynamoCustomerRepository, DynamoOrderRepository, DynamoProductRepository};
use aws_config::SdkConfig;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::EventEnvelope;
use lambda_http::{Body, Request, Response};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

use crate::config::{Config, ConfigError};
use crate::manifest::{Resource, Table};

/// The function's configuration and AWS clients, built once per cold start.
pub struct Cold {
    pub config: Config,
    pub sdk: SdkConfig,
    pub dynamo: aws_sdk_dynamodb::Client,
}

/// Logging, configuration and clients. A missing variable stops the start, naming it.
pub async fn start(function: &'static str) -> Result<Cold, ConfigError> {
    crate::telemetry::init_json();
    let config = Config::load(function).inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?;
    let sdk = aws_adapters::load_sdk_config().await;
    let dynamo = aws_adapters::dynamo_client(&sdk);
    Ok(Cold { config, sdk, dynamo })
}

impl Cold {
    pub fn orders(&self) -> Result<Arc<dyn OrderRepository>, ConfigError> {
        Ok(Arc::new(DynamoOrderRepository::new(self.dynamo.clone(), self.config.table(Table::Orders)?)))
    }

    pub fn products(&self) -> Result<Arc<dyn ProductRepository>, ConfigError> {
        Ok(Arc::new(DynamoProductRepository::new(self.dynamo.clone(), self.config.table(Table::Products)?)))
    }

    pub fn customers(&self) -> Result<Arc<dyn CustomerRepository>, ConfigError> {
        Ok(Arc::new(DynamoCustomerRepository::new(self.dynamo.clone(), self.config.table(Table::Customers)?)))
    }

    /// Opens the DynamoDB connection (DNS, TCP, TLS) during init, when Lambda does not bill the
    /// first request for it: one read of a key that does not exist. Failure is only logged; the
    /// first request will simply pay for the connection.
    pub async fn warm(&self) {
        let spec = crate::manifest::function(self.config.function());
        let table = spec.and_then(|s| {
            s.permissions.iter().find_map(|p| match p.resource {
                Resource::Table(t) if p.action == "dynamodb:GetItem" => Some(t),
                _ => None,
            })
        });
        let Some(Ok(name)) = table.map(|t| self.config.table(t)) else { return };
        let started = std::time::Instant::now();
        let result = self
            .dynamo
            .get_item()
            .table_name(name)
            .key("PK", AttributeValue::S("WARMUP".into()))
            .key("SK", AttributeValue::S("WARMUP".into()))
            .send()
            .await;
        match result {
            Ok(_) => tracing::debug!(ms = started.elapsed().as_millis() as u64, "connection warmed"),
            Err(e) => tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "warm-up read failed"),
        }
    }
}

/// Runs an HTTP handler under the Lambda runtime until the sandbox is shut down.
pub async fn serve_http<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send,
{
    lambda_http::run(lambda_http::service_fn(|req: Request| {
        let fut = handler(req);
        async move { Ok::<_, Infallible>(fut.await) }
    }))
    .await
}

/// Runs a saga step under the Lambda runtime: each EventBridge event is decoded and handed to
/// `step`; an error (retryable or not) fails the invocation, so it is retried or dead-lettered.
pub async fn serve_step<F, Fut>(name: &'static str, step: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(EventEnvelope) -> Fut,
    Fut: Future<Output = Result<StepOutcome, StepError>>,
{
    lambda_runtime::run(service_fn(|event: LambdaEvent<EventBridgeEvent<Value>>| {
        let step = &step;
        async move {
            crate::events::handle(name, event.payload, step)
                .await
                .map_err(|e| lambda_runtime::Error::from(e.to_string()))
        }
    }))
    .await
}

/// Runs the outbox relay on DynamoDB Streams batches.
pub async fn serve_relay(relay: app::relay::OutboxRelay) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<aws_lambda_events::dynamodb::Event>| {
        let relay = &relay;
        async move {
            crate::events::relay_stream(relay, event.payload).await.map_err(|e| {
                tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "relay failed; the batch will be retried");
                lambda_runtime::Error::from(e.to_string())
            })
        }
    }))
    .await
}

/// Runs the sweeper on its schedule's events.
pub async fn serve_sweeper(sweeper: app::orders::Sweeper) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(|_: LambdaEvent<EventBridgeEvent<Value>>| {
        let sweeper = &sweeper;
        async move {
            crate::events::sweep(sweeper)
                .await
                .map(|r| serde_json::json!({"examined": r.examined, "rejected": r.rejected}))
                .map_err(|e| lambda_runtime::Error::from(e.to_string()))
        }
    }))
    .await
}
