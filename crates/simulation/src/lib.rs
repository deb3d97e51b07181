//! A deterministic, seeded fault-injection simulation of the saga.
//!
//! Random customers, products, orders and cancellations are driven through the application
//! services over in-memory stores, while the "bus" duplicates, reorders, delays and
//! drops-then-redelivers events, and the relay crashes between a commit and its publication
//! (the records stay in the outbox and go out again later, so consumers see them twice), or
//! gives up on a batch after its retries, as the stream's event source does when the bus refuses
//! for an hour: the batch's position moves on unpublished, a pointer to its stream range goes to
//! the "on-failure queue", and the redrive function's service (`app::relay::Redrive`) later reads
//! the range back from the table's stream and publishes it.
//! Events are routed to steps by the template's rules, as in the runner.
//!
//! After quiescence the invariants must hold: reserved stock never exceeds on-hand and equals the
//! quantities of APPROVED orders; reserved credit never exceeds the limit and equals the totals of
//! APPROVED orders; no order is PENDING once the sweeper has run; no consumer applied an event
//! twice. Everything random comes from the seed, so a failing seed replays exactly.
//!
//! A crate of its own, apart from the runner it drives: it wires the bundle's functions with the
//! runner's [`Functions`] and routes with the runner's [`RuleTable`], but keeps its own stores and
//! a hostile bus in place of the runner's relay. `tests/simulation.rs` runs it in CI; the
//! `simulate` binary runs it at any length.

// Nothing that comes from outside (requests, events, stored items) may panic.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use app::access::Caller;
use app::capacity::{CapacityModel, Limits, SdkRetry, SimClock, Throttled};
use app::commands::{AddProduct, RegisterCustomer, UpdateProduct};
use app::customers::CustomerService;
use app::memory::{
    InMemoryCustomerRepository, InMemoryOrderRepository, InMemoryProductRepository, MemoryOutbox, MemoryStreams,
};
use app::ports::{
    CustomerRepository, EventPublisher, OrderRepository, OutboxRecord, ProductRepository, PublishError, StreamRange,
};
use app::products::ProductService;
use app::relay::Redrive;
use app::step::StepOutcome;
use app::SharedEnv;
use bundle::manifest::{vars, Table};
use bundle::{Config, Function, Stores};
use chrono::{DateTime, Utc};
use domain::{
    Address, Context, Currency, CustomerId, CustomerName, Dimensions, Email, Environment, EventId, Money, OrderId,
    OrderStatus, ProductId, ProductName, ShardCount, StockLevel, Weight,
};
use lambda_http::{Body, Request, RequestExt};
use serde_json::{json, Value};
use uuid::Uuid;

pub mod flash;

use local_runner::functions::{Functions, FunctionsError};
use local_runner::identity;
use local_runner::rules::{bus_event, RuleTable};

/// A virtual clock (the capacity model's, when it is on) and seeded ids.
pub struct SimEnv {
    clock: SimClock,
    rng: Mutex<fastrand::Rng>,
}

/// Where the virtual clock starts, in milliseconds since the epoch.
const EPOCH_MS: i64 = 1_800_000_000_000;

impl SimEnv {
    fn new(seed: u64) -> Self {
        SimEnv { clock: SimClock::default(), rng: Mutex::new(fastrand::Rng::with_seed(seed ^ 0x5eed)) }
    }
    fn advance(&self, ms: i64) {
        self.clock.advance(std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0)));
    }
}

impl Environment for SimEnv {
    fn now(&self) -> DateTime<Utc> {
        let ms = i64::try_from(self.clock.now().as_millis()).unwrap_or(i64::MAX);
        DateTime::from_timestamp_millis(EPOCH_MS.saturating_add(ms)).unwrap_or_default()
    }
    fn new_uuid(&self) -> Uuid {
        let mut r = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        uuid::Builder::from_random_bytes(r.u128(..).to_le_bytes()).into_uuid()
    }
}

/// How hostile the bus is, in percent per delivery.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    pub duplicate: u8,
    pub drop_then_redeliver: u8,
    pub relay_crash: u8,
    /// Per relay pass: the relay gives up on the batch (its stream range goes to the failure
    /// queue, for the redrive).
    pub relay_gives_up: u8,
    /// Per schedule: one context is down for a window while orders flow. Its steps fail every
    /// delivery; each event comes back a visibility timeout later, as the step's queue hands it
    /// back, and is dead-lettered after its receives; after the outage the runbook's redrive
    /// (`ops redrive`) puts the dead letters back on the bus. The sweeper then runs with the
    /// deployed floor of its timeout (`min_pending_timeout_seconds`), not the short one of the
    /// other schedules.
    pub outage: u8,
    /// DynamoDB's per-item limits on the stores (`app::capacity`), scaled down to
    /// [`SCALED_LIMITS`], on the simulation's clock: a throttled step's event comes back after
    /// its queue's visibility timeout, a throttled HTTP call (503) is retried by its caller a
    /// second later.
    pub capacity: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            duplicate: 20,
            drop_then_redeliver: 15,
            relay_crash: 15,
            relay_gives_up: 10,
            outage: 0,
            capacity: false,
        }
    }
}

impl Faults {
    /// Every schedule with a context down for a window, besides the other faults.
    pub fn with_outages() -> Self {
        Faults { outage: 100, ..Faults::default() }
    }

    /// Every schedule on stores that enforce DynamoDB's per-item limits.
    pub fn with_capacity() -> Self {
        Faults { capacity: true, ..Faults::default() }
    }
}

