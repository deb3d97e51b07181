//! The whole system in one process: the handlers of every function over in-memory stores, the
//! routes and rules of template.yaml, and a relay that publishes from the outboxes after commit
//! and delivers each event to the steps whose rules match.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use app::memory::{InMemoryCustomerRepository, InMemoryOrderRepository, InMemoryProductRepository, MemoryOutbox};
use app::ports::{OutboxRecord, StoreError};
use app::SharedEnv;
use async_trait::async_trait;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use bundle::{Config, ConfigError, Function, Stores};
use domain::EventId;
use sam_template::{Template, TemplateError};
use serde_json::Value;
use tokio::sync::Notify;

use crate::functions::{Functions, FunctionsError};
use crate::identity::{DevIdentityProvider, IdentityError};
use crate::routes::{RouteError, RouteTable};
use crate::rules::{bus_event, RuleError, RuleTable};

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Rules(#[from] RuleError),
    #[error(transparent)]
    Routes(#[from] RouteError),
    #[error(transparent)]
    Functions(#[from] FunctionsError),
    #[error("configuration of {function}: {source}")]
    Config { function: Function, source: ConfigError },
    #[error("template.yaml has no function {0}")]
    MissingFunction(Function),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error("storage set-up failed")]
    Storage(#[source] aws_adapters::SetupError),
}

/// Where the relay reads committed events from.
#[async_trait]
pub trait OutboxFeed: Send + Sync {
    async fn unpublished(&self) -> Result<Vec<OutboxRecord>, StoreError>;
    async fn mark_published(&self, ids: &[EventId]);
}

struct MemoryFeed(Arc<dyn MemoryOutbox>);

#[async_trait]
impl OutboxFeed for MemoryFeed {
    async fn unpublished(&self) -> Result<Vec<OutboxRecord>, StoreError> {
        Ok(self.0.unpublished())
    }
    async fn mark_published(&self, ids: &[EventId]) {
        self.0.mark_published(ids)
    }
}

/// Resolves a function's environment from the template: a `!Ref` to a parameter becomes the
/// parameter's default; anything else (a table's logical id) is taken as written.
fn template_config(t: &Template, function: Function) -> Result<Config, RunnerError> {
    let f = t
        .functions()?
        .into_iter()
        .find(|f| f.binary == function.name())
        .ok_or(RunnerError::MissingFunction(function))?;
    Config::from_lookup(function, |name| {
        let v = f.env.get(name)?;
        Some(t.parameter_default(v).unwrap_or_else(|| v.clone()))
    })
    .map_err(|source| RunnerError::Config { function, source })
}

/// An outbox feed over a DynamoDB table's stream, read as the deployed relay's event source reads
/// it: from the start of the stream, each record once, so a pass costs what was committed since
/// the last one (not a scan of every outbox item). Records handed out stay pending until marked
/// published. An expired iterator (15 minutes idle) resumes after the last record read.
struct DynamoFeed {
    dynamo: aws_sdk_dynamodb::Client,
    streams: aws_sdk_dynamodbstreams::Client,
    table: String,
    cursor: tokio::sync::Mutex<StreamCursor>,
    pending: std::sync::Mutex<Vec<OutboxRecord>>,
}

#[derive(Default)]
struct StreamCursor {
    shard: Option<(String, String)>,
    iterator: Option<String>,
    last: Option<String>,
}

fn stream_error(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

impl DynamoFeed {
    async fn iterator(&self, cursor: &mut StreamCursor) -> Result<String, StoreError> {
        use aws_sdk_dynamodbstreams::types::ShardIteratorType;
        if let Some(it) = &cursor.iterator {
            return Ok(it.clone());
        }
        if cursor.shard.is_none() {
            cursor.shard = Some(aws_adapters::table_stream(&self.dynamo, &self.streams, &self.table).await?);
        }
        let Some((arn, shard)) = &cursor.shard else { return Err(StoreError::Unavailable("no shard".into())) };
        let request = self.streams.get_shard_iterator().stream_arn(arn).shard_id(shard);
        let request = match &cursor.last {
            Some(seq) => request.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).sequence_number(seq),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let it = request.send().await.map_err(stream_error)?.shard_iterator;
        it.ok_or_else(|| StoreError::Unavailable(format!("{arn} gave no iterator").into()))
    }

    /// The outbox records committed since the last read.
    async fn read_new(&self) -> Result<Vec<OutboxRecord>, StoreError> {
        let mut cursor = self.cursor.lock().await;
        let mut fresh = vec![];
        loop {
            let it = self.iterator(&mut cursor).await?;
            let page = match self.streams.get_records().shard_iterator(it).send().await {
                Ok(page) => page,
                Err(e) if e.as_service_error().is_some_and(|s| s.is_expired_iterator_exception()) => {
                    cursor.iterator = None;
                    continue;
                }
                Err(e) => return Err(stream_error(e)),
            };
            for r in page.records() {
                let Some(change) = r.dynamodb() else { continue };
                cursor.last = change.sequence_number().map(str::to_owned);
                if r.event_name() != Some(&aws_sdk_dynamodbstreams::types::OperationType::Insert) {
                    continue;
                }
                let image = serde_dynamo::Item::from(change.new_image().cloned().unwrap_or_default());
                if let Some(record) = aws_adapters::outbox_record_from_image(image)? {
                    fresh.push(record);
                }
            }
            let done = page.records().is_empty();
            cursor.iterator = page.next_shard_iterator;
            if done || cursor.iterator.is_none() {
                return Ok(fresh);
            }
        }
    }
}

#[async_trait]
impl OutboxFeed for DynamoFeed {
    async fn unpublished(&self) -> Result<Vec<OutboxRecord>, StoreError> {
        let fresh = self.read_new().await?;
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.extend(fresh);
        Ok(pending.clone())
    }
    async fn mark_published(&self, ids: &[EventId]) {
        let ids: std::collections::HashSet<&EventId> = ids.iter().collect();
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).retain(|r| !ids.contains(&r.event_id));
    }
}

/// Every piece of the running system.
pub struct LocalSystem {
    /// The stores every function runs on (the seed writes through them too).
    pub stores: Stores,
    /// Every function the runner serves, wired by the bundle's `wire` as on Lambda.
    pub functions: Functions,
    pub routes: RouteTable,
    pub rules: RuleTable,
    /// The development identity provider: the key set, the tokens, the authorizer's check.
    pub identity: Arc<DevIdentityProvider>,
    /// The customers the storefront's "sign in as" offers (name, subject): the seeded ones, set
    /// once after seeding (`GET /_local/identities`).
    pub sign_in_as: std::sync::OnceLock<Vec<(String, String)>>,
    pub env: SharedEnv,
    feeds: Vec<Box<dyn OutboxFeed>>,
    /// Woken after every commit, so events go out at once rather than at the next poll.
    pub committed: Arc<Notify>,
    published: AtomicUsize,
}

/// Deliveries of one event to one step before it is dead-lettered (EventBridge tries up to 185
/// times over a day; locally a few seconds of retries is the same promise at a smaller scale).
pub const MAX_DELIVERY_ATTEMPTS: u32 = 20;

/// What one relay pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayReport {
    pub published: usize,
    pub deliveries: usize,
    pub dead_lettered: usize,
}

impl LocalSystem {
    /// The system on in-memory stores, configured from the template.
    pub fn in_memory(t: &Template, env: SharedEnv) -> Result<LocalSystem, RunnerError> {
        let orders = Arc::new(InMemoryOrderRepository::default());
        let products = Arc::new(InMemoryProductRepository::default());
        let customers = Arc::new(InMemoryCustomerRepository::default());
        let committed = Arc::new(Notify::new());
        for outbox in [orders.clone() as Arc<dyn MemoryOutbox>, products.clone(), customers.clone()] {
            let n = committed.clone();
            outbox.on_commit(Arc::new(move || n.notify_one()));
        }
        let feeds: Vec<Box<dyn OutboxFeed>> = vec![
            Box::new(MemoryFeed(orders.clone())),
            Box::new(MemoryFeed(products.clone())),
            Box::new(MemoryFeed(customers.clone())),
        ];
        Self::build(t, env, Stores { orders, products, customers }, feeds, committed)
    }

    /// The system in memory, or with `dynamodb` (an endpoint such as a ministack) on tables named
    /// with `prefix` there (created when missing): what the runner's `--dynamodb` and the bench
    /// binaries' open.
    pub async fn at(
        t: &Template,
        env: SharedEnv,
        dynamodb: Option<&str>,
        prefix: &str,
    ) -> Result<LocalSystem, RunnerError> {
        match dynamodb {
            None => Self::in_memory(t, env),
            Some(endpoint) => {
                let clients = aws_adapters::Clients::new(&aws_adapters::local_sdk_config(endpoint).await);
                Self::on_dynamodb(t, env, &clients, &aws_adapters::TableNames::with_prefix(prefix)).await
            }
        }
    }

    /// The system on DynamoDB tables `names` (created when missing) at the clients' endpoint; the
    /// relay reads the tables' streams.
    pub async fn on_dynamodb(
        t: &Template,
        env: SharedEnv,
        clients: &aws_adapters::Clients,
        names: &aws_adapters::TableNames,
    ) -> Result<LocalSystem, RunnerError> {
        let client = clients.dynamo().clone();
        aws_adapters::create_tables(&client, names).await.map_err(RunnerError::Storage)?;
        let stores = Stores {
            orders: Arc::new(aws_adapters::DynamoOrderRepository::new(client.clone(), names.orders.clone())),
            products: Arc::new(aws_adapters::DynamoProductRepository::new(client.clone(), names.products.clone())),
            customers: Arc::new(aws_adapters::DynamoCustomerRepository::new(client.clone(), names.customers.clone())),
        };
        let feeds: Vec<Box<dyn OutboxFeed>> = [&names.orders, &names.products, &names.customers]
            .into_iter()
            .map(|table| {
                Box::new(DynamoFeed {
                    dynamo: client.clone(),
                    streams: clients.streams().clone(),
                    table: table.clone(),
                    cursor: Default::default(),
                    pending: Default::default(),
                }) as Box<dyn OutboxFeed>
            })
            .collect();
        Self::build(t, env, stores, feeds, Arc::new(Notify::new()))
    }

    fn build(
        t: &Template,
        env: SharedEnv,
        stores: Stores,
        feeds: Vec<Box<dyn OutboxFeed>>,
        committed: Arc<Notify>,
    ) -> Result<LocalSystem, RunnerError> {
        let functions = Functions::wire(&stores, &env, |f| template_config(t, f))?;
        Ok(LocalSystem {
            stores,
            functions,
            routes: RouteTable::from_template(t)?,
            rules: RuleTable::from_template(t)?,
            identity: DevIdentityProvider::shared()?,
            sign_in_as: std::sync::OnceLock::new(),
            env,
            feeds,
            committed,
            published: AtomicUsize::new(0),
        })
    }

    /// How many events the relay has published since start.
    pub fn published(&self) -> usize {
        self.published.load(Ordering::SeqCst)
    }

    /// Delivers one event to every step whose rule matches; a retryable failure is retried a
    /// few times (EventBridge's retry policy), then the event is dead-lettered in the log.
    async fn deliver(&self, record: &OutboxRecord, report: &mut RelayReport) {
        let event = bus_event(record);
        let targets: Vec<Function> = self.rules.targets(&event);
        let Ok(bridge) = serde_json::from_value::<EventBridgeEvent<Value>>(event) else { return };
        for target in targets {
            report.deliveries += 1;
            let mut attempt = 0;
            loop {
                attempt += 1;
                match self.functions.step(target, bridge.clone()).await {
                    None | Some(Ok(_)) => break,
                    Some(Err(e)) if e.is_retryable() && attempt < MAX_DELIVERY_ATTEMPTS => {
                        tracing::warn!(%target, error = %e, attempt, "step failed, retrying");
                        tokio::time::sleep(Duration::from_millis((10 << attempt.min(6)) as u64)).await;
                    }
                    Some(Err(e)) => {
                        tracing::error!(%target, error = %e, "step failed, event dead-lettered");
                        report.dead_lettered += 1;
                        break;
                    }
                }
            }
        }
    }

    /// Publishes everything committed so far, and what that causes, until the outboxes are
    /// empty. Events of one pass are delivered concurrently, as EventBridge invokes targets.
    pub async fn relay_until_quiet(self: &Arc<Self>) -> RelayReport {
        let mut report = RelayReport::default();
        loop {
            let mut batch = vec![];
            for (i, feed) in self.feeds.iter().enumerate() {
                match feed.unpublished().await {
                    Ok(records) => batch.extend(records.into_iter().map(|r| (i, r))),
                    Err(e) => tracing::warn!(error = %e, "outbox not readable, will retry"),
                }
            }
            if batch.is_empty() {
                return report;
            }
            let mut tasks = tokio::task::JoinSet::new();
            for (i, record) in batch {
                let me = self.clone();
                tasks.spawn(async move {
                    let mut r = RelayReport::default();
                    me.deliver(&record, &mut r).await;
                    me.summarise_saga(&record).await;
                    me.feeds[i].mark_published(&[record.event_id]).await;
                    me.published.fetch_add(1, Ordering::SeqCst);
                    r.published = 1;
                    r
                });
            }
            while let Some(done) = tasks.join_next().await {
                if let Ok(r) = done {
                    report.published += r.published;
                    report.deliveries += r.deliveries;
                    report.dead_lettered += r.dead_lettered;
                }
            }
        }
    }

    /// One line per saga that ended (approved, rejected, cancelled): its steps and their times,
    /// from the order's own timeline.
    async fn summarise_saga(&self, record: &OutboxRecord) {
        if !matches!(record.detail_type.as_str(), "OrderApproved" | "OrderRejected" | "OrderCancelled") {
            return;
        }
        let id = serde_json::from_str::<Value>(&record.detail)
            .ok()
            .and_then(|d| d["data"]["orderId"].as_str().and_then(|s| s.parse::<domain::OrderId>().ok()));
        let Some(Ok(Some(order))) = (match id {
            Some(id) => Some(self.stores.orders.get(id).await),
            None => None,
        }) else {
            return;
        };
        let order = order.value;
        let steps: Vec<String> = order
            .timeline()
            .iter()
            .map(|m| {
                let reason = m.reason.map(|r| format!("({})", r.as_str())).unwrap_or_default();
                format!("{}{reason} +{}ms", m.event, (m.at - order.created_at()).num_milliseconds())
            })
            .collect();
        tracing::info!(order = %order.id(), outcome = order.status().as_str(), steps = %steps.join(" → "), "saga");
    }

    /// The relay and the sweeper, until `shutdown` resolves.
    pub async fn run_background(
        self: Arc<Self>,
        sweep_every: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut sweep = tokio::time::interval(sweep_every);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.committed.notified() => {}
                _ = sweep.tick() => {
                    if let Err(e) = self.functions.sweep().await {
                        tracing::warn!(error = %e, "sweep failed");
                    }
                }
                // Stores without a commit hook (DynamoDB) are polled; for the others this is a
                // safety net.
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
            self.relay_until_quiet().await;
        }
    }
}
