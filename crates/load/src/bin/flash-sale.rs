//! `cargo run -p load --release --bin flash-sale -- [--orders 100,300,1000] [--scenario stock|credit]
//! [--shards K] [--dynamodb http://127.0.0.1:PORT | --url URL --token-cmd CMD]`: a flash sale,
//! measured rather than asserted. With `--shards K` the product's stock is spread over K items (set
//! by the admin's PATCH before the sale opens); K = 1 is an ordinary product.
//!
//! - `stock`: N concurrent orders of one unit for one product with N/2 units on hand (20 buyers
//!   with ample credit);
//! - `credit`: N concurrent orders of one buyer whose credit covers N/2 of them (ample stock).
//!
//! Each N runs on a fresh system, in memory or on DynamoDB at `--dynamodb` (a ministack), with the
//! runner's relay delivering every event to its step concurrently, as EventBridge invokes Lambda,
//! and redelivering a failed step as Lambda would. It reports the time from the first create to
//! the last order settled, the outcomes, what the steps met (version conflicts, holds refused by
//! the invariant, steps that exhausted their attempts, dead letters), DynamoDB requests per order,
//! and checks the books after each run: no order PENDING, the units or the credit held are exactly
//! what the APPROVED orders hold. A run whose books do not balance exits with an error.
//!
//! With `--url` (and `--token-cmd`, or `--local` for a runner: [`load::Target`]) the sale goes to
//! a deployed stack over HTTP instead: new buyers and a new product each run, the N orders sent at
//! once, every order read until it settles, and the books read through the API as an
//! administrator. What only the process can count (conflicts, holds refused, requests to
//! DynamoDB) reads `-` there.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::access::Caller;
use app::SystemEnvironment;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use bundle::Function;
use domain::{CustomerId, OrderId, OrderState, OrderStatus, ProductId, RejectionReason};
use lambda_http::Request;
use load::address;
use local_runner::{identity, LocalSystem};
use sam_template::Template;
use serde_json::{json, Value};

use load::{Error, Shop, Target};

// ---------------------------------------------------------------- what the steps counted

/// A `metrics` recorder that sums every counter by name (labels folded), for the report.
#[derive(Default)]
struct Counts(Mutex<BTreeMap<String, Arc<Count>>>);

#[derive(Default)]
struct Count(AtomicU64);

impl metrics::CounterFn for Count {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::Relaxed);
    }
    fn absolute(&self, value: u64) {
        self.0.store(value, Ordering::Relaxed);
    }
}

impl Counts {
    fn get(&self, name: &str) -> u64 {
        self.0.lock().map(|m| m.get(name).map_or(0, |c| c.0.load(Ordering::Relaxed))).unwrap_or(0)
    }
    fn reset(&self) {
        if let Ok(m) = self.0.lock() {
            m.values().for_each(|c| c.0.store(0, Ordering::Relaxed));
        }
    }
}

