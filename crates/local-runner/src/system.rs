//! The whole system in one process: the handlers of every function over in-memory stores, the
//! routes and rules of template.yaml, and a relay that publishes from the outboxes after commit
//! and delivers each event to the steps whose rules match.

use std::sync::Arc;
use std::time::Duration;

use app::customers::CustomerService;
use app::memory::{InMemoryCustomerRepository, InMemoryOrderRepository, InMemoryProductRepository, MemoryOutbox};
use app::orders::{OrderPlacement, OrderSaga, OrderService, Sweeper};
use app::ports::{OutboxRecord, StoreError};
use app::products::ProductService;
use app::SharedEnv;
use async_trait::async_trait;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use domain::EventId;
use handlers::config::{Config, ConfigError};
use handlers::events::SagaApp;
use handlers::http::HttpApp;
use sam_template::{Template, TemplateError};
use serde_json::Value;
use tokio::sync::Notify;

use crate::routes::RouteTable;
use crate::rules::{bus_event, RuleError, RuleTable};

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Rules(#[from] RuleError),
    #[error("configuration of {function}: {source}")]
    Config { function: &'static str, source: ConfigError },
    #[error("template.yaml has no function {0}")]
    MissingFunction(&'static str),
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
fn template_config(t: &Template, function: &'static str) -> Result<Config, RunnerError> {
    let f = t.functions()?.into_iter().find(|f| f.binary == function).ok_or(RunnerError::MissingFunction(function))?;
    let params = t.root["Parameters"].clone();
    Config::from_lookup(function, |name| {
        let v = f.env.get(name)?;
        Some(match &params[v.as_str()]["Default"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => v.clone(),
        })
    })
    .map_err(|source| RunnerError::Config { function, source })
}

/// Every piece of the running system.
pub struct LocalSystem {
    pub http: HttpApp,
    pub saga: SagaApp,
    pub sweeper: Sweeper,
    pub routes: RouteTable,
    pub rules: RuleTable,
    pub env: SharedEnv,
    feeds: Vec<Box<dyn OutboxFeed>>,
    /// Woken after every commit, so events go out at once rather than at the next poll.
    pub committed: Arc<Notify>,
}

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
        let placement_config = template_config(t, "create-order")?;
        let shipping =
            placement_config.shipping().map_err(|source| RunnerError::Config { function: "create-order", source })?;
        let sweep_config = template_config(t, "sweep-orders")?;
        let timeout = sweep_config
            .pending_timeout()
            .map_err(|source| RunnerError::Config { function: "sweep-orders", source })?;
        let price_shipping = template_config(t, "price-order")?
            .shipping()
            .map_err(|source| RunnerError::Config { function: "price-order", source })?;
        let quote_shipping = template_config(t, "quote-shipping")?
            .shipping()
            .map_err(|source| RunnerError::Config { function: "quote-shipping", source })?;
        Ok(LocalSystem {
            http: HttpApp {
                customers: CustomerService::new(customers.clone(), env.clone()),
                products: ProductService::new(products.clone(), env.clone()),
                orders: OrderService::new(orders.clone(), env.clone()),
                placement: OrderPlacement::new(
                    orders.clone(),
                    products.clone(),
                    customers.clone(),
                    shipping,
                    env.clone(),
                ),
                shipping: quote_shipping,
            },
            saga: SagaApp {
                products: ProductService::new(products.clone(), env.clone()),
                orders: OrderSaga::with_pricing(orders.clone(), price_shipping, env.clone()),
                customers: CustomerService::new(customers.clone(), env.clone()),
            },
            sweeper: Sweeper::new(orders.clone(), timeout, env.clone()),
            routes: RouteTable::from_template(t)?,
            rules: RuleTable::from_template(t)?,
            env,
            feeds: vec![Box::new(MemoryFeed(orders)), Box::new(MemoryFeed(products)), Box::new(MemoryFeed(customers))],
            committed,
        })
    }

    /// Delivers one event to every step whose rule matches; a retryable failure is retried a
    /// few times (EventBridge's retry policy), then the event is dead-lettered in the log.
    async fn deliver(&self, record: &OutboxRecord, report: &mut RelayReport) {
        let event = bus_event(record);
        let targets: Vec<String> = self.rules.targets(&event).into_iter().map(str::to_owned).collect();
        let Ok(bridge) = serde_json::from_value::<EventBridgeEvent<Value>>(event) else { return };
        for target in targets {
            report.deliveries += 1;
            let mut attempt = 0;
            loop {
                attempt += 1;
                let envelope = match handlers::events::decode(&bridge) {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::error!(%target, error = %e, "undecodable event dead-lettered");
                        report.dead_lettered += 1;
                        break;
                    }
                };
                match self.saga.run(&target, &envelope).await {
                    None | Some(Ok(_)) => break,
                    Some(Err(e)) if e.is_retryable() && attempt < 5 => {
                        tracing::warn!(%target, error = %e, attempt, "step failed, retrying");
                        tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
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
    /// empty.
    pub async fn relay_until_quiet(&self) -> RelayReport {
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
            for (i, record) in batch {
                tracing::debug!(event = %record.detail_type, id = %record.event_id, "publishing");
                self.deliver(&record, &mut report).await;
                self.feeds[i].mark_published(&[record.event_id]).await;
                report.published += 1;
            }
        }
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
                    if let Err(e) = handlers::events::sweep(&self.sweeper).await {
                        tracing::warn!(error = %e, "sweep failed");
                    }
                }
                // A safety net: pick up anything a missed notification left behind.
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
            self.relay_until_quiet().await;
        }
    }
}
