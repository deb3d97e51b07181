//! The modelled flash sale: N orders for one product offered at a steady rate, with stock for
//! half of them, through the bundle's own handlers over in-memory stores that enforce DynamoDB's
//! throughput limits ([`app::capacity`]), on a virtual clock.
//!
//! What runs is a discrete-event schedule: each order's `POST /orders` at its offered instant,
//! each event delivered to every step its rules name a fixed [`HOP`] after the commit that wrote
//! it (stream, relay, bus and queue together), each failed step's event handed back after the
//! queue's visibility timeout up to its `max_receives` (`bundle::manifest::STEP_DELIVERY`, as
//! deployed), and each `503` answered to a buyer retried a second later with the same
//! Idempotency-Key. The SDK's backoffs inside a call advance the clock too. Lambda's
//! concurrency, the relay's batches and the bus are not limits here (docs/CAPACITY.md gives
//! theirs): what binds is DynamoDB's per-item rate, which the stock's K shards divide.
//!
//! Deterministic from the seed: the same run gives the same report, in a fraction of the
//! simulated time.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::access::Caller;
use app::capacity::{CapacityModel, SimClock, Units, Usage};
use app::memory::{InMemoryCustomerRepository, InMemoryOrderRepository, InMemoryProductRepository, MemoryOutbox};
use app::ports::{OrderRepository, OutboxRecord, ProductRepository};
use app::step::StepOutcome;
use app::SharedEnv;
use bundle::{Function, Stores};
use chrono::{DateTime, Utc};
use domain::{Environment, OrderId, OrderState, OrderStatus, ProductId, RejectionReason};
use lambda_http::Request;
use local_runner::functions::Functions;
use local_runner::identity;
use local_runner::rules::{bus_event, RuleTable};
use serde_json::{json, Value};
use uuid::Uuid;

/// From a commit to its event reaching a step: the stream, the relay, the bus and the queue.
pub const HOP: Duration = Duration::from_millis(100);
/// How far behind the offered orders the holds may fall and still have kept up: 5 % of the time
/// to the last unit's order.
pub const KEPT_UP_SLACK: f64 = 0.05;
/// A buyer answered `503` tries again after this long (the answer's Retry-After).
pub const CLIENT_RETRY: Duration = Duration::from_secs(1);

/// One modelled sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlashSale {
    /// Orders of one unit each, offered evenly over `orders / rate` seconds.
    pub orders: usize,
    /// Orders offered per second.
    pub rate: u32,
    /// Shard items of the product's stock (1: one item, as every product has today).
    pub shards: u32,
    /// Distinct buyers (each with ample credit), so no customer item is the hot one.
    pub buyers: usize,
    pub seed: u64,
}

impl FlashSale {
    /// The issue's sale: 5,000 orders a second for 10 seconds, stock for half.
    pub fn issue(shards: u32) -> Self {
        FlashSale { orders: 50_000, rate: 5_000, shards, buyers: 500, seed: 25 }
    }
    pub fn stock(&self) -> usize {
        self.orders / 2
    }
    /// When the last order is offered.
    pub fn offered_for(&self) -> Duration {
        Duration::from_secs_f64(self.orders as f64 / f64::from(self.rate))
    }
}