impl metrics::Recorder for Counts {
    fn describe_counter(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn describe_gauge(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn describe_histogram(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        metrics::Counter::from_arc(m.entry(key.name().to_owned()).or_default().clone())
    }
    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }
    fn register_histogram(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Histogram {
        metrics::Histogram::noop()
    }
}

/// Counts DynamoDB requests as they go to the wire, reads and writes apart.
#[derive(Debug, Default)]
struct Requests {
    reads: AtomicU64,
    writes: AtomicU64,
}

#[derive(Debug)]
struct Tap(Arc<Requests>);

impl Intercept for Tap {
    fn name(&self) -> &'static str {
        "request-counter"
    }
    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = ctx.request().headers().get("x-amz-target").unwrap_or("");
        let op = target.rsplit('.').next().unwrap_or("");
        let counter = match op {
            "GetItem" | "BatchGetItem" | "Query" | "Scan" => &self.0.reads,
            _ => &self.0.writes,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

// ---------------------------------------------------------------- the system under load

struct Bench {
    system: Arc<LocalSystem>,
    admin: Caller,
}

fn request(method: &str, path: &str, id: Option<String>, body: Value, caller: &Caller) -> Request {
    identity::request_as(caller, method, path, id, None, &body)
}

impl Bench {
    async fn call(&self, f: Function, path: &str, id: Option<String>, body: Value, caller: &Caller) -> (u16, Value) {
        let method = match f.trigger() {
            bundle::manifest::Trigger::Http { method, .. } => method,
            _ => "POST",
        };
        let Some(resp) = self.system.functions.http(f, request(method, path, id, body, caller)).await else {
            return (500, Value::Null);
        };
        (resp.status().as_u16(), serde_json::from_slice(resp.body().as_ref()).unwrap_or(Value::Null))
    }

    async fn customer(&self, n: usize, credit: i64) -> Result<Caller, Error> {
        let me = Caller::new(uuid::Uuid::new_v4(), false);
        let body = json!({"name": format!("Flash Buyer {n}"), "address": address()});
        let (status, c) = self.call(Function::CreateCustomer, "/customers", None, body, &me).await;
        if status != 201 {
            return Err(format!("registering a buyer: {status} {c}").into());
        }
        let id = me.subject().to_string();
        let limit = json!({"creditLimit": {"amount": credit, "currency": "USD"}});
        let path = format!("/customers/{id}/credit-limit");
        let (status, c) = self.call(Function::ChangeCreditLimit, &path, Some(id), limit, &self.admin).await;
        if status != 200 {
            return Err(format!("setting a credit limit: {status} {c}").into());
        }
        Ok(me)
    }

    async fn product(&self, stock: usize, shards: u32) -> Result<String, Error> {
        let body = json!({"name": "Flash Sale Item", "price": {"amount": 1_000, "currency": "USD"}, "weightGrams": 500,
                          "dimensionsCm": {"length": 10, "width": 10, "height": 10}, "stock": stock});
        let (status, p) = self.call(Function::CreateProduct, "/products", None, body, &self.admin).await;
        let id: String =
            p["id"].as_str().map(str::to_owned).ok_or_else(|| format!("adding the product: {status} {p}"))?;
        if shards > 1 {
            let path = format!("/products/{id}");
            let body = json!({ "shards": shards });
            let (status, p) = self.call(Function::UpdateProduct, &path, Some(id.clone()), body, &self.admin).await;
            if status != 200 || p["shards"] != json!(shards) {
                return Err(format!("sharding the product: {status} {p}").into());
            }
        }
        Ok(id)
    }

    fn order_body(product: &str) -> Value {
        json!({"lines": [{"productId": product, "quantity": 1}], "shippingAddress": address(), "shippingSpeed": "standard"})
    }
}

/// The books of a sale of `n` balance: half the orders approved, the rest refused, none pending;
/// the units held are the approved orders' (and the credit scenario's probe's), and so is the
/// credit. `orders`: (approved, refused, pending, total of the approved); `held`: (units, credit).
fn balanced(n: usize, probe_units: usize, orders: (usize, usize, usize, i64), held: (i64, i64)) -> Result<(), Error> {
    let ((approved, refused, pending, approved_total), (units, credit)) = (orders, held);
    let half = n / 2;
    if pending == 0
        && approved == half
        && refused == n - half
        && units == (approved + probe_units) as i64
        && credit == approved_total
    {
        return Ok(());
    }
    Err(format!(
        "N={n}: the books do not balance: {approved} approved, {refused} refused, {pending} pending; \
         {units} units and {credit} credit held for {approved_total} approved"
    )
    .into())
}

/// Buyers in the stock scenario (fewer when the sale has fewer orders).
const BUYERS: usize = 20;

/// The sale against a shop at a URL: the same orders and the same books, through its API.
async fn run_remote(shop: &Shop, scenario: Scenario, n: usize, shards: u32) -> Result<Run, Error> {
    let wait = Duration::from_secs(120);
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let admin = shop.token(&format!("flash-{tag}-admin@example.com"), true).await?;
    let half = n / 2;
    let admin_token = &admin;
    let buyer = |i: usize, credit: i64| {
        let email = format!("flash-{tag}-{i}@example.com");
        async move { shop.customer(admin_token, &email, &format!("Flash Buyer {i}"), credit).await }
    };
    let (product, buyers, probe_units) = match scenario {
        Scenario::Stock => {
            let mut buyers = vec![];
            for i in 0..BUYERS.min(n) {
                buyers.push(buyer(i, 1_000_000_000).await?);
            }
            let product = shop.product(&admin, "Flash Sale Item", 1_000, half as u64).await?;
            if shards > 1 {
                let body = json!({ "shards": shards });
                shop.call(Some(&admin), "PATCH", &format!("/products/{product}"), Some(&body))
                    .await?
                    .expect(200, "sharding the product's stock")?;
            }
            (product, buyers, 0)
        }
        Scenario::Credit => {
            let product = shop.product(&admin, "Flash Sale Item", 1_000, n as u64 + 1).await?;
            let (_, probe) = buyer(999_999, 1_000_000_000).await?;
            let placed = shop.order(&probe, &[(&product, 1)], wait).await?.expect(201, "the probe order")?;
            let (o, _) =
                shop.until(&probe, &format!("/orders/{}", placed.id()?), wait, |o| o["state"] != "PENDING").await?;
            let total = o["total"]["amount"].as_i64().ok_or(format!("the probe order was not priced: {o}"))?;
            (product, vec![buyer(0, total * half as i64).await?], 1)
        }
    };
    // The orders context hears of the product and the buyers through their events: the first
    // order of each buyer is retried until it does, the others are sent at once.
    let started = Instant::now();
    let mut placing = tokio::task::JoinSet::new();
    for i in 0..n {
        let (shop, token, product) = (shop.clone(), buyers[i % buyers.len()].1.clone(), product.clone());
        placing.spawn(async move { shop.order(&token, &[(&product, 1)], wait).await });
    }
    let mut ids = vec![];
    while let Some(placed) = placing.join_next().await {
        ids.push(placed??.expect(201, "placing an order")?.id()?);
    }
    let (mut approved, mut refused, mut pending, mut approved_total) = (0, 0, 0, 0);
    for id in &ids {
        let (o, _) = shop.until(&admin, &format!("/orders/{id}"), wait, |o| o["state"] != "PENDING").await?;
        match o["state"].as_str() {
            Some("APPROVED") => {
                approved += 1;
                approved_total += o["total"]["amount"].as_i64().unwrap_or(0);
            }
            Some("REJECTED") => {
                let want = match scenario {
                    Scenario::Stock => "OUT_OF_STOCK",
                    Scenario::Credit => "CREDIT_LIMIT_EXCEEDED",
                };
                if o["rejectionReason"] != want {
                    return Err(format!("order {id} ended {}, not {want}", o["rejectionReason"]).into());
                }
                refused += 1;
            }
            _ => pending += 1,
        }
    }
    let settled = started.elapsed();
    let held_units = shop.units_held(&admin, &product).await?;
    let mut held_credit = 0;
    for (id, _) in &buyers {
        held_credit += shop.credit_held(&admin, id).await?;
    }
    balanced(n, probe_units, (approved, refused, pending, approved_total), (held_units, held_credit))?;
    Ok(Run::counted_outside(n, settled, (approved, refused, pending)))
}

/// What one run found (`None`: not counted, against a URL).
struct Run {
    orders: usize,
    settled: Duration,
    approved: usize,
    refused: usize,
    pending: usize,
    conflicts: Option<u64>,
    holds_refused: Option<u64>,
    gave_up: Option<u64>,
    dead_lettered: Option<usize>,
    reads: u64,
    writes: u64,
}

impl Run {
    /// A run's outcomes, with nothing of what only the process counts.
    fn counted_outside(orders: usize, settled: Duration, (approved, refused, pending): (usize, usize, usize)) -> Run {
        let (conflicts, holds_refused, gave_up, dead_lettered) = (None, None, None, None);
        Run {
            orders,
            settled,
            approved,
            refused,
            pending,
            conflicts,
            holds_refused,
            gave_up,
            dead_lettered,
            reads: 0,
            writes: 0,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Scenario {
    Stock,
    Credit,
}

async fn system(template: &Template, dynamodb: Option<&str>, requests: &Arc<Requests>) -> Result<LocalSystem, Error> {
    let env = SystemEnvironment::shared();
    Ok(match dynamodb {
        None => LocalSystem::in_memory(template, env)?,
        Some(endpoint) => {
            let sdk = aws_adapters::local_sdk_config(endpoint).await;
            let conf = aws_sdk_dynamodb::config::Builder::from(&sdk).interceptor(Tap(requests.clone())).build();
            let clients = aws_adapters::Clients::new(&sdk).with_dynamo(aws_sdk_dynamodb::Client::from_conf(conf));
            let prefix = format!("flash-{}-", &uuid::Uuid::new_v4().simple().to_string()[..8]);
            LocalSystem::on_dynamodb(template, env, &clients, &aws_adapters::TableNames::with_prefix(&prefix)).await?
        }
    })
}

async fn run(
    template: &Template,
    dynamodb: Option<&str>,
    scenario: Scenario,
    n: usize,
    shards: u32,
    counts: &Counts,
) -> Result<Run, Error> {
    let requests = Arc::new(Requests::default());
    let system = Arc::new(system(template, dynamodb, &requests).await?);
    let bench = Bench { system: system.clone(), admin: Caller::new(uuid::Uuid::new_v4(), true) };
    let half = n / 2;

    // The catalogue and the buyers, replicated to orders before the sale opens.
    let (product, buyers) = match scenario {
        Scenario::Stock => {
            let mut buyers = vec![];
            for i in 0..BUYERS.min(n) {
                buyers.push(bench.customer(i, 1_000_000_000).await?);
            }
            (bench.product(half, shards).await?, buyers)
        }
        Scenario::Credit => {
            // One probe order prices the item; the buyer's credit then covers exactly half.
            let product = bench.product(n + 1, shards).await?;
            let probe = bench.customer(999_999, 1_000_000_000).await?;
            system.relay_until_quiet().await;
            let (_, o) = bench.call(Function::CreateOrder, "/orders", None, Bench::order_body(&product), &probe).await;
            system.relay_until_quiet().await;
            let id = o["id"].as_str().unwrap_or_default().to_owned();
            let (_, o) = bench.call(Function::GetOrder, "/orders/x", Some(id), Value::Null, &probe).await;
            let total = o["total"]["amount"].as_i64().ok_or(format!("the probe order was not priced: {o}"))?;
            (product, vec![bench.customer(0, total * half as i64).await?])
        }
    };
    system.relay_until_quiet().await;
    counts.reset();
    let (reads0, writes0) = (requests.reads.load(Ordering::Relaxed), requests.writes.load(Ordering::Relaxed));

    // The sale: every order created at once, then every saga run to its end.
    let started = Instant::now();
    let mut placing = tokio::task::JoinSet::new();
    for i in 0..n {
        let (bench, buyer) = (Bench { system: system.clone(), admin: bench.admin }, buyers[i % buyers.len()]);
        let body = Bench::order_body(&product);
        placing.spawn(async move { bench.call(Function::CreateOrder, "/orders", None, body, &buyer).await });
    }
    let mut ids = vec![];
    while let Some(placed) = placing.join_next().await {
        let (status, o) = placed?;
        let id = o["id"].as_str().and_then(|s| s.parse::<OrderId>().ok());
        ids.push(id.ok_or_else(|| format!("an order was not placed: {status} {o}"))?);
    }
    let relayed = system.relay_until_quiet().await;
    let settled = started.elapsed();
    let (reads, writes) =
        (requests.reads.load(Ordering::Relaxed) - reads0, requests.writes.load(Ordering::Relaxed) - writes0);

    // The books.
    let (mut approved, mut refused, mut pending, mut approved_total) = (0, 0, 0, 0);
    for id in &ids {
        let o = system.stores.orders.get(*id).await?.ok_or("a placed order vanished")?.value;
        match o.status() {
            OrderStatus::Approved => {
                approved += 1;
                approved_total += o.pricing().map_or(0, |p| p.total.amount());
            }
            OrderStatus::Rejected => {
                // Told at once why: sold out, or over the limit; never timed out.
                let want = match scenario {
                    Scenario::Stock => RejectionReason::OutOfStock,
                    Scenario::Credit => RejectionReason::CreditLimitExceeded,
                };
                if o.state() != (OrderState::Rejected { reason: want }) {
                    return Err(format!("order {id} ended {:?}, not {want:?}", o.state()).into());
                }
                refused += 1
            }
            _ => pending += 1,
        }
    }
    let product_id: ProductId = product.parse()?;
    let stored = system.stores.products.get(product_id).await?.ok_or("the product vanished")?.value;
    let held_units = stored.reserved();
    if let Some(s) = stored.stock_shards().iter().find(|s| s.reserved() > s.on_hand()) {
        return Err(format!("N={n}: a shard is oversold: {} reserved of {}", s.reserved(), s.on_hand()).into());
    }
    let mut held_credit = 0;
    for b in &buyers {
        let id = CustomerId::from_uuid(b.subject());
        held_credit +=
            system.stores.customers.get(id).await?.ok_or("a buyer vanished")?.value.reserved_credit().amount();
    }
    // The credit scenario's probe order holds one unit of its own.
    let probe_units = usize::from(scenario == Scenario::Credit);
    balanced(n, probe_units, (approved, refused, pending, approved_total), (i64::from(held_units), held_credit))?;
    Ok(Run {
        conflicts: Some(counts.get(app::measure::VERSION_CONFLICTS)),
        holds_refused: Some(counts.get(app::measure::HOLDS_REFUSED)),
        gave_up: Some(counts.get(app::measure::STEP_GAVE_UP)),
        dead_lettered: Some(relayed.dead_lettered),
        reads,
        writes,
        ..Run::counted_outside(n, settled, (approved, refused, pending))
    })
}

/// A flash sale through the runner's saga, measured; the books are checked after every run.
#[derive(clap::Parser)]
#[command(
    name = "flash-sale",
    after_help = "Examples:\n  cargo run -p load --release --bin flash-sale -- --orders 100,300,1000\n  \
                  cargo run -p load --release --bin flash-sale -- --orders 200 --scenario credit \\\n    \
                  --dynamodb http://127.0.0.1:4566    # a ministack there\n  \
                  cargo run -p load --release --bin flash-sale -- --orders 50 \\\n    \
                  --url https://abc123.execute-api.eu-west-1.amazonaws.com --token-cmd './get-token.sh'"
)]
struct Args {
    /// The sizes of the sale, one run on a fresh system each.
    #[arg(long, value_name = "N,...", value_delimiter = ',', default_value = "100,300,1000")]
    orders: Vec<usize>,
    /// What runs out: the product's stock (N/2 units), or one buyer's credit (N/2 orders' worth).
    #[arg(long, value_enum, default_value_t = Scenario::Stock)]
    scenario: Scenario,
    /// Keep the state in DynamoDB at URL (e.g. a ministack), in tables of a fresh prefix, instead of
    /// in memory.
    #[arg(long, value_name = "URL", conflicts_with_all = ["url", "local"])]
    dynamodb: Option<String>,
    /// Spread the product's stock over K items (1 to 64; 1 is an ordinary product).
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    shards: u32,
    #[command(flatten)]
    target: Target,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Error> {
    let Args { orders: sizes, scenario, dynamodb, shards, target } = clap::Parser::parse();
    let remote = target.shop()?;
    let counts: &'static Counts = Box::leak(Box::default());
    metrics::set_global_recorder(counts).map_err(|e| e.to_string())?;
    let template = Template::load(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml"))?;
    let store = match (&remote, dynamodb.as_deref()) {
        (Some(shop), _) => format!("at {}", shop.base()),
        (None, Some(e)) => format!("DynamoDB at {e}"),
        (None, None) => "in memory".to_owned(),
    };
    let what = match scenario {
        Scenario::Stock => "N orders of 1 unit for one product with N/2 units",
        Scenario::Credit => "N orders of one buyer with credit for N/2",
    };
    println!("flash sale, {what} in {shards} stock shard(s), {store}:");
    println!(
        "| N | settled in | per order | x N (vs previous) | x time | approved | refused | pending | version conflicts | holds refused | steps gave up | dead letters | DynamoDB reads/order | writes/order |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut previous: Option<Run> = None;
    for n in sizes {
        let r = match &remote {
            Some(shop) => run_remote(shop, scenario, n, shards).await?,
            None => run(&template, dynamodb.as_deref(), scenario, n, shards, counts).await?,
        };
        let (xn, xt) = match &previous {
            Some(p) => (
                format!("{:.2}", r.orders as f64 / p.orders as f64),
                format!("{:.2}", r.settled.as_secs_f64() / p.settled.as_secs_f64()),
            ),
            None => ("-".to_owned(), "-".to_owned()),
        };
        let per = |v: u64| if dynamodb.is_some() { format!("{:.1}", v as f64 / n as f64) } else { "-".to_owned() };
        let count = |v: Option<u64>| v.map_or("-".to_owned(), |v| v.to_string());
        println!(
            "| {} | {:.2} s | {:.2} ms | {xn} | {xt} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.orders,
            r.settled.as_secs_f64(),
            r.settled.as_secs_f64() * 1e3 / n as f64,
            r.approved,
            r.refused,
            r.pending,
            count(r.conflicts),
            count(r.holds_refused),
            count(r.gave_up),
            count(r.dead_lettered.map(|d| d as u64)),
            per(r.reads),
            per(r.writes),
        );
        previous = Some(r);
    }
    println!("(books checked after every run: no order PENDING, held = what the APPROVED orders hold)");
    Ok(())
}