/// DynamoDB's per-item limits divided by 50, so that a schedule of tens of orders meets them as
/// a flash sale of thousands meets the real ones (`simulation::flash` runs those at full scale).
pub const SCALED_LIMITS: Limits = Limits { write_units_per_second: 20, read_units_per_second: 60 };

/// A context down for a window of the virtual clock (milliseconds).
#[derive(Debug, Clone, Copy)]
struct Outage {
    context: Context,
    from: i64,
    until: i64,
}

/// The bus as the redrive sees it: whatever it publishes is routed by the rules afterwards.
#[derive(Default)]
struct Published(Mutex<Vec<OutboxRecord>>);

#[async_trait::async_trait]
impl EventPublisher for Published {
    async fn publish(&self, records: &[OutboxRecord]) -> Result<(), PublishError> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(records);
        Ok(())
    }
}

/// What a schedule did, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub orders: usize,
    pub approved: usize,
    pub rejected: usize,
    /// Of the rejected: by the sweeper.
    pub timed_out: usize,
    pub cancelled: usize,
    pub deliveries: usize,
    pub duplicates: usize,
    pub drops: usize,
    pub relay_crashes: usize,
    /// Schedules of a flash sale: many orders on one or two products with little stock.
    pub hot_schedules: usize,
    /// Batches the relay gave up on, and the events the redrive published from their ranges.
    pub relay_give_ups: usize,
    pub redriven: usize,
    /// Schedules with a context down, the deliveries it failed, the events dead-lettered (an
    /// outage longer than the steps' queues wait) and redriven by the runbook's `ops redrive`,
    /// and the longest outage (ms of the virtual clock).
    pub outages: usize,
    pub failed_receives: usize,
    pub dead_lettered: usize,
    pub longest_outage_ms: i64,
    /// Deliveries DynamoDB throttled (with the capacity model on), each handed back by its queue.
    pub throttled_receives: usize,
    /// Catalogue and account changes made during the schedules.
    pub restocks: usize,
    pub reprices: usize,
    /// Products whose stock was spread over K > 1 shards when added, and changes of K since.
    pub sharded: usize,
    pub reshards: usize,
    pub discontinued: usize,
    pub limit_changes: usize,
    /// Cancellations tried by a caller who does not own the order (each a 404, nothing changed).
    pub refused_strangers: usize,
}

#[derive(Debug, Clone)]
struct Delivery {
    record: OutboxRecord,
    target: Function,
    /// How often the step's queue handed it over and got it back, and when it may next.
    receives: u32,
    ready_at: i64,
}

impl Delivery {
    fn new(record: OutboxRecord, target: Function) -> Self {
        Delivery { record, target, receives: 0, ready_at: 0 }
    }
}

/// The context whose table a step writes: the one its outage takes down.
fn context_of(f: Function) -> Option<Context> {
    f.warm_up_table().map(|t| match t {
        Table::Customers => Context::Customers,
        Table::Products => Context::Products,
        Table::Orders => Context::Orders,
    })
}

struct World {
    env: Arc<SimEnv>,
    /// The catalogue and credit-limit operator.
    admin: Caller,
    rng: fastrand::Rng,
    faults: Faults,
    rules: RuleTable,
    orders: Arc<InMemoryOrderRepository>,
    products: Arc<InMemoryProductRepository>,
    customers: Arc<InMemoryCustomerRepository>,
    env_shared: SharedEnv,
    functions: Functions,
    in_flight: Vec<Delivery>,
    /// The relay's on-failure queue: stream ranges it gave up on.
    failed: Vec<StreamRange>,
    /// Events the relay gave up on, not yet redriven.
    given_up: HashSet<EventId>,
    redrive: Redrive,
    redriven: Arc<Published>,
    applied: HashSet<(Function, EventId)>,
    placed: Vec<OrderId>,
    /// What the replica listed for each line of each order when it was placed.
    listed_at_placement: BTreeMap<OrderId, BTreeMap<ProductId, Money>>,
    /// Stock each product was added with, and every restock since.
    stock_added: BTreeMap<ProductId, u32>,
    /// When each discontinued product stopped being sold, and when each order was placed, as
    /// steps of the schedule (the virtual clock can show one instant for both).
    discontinued: BTreeMap<ProductId, usize>,
    placed_at: BTreeMap<OrderId, usize>,
    steps: usize,
    /// Customers whose limit was lowered during the schedule (their reserved credit may exceed it).
    limit_lowered: HashSet<CustomerId>,
    /// A flash sale: every order names only the first one or two products.
    hot: Option<usize>,
    /// The context down in this schedule, once the first order is placed.
    outage: Option<Outage>,
    /// The steps' dead-letter queues.
    dead_letters: Vec<Delivery>,
    stats: Stats,
    /// DynamoDB's limits, when the schedule runs with them.
    capacity: Option<Arc<CapacityModel>>,
}

const TIMEOUT_SECS: i64 = 60;

fn usd(cents: i64) -> Money {
    Money::new(cents, Currency::USD).unwrap_or(Money::zero(Currency::USD))
}

fn address() -> Result<Address, String> {
    Address::new("1 Main St", "Dayton", "OH", "45402", "US").map_err(|e| e.to_string())
}

/// The sweeper's timeout: short, so that it races slow sagas, unless a context goes down in the
/// schedule; then the deployed floor, which outlasts every step's delivery window.
fn pending_timeout_secs(faults: Faults) -> i64 {
    if faults.outage > 0 {
        i64::from(bundle::manifest::min_pending_timeout_seconds())
    } else {
        TIMEOUT_SECS
    }
}

