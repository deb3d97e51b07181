//! `cargo run -p load --release -- [--requests 20000] [--seconds 60] [--concurrency 32]
//! [--customers 200] [--hot 3] [--dynamodb http://127.0.0.1:PORT | --url URL --token-cmd CMD]
//! [--json PATH]`: the shop under a mixed load, measured rather than asserted.
//!
//! It serves the whole system on a free 127.0.0.1 port (in memory, or on DynamoDB tables at
//! `--dynamodb`, a ministack), or drives a deployed stack at `--url` with tokens from `--token-cmd`
//! (see the crate's library: [`load::Target`]), registers many customers and a catalogue with a few hot products
//! of little stock, then `--concurrency` clients, each on its own keep-alive connection with its
//! customer's bearer token, send a mix until `--requests` are sent or `--seconds` have passed:
//! browse the catalogue (35 %), place an order (25 %, half of them for a hot product), read one
//! of their orders (20 %), their history (12 %), cancel one (8 %). It reports requests/s,
//! p50/p99 latency per operation and in all, and the error rate (5xx and transport failures; a
//! 4xx the API documents for the case, such as cancelling an order still PENDING, is counted
//! apart). Then it lets every saga settle and checks the books: no order PENDING, each product's
//! reserved stock and each customer's reserved credit exactly what their APPROVED orders hold
//! (against a URL, read through the API as an administrator; the stack should take no other
//! orders for the products meanwhile, which the load's own new products ensure).
//! Books that do not balance, or any error, make it exit with a failure.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::SystemEnvironment;
use bytes::Bytes;
use domain::{CustomerId, OrderId, OrderStatus, ProductId};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use load::{address, Answer, Error, Target};
use local_runner::{server, LocalSystem};
use sam_template::Template;
use serde_json::{json, Value};

/// The runner under a mixed load from many customers, measured; the books are checked afterwards.
#[derive(clap::Parser)]
#[command(
    name = "load",
    after_help = "Examples:\n  cargo run -p load --release -- --requests 20000 --customers 200 --concurrency 32\n  \
                  cargo run -p load --release -- --dynamodb http://127.0.0.1:4566 --requests 3000 \\\n    \
                  --customers 100 --concurrency 16 --json load.json    # a ministack there\n  \
                  cargo run -p load --release -- --url https://abc123.execute-api.eu-west-1.amazonaws.com \\\n    \
                  --token-cmd './get-token.sh' --requests 2000 --customers 20 --concurrency 8    # a deployed stack"
)]
struct Options {
    /// Stop after this many requests.
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    requests: usize,
    /// Stop after this many seconds, whichever comes first.
    #[arg(long, value_name = "S", default_value_t = 60)]
    seconds: u64,
    /// Clients sending at once, each on its own connection as its own customer.
    #[arg(long, value_name = "C", default_value_t = 32)]
    concurrency: usize,
    /// Customers registered (at least --concurrency).
    #[arg(long, value_name = "N", default_value_t = 200)]
    customers: usize,
    /// Hot products, with 40 units each, that half of the orders go to.
    #[arg(long, value_name = "N", default_value_t = 3)]
    hot: usize,
    /// Keep the state in DynamoDB at URL (e.g. a ministack), in tables of a fresh prefix, instead of
    /// in memory.
    #[arg(long, value_name = "URL", conflicts_with_all = ["url", "local"])]
    dynamodb: Option<String>,
    #[command(flatten)]
    target: Target,
    /// Also write the report as JSON to PATH (what benchmarks-report reads).
    #[arg(long, value_name = "PATH")]
    json: Option<String>,
}

fn options() -> Options {
    use clap::{CommandFactory, Parser};
    let o = Options::parse();
    if o.concurrency == 0 || o.customers < o.concurrency || o.hot == 0 {
        Options::command()
            .error(
                clap::error::ErrorKind::ValueValidation,
                "--concurrency must be at least 1, --customers at least --concurrency, --hot at least 1",
            )
            .exit();
    }
    o
}

// ---------------------------------------------------------------- one client

/// One caller's way to the shop: a keep-alive HTTP/1 connection to the in-process runner, or the
/// shop at a URL (its pool), with the caller's token.
enum Client {
    Local { send: http1::SendRequest<Full<Bytes>>, token: String },
    Remote { shop: load::Shop, token: String },
}