/// What a modelled sale did, in virtual time.
#[derive(Debug, Clone, PartialEq)]
pub struct FlashReport {
    pub sale: FlashSale,
    pub approved: usize,
    pub out_of_stock: usize,
    pub timed_out: usize,
    pub pending: usize,
    /// Units the product holds reserved at the end: must equal `approved`.
    pub held: u32,
    /// The most stock holds that landed within one second of the sale.
    pub peak_holds_per_second: u32,
    /// When the last order was created (placed with 201), and the last stock hold landed.
    pub last_created: Duration,
    pub last_held: Duration,
    /// When the last order settled.
    pub settled: Duration,
    /// `POST /orders` answered 503 (throttled), each retried.
    pub creates_throttled: usize,
    /// Step deliveries that failed and went back to their queue.
    pub failed_receives: usize,
    /// The most times one event was received (the queue allows `max_receives`).
    pub most_receives: u32,
    /// Events moved to a dead-letter queue: a step that exhausted its retries.
    pub dead_lettered: usize,
    pub usage: Usage,
    /// Units the sale took, by what took them (the HTTP call or the step and what it emitted)
    /// and the kind of item.
    pub by_step: BTreeMap<(String, &'static str), Units>,
    /// Events handed to a step (rule invocations), by detail-type, first deliveries only.
    pub deliveries: BTreeMap<String, usize>,
}

impl FlashReport {
    /// Stock holds a second, on average from the first order offered to the last hold.
    pub fn holds_per_second(&self) -> f64 {
        self.approved as f64 / self.last_held.as_secs_f64().max(1e-9)
    }
    /// Whether the holds kept up with the orders: they ran at the offered rate while the stock
    /// lasted, so the last unit was held no later than [`KEPT_UP_SLACK`] of the time it took to
    /// offer it, plus one [`HOP`] (its event's way to the step), after the sale opened. A step
    /// that waited out its queue's visibility timeout, or holds capped below the offered rate
    /// (K × 500 a second), miss it on any run length.
    pub fn kept_up(&self) -> bool {
        let last_unit_offered = self.sale.offered_for().mul_f64(self.sale.stock() as f64 / self.sale.orders as f64);
        self.last_held <= last_unit_offered.mul_f64(1.0 + KEPT_UP_SLACK) + HOP
    }
    /// Orders created a second, from the first offered to the last created.
    pub fn creates_per_second(&self) -> f64 {
        self.sale.orders as f64 / self.last_created.as_secs_f64().max(1e-9)
    }
    /// Not oversold, nothing PENDING or TIMED_OUT, nothing dead-lettered: the books of the sale.
    pub fn balanced(&self) -> Result<(), String> {
        let s = &self.sale;
        let ok = self.approved == s.stock()
            && self.out_of_stock == s.orders - s.stock()
            && self.held as usize == self.approved
            && self.pending == 0
            && self.timed_out == 0
            && self.dead_lettered == 0;
        if ok {
            Ok(())
        } else {
            Err(format!("K={}: the books do not balance: {self:?}", s.shards))
        }
    }
}

/// The virtual clock as the services' environment, with seeded ids.
struct ModelEnv {
    clock: SimClock,
    rng: Mutex<fastrand::Rng>,
}

impl Environment for ModelEnv {
    fn now(&self) -> DateTime<Utc> {
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        start + chrono::Duration::from_std(self.clock.now()).unwrap_or_default()
    }
    fn new_uuid(&self) -> Uuid {
        let mut r = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        uuid::Builder::from_random_bytes(r.u128(..).to_le_bytes()).into_uuid()
    }
}

enum Task {
    Place { n: usize },
    Deliver { record: OutboxRecord, target: Function, receives: u32 },
}

struct Sale {
    clock: SimClock,
    env: SharedEnv,
    functions: Functions,
    rules: RuleTable,
    outboxes: [Arc<dyn MemoryOutbox>; 3],
    orders: Arc<InMemoryOrderRepository>,
    products: Arc<InMemoryProductRepository>,
    queue: BinaryHeap<Reverse<(Duration, u64)>>,
    tasks: BTreeMap<u64, Task>,
    next: u64,
    /// Stock holds by the second they landed in, on `wall`.
    holds: BTreeMap<u64, u32>,
    /// The latest the clock has been: tasks run one at a time, and an SDK backoff inside one
    /// moves the clock past tasks still due, which then run at their own (earlier) instants;
    /// the buckets never refill backwards, and holds are counted on this monotonic clock, so
    /// no second shows more than the limits allow.
    wall: Duration,
    model: Arc<CapacityModel>,
}

fn request(method: &str, path: &str, id: Option<String>, key: Option<String>, body: Value, caller: &Caller) -> Request {
    identity::request_as(caller, method, path, id, key, &body)
}

fn address() -> Value {
    json!({"street": "1 Main St", "city": "Dayton", "region": "OH", "postalCode": "45402", "country": "US"})
}

impl Sale {
    fn at(&mut self, t: Duration, task: Task) {
        self.next += 1;
        self.queue.push(Reverse((t, self.next)));
        self.tasks.insert(self.next, task);
    }