/// The settings of every function in the simulation (table names are not used in memory).
fn sim_config(f: Function, timeout_secs: i64) -> Result<Config, FunctionsError> {
    let timeout = timeout_secs.to_string();
    Config::from_lookup(f, |name| {
        let value = match name {
            vars::WAREHOUSE_REGION => "OH",
            vars::WAREHOUSE_COUNTRY => "US",
            vars::PENDING_TIMEOUT_SECONDS => timeout.as_str(),
            vars::DEFAULT_CREDIT_LIMIT => "50000 USD",
            other => other,
        };
        Some(value.to_owned())
    })
    .map_err(|source| FunctionsError::Config { function: f, source })
}

impl World {
    fn new(seed: u64, rules: RuleTable, faults: Faults) -> Result<World, String> {
        let env = Arc::new(SimEnv::new(seed));
        let shared: SharedEnv = env.clone();
        let capacity = faults
            .capacity
            .then(|| Arc::new(CapacityModel::new(SCALED_LIMITS, SdkRetry::STANDARD, env.clock.clone(), seed)));
        let (orders, products, customers) = match &capacity {
            Some(m) => (
                Arc::new(InMemoryOrderRepository::with_capacity(m.clone())),
                Arc::new(InMemoryProductRepository::with_capacity(m.clone())),
                Arc::new(InMemoryCustomerRepository::with_capacity(m.clone())),
            ),
            None => Default::default(),
        };
        let stores = Stores { orders: orders.clone(), products: products.clone(), customers: customers.clone() };
        let streams = MemoryStreams(vec![orders.clone(), products.clone(), customers.clone()]);
        let sources = streams.sources();
        let redriven = Arc::new(Published::default());
        Ok(World {
            failed: vec![],
            given_up: HashSet::new(),
            redrive: Redrive::new(Arc::new(streams), redriven.clone(), sources, shared.clone()),
            redriven,
            admin: Caller::new(shared.new_uuid(), true),
            rng: fastrand::Rng::with_seed(seed),
            faults,
            rules,
            functions: Functions::wire(&stores, &shared, |f| sim_config(f, pending_timeout_secs(faults)))
                .map_err(|e| e.to_string())?,
            env_shared: shared,
            env,
            orders,
            products,
            customers,
            in_flight: vec![],
            applied: HashSet::new(),
            placed: vec![],
            listed_at_placement: BTreeMap::new(),
            stock_added: BTreeMap::new(),
            discontinued: BTreeMap::new(),
            placed_at: BTreeMap::new(),
            steps: 0,
            limit_lowered: HashSet::new(),
            hot: None,
            outage: None,
            dead_letters: vec![],
            stats: Stats::default(),
            capacity,
        })
    }

    /// Calls the HTTP function `f` as API Gateway would, with `id` as the path's `{id}`, for
    /// `caller` (whose claims the authorizer would have verified). With the capacity model on, a
    /// 503 (DynamoDB throttled the call, which wrote nothing) is retried a second later, as a
    /// client honouring Retry-After does.
    async fn call(
        &self,
        f: Function,
        path: &str,
        id: Option<uuid::Uuid>,
        body: Value,
        caller: Caller,
    ) -> Result<(u16, Value), String> {
        let method = match f.trigger() {
            bundle::manifest::Trigger::Http { method, .. } => method,
            _ => return Err(format!("{f} is not an HTTP function")),
        };
        for _ in 0..60 {
            let req = lambda_http::http::Request::builder()
                .method(method)
                .uri(path)
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .map_err(|e| e.to_string())?;
            let mut req: Request = identity::with_claims(req, identity::claims_of(&caller));
            if let Some(id) = id {
                req = req.with_path_parameters(std::collections::HashMap::from([("id".to_owned(), id.to_string())]));
            }
            let resp = self.functions.http(f, req).await.ok_or_else(|| format!("{f} is not an HTTP function"))?;
            let status = resp.status().as_u16();
            if status != 503 || self.capacity.is_none() {
                return Ok((status, serde_json::from_slice(resp.body().as_ref()).unwrap_or(Value::Null)));
            }
            self.env.advance(1_000);
        }
        Err(format!("{f} on {path} was throttled for a minute"))
    }

    fn chance(&mut self, percent: u8) -> bool {
        self.rng.u8(0..100) < percent
    }

    fn outboxes(&self) -> [Arc<dyn MemoryOutbox>; 3] {
        [self.orders.clone(), self.products.clone(), self.customers.clone()]
    }

    /// One relay pass over one table: hand its unpublished records to the bus, then mark them
    /// published, unless the relay "crashes" in between.
    fn relay(&mut self, table: usize) {
        let outbox = self.outboxes()[table].clone();
        let records = outbox.unpublished();
        if records.is_empty() {
            return;
        }
        let ids: Vec<EventId> = records.iter().map(|r| r.event_id).collect();
        if self.chance(self.faults.relay_gives_up) {
            // Nothing published; the stream moves on, and the range goes to the failure queue.
            if let Some(range) = outbox.stream_range(&ids) {
                self.stats.relay_give_ups += 1;
                self.given_up.extend(ids.iter().copied());
                self.failed.push(range);
                outbox.mark_published(&ids);
                return;
            }
        }
        for r in &records {
            for target in self.rules.targets(&bus_event(r)) {
                self.in_flight.push(Delivery::new(r.clone(), target));
            }
        }
        if self.chance(self.faults.relay_crash) {
            self.stats.relay_crashes += 1;
        } else {
            outbox.mark_published(&ids);
        }
    }