impl Client {
    async fn connect(addr: std::net::SocketAddr, token: String) -> Result<Client, Error> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        let (send, conn) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(Client::Local { send, token })
    }

    async fn call(&mut self, method: &str, path: &str, body: Option<&Value>) -> Result<Answer, Error> {
        let (send, token) = match self {
            Client::Remote { shop, token } => return shop.call(Some(token), method, path, body).await,
            Client::Local { send, token } => (send, token),
        };
        send.ready().await?;
        let req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Full::new(body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()))))?;
        let resp = send.send_request(req).await?;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await?.to_bytes();
        Ok(Answer { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) })
    }
}

// ---------------------------------------------------------------- what the load measured

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Browse,
    Order,
    GetOrder,
    History,
    Cancel,
}

impl Op {
    const ALL: [Op; 5] = [Op::Browse, Op::Order, Op::GetOrder, Op::History, Op::Cancel];

    fn name(self) -> &'static str {
        match self {
            Op::Browse => "browse the catalogue",
            Op::Order => "place an order",
            Op::GetOrder => "get an order",
            Op::History => "order history",
            Op::Cancel => "cancel an order",
        }
    }

    /// The mix: weights out of 100.
    fn pick(n: u32) -> Op {
        match n % 100 {
            0..=34 => Op::Browse,
            35..=59 => Op::Order,
            60..=79 => Op::GetOrder,
            80..=91 => Op::History,
            _ => Op::Cancel,
        }
    }

    /// The 4xx answers the API documents for this operation under this load (an order not yet
    /// cancellable, an order racing its own replication): refusals, not errors.
    fn expected_refusal(self, status: u16) -> bool {
        match self {
            Op::Cancel => status == 409,
            Op::Order => status == 422,
            _ => false,
        }
    }
}

#[derive(Default)]
struct Tally {
    latencies: BTreeMap<Op, Vec<Duration>>,
    refused: BTreeMap<Op, usize>,
    errors: Vec<String>,
    /// (order id, customer id) of every order placed.
    orders: Vec<(String, String)>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

// ---------------------------------------------------------------- the run

/// What the load drives: the system served in this process, or a shop at a URL.
enum Shop {
    InProcess { addr: std::net::SocketAddr, system: Arc<LocalSystem> },
    Remote { shop: load::Shop, run: String },
}

impl Shop {
    /// A client for a new user (`n`-th of this run): an administrator, or a customer to register.
    async fn client(&self, n: usize, admin: bool) -> Result<Client, Error> {
        match self {
            Shop::InProcess { addr, system } => {
                let groups = if admin { vec!["admin".to_owned()] } else { vec![] };
                Client::connect(*addr, system.identity.token(uuid::Uuid::new_v4(), &groups)?).await
            }
            Shop::Remote { shop, run } => {
                let role = if admin { "admin" } else { "buyer" };
                let token = shop.token(&format!("load-{run}-{role}-{n}@example.com"), admin).await?;
                Ok(Client::Remote { shop: shop.clone(), token })
            }
        }
    }

