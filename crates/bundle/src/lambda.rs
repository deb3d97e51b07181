//! A function on Lambda: the cold start (logging, configuration, clients, the handler from
//! [`wire`], warm connections), then the runtime loop. Each main is one call to [`main`].
//!
//! A binary carries only its own function's code: [`main`] and [`wire_with`] are inlined into
//! each function's main, where the function is a constant, so the compiler keeps one arm of the
//! wiring, the one runtime loop that arm builds ([`Serve`]) and only the SDK clients it uses
//! ([`Clients`] builds each on first use); the linker drops the rest of the bundle.

use std::cell::RefCell;
use std::convert::Infallible;
use std::process::ExitCode;
use std::sync::Arc;

use app::orders::Sweeper;
use app::ports::{CustomerRepository, EventPublisher, OrderRepository, OutboxStream, ProductRepository};
use app::relay::{OutboxRelay, Redrive};
use app::SystemEnvironment;
use aws_adapters::{Clients, DynamoCustomerRepository, DynamoOrderRepository, DynamoProductRepository};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

use crate::config::Config;
use crate::manifest::{Function, Table};
use crate::wire::{wire_with, BoxFuture, Build, Handler, HttpHandler, Resources, StepHandler, WireError};

/// What a cold start may measure: the collector whose figures are flushed after each invocation.
type Metrics = Option<&'static metrics_cloudwatch_embedded::Collector>;

/// A runtime loop: it runs on the one thread of the cold start's runtime, so it need not be `Send`.
pub type Serving = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), lambda_runtime::Error>>>>;

/// A function's tables and bus on AWS, named by its configuration. Each store it hands out queues
/// the warm-up of its connection (see [`AwsResources::warm_up`]).
pub struct AwsResources<'a> {
    function: Function,
    config: &'a Config,
    clients: &'a Clients,
    warm_ups: RefCell<Vec<BoxFuture<()>>>,
}

impl<'a> AwsResources<'a> {
    pub fn new(function: Function, config: &'a Config, clients: &'a Clients) -> AwsResources<'a> {
        AwsResources { function, config, clients, warm_ups: RefCell::new(Vec::new()) }
    }

    /// Opens, during init, the connections the first invocation would otherwise open, for the
    /// clients the wiring built: its table's (one read of a key no item has, on the table its
    /// IAM lets it read) and, for a publisher, its bus's (a `DescribeEventBus`). A failure is
    /// only logged: the first invocation then pays for the connection.
    pub fn warm_up(self) -> BoxFuture<()> {
        let warm_ups = self.warm_ups.into_inner();
        Box::pin(async move {
            for warm_up in warm_ups {
                warm_up.await;
            }
        })
    }

    fn table(&self, table: Table) -> Result<String, WireError> {
        let name = self.config.table(table)?;
        if self.function.warm_up_table() == Some(table) {
            // The very client the stores use, so the warm-up opens their connection.
            let (dynamo, name) = (self.clients.dynamo().clone(), name.clone());
            self.warm_ups.borrow_mut().push(Box::pin(async move { aws_adapters::open_table(&dynamo, &name).await }));
        }
        Ok(name)
    }
}

impl Resources for AwsResources<'_> {
    fn orders(&self) -> Result<Arc<dyn OrderRepository>, WireError> {
        Ok(Arc::new(DynamoOrderRepository::new(self.clients.dynamo().clone(), self.table(Table::Orders)?)))
    }
    fn products(&self) -> Result<Arc<dyn ProductRepository>, WireError> {
        Ok(Arc::new(DynamoProductRepository::new(self.clients.dynamo().clone(), self.table(Table::Products)?)))
    }
    fn customers(&self) -> Result<Arc<dyn CustomerRepository>, WireError> {
        Ok(Arc::new(DynamoCustomerRepository::new(self.clients.dynamo().clone(), self.table(Table::Customers)?)))
    }
    fn publisher(&self) -> Result<Arc<dyn EventPublisher>, WireError> {
        let bus = self.config.bus_name()?;
        if self.function.warm_up_bus() {
            let (events, bus) = (self.clients.events().clone(), bus.clone());
            self.warm_ups.borrow_mut().push(Box::pin(async move { aws_adapters::open_bus(&events, &bus).await }));
        }
        Ok(Arc::new(aws_adapters::EventBridgePublisher::new(self.clients.events().clone(), bus)))
    }
    fn outbox_stream(&self) -> Result<Arc<dyn OutboxStream>, WireError> {
        Ok(Arc::new(aws_adapters::DynamoOutboxStream::new(self.clients.streams().clone())))
    }
}

