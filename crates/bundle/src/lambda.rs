//! A function on Lambda: the cold start (logging, configuration, clients, the handler from
//! [`wire`], a warm connection), then the runtime loop. Each main is one call to [`main`].

use std::convert::Infallible;
use std::process::ExitCode;

use app::SystemEnvironment;
use aws_adapters::{Clients, DynamoCustomerRepository, DynamoOrderRepository, DynamoProductRepository};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use std::sync::Arc;

use app::ports::{CustomerRepository, EventPublisher, OrderRepository, OutboxStream, ProductRepository};

use crate::config::Config;
use crate::manifest::{Function, Table};
use crate::wire::{wire, Handler, Resources, WireError};

/// The function's tables and bus on AWS, named by its configuration.
pub struct AwsResources<'a> {
    pub config: &'a Config,
    pub clients: &'a Clients,
}

impl Resources for AwsResources<'_> {
    fn orders(&self) -> Result<Arc<dyn OrderRepository>, WireError> {
        let table = self.config.table(Table::Orders)?;
        Ok(Arc::new(DynamoOrderRepository::new(self.clients.dynamo.clone(), table)))
    }
    fn products(&self) -> Result<Arc<dyn ProductRepository>, WireError> {
        let table = self.config.table(Table::Products)?;
        Ok(Arc::new(DynamoProductRepository::new(self.clients.dynamo.clone(), table)))
    }
    fn customers(&self) -> Result<Arc<dyn CustomerRepository>, WireError> {
        let table = self.config.table(Table::Customers)?;
        Ok(Arc::new(DynamoCustomerRepository::new(self.clients.dynamo.clone(), table)))
    }
    fn publisher(&self) -> Result<Arc<dyn EventPublisher>, WireError> {
        let bus = self.config.bus_name()?;
        Ok(Arc::new(aws_adapters::EventBridgePublisher::new(self.clients.events.clone(), bus)))
    }
    fn outbox_stream(&self) -> Result<Arc<dyn OutboxStream>, WireError> {
        Ok(Arc::new(aws_adapters::DynamoOutboxStream::new(self.clients.streams.clone())))
    }
}

/// Opens, during init, the connections `function`'s first invocation would otherwise open: its
/// table's (one read of a key no item has) and, for a publisher, its bus's.
pub async fn warm_up(function: Function, config: &Config, clients: &Clients) -> Result<(), WireError> {
    if let Some(table) = function.warm_up_table() {
        clients.warm_up(&config.table(table)?).await;
    }
    if function.warm_up_bus() {
        clients.warm_up_bus(&config.bus_name()?).await;
    }
    Ok(())
}

/// A function's main: runs `function` on Lambda until the sandbox is shut down. A start that
/// fails (a missing variable, say) is logged and ends the process with a failure.
pub fn main(function: Function) -> ExitCode {
    // One thread: Lambda hands a sandbox one invocation at a time, so worker threads would only
    // cost start-up time and memory.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(function)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, function = function.name(), "the function stopped");
            ExitCode::FAILURE
        }
    }
}

/// The cold start and the runtime loop of `function`.
pub async fn run(function: Function) -> Result<(), lambda_runtime::Error> {
    crate::telemetry::init_json();
    let metrics = crate::telemetry::init_metrics(function.name());
    app::measure::cold_start();
    let config = Config::load(function).inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?;
    let clients = Clients::new(&aws_adapters::load_sdk_config().await);
    let handler =
        wire(function, &config, &AwsResources { config: &config, clients: &clients }, SystemEnvironment::shared())?;
    warm_up(function, &config, &clients).await?;
    serve(function, handler, metrics).await
}

/// The runtime loop around a wired handler; what each invocation measured is flushed after it.
pub async fn serve(
    function: Function,
    handler: Handler,
    metrics: Option<&'static metrics_cloudwatch_embedded::Collector>,
) -> Result<(), lambda_runtime::Error> {
    use crate::telemetry::flush_metrics;
    if let Handler::Http(h) = handler {
        return lambda_http::run(lambda_http::service_fn(move |req| {
            let h = h.clone();
            async move {
                let response = h(req).await;
                flush_metrics(metrics);
                Ok::<_, Infallible>(response)
            }
        }))
        .await;
    }
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let answer = invoke(function, handler, event.payload).await;
        flush_metrics(metrics);
        answer
    }))
    .await
}

/// One invocation of an event-triggered function with its Lambda payload (an EventBridge event,
/// a DynamoDB Streams batch, a scheduled event): what the runtime answers, or the error that makes
/// Lambda retry or dead-letter the event, with its source chain.
pub async fn invoke(function: Function, handler: &Handler, payload: Value) -> Result<Value, lambda_runtime::Error> {
    match handler {
        Handler::Http(_) => Err(format!("{function} is an HTTP function: invoke it through lambda_http").into()),
        Handler::Step(step) => {
            let event: EventBridgeEvent<Value> = serde_json::from_value(payload)?;
            let outcome = handlers::events::handle(function.name(), event, |e| step(e)).await?;
            Ok(serde_json::to_value(handlers::events::StepReport::from(outcome))?)
        }
        Handler::Relay(relay) => {
            let batch: aws_lambda_events::dynamodb::Event = serde_json::from_value(payload)?;
            let sent = crate::relay::relay_stream(relay, batch).await.inspect_err(|e| {
                tracing::error!(error = %e, cause = ?std::error::Error::source(e), "relay failed; the batch will be retried")
            })?;
            Ok(serde_json::json!({ "sent": sent }))
        }
        Handler::Redrive(redrive) => {
            let batch: aws_lambda_events::sqs::SqsEvent = serde_json::from_value(payload)?;
            let (sent, response) = crate::relay::redrive_failures(redrive, batch).await;
            let mut answer = serde_json::to_value(response)?;
            answer["sent"] = sent.into();
            Ok(answer)
        }
        Handler::Sweep(sweeper) => {
            let _: EventBridgeEvent<Value> = serde_json::from_value(payload)?;
            let r = handlers::events::sweep(sweeper).await?;
            Ok(serde_json::json!({"examined": r.examined, "rejected": r.rejected, "unreadable": r.unreadable}))
        }
    }
}