    /// Lets the events of what was just done reach every context. In process: the relay until
    /// quiet. At a URL the stack's own relay runs; an order that still races its customer's or
    /// product's replication is refused with a 422 and counted as such.
    async fn settle(&self) {
        if let Shop::InProcess { system, .. } = self {
            system.relay_until_quiet().await;
        }
    }
}

/// The catalogue (a few hot products with little stock, more with plenty) and the customers
/// (most with ample credit, one in five with room for about two orders), replicated to orders.
async fn prepare(shop: &Shop, o: &Options) -> Result<(Vec<String>, Vec<String>, Vec<(Client, String)>), Error> {
    let mut admin = shop.client(0, true).await?;
    let add = |i: usize, stock: u32, price: i64| {
        json!({"name": format!("Item {i:03}"), "price": {"amount": price, "currency": "USD"}, "weightGrams": 400,
               "dimensionsCm": {"length": 10, "width": 10, "height": 10}, "stock": stock})
    };
    let (mut hot, mut cold) = (vec![], vec![]);
    for i in 0..o.hot + 20 {
        let is_hot = i < o.hot;
        let body = add(i, if is_hot { 40 } else { 100_000 }, 1_000 + 37 * i as i64);
        let a = admin.call("POST", "/products", Some(&body)).await?;
        let id = a.body["id"].as_str().ok_or_else(|| format!("adding a product: {} {}", a.status, a.body))?;
        if is_hot {
            hot.push(id.to_owned())
        } else {
            cold.push(id.to_owned())
        }
    }
    let mut customers = vec![];
    for i in 0..o.customers {
        let mut c = shop.client(i, false).await?;
        let body = json!({"name": format!("Buyer {i}"), "address": address()});
        let sub = c.call("POST", "/customers", Some(&body)).await?.expect(201, "registering a customer")?.id()?;
        let limit = if i % 5 == 0 { 5_000 } else { 100_000_000 };
        let body = json!({"creditLimit": {"amount": limit, "currency": "USD"}});
        let a = admin.call("PUT", &format!("/customers/{sub}/credit-limit"), Some(&body)).await?;
        if a.status != 200 {
            return Err(format!("setting a credit limit: {} {}", a.status, a.body).into());
        }
        customers.push((c, sub));
    }
    shop.settle().await;
    Ok((hot, cold, customers))
}

/// One client's share of the load: its customer, their orders, until the run is over.
async fn worker(
    mut client: Client,
    me: String,
    hot: Arc<Vec<String>>,
    cold: Arc<Vec<String>>,
    budget: Arc<std::sync::atomic::AtomicUsize>,
    deadline: Instant,
    tally: Arc<Mutex<Tally>>,
) {
    let mut mine: Vec<String> = vec![];
    let mut local = Tally::default();
    let mut rng = fastrand::Rng::with_seed(me.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))));
    while Instant::now() < deadline
        && budget
            .fetch_update(std::sync::atomic::Ordering::Relaxed, std::sync::atomic::Ordering::Relaxed, |b| {
                b.checked_sub(1)
            })
            .is_ok()
    {
        let mut op = Op::pick(rng.u32(..));
        if mine.is_empty() && matches!(op, Op::GetOrder | Op::Cancel) {
            op = Op::Order;
        }
        let started = Instant::now();
        let answer = match op {
            Op::Browse if rng.bool() => client.call("GET", "/products?limit=20", None).await,
            Op::Browse => client.call("GET", &format!("/products/{}", cold[rng.usize(..cold.len())]), None).await,
            Op::Order => {
                let product = if rng.bool() { &hot[rng.usize(..hot.len())] } else { &cold[rng.usize(..cold.len())] };
                let body = json!({"lines": [{"productId": product, "quantity": rng.i64(1..=3)}],
                                  "shippingAddress": address(), "shippingSpeed": "standard"});
                client.call("POST", "/orders", Some(&body)).await
            }
            Op::GetOrder => client.call("GET", &format!("/orders/{}", mine[rng.usize(..mine.len())]), None).await,
            Op::History => client.call("GET", &format!("/customers/{me}/orders?limit=10"), None).await,
            Op::Cancel => client.call("POST", &format!("/orders/{}/cancel", mine[rng.usize(..mine.len())]), None).await,
        };
        let took = started.elapsed();
        match answer {
            Ok(a) if a.status < 300 => {
                local.latencies.entry(op).or_default().push(took);
                if op == Op::Order {
                    match a.body["id"].as_str() {
                        Some(id) => {
                            mine.push(id.to_owned());
                            local.orders.push((id.to_owned(), me.clone()));
                        }
                        None => local.errors.push(format!("an order answered without an id: {}", a.body)),
                    }
                }
            }
            Ok(a) if op.expected_refusal(a.status) => {
                local.latencies.entry(op).or_default().push(took);
                *local.refused.entry(op).or_default() += 1;
            }
            Ok(a) => local.errors.push(format!("{}: {} {}", op.name(), a.status, a.body)),
            Err(e) => local.errors.push(format!("{}: {e}", op.name())),
        }
    }
    if let Ok(mut t) = tally.lock() {
        for (op, l) in local.latencies {
            t.latencies.entry(op).or_default().extend(l);
        }
        for (op, n) in local.refused {
            *t.refused.entry(op).or_default() += n;
        }
        t.errors.extend(local.errors);
        t.orders.extend(local.orders);
    }
}

/// One placed order as the books see it.
struct Placed {
    customer: String,
    state: &'static str,
    /// (product, units) of each line.
    lines: Vec<(String, i64)>,
    total: i64,
}