/// A function's main: runs `function` on Lambda until the sandbox is shut down. A start that
/// fails (a missing variable, say) is logged and ends the process with a failure.
#[inline(always)]
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
    crate::telemetry::init_json();
    let metrics = crate::telemetry::init_metrics(function.name());
    app::measure::cold_start();
    match start(function, metrics).and_then(|serving| runtime.block_on(serving)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, function = function.name(), "the function stopped");
            ExitCode::FAILURE
        }
    }
}

/// The cold start of `function`: its configuration, clients and handler, and the runtime loop
/// (with the warm-ups first) ready to run. Inlined with a constant `function`, so the compiler
/// keeps one arm of the wiring and the one loop it builds.
#[inline(always)]
fn start(function: Function, metrics: Metrics) -> Result<Serving, lambda_runtime::Error> {
    let config = Config::load(function).inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?;
    let clients = Clients::new(&aws_adapters::lambda_sdk_config());
    let resources = AwsResources::new(function, &config, &clients);
    let serving = wire_with(function, &config, &resources, SystemEnvironment::shared(), Serve { function, metrics })?;
    let warm_up = resources.warm_up();
    Ok(Box::pin(async move {
        warm_up.await;
        serving.await
    }))
}

/// The runtime loop of a wired handler, one per kind of trigger; what each invocation measured
/// is flushed after it.
pub struct Serve {
    pub function: Function,
    pub metrics: Metrics,
}

impl Build for Serve {
    type Output = Serving;
    fn http(self, handler: HttpHandler) -> Serving {
        Box::pin(serve_http(handler, self.metrics))
    }
    fn step(self, step: StepHandler) -> Serving {
        let function = self.function;
        serve_events(self.metrics, move |payload| {
            let step = step.clone();
            async move { invoke_step(function, &step, payload).await }
        })
    }
    fn relay(self, relay: OutboxRelay) -> Serving {
        serve_events(self.metrics, move |payload| {
            let relay = relay.clone();
            async move { invoke_relay(&relay, payload).await }
        })
    }
    fn redrive(self, redrive: Redrive) -> Serving {
        serve_events(self.metrics, move |payload| {
            let redrive = redrive.clone();
            async move { invoke_redrive(&redrive, payload).await }
        })
    }
    fn sweep(self, sweeper: Sweeper) -> Serving {
        serve_events(self.metrics, move |payload| {
            let sweeper = sweeper.clone();
            async move { invoke_sweep(&sweeper, payload).await }
        })
    }
    fn token_claims(self) -> Serving {
        serve_events(self.metrics, |payload| async move { Ok(invoke_token_claims(payload)) })
    }
}

async fn serve_http(h: HttpHandler, metrics: Metrics) -> Result<(), lambda_runtime::Error> {
    lambda_http::run(lambda_http::service_fn(move |req| {
        let h = h.clone();
        async move {
            let response = h(req).await;
            crate::telemetry::flush_metrics(metrics);
            Ok::<_, Infallible>(response)
        }
    }))
    .await
}

fn serve_events<F, Fut>(metrics: Metrics, invoke: F) -> Serving
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Value, lambda_runtime::Error>> + Send + 'static,
{
    Box::pin(async move {
        let invoke = &invoke;
        lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
            let answer = invoke(event.payload).await;
            crate::telemetry::flush_metrics(metrics);
            answer
        }))
        .await
    })
}