    async fn call(
        &self,
        f: Function,
        path: &str,
        id: Option<String>,
        key: Option<String>,
        body: Value,
        caller: &Caller,
    ) -> (u16, Value) {
        let method = match f.trigger() {
            bundle::manifest::Trigger::Http { method, .. } => method,
            _ => "POST",
        };
        let Some(resp) = self.functions.http(f, request(method, path, id, key, body, caller)).await else {
            return (500, Value::Null);
        };
        (resp.status().as_u16(), serde_json::from_slice(resp.body().as_ref()).unwrap_or(Value::Null))
    }

    /// Every record committed since the last look goes to each step its rules name, a hop later.
    fn relay(&mut self) {
        let when = self.clock.now() + HOP;
        for outbox in self.outboxes.clone() {
            let records = outbox.unpublished();
            if records.is_empty() {
                continue;
            }
            let ids: Vec<_> = records.iter().map(|r| r.event_id).collect();
            for r in records {
                for target in self.rules.targets(&bus_event(&r)) {
                    self.at(when, Task::Deliver { record: r.clone(), target, receives: 0 });
                }
            }
            outbox.mark_published(&ids);
        }
    }

    /// Runs every task in time order until none is left.
    async fn drain(
        &mut self,
        buyers: &[Caller],
        product: &str,
        report: &mut FlashReport,
    ) -> Result<Vec<OrderId>, String> {
        let delivery = bundle::manifest::STEP_DELIVERY;
        let mut placed = vec![];
        while let Some(Reverse((t, seq))) = self.queue.pop() {
            let Some(task) = self.tasks.remove(&seq) else { continue };
            self.clock.set(t);
            let before = self.model.by_kind();
            let what;
            match task {
                Task::Place { n } => {
                    what = "POST /orders".to_owned();
                    let body = json!({"lines": [{"productId": product, "quantity": 1}], "shippingAddress": address(), "shippingSpeed": "standard"});
                    let key = Some(format!("flash-{n}"));
                    let buyer = &buyers[n % buyers.len()];
                    let (status, o) = self.call(Function::CreateOrder, "/orders", None, key, body, buyer).await;
                    match status {
                        201 => {
                            let id = o["id"].as_str().and_then(|s| s.parse::<OrderId>().ok());
                            placed.push(id.ok_or_else(|| format!("a created order without an id: {o}"))?);
                            report.last_created = report.last_created.max(self.clock.now());
                        }
                        503 => {
                            report.creates_throttled += 1;
                            let again = self.clock.now() + CLIENT_RETRY;
                            self.at(again, Task::Place { n });
                        }
                        _ => return Err(format!("placing order {n}: {status} {o}")),
                    }
                }
                Task::Deliver { record, target, receives } => {
                    if receives == 0 {
                        *report.deliveries.entry(record.detail_type.clone()).or_default() += 1;
                    }
                    let bridge = serde_json::from_value(bus_event(&record)).map_err(|e| e.to_string())?;
                    let outcome = self.functions.step(target, bridge).await;
                    what = match &outcome {
                        Some(Ok(StepOutcome::Applied { emitted })) => format!("{target} → {}", emitted.join(", ")),
                        Some(Ok(_)) => format!("{target} (nothing to do)"),
                        _ => format!("{target} (failed)"),
                    };
                    match outcome {
                        Some(Ok(StepOutcome::Applied { emitted })) => {
                            self.wall = self.wall.max(self.clock.now());
                            if target == Function::ReserveStock && emitted.contains(&"StockReserved") {
                                report.last_held = report.last_held.max(self.wall);
                                let second = self.wall.as_secs();
                                *self.holds.entry(second).or_default() += 1;
                            }
                        }
                        Some(Ok(_)) => {}
                        Some(Err(e)) if e.is_retryable() => {
                            report.failed_receives += 1;
                            let receives = receives + 1;
                            report.most_receives = report.most_receives.max(receives);
                            if receives >= delivery.max_receives {
                                report.dead_lettered += 1;
                            } else {
                                let again = t + Duration::from_secs(u64::from(delivery.visibility_seconds));
                                self.at(again, Task::Deliver { record, target, receives });
                            }
                        }
                        Some(Err(e)) => return Err(format!("{target} failed on {}: {e}", record.detail_type)),
                        None => return Err(format!("rule targets {target}, which is not a saga step")),
                    }
                }
            }
            for (kind, after) in self.model.by_kind() {
                let was = before.get(kind).copied().unwrap_or_default();
                if after != was {
                    let by = report.by_step.entry((what.clone(), kind)).or_default();
                    by.read += after.read - was.read;
                    by.write += after.write - was.write;
                }
            }
            self.relay();
            report.settled = self.clock.now();
        }
        Ok(placed)
    }
}

/// Runs one modelled sale; `Err` when it cannot run (a handler refused its setup, or K > 1
/// without sharded stock).
pub async fn run(sale: FlashSale, rules: &RuleTable) -> Result<FlashReport, String> {
    let clock = SimClock::default();
    let model = CapacityModel::dynamodb(clock.clone(), sale.seed);
    let env: SharedEnv =
        Arc::new(ModelEnv { clock: clock.clone(), rng: Mutex::new(fastrand::Rng::with_seed(sale.seed)) });
    let orders = Arc::new(InMemoryOrderRepository::with_capacity(model.clone()));
    let products = Arc::new(InMemoryProductRepository::with_capacity(model.clone()));
    let customers = Arc::new(InMemoryCustomerRepository::with_capacity(model.clone()));
    let stores = Stores { orders: orders.clone(), products: products.clone(), customers: customers.clone() };
    let timeout = i64::from(bundle::manifest::min_pending_timeout_seconds());
    let functions = Functions::wire(&stores, &env, |f| crate::sim_config(f, timeout)).map_err(|e| e.to_string())?;
    let mut s = Sale {
        clock: clock.clone(),
        env: env.clone(),
        functions,
        rules: rules.clone(),
        outboxes: [orders.clone(), products.clone(), customers.clone()],
        orders,
        products,
        queue: BinaryHeap::new(),
        tasks: BTreeMap::new(),
        next: 0,
        holds: BTreeMap::new(),
        wall: Duration::ZERO,
        model: model.clone(),
    };
    let mut report = FlashReport {
        sale,
        approved: 0,
        out_of_stock: 0,
        timed_out: 0,
        pending: 0,
        held: 0,
        peak_holds_per_second: 0,
        last_created: Duration::ZERO,
        last_held: Duration::ZERO,
        settled: Duration::ZERO,
        creates_throttled: 0,
        failed_receives: 0,
        most_receives: 0,
        dead_lettered: 0,
        usage: Usage::default(),
        by_step: BTreeMap::new(),
        deliveries: BTreeMap::new(),
    };

    // The product and the buyers, replicated to orders before the sale opens (a day earlier,
    // so their writes have long refilled).
    let admin = Caller::new(s.env.new_uuid(), true);
    let body = json!({"name": "Flash Sale Item", "price": {"amount": 1_000, "currency": "USD"}, "weightGrams": 500,
                      "dimensionsCm": {"length": 10, "width": 10, "height": 10}, "stock": sale.stock()});
    let (status, p) = s.call(Function::CreateProduct, "/products", None, None, body, &admin).await;
    let product = p["id"].as_str().map(str::to_owned).ok_or_else(|| format!("adding the product: {status} {p}"))?;
    shard(&s, &product, sale.shards, &admin).await?;
    let mut buyers = vec![];
    for n in 0..sale.buyers.max(1) {
        let me = Caller::new(s.env.new_uuid(), false);
        let body = json!({"name": format!("Flash Buyer {n}"), "address": address()});
        let (status, c) = s.call(Function::CreateCustomer, "/customers", None, None, body, &me).await;
        if status != 201 {
            return Err(format!("registering a buyer: {status} {c}"));
        }
        let id = me.subject().to_string();
        let limit = json!({"creditLimit": {"amount": 1_000_000_000_i64, "currency": "USD"}});
        let path = format!("/customers/{id}/credit-limit");
        let (status, c) = s.call(Function::ChangeCreditLimit, &path, Some(id), None, limit, &admin).await;
        if status != 200 {
            return Err(format!("setting a credit limit: {status} {c}"));
        }
        buyers.push(me);
        // A little time between setup writes, so none of them meets a limit.
        clock.advance(Duration::from_millis(5));
    }
    s.relay();
    s.drain(&buyers, &product, &mut report.clone()).await?;
    // Whole seconds, so the holds' seconds are the sale's.
    let opening = Duration::from_secs(clock.now().as_secs() + 86_400);
    s.holds.clear();
    let before = model.usage();

    // The sale.
    let gap = Duration::from_secs(1) / sale.rate.max(1);
    for n in 0..sale.orders {
        s.at(opening + gap * n as u32, Task::Place { n });
    }
    let placed = s.drain(&buyers, &product, &mut report).await?;
    report.peak_holds_per_second = s.holds.values().copied().max().unwrap_or(0);
    let since = |t: Duration| t.saturating_sub(opening);
    (report.last_created, report.last_held, report.settled) =
        (since(report.last_created), since(report.last_held), since(report.settled));
    let after = model.usage();
    report.usage = Usage {
        read_units: after.read_units - before.read_units,
        write_units: after.write_units - before.write_units,
        throttled_attempts: after.throttled_attempts - before.throttled_attempts,
        throttled_requests: after.throttled_requests - before.throttled_requests,
        product_write_units: after.product_write_units - before.product_write_units,
    };

    // The books, read after the limits' buckets have long refilled.
    clock.advance(Duration::from_secs(86_400));
    for id in &placed {
        clock.advance(Duration::from_millis(1));
        let o = s.orders.get(*id).await.map_err(|e| e.to_string())?.ok_or("a placed order vanished")?.value;
        match (o.status(), o.state()) {
            (OrderStatus::Approved, _) => report.approved += 1,
            (_, OrderState::Rejected { reason: RejectionReason::OutOfStock }) => report.out_of_stock += 1,
            (_, OrderState::Rejected { reason: RejectionReason::TimedOut }) => report.timed_out += 1,
            (OrderStatus::Pending, _) => report.pending += 1,
            (_, other) => return Err(format!("order {id} ended {other:?}")),
        }
    }
    let product_id: ProductId = product.parse().map_err(|_| "the product's id is not an id")?;
    let stored = s.products.get(product_id).await.map_err(|e| e.to_string())?.ok_or("the product vanished")?;
    report.held = stored.value.reserved();
    Ok(report)
}

/// Splits the product's stock into `k` shard items, as an admin does (`PATCH /products/{id}`).
async fn shard(s: &Sale, product: &str, k: u32, admin: &Caller) -> Result<(), String> {
    if k == 1 {
        return Ok(());
    }
    let path = format!("/products/{product}");
    let body = json!({ "shards": k });
    let (status, p) = s.call(Function::UpdateProduct, &path, Some(product.to_owned()), None, body, admin).await;
    if status != 200 || p["shards"] != json!(k) {
        return Err(format!("splitting the stock into {k} shards: {status} {p}"));
    }
    Ok(())
}