impl Shop {
    /// Every placed order once its saga settled (at a URL: read until not PENDING, for up to a
    /// minute each), as the books see it.
    async fn placed(&self, admin: &str, orders: &[(String, String)]) -> Result<Vec<Placed>, Error> {
        let mut out = vec![];
        for (id, customer) in orders {
            let customer = customer.clone();
            out.push(match self {
                Shop::InProcess { system, .. } => {
                    let o =
                        system.stores.orders.get(id.parse::<OrderId>()?).await?.ok_or("a placed order vanished")?.value;
                    let state = match o.status() {
                        OrderStatus::Pending => "PENDING",
                        OrderStatus::Approved => "APPROVED",
                        OrderStatus::Rejected => "REJECTED",
                        OrderStatus::Cancelled => "CANCELLED",
                    };
                    let lines =
                        o.lines().iter().map(|l| (l.product_id.to_string(), i64::from(l.quantity.get()))).collect();
                    Placed { customer, state, lines, total: o.pricing().map_or(0, |p| p.total.amount()) }
                }
                Shop::Remote { shop, .. } => {
                    let path = format!("/orders/{id}");
                    let (o, _) = shop.until(admin, &path, Duration::from_secs(60), |o| o["state"] != "PENDING").await?;
                    let state = ["APPROVED", "REJECTED", "CANCELLED"]
                        .into_iter()
                        .find(|s| o["state"] == *s)
                        .unwrap_or("PENDING");
                    let lines = o["lines"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|l| {
                            (
                                l["productId"].as_str().unwrap_or_default().to_owned(),
                                l["quantity"].as_i64().unwrap_or(0),
                            )
                        })
                        .collect();
                    Placed { customer, state, lines, total: o["total"]["amount"].as_i64().unwrap_or(0) }
                }
            });
        }
        Ok(out)
    }

    /// A new administrator's token, for reading the books (once per run: at a URL, a new user).
    async fn admin_token(&self) -> Result<String, Error> {
        match self {
            Shop::Remote { shop, run } => shop.token(&format!("load-{run}-books@example.com"), true).await,
            Shop::InProcess { system, .. } => Ok(system.identity.token(uuid::Uuid::new_v4(), &["admin".to_owned()])?),
        }
    }

    /// Units a product holds for orders.
    async fn units_held(&self, admin: &str, product: &str) -> Result<i64, Error> {
        match self {
            Shop::InProcess { system, .. } => {
                let p = system.stores.products.get(product.parse::<ProductId>()?).await?.ok_or("a product vanished")?;
                Ok(i64::from(p.value.reserved()))
            }
            Shop::Remote { shop, .. } => shop.units_held(admin, product).await,
        }
    }

    /// Credit a customer holds for orders.
    async fn credit_held(&self, admin: &str, customer: &str) -> Result<i64, Error> {
        match self {
            Shop::InProcess { system, .. } => {
                let id = CustomerId::from_uuid(customer.parse()?);
                Ok(system
                    .stores
                    .customers
                    .get(id)
                    .await?
                    .ok_or("a customer vanished")?
                    .value
                    .reserved_credit()
                    .amount())
            }
            Shop::Remote { shop, .. } => shop.credit_held(admin, customer).await,
        }
    }
}