    /// The redrive function on one message of the relay's failure queue: the range's records
    /// go to the bus, and from it to every rule's target.
    async fn redrive_one(&mut self) -> Result<(), String> {
        if self.failed.is_empty() {
            return Ok(());
        }
        let range = self.failed.swap_remove(self.rng.usize(..self.failed.len()));
        self.redrive.redrive(&range).await.map_err(|e| format!("redriving {range:?}: {e}"))?;
        let records = std::mem::take(&mut *self.redriven.0.lock().unwrap_or_else(|p| p.into_inner()));
        for r in records {
            self.stats.redriven += 1;
            self.given_up.remove(&r.event_id);
            for target in self.rules.targets(&bus_event(&r)) {
                self.in_flight.push(Delivery::new(r.clone(), target));
            }
        }
        Ok(())
    }

    /// Delivers one random in-flight event that its queue hands over now (so the bus reorders),
    /// maybe twice, maybe not yet. When none is ready, time passes until one is.
    async fn deliver_one(&mut self, faults: bool) -> Result<(), String> {
        if self.in_flight.is_empty() {
            return Ok(());
        }
        let now = self.env.now().timestamp_millis();
        let ready: Vec<usize> = (0..self.in_flight.len()).filter(|i| self.in_flight[*i].ready_at <= now).collect();
        if ready.is_empty() {
            let next = self.in_flight.iter().map(|d| d.ready_at).min().unwrap_or(now);
            self.env.advance(next - now);
            return Ok(());
        }
        let i = ready[self.rng.usize(..ready.len())];
        let mut d = self.in_flight.swap_remove(i);
        if self.down(d.target, now) {
            // The step fails on it; its queue hands it back a visibility timeout later, until it
            // has been received as often as the queue allows.
            let delivery = bundle::manifest::STEP_DELIVERY;
            self.stats.failed_receives += 1;
            d.receives += 1;
            if d.receives >= delivery.max_receives {
                self.stats.dead_lettered += 1;
                self.dead_letters.push(d);
            } else {
                d.ready_at = now + i64::from(delivery.visibility_seconds) * 1_000;
                self.in_flight.push(d);
            }
            return Ok(());
        }
        if faults && self.chance(self.faults.drop_then_redeliver) {
            // Lost for now: redelivered later, after other events overtook it.
            self.stats.drops += 1;
            self.in_flight.insert(0, d);
            return Ok(());
        }
        if faults && self.chance(self.faults.duplicate) {
            self.stats.duplicates += 1;
            self.in_flight.push(d.clone());
        }
        self.stats.deliveries += 1;
        let bridge = serde_json::from_value(bus_event(&d.record)).map_err(|e| e.to_string())?;
        match self.functions.step(d.target, bridge).await {
            Some(Ok(StepOutcome::Applied { .. })) => {
                if !self.applied.insert((d.target, d.record.event_id)) {
                    return Err(format!("{} applied event {} twice", d.target, d.record.event_id));
                }
                Ok(())
            }
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) if e.is_retryable() => {
                if throttled(&e) {
                    // DynamoDB throttled the step: its queue hands the event back a visibility
                    // timeout later, as after any failed receive.
                    self.stats.throttled_receives += 1;
                    d.receives += 1;
                    d.ready_at = now + i64::from(bundle::manifest::STEP_DELIVERY.visibility_seconds) * 1_000;
                }
                self.in_flight.push(d);
                Ok(())
            }
            Some(Err(e)) => Err(format!("{} failed on {}: {e}", d.target, d.record.detail_type)),
            None => Err(format!("rule targets {}, which is not a saga step", d.target)),
        }
    }

    async fn setup(&mut self) -> Result<(Vec<CustomerId>, Vec<ProductId>), String> {
        // The accounts and the catalogue as they stood before the schedule: not under the limits.
        self.audit(true);
        let mut customers = vec![];
        for i in 0..self.rng.usize(1..=3) {
            let cmd = RegisterCustomer {
                name: CustomerName::parse("Sim Customer").map_err(|e| e.to_string())?,
                address: address()?,
            };
            let email = Email::parse(&format!("c{i}@sim.example.com")).map_err(|e| e.to_string())?;
            let limit = usd(self.rng.i64(0..=150_000));
            let me = Caller::new(self.env_shared.new_uuid(), false);
            let svc = CustomerService::new(self.customers.clone(), self.env_shared.clone());
            let c = svc.register(&me, email, cmd, limit, None).await;
            customers.push(c.map_err(|e| e.to_string())?.resource.id());
        }
        let mut products = vec![];
        for _ in 0..self.rng.usize(1..=4) {
            let cmd = AddProduct {
                name: ProductName::parse("Sim Product").map_err(|e| e.to_string())?,
                price: usd(self.rng.i64(100..=5_000)),
                weight: Weight::new(self.rng.i64(100..=3_000)).map_err(|e| e.to_string())?,
                dimensions: Dimensions::new(10, 10, 10).map_err(|e| e.to_string())?,
                stock: StockLevel::new(self.rng.i64(0..=15)).map_err(|e| e.to_string())?,
            };
            let p =
                ProductService::new(self.products.clone(), self.env_shared.clone()).add(&self.admin, cmd, None).await;
            let mut p = p.map_err(|e| e.to_string())?.resource;
            // Half the products are hot ones, their stock spread over 2 to 8 shards.
            if self.rng.bool() {
                let shards = Some(ShardCount::new(self.rng.i64(2..=8)).map_err(|e| e.to_string())?);
                let cmd = UpdateProduct { name: None, price: None, shards };
                let svc = ProductService::new(self.products.clone(), self.env_shared.clone());
                p = svc.update(&self.admin, p.id(), cmd, None).await.map_err(|e| e.to_string())?;
                self.stats.sharded += 1;
            }
            self.stock_added.insert(p.id(), p.on_hand());
            products.push(p.id());
        }
        self.audit(false);
        Ok((customers, products))
    }

    async fn place_random(&mut self, customers: &[CustomerId], products: &[ProductId]) -> Result<(), String> {
        let products = match self.hot {
            Some(n) => &products[..n.min(products.len())],
            None => products,
        };
        let mut chosen: Vec<ProductId> = products.to_vec();
        self.rng.shuffle(&mut chosen);
        chosen.truncate(self.rng.usize(1..=products.len().min(3)));
        let chosen_ids = chosen.clone();
        let lines: Vec<Value> =
            chosen.into_iter().map(|p| json!({"productId": p.to_string(), "quantity": self.rng.i64(1..=4)})).collect();
        let customer = customers[self.rng.usize(..customers.len())];
        let mut body = json!({
            "lines": lines,
            "shippingAddress": {"street": "1 Main St", "city": "Dayton", "region": "OH", "postalCode": "45402", "country": "US"},
            "shippingSpeed": "standard",
        });
        // The customer comes from the token; naming it in the body is allowed when it is the caller's.
        if self.chance(50) {
            body["customerId"] = json!(customer.to_string());
        }
        let listed = self.listed(&chosen_ids).await?;
        let (status, order) =
            self.call(Function::CreateOrder, "/orders", None, body, Caller::customer(customer)).await?;
        if status == 422 && order["type"].as_str().is_some_and(|t| t.ends_with("/unknown-reference")) {
            // A product the replica no longer lists as sold (discontinued): refused, nothing written.
            return Ok(());
        }
        let id = order["id"].as_str().and_then(|s| OrderId::from_str(s).ok());
        let (201, Some(id)) = (status, id) else {
            return Err(format!("placing an order failed: {status} {order}"));
        };
        self.placed.push(id);
        self.listed_at_placement.insert(id, listed);
        self.steps += 1;
        self.placed_at.insert(id, self.steps);
        self.stats.orders += 1;
        Ok(())
    }

    /// The prices the orders replica lists for `ids` now (sold products only).
    async fn listed(&self, ids: &[ProductId]) -> Result<BTreeMap<ProductId, Money>, String> {
        // The simulation's own bookkeeping, not a read the system makes: not charged.
        self.audit(true);
        let entries = self.orders.catalogue(ids).await.map_err(|e| e.to_string());
        self.audit(false);
        let entries = entries?;
        Ok(entries.into_iter().filter(|e| e.value.sold).map(|e| (e.value.product_id, e.value.price)).collect())
    }

    /// A catalogue or account change, through its HTTP function: a restock, a reprice, a
    /// discontinuation or a new credit limit (sometimes below what is reserved).
    async fn change_random(&mut self, customers: &[CustomerId], products: &[ProductId]) -> Result<(), String> {
        let p = products[self.rng.usize(..products.len())];
        let mut body_quantity = 0;
        let roll = self.rng.u8(0..100);
        let body_shards = (60..=69).contains(&roll);
        let (f, path, id, body) = match roll {
            0..=39 => {
                let quantity = self.rng.u32(1..=10);
                body_quantity = quantity;
                let body = json!({"quantity": quantity});
                (Function::RestockProduct, format!("/products/{p}/restock"), p.as_uuid(), body)
            }
            40..=59 => {
                let body = json!({"price": {"amount": self.rng.i64(100..=5_000), "currency": "USD"}});
                (Function::UpdateProduct, format!("/products/{p}"), p.as_uuid(), body)
            }
            // A change of K, up or down, with units held or not.
            60..=69 => {
                let body = json!({"shards": self.rng.u32(1..=8)});
                (Function::UpdateProduct, format!("/products/{p}"), p.as_uuid(), body)
            }
            70..=79 => (Function::DiscontinueProduct, format!("/products/{p}/discontinue"), p.as_uuid(), Value::Null),
            _ => {
                let c = customers[self.rng.usize(..customers.len())];
                let body = json!({"creditLimit": {"amount": self.rng.i64(0..=150_000), "currency": "USD"}});
                (Function::ChangeCreditLimit, format!("/customers/{c}/credit-limit"), c.as_uuid(), body)
            }
        };
        let before = match f {
            Function::ChangeCreditLimit => {
                let c = CustomerId::from_uuid(id);
                self.customers.get(c).await.map_err(|e| e.to_string())?.map(|c| c.value.credit_limit())
            }
            _ => None,
        };
        let (status, answer) = self.call(f, &path, Some(id), body, self.admin).await?;
        match (f, status) {
            (Function::RestockProduct, 200) => {
                let quantity = body_quantity;
                *self.stock_added.entry(p).or_default() += quantity;
                self.stats.restocks += 1;
            }
            // A discontinued product takes no more stock.
            (Function::RestockProduct, 409) if self.discontinued.contains_key(&p) => {}
            (Function::UpdateProduct, 200) if answer.get("shards").is_some() && body_shards => self.stats.reshards += 1,
            (Function::UpdateProduct, 200) => self.stats.reprices += 1,
            (Function::DiscontinueProduct, 200) => {
                if !self.discontinued.contains_key(&p) {
                    self.steps += 1;
                    self.discontinued.insert(p, self.steps);
                    self.stats.discontinued += 1;
                }
            }
            (Function::ChangeCreditLimit, 200) => {
                let c = CustomerId::from_uuid(id);
                let new = answer["creditLimit"]["amount"].as_i64().unwrap_or(0);
                if before.is_some_and(|b| new < b.amount()) {
                    self.limit_lowered.insert(c);
                }
                self.stats.limit_changes += 1;
            }
            _ => return Err(format!("{f} on {path} answered {status}: {answer}")),
        }
        Ok(())
    }

    /// Cancels a random approved order; now and then tries one in another state, which must
    /// be refused (PENDING, REJECTED) or be a no-op (CANCELLED).
    async fn cancel_random(&mut self) -> Result<(), String> {
        let mut candidates = self.placed.clone();
        self.rng.shuffle(&mut candidates);
        let try_any = self.chance(25);
        for id in candidates {
            let approved =
                matches!(self.orders.get(id).await, Ok(Some(o)) if o.value.status() == OrderStatus::Approved);
            if approved || try_any {
                let path = format!("/orders/{id}/cancel");
                let Ok(Some(order)) = self.orders.get(id).await else { return Ok(()) };
                if self.chance(10) {
                    // Someone else's order: told it does not exist, and it stays as it was.
                    let stranger = Caller::new(self.env_shared.new_uuid(), false);
                    let (status, _) =
                        self.call(Function::CancelOrder, &path, Some(id.as_uuid()), Value::Null, stranger).await?;
                    let after = self.orders.get(id).await.map_err(|e| e.to_string())?.map(|o| o.version);
                    if status != 404 || after != Some(order.version) {
                        return Err(format!("a stranger cancelling order {id} got {status} and changed it"));
                    }
                    self.stats.refused_strangers += 1;
                    return Ok(());
                }
                let owner = Caller::customer(order.value.customer_id());
                let _ = self.call(Function::CancelOrder, &path, Some(id.as_uuid()), Value::Null, owner).await;
                return Ok(());
            }
        }
        Ok(())
    }

    /// Whether `f`'s context is down at `now`.
    fn down(&self, f: Function, now: i64) -> bool {
        self.outage.is_some_and(|o| o.from <= now && now < o.until && context_of(f) == Some(o.context))
    }

    /// Takes a random context down from now, for a random window: mostly within what the steps'
    /// queues wait out (75 minutes), sometimes longer (up to two hours), when events are
    /// dead-lettered and the runbook's redrive brings them back.
    fn start_outage(&mut self) {
        let context = [Context::Orders, Context::Products, Context::Customers][self.rng.usize(..3)];
        let window = i64::from(bundle::manifest::STEP_DELIVERY.outage_seconds()) * 1_000;
        let length = if self.chance(80) { self.rng.i64(1_000..window) } else { self.rng.i64(window..=2 * window) };
        let from = self.env.now().timestamp_millis();
        self.outage = Some(Outage { context, from, until: from + length });
        self.stats.outages += 1;
        self.stats.longest_outage_ms = self.stats.longest_outage_ms.max(length);
    }

    /// The runbook's step once the context is back: `ops redrive` of every step's dead-letter
    /// queue, which puts the events back on the bus, to the rules' targets.
    fn redrive_dead_letters(&mut self) {
        let now = self.env.now().timestamp_millis();
        if self.outage.is_some_and(|o| now < o.until) {
            return;
        }
        for d in std::mem::take(&mut self.dead_letters) {
            for target in self.rules.targets(&bus_event(&d.record)) {
                self.in_flight.push(Delivery::new(d.record.clone(), target));
            }
        }
    }

    async fn quiesce(&mut self) -> Result<(), String> {
        for _ in 0..1_000_000 {
            for t in 0..3 {
                self.relay(t);
            }
            self.redrive_one().await?;
            if self.in_flight.is_empty() && !self.dead_letters.is_empty() {
                // Only dead letters left: the context comes back, and the operator redrives.
                if let Some(o) = self.outage {
                    let now = self.env.now().timestamp_millis();
                    self.env.advance((o.until - now).max(0));
                }
                self.redrive_dead_letters();
            }
            if self.in_flight.is_empty()
                && self.failed.is_empty()
                && self.outboxes().iter().all(|o| o.unpublished().is_empty())
            {
                if let Some(lost) = self.given_up.iter().next() {
                    return Err(format!("event {lost} was given up on by the relay and never redriven"));
                }
                return Ok(());
            }
            self.deliver_one(false).await?;
        }
        Err("the system did not quiesce".into())
    }

    /// While `on`, the capacity model lets every request pass uncounted: the simulation's own
    /// reads of what the system stored.
    fn audit(&self, on: bool) {
        if let Some(m) = &self.capacity {
            m.set_enabled(!on);
        }
    }

    /// How many placed orders the sweeper rejected.
    async fn timed_out(&self) -> Result<usize, String> {
        // The audit from here on: the limits have shown what they do to the schedule.
        self.audit(true);
        let mut n = 0;
        for id in &self.placed {
            let o = self.orders.get(*id).await.map_err(|e| e.to_string())?.ok_or("a placed order vanished")?.value;
            if o.state() == (domain::OrderState::Rejected { reason: domain::RejectionReason::TimedOut }) {
                n += 1;
            }
        }
        Ok(n)
    }

    async fn check(&mut self, customers: &[CustomerId], products: &[ProductId]) -> Result<(), String> {
        self.audit(true);
        let mut approved_qty: BTreeMap<ProductId, u32> = BTreeMap::new();
        let mut approved_total: BTreeMap<CustomerId, i64> = BTreeMap::new();
        for id in &self.placed {
            let o = self.orders.get(*id).await.map_err(|e| e.to_string())?.ok_or("a placed order vanished")?.value;
            match o.status() {
                OrderStatus::Pending => return Err(format!("order {id} is still PENDING after the sweep")),
                OrderStatus::Approved => {
                    self.stats.approved += 1;
                    for l in o.lines() {
                        *approved_qty.entry(l.product_id).or_default() += l.quantity.get();
                    }
                    let total = o.pricing().ok_or("an approved order has no price")?.total.amount();
                    *approved_total.entry(o.customer_id()).or_default() += total;
                }
                OrderStatus::Rejected => {
                    self.stats.rejected += 1;
                    if o.state() == (domain::OrderState::Rejected { reason: domain::RejectionReason::TimedOut }) {
                        self.stats.timed_out += 1;
                    }
                }
                OrderStatus::Cancelled => self.stats.cancelled += 1,
            }
        }
        for id in &self.placed {
            let o = self.orders.get(*id).await.map_err(|e| e.to_string())?.ok_or("a placed order vanished")?.value;
            let listed = self.listed_at_placement.get(id).ok_or("an order placed without a listing")?;
            for l in o.lines() {
                // Charged (and shown) the price the replica listed when the order was placed,
                // whatever repricing came after.
                if l.unit_price != listed.get(&l.product_id).copied() {
                    return Err(format!(
                        "order {id} has {:?} for {}, listed at {:?}",
                        l.unit_price, l.product_id, listed
                    ));
                }
                // Never approved for a product discontinued before it was placed.
                let placed = self.placed_at.get(id).copied().unwrap_or(0);
                let withdrawn = self.discontinued.get(&l.product_id).is_some_and(|d| *d < placed);
                if o.status() == OrderStatus::Approved && withdrawn {
                    return Err(format!("order {id} approved for {}, discontinued before it was placed", l.product_id));
                }
            }
            if let (OrderStatus::Approved, Some(p)) = (o.status(), o.pricing()) {
                let lines: Vec<Money> = o
                    .lines()
                    .iter()
                    .filter_map(|l| l.unit_price.and_then(|u| u.checked_mul(l.quantity.get()).ok()))
                    .collect();
                if Money::sum(Currency::USD, &lines).ok() != Some(p.subtotal) {
                    return Err(format!("order {id}: subtotal {} is not the sum of its lines", p.subtotal));
                }
            }
        }
        let replica = self.orders.catalogue(products).await.map_err(|e| e.to_string())?;
        for p in products {
            let p = self.products.get(*p).await.map_err(|e| e.to_string())?.ok_or("a product vanished")?.value;
            let entry =
                replica.iter().find(|e| e.value.product_id == p.id()).ok_or("a product is missing in the replica")?;
            let e = &entry.value;
            let sold = p.discontinued_at().is_none();
            if (e.name.as_str(), e.price, e.weight, e.dimensions, e.sold, e.revision)
                != (p.name().as_str(), p.price(), p.weight(), p.dimensions(), sold, p.revision())
            {
                return Err(format!("the replica of {} differs from the product: {e:?}", p.id()));
            }
            let added = self.stock_added.get(&p.id()).copied().unwrap_or(0);
            if p.on_hand() != added {
                return Err(format!("product {}: {} on hand, added {added} in all", p.id(), p.on_hand()));
            }
        }
        for c in customers {
            if self.orders.known_customer(*c).await.map_err(|e| e.to_string())?.is_none() {
                return Err(format!("customer {c} is missing in the replica"));
            }
        }
        for p in products {
            let p = self.products.get(*p).await.map_err(|e| e.to_string())?.ok_or("a product vanished")?.value;
            if p.reserved() > p.on_hand() {
                return Err(format!("product {} oversold: {} reserved of {}", p.id(), p.reserved(), p.on_hand()));
            }
            if let Some(s) = p.stock_shards().iter().find(|s| s.reserved() > s.on_hand()) {
                return Err(format!(
                    "product {}: a shard oversold, {} reserved of {}",
                    p.id(),
                    s.reserved(),
                    s.on_hand()
                ));
            }
            let want = approved_qty.get(&p.id()).copied().unwrap_or(0);
            if p.reserved() != want {
                return Err(format!("product {}: {} reserved, approved orders hold {want}", p.id(), p.reserved()));
            }
        }
        for c in customers {
            let c = self.customers.get(*c).await.map_err(|e| e.to_string())?.ok_or("a customer vanished")?.value;
            let reserved = c.reserved_credit().amount();
            // A lowered limit takes nothing back; otherwise reservations stay within it.
            if reserved > c.credit_limit().amount() && !self.limit_lowered.contains(&c.id()) {
                return Err(format!("customer {} over limit: {reserved} > {}", c.id(), c.credit_limit().amount()));
            }
            let want = approved_total.get(&c.id()).copied().unwrap_or(0);
            if reserved != want {
                return Err(format!("customer {}: {reserved} reserved, approved orders total {want}", c.id()));
            }
        }
        Ok(())
    }
}

