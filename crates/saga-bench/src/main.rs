//! `cargo run -p saga-bench --release [-- --orders N]`: what a createOrder saga costs in the offline
//! runner, measured rather than asserted. It drives the very handlers and relay the runner uses,
//! in-process and in memory, and reports:
//!
//! - latency: one order at a time, from the create request to APPROVED (p50, p95, p99, max);
//! - throughput: N orders created, then every saga run to completion by the relay;
//! - memory: the process's peak resident set (VmHWM).
//!
//! Not part of `lambda-bench`, which measures the Lambda binaries: that crate must not depend on
//! the runner, whose `openapi` feature of the bundle would then be built into the very function
//! binaries it measures.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::access::Caller;
use app::SystemEnvironment;
use bundle::Function;
use lambda_http::{Body, Request};
use local_runner::{identity, LocalSystem};
use sam_template::Template;
use serde_json::{json, Value};

/// The bench's one buyer and its operator, as the authorizer would have verified them.
fn buyer() -> &'static Caller {
    static BUYER: std::sync::OnceLock<Caller> = std::sync::OnceLock::new();
    BUYER.get_or_init(|| Caller::new(uuid::Uuid::new_v4(), false))
}

fn admin() -> &'static Caller {
    static ADMIN: std::sync::OnceLock<Caller> = std::sync::OnceLock::new();
    ADMIN.get_or_init(|| Caller::new(uuid::Uuid::new_v4(), true))
}

fn request_as(caller: &Caller, method: &str, path: &str, body: Option<Value>) -> Request {
    let b = lambda_http::http::Request::builder().method(method).uri(path).header("content-type", "application/json");
    let body = body.map_or(Body::Empty, |v| Body::from(v.to_string()));
    identity::with_claims(b.body(body).unwrap_or_default(), identity::claims_of(caller))
}

fn request(method: &str, path: &str, body: Option<Value>) -> Request {
    request_as(buyer(), method, path, body)
}

async fn call(system: &LocalSystem, function: Function, req: Request) -> Value {
    let resp = system.functions.http(function, req).await.unwrap_or_default();
    serde_json::from_slice(resp.body().as_ref()).unwrap_or(Value::Null)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

/// What a createOrder saga costs in the offline runner: latency, throughput, peak memory.
#[derive(clap::Parser)]
#[command(name = "saga-bench", after_help = "Example:\n  cargo run -p saga-bench --release -- --orders 2000")]
struct Args {
    /// Orders for each measurement: one at a time for the latency, then all at once.
    #[arg(long, value_name = "N", default_value_t = 2_000)]
    orders: usize,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Args { orders } = clap::Parser::parse();
    let template = Template::load(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml"))?;
    let system = Arc::new(LocalSystem::in_memory(&template, SystemEnvironment::shared())?);
    let address =
        json!({"street": "1 Main St", "city": "Dayton", "region": "OH", "postalCode": "45402", "country": "US"});
    let customer = call(
        &system,
        Function::CreateCustomer,
        request("POST", "/customers", Some(json!({"name": "Bench", "address": address}))),
    )
    .await["id"]
        .clone();
    let id = customer.as_str().unwrap_or_default().to_owned();
    call(
        &system,
        Function::ChangeCreditLimit,
        request_as(
            admin(),
            "PUT",
            "/customers/x/credit-limit",
            Some(json!({"creditLimit": {"amount": 90_000_000_000_000i64, "currency": "USD"}})),
        )
        .with_id(&id),
    )
    .await;
    let product = call(
        &system,
        Function::CreateProduct,
        request_as(
            admin(),
            "POST",
            "/products",
            Some(json!({"name": "Bench", "price": {"amount": 100, "currency": "USD"},
            "weightGrams": 100, "dimensionsCm": {"length": 1, "width": 1, "height": 1}, "stock": 1_000_000})),
        ),
    )
    .await["id"]
        .clone();
    system.relay_until_quiet().await;
    let order = json!({"customerId": customer, "lines": [{"productId": product, "quantity": 1}],
                       "shippingAddress": address, "shippingSpeed": "standard"});

    // Latency: one saga at a time.
    let mut latencies = Vec::with_capacity(orders);
    for _ in 0..orders {
        let started = Instant::now();
        let created = call(&system, Function::CreateOrder, request("POST", "/orders", Some(order.clone()))).await;
        system.relay_until_quiet().await;
        let id = created["id"].as_str().unwrap_or_default();
        let o = call(&system, Function::GetOrder, request("GET", "/orders/x", None).with_id(id)).await;
        if o["state"] != "APPROVED" {
            return Err(format!("order {id} ended {}", o["state"]).into());
        }
        latencies.push(started.elapsed());
    }
    latencies.sort();

    // Throughput: many sagas in flight at once.
    let started = Instant::now();
    for _ in 0..orders {
        call(&system, Function::CreateOrder, request("POST", "/orders", Some(order.clone()))).await;
    }
    let created = started.elapsed();
    let relay = system.relay_until_quiet().await;
    let total = started.elapsed();

    println!("createOrder saga in the offline runner (in memory, {orders} orders, one process):");
    println!("  latency, create → APPROVED, one at a time");
    for (name, p) in [("p50", 0.50), ("p95", 0.95), ("p99", 0.99), ("max", 1.0)] {
        println!("    {name:<4} {:>9.3} ms", percentile(&latencies, p).as_secs_f64() * 1e3);
    }
    println!("  throughput, {orders} created then relayed together");
    println!("    created   {:>9.0} orders/s", orders as f64 / created.as_secs_f64());
    println!(
        "    completed {:>9.0} sagas/s ({} events published, {} step deliveries)",
        orders as f64 / total.as_secs_f64(),
        relay.published,
        relay.deliveries
    );
    if let Some(kib) = peak_rss_kib() {
        println!(
            "  peak resident memory {:.1} MiB (holding {} orders and their outbox)",
            kib as f64 / 1024.0,
            2 * orders
        );
    }
    Ok(())
}

trait WithId {
    fn with_id(self, id: &str) -> Self;
}

impl WithId for Request {
    fn with_id(self, id: &str) -> Self {
        use lambda_http::RequestExt;
        self.with_path_parameters(std::collections::HashMap::from([("id".to_owned(), id.to_owned())]))
    }
}