/// The books after every saga settled: no order PENDING; what the products and customers hold
/// is what the APPROVED orders hold. The discrepancies, if any.
async fn books(
    shop: &Shop,
    orders: &[(String, String)],
) -> Result<(BTreeMap<&'static str, usize>, Vec<String>), Error> {
    let mut units: BTreeMap<String, i64> = BTreeMap::new();
    let mut credit: BTreeMap<String, i64> = BTreeMap::new();
    let mut states: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut wrong = vec![];
    let admin = shop.admin_token().await?;
    for (o, (id, _)) in shop.placed(&admin, orders).await?.into_iter().zip(orders) {
        *states.entry(o.state).or_default() += 1;
        let approved = o.state == "APPROVED";
        *credit.entry(o.customer).or_default() += if approved { o.total } else { 0 };
        for (product, n) in o.lines {
            *units.entry(product).or_default() += if approved { n } else { 0 };
        }
        if o.state == "PENDING" {
            wrong.push(format!("order {id} is still PENDING"));
        }
    }
    for (id, want) in &units {
        let held = shop.units_held(&admin, id).await?;
        if held != *want {
            wrong.push(format!("product {id} holds {held} units, its APPROVED orders {want}"));
        }
    }
    for (id, want) in &credit {
        let held = shop.credit_held(&admin, id).await?;
        if held != *want {
            wrong.push(format!("customer {id} holds {held} credit, their APPROVED orders {want}"));
        }
    }
    Ok((states, wrong))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Error> {
    let o = options();
    let (stop, rx) = tokio::sync::watch::channel(false);
    let (shop, store) = match o.target.shop()? {
        Some(remote) => {
            let store = remote.base().to_owned();
            (Shop::Remote { shop: remote, run: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned() }, store)
        }
        None => {
            let template =
                Template::load(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml"))?;
            let prefix = format!("load-{}-", &uuid::Uuid::new_v4().simple().to_string()[..8]);
            let system = Arc::new(
                LocalSystem::at(&template, SystemEnvironment::shared(), o.dynamodb.as_deref(), &prefix).await?,
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
                let _ = rx.wait_for(|s| *s).await;
            };
            tokio::spawn(server::serve(listener, system.clone(), stopped(rx.clone())));
            tokio::spawn(system.clone().run_background(Duration::from_secs(3600), stopped(rx)));
            let store = o.dynamodb.as_deref().map_or("in memory".to_owned(), |e| format!("DynamoDB at {e}"));
            (Shop::InProcess { addr, system }, format!("the runner, {store}"))
        }
    };
    eprintln!("load: preparing {} customers and {} products ({store})", o.customers, o.hot + 20);
    let (hot, cold, customers) = prepare(&shop, &o).await?;

    let (hot, cold) = (Arc::new(hot), Arc::new(cold));
    let budget = Arc::new(std::sync::atomic::AtomicUsize::new(o.requests));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(o.seconds);
    let mut workers = tokio::task::JoinSet::new();
    for (client, me) in customers.into_iter().take(o.concurrency) {
        workers.spawn(worker(client, me, hot.clone(), cold.clone(), budget.clone(), deadline, tally.clone()));
    }
    while workers.join_next().await.is_some() {}
    let elapsed = started.elapsed();
    shop.settle().await;
    // A saga step that met a conflict is retried by the relay; let the last ones land.
    tokio::time::sleep(Duration::from_millis(200)).await;
    shop.settle().await;

    let tally = std::mem::take(&mut *tally.lock().map_err(|_| "a worker panicked")?);
    let (states, wrong) = books(&shop, &tally.orders).await?;
    let _ = stop.send(true);
    let mut all: Vec<Duration> = tally.latencies.values().flatten().copied().collect();
    all.sort_unstable();
    let sent = all.len() + tally.errors.len();
    let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1e3);
    let mut rows = vec![];
    println!("load on {store}: {sent} requests from {} clients in {:.1} s", o.concurrency, elapsed.as_secs_f64());
    println!("| operation | requests | refused (documented 4xx) | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|");
    for op in Op::ALL {
        let mut l = tally.latencies.get(&op).cloned().unwrap_or_default();
        l.sort_unstable();
        let refused = tally.refused.get(&op).copied().unwrap_or(0);
        println!(
            "| {} | {} | {refused} | {} | {} |",
            op.name(),
            l.len(),
            ms(percentile(&l, 0.5)),
            ms(percentile(&l, 0.99))
        );
        rows.push(json!({"operation": op.name(), "requests": l.len(), "refused": refused,
            "p50Ms": percentile(&l, 0.5).as_secs_f64() * 1e3, "p99Ms": percentile(&l, 0.99).as_secs_f64() * 1e3}));
    }
    let rps = sent as f64 / elapsed.as_secs_f64();
    let error_rate = if sent == 0 { 0.0 } else { tally.errors.len() as f64 / sent as f64 };
    println!(
        "| all | {sent} | {} | {} | {} |",
        tally.refused.values().sum::<usize>(),
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.99))
    );
    println!("{rps:.0} requests/s; error rate {:.3} % ({} errors)", error_rate * 100.0, tally.errors.len());
    println!("orders: {states:?}; books: {}", if wrong.is_empty() { "balanced" } else { "NOT balanced" });
    if let Some(path) = &o.json {
        let report = json!({
            "store": match (&shop, &o.dynamodb) {
                (Shop::Remote { .. }, _) => "url",
                (_, Some(_)) => "dynamodb",
                _ => "memory",
            },
            "requests": sent, "seconds": elapsed.as_secs_f64(), "clients": o.concurrency,
            "customers": o.customers, "hotProducts": o.hot, "requestsPerSecond": rps,
            "p50Ms": percentile(&all, 0.5).as_secs_f64() * 1e3, "p99Ms": percentile(&all, 0.99).as_secs_f64() * 1e3,
            "errors": tally.errors.len(), "errorRate": error_rate, "operations": rows,
            "orders": states, "booksBalanced": wrong.is_empty(),
        });
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
    }
    for e in tally.errors.iter().take(10) {
        eprintln!("error: {e}");
    }
    for w in wrong.iter().take(10) {
        eprintln!("books: {w}");
    }
    if !tally.errors.is_empty() || !wrong.is_empty() {
        return Err(format!("{} errors; {} discrepancies in the books", tally.errors.len(), wrong.len()).into());
    }
    Ok(())
}