/// The rules of the repository's template.yaml, and a current-thread runtime: what the binaries
/// run on. `Err` says which could not be had.
pub fn rules_and_runtime() -> Result<(RuleTable, tokio::runtime::Runtime), String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    let rules = sam_template::Template::load(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| RuleTable::from_template(&t).map_err(|e| e.to_string()))
        .map_err(|e| format!("cannot read the rules: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    Ok((rules, runtime))
}

/// Whether a step failed because DynamoDB throttled it (`app::capacity::Throttled`).
fn throttled(e: &app::StepError) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.downcast_ref::<Throttled>().is_some() {
            return true;
        }
        source = err.source();
    }
    false
}

/// Runs one schedule; `Err` carries the broken invariant.
pub async fn run_schedule(seed: u64, rules: &RuleTable, faults: Faults) -> Result<Stats, String> {
    Ok(schedule(seed, rules, faults).await?.stats)
}

/// Every event one schedule emitted (each once, in each table's commit order), after its
/// invariants were checked: what the contract tests validate against the event schemas.
pub async fn emitted_events(seed: u64, rules: &RuleTable, faults: Faults) -> Result<Vec<OutboxRecord>, String> {
    let w = schedule(seed, rules, faults).await?;
    let mut all = vec![];
    for outbox in w.outboxes() {
        let everything = StreamRange {
            stream: outbox.stream_name().to_owned(),
            shard: String::new(),
            first: "1".to_owned(),
            last: u64::MAX.to_string(),
        };
        all.extend(outbox.read_stream(&everything).map_err(|e| e.to_string())?);
    }
    Ok(all)
}