/// One invocation of an event-triggered function with its Lambda payload (an EventBridge event,
/// a DynamoDB Streams batch, a scheduled event, a user pool's trigger event): what the runtime answers, or the error that makes
/// Lambda retry or dead-letter the event, with its source chain.
pub async fn invoke(function: Function, handler: &Handler, payload: Value) -> Result<Value, lambda_runtime::Error> {
    match handler {
        Handler::Http(_) => Err(format!("{function} is an HTTP function: invoke it through lambda_http").into()),
        Handler::Step(step) => invoke_step(function, step, payload).await,
        Handler::Relay(relay) => invoke_relay(relay, payload).await,
        Handler::Redrive(redrive) => invoke_redrive(redrive, payload).await,
        Handler::Sweep(sweeper) => invoke_sweep(sweeper, payload).await,
        Handler::TokenClaims => Ok(invoke_token_claims(payload)),
    }
}

/// A batch from the step's queue: each message's body is one bus event, applied on its own. The
/// events it failed on are named in `batchItemFailures`, and only those come back to it (after
/// the queue's visibility timeout, until they are dead-lettered); `reports` says what it did with
/// each of the others.
async fn invoke_step(function: Function, step: &StepHandler, payload: Value) -> Result<Value, lambda_runtime::Error> {
    use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
    let batch: SqsEvent = serde_json::from_value(payload)?;
    let mut response = SqsBatchResponse::default();
    let mut reports = vec![];
    for message in batch.records {
        let id = message.message_id.unwrap_or_default();
        let event = serde_json::from_str::<EventBridgeEvent<Value>>(message.body.as_deref().unwrap_or_default());
        let outcome = match event {
            Ok(event) => handlers::events::handle(function.name(), event, |e| step(e)).await.map_err(|_| ()),
            Err(e) => {
                tracing::error!(message = %id, error = %e, "the message is not a bus event");
                Err(())
            }
        };
        match outcome {
            Ok(outcome) => reports.push(handlers::events::StepReport::from(outcome)),
            Err(()) => {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    let mut answer = serde_json::to_value(response)?;
    answer["reports"] = serde_json::to_value(reports)?;
    Ok(answer)
}

async fn invoke_relay(relay: &OutboxRelay, payload: Value) -> Result<Value, lambda_runtime::Error> {
    let batch: aws_lambda_events::dynamodb::Event = serde_json::from_value(payload)?;
    let relayed = crate::relay::relay_stream(relay, batch).await.inspect_err(|e| {
        tracing::error!(error = %e, cause = ?std::error::Error::source(e), "relay failed; the batch will be retried")
    })?;
    Ok(serde_json::json!({ "sent": relayed.sent, "refused": relayed.refused }))
}

async fn invoke_redrive(redrive: &Redrive, payload: Value) -> Result<Value, lambda_runtime::Error> {
    let batch: aws_lambda_events::sqs::SqsEvent = serde_json::from_value(payload)?;
    let (sent, response) = crate::relay::redrive_failures(redrive, batch).await;
    let mut answer = serde_json::to_value(response)?;
    answer["sent"] = sent.into();
    Ok(answer)
}

/// The user pool's trigger: its answer, and one log line saying whether the email went in (not
/// the address: no personal data in the logs).
fn invoke_token_claims(payload: Value) -> Value {
    let trigger = payload["triggerSource"].as_str().unwrap_or_default().to_owned();
    let answer = handlers::token_claims::add_verified_email(payload);
    let added = !answer["response"]["claimsAndScopeOverrideDetails"].is_null();
    tracing::info!(trigger, email_added = added, "token claims");
    answer
}

async fn invoke_sweep(sweeper: &Sweeper, payload: Value) -> Result<Value, lambda_runtime::Error> {
    let _: EventBridgeEvent<Value> = serde_json::from_value(payload)?;
    let r = handlers::events::sweep(sweeper).await?;
    Ok(serde_json::json!({"examined": r.examined, "rejected": r.rejected, "unreadable": r.unreadable}))
}