async fn schedule(seed: u64, rules: &RuleTable, faults: Faults) -> Result<World, String> {
    let mut w = World::new(seed, rules.clone(), faults)?;
    let (customers, products) = w.setup().await?;
    // The orders replica learns of the catalogue and the customers from their events: let them
    // arrive (duplicated and reordered like any other) before the first order.
    w.quiesce().await?;
    // One schedule in four is a flash sale: many orders on one or two products.
    let mut to_place = if seed.is_multiple_of(4) {
        w.hot = Some(w.rng.usize(1..=2));
        w.stats.hot_schedules += 1;
        w.rng.usize(15..=40)
    } else {
        w.rng.usize(3..=12)
    };
    let mut cancels = w.rng.usize(0..=6);
    let mut changes = w.rng.usize(0..=4);
    let mut budget = 2_000;
    while (to_place > 0 || cancels > 0 || changes > 0 || !w.in_flight.is_empty() || !w.failed.is_empty()) && budget > 0
    {
        budget -= 1;
        match w.rng.u8(0..100) {
            0..=14 if to_place > 0 => {
                if w.faults.outage > 0 && w.outage.is_none() && w.chance(w.faults.outage) {
                    w.start_outage();
                }
                w.place_random(&customers, &products).await?;
                to_place -= 1;
            }
            15..=22 if cancels > 0 && !w.placed.is_empty() => {
                w.cancel_random().await?;
                cancels -= 1;
            }
            48..=50 => {
                w.redrive_one().await?;
                w.redrive_dead_letters();
            }
            43..=47 if changes > 0 => {
                w.change_random(&customers, &products).await?;
                changes -= 1;
            }
            23..=39 => {
                let t = w.rng.usize(0..3);
                w.relay(t);
            }
            40..=42 => {
                // Time passes; now and then the sweeper catches a slow saga.
                w.env.advance(w.rng.i64(0..=30_000));
                w.functions.sweep().await.map_err(|e| e.to_string())?;
            }
            _ => w.deliver_one(true).await?,
        }
    }
    w.quiesce().await?;
    if let Some(o) = w.outage {
        // An outage within the window the steps' queues wait out: every order settled on its
        // merits, with nothing dead-lettered and nothing timed out, before any final sweep.
        let waited_out = o.until - o.from < i64::from(bundle::manifest::STEP_DELIVERY.outage_seconds()) * 1_000;
        let timed_out = w.timed_out().await?;
        if waited_out && (w.stats.dead_lettered > 0 || timed_out > 0) {
            return Err(format!(
                "{:?} down for {} s: {} events dead-lettered, {timed_out} orders TIMED_OUT",
                o.context,
                (o.until - o.from) / 1_000,
                w.stats.dead_lettered
            ));
        }
    }
    // Everything delivered; orders still PENDING are stuck for good: the sweeper ends them.
    w.env.advance((pending_timeout_secs(w.faults) + 1) * 1_000);
    w.functions.sweep().await.map_err(|e| e.to_string())?;
    w.quiesce().await?;
    w.check(&customers, &products).await?;
    Ok(w)
}

/// Runs `count` schedules from `first_seed`; stops at the first failure with its seed.
pub async fn run_many(first_seed: u64, count: u64, rules: &RuleTable, faults: Faults) -> Result<Stats, (u64, String)> {
    let mut total = Stats::default();
    for seed in first_seed..first_seed + count {
        let s = run_schedule(seed, rules, faults).await.map_err(|e| (seed, e))?;
        total.orders += s.orders;
        total.approved += s.approved;
        total.rejected += s.rejected;
        total.timed_out += s.timed_out;
        total.cancelled += s.cancelled;
        total.deliveries += s.deliveries;
        total.duplicates += s.duplicates;
        total.drops += s.drops;
        total.relay_crashes += s.relay_crashes;
        total.relay_give_ups += s.relay_give_ups;
        total.outages += s.outages;
        total.failed_receives += s.failed_receives;
        total.dead_lettered += s.dead_lettered;
        total.longest_outage_ms = total.longest_outage_ms.max(s.longest_outage_ms);
        total.hot_schedules += s.hot_schedules;
        total.redriven += s.redriven;
        total.restocks += s.restocks;
        total.sharded += s.sharded;
        total.reshards += s.reshards;
        total.reprices += s.reprices;
        total.discontinued += s.discontinued;
        total.limit_changes += s.limit_changes;
        total.throttled_receives += s.throttled_receives;
    }
    Ok(total)
}
