//! What docs/LOCAL.md's "One function, locally, with its sample event" recipe does not show, checked
//! the recipe's way. The recipe itself (`scripts/local-aws.sh`, `cargo lambda watch --env-file`,
//! get-order's PENDING order, reserve-stock's `applied`) runs as written in the test command's
//! docs step (scripts/run-docs.py); this test adds quote-shipping's answers against the handler in
//! this process, create-order's 201, the order it stores and its idempotent replay, and
//! reserve-stock's holds read back from DynamoDB and a redelivery that changes nothing.
//!
//! As in the recipe, `local-aws` provisions the (test) ministack and writes the environment file;
//! `cargo lambda watch` serves the Lambda Runtime API; `cargo lambda invoke FUNCTION --data-file
//! events/FILE.json` sends the sample event; the function is the real binary, started with exactly
//! the environment in that file plus what `cargo lambda watch` adds for a function it starts.
//!
//! One step differs from the recipe: the binary is the one `sam build` made
//! (`.aws-sam/build/<LogicalId>/bootstrap`, from scripts/sam-build.sh, which ./scripts/test.sh runs
//! before the tests), started by this test next to `cargo lambda watch --only-lambda-apis`, instead
//! of `cargo lambda watch` starting `cargo run --bin FUNCTION`. That `cargo run` resolves each
//! function package's features on its own (tokio without `signal`, hyper without `server`), so it
//! would compile tokio, hyper, the AWS SDK and our crates a second time, then link each function:
//! minutes of CI for the same code. Emulator, invoke command, event files, environment file and
//! function code are the user's.
//!
//! Needs `.aws-sam/build` and a ministack (scripts/with-ministack.sh); fails without either.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use app::ports::{OrderRepository, ProductRepository};
use aws_adapters::{DynamoOrderRepository, DynamoProductRepository, TableNames};
use domain::{CountryCode, OrderId, OrderStatus, ProductId, ShippingCostService};
use local_runner::fixtures::{CUSTOMER, ORDER, PRODUCTS};
use local_runner::local_aws;
use serde_json::Value;
use system_tests::ministack;

/// How long one invocation may take, cold start included.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("local-invoke-{}-{name}", std::process::id()))
}

/// A process this test started, killed by its PID when dropped (also when the test fails).
struct Started {
    child: Child,
    log: PathBuf,
}

impl Started {
    fn spawn(what: &str, cmd: &mut Command) -> Started {
        let log = scratch(&what.replace(' ', "_"));
        let out = File::create(&log).expect("a log file");
        let err = out.try_clone().expect("a log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        Started { child, log }
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The recipe's PATH (docs/LOCAL.md): the tools venv (cargo-lambda) first.
fn tools_path() -> String {
    let out = Command::new(root().join("scripts/venv.sh")).arg("tools").output().expect("scripts/venv.sh runs");
    assert!(out.status.success(), "scripts/venv.sh tools failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let venv = String::from_utf8(out.stdout).expect("a path").trim().to_owned();
    format!("{venv}/bin:{}", std::env::var("PATH").unwrap_or_default())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// `cargo lambda watch --only-lambda-apis` on a free loopback port, once it accepts connections.
async fn watch(path: &str) -> (Started, u16) {
    for _ in 0..3 {
        let port = free_port();
        let mut w = Started::spawn(
            "cargo lambda watch",
            Command::new("cargo")
                .args(["lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1", "--invoke-port"])
                .arg(port.to_string())
                .current_dir(root())
                .env("PATH", path),
        );
        let until = Instant::now() + Duration::from_secs(30);
        while w.exited().is_none() && Instant::now() < until {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return (w, port);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(w.exited().is_some(), "cargo lambda watch did not listen within 30 s:\n{}", w.log());
        // Most likely lost the free port to another process: try another.
    }
    panic!("cargo lambda watch did not start");
}

/// The bootstrap `sam build` made for `function`.
fn bootstrap(function: &str) -> PathBuf {
    let template = system_tests::template();
    let f = template.functions().expect("functions").into_iter().find(|f| f.binary == function);
    let id = f.unwrap_or_else(|| panic!("{function} is not in template.yaml")).logical_id;
    let path = root().join(".aws-sam/build").join(id).join("bootstrap");
    assert!(
        path.exists(),
        "{} is missing: run scripts/sam-build.sh (./scripts/test.sh runs it before the tests)",
        path.display()
    );
    path
}

/// A running function, as `cargo lambda watch` starts one, with the environment file's variables
/// and nothing else from this process.
struct Function<'a> {
    name: &'static str,
    process: Started,
    port: u16,
    path: &'a str,
}

impl<'a> Function<'a> {
    fn start(name: &'static str, env: &BTreeMap<String, String>, port: u16, path: &'a str) -> Function<'a> {
        let process = Started::spawn(
            name,
            Command::new(bootstrap(name))
                .env_clear()
                .envs(env)
                // What cargo-lambda's watch sets for a function it starts (crates/cargo-lambda-watch,
                // watcher.rs), with the runtime API at the function's own path.
                .env("AWS_LAMBDA_FUNCTION_NAME", name)
                .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "4096")
                .env("AWS_LAMBDA_MAX_CONCURRENCY", "1")
                .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt/{name}")),
        );
        Function { name, process, port, path }
    }

    /// `cargo lambda invoke NAME --data-file events/FILE`, from the checkout: the answer.
    async fn invoke(&mut self, file: &str) -> Value {
        let mut invoke = Started::spawn(
            &format!("invoke {file}"),
            Command::new("cargo")
                .args(["lambda", "invoke", self.name, "--data-file", &format!("events/{file}")])
                .args(["--invoke-address", "127.0.0.1", "--invoke-port", &self.port.to_string()])
                .current_dir(root())
                .env("PATH", self.path),
        );
        let until = Instant::now() + INVOKE_TIMEOUT;
        let status = loop {
            if let Some(s) = invoke.exited() {
                break s;
            }
            if let Some(s) = self.process.exited() {
                panic!("{} exited ({s}) during {file}:\n{}", self.name, self.process.log());
            }
            assert!(Instant::now() < until, "{file}: no answer in {INVOKE_TIMEOUT:?}:\n{}", self.process.log());
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let out = invoke.log();
        assert!(status.success(), "cargo lambda invoke {file} failed ({status}):\n{out}\n{}", self.process.log());
        let answer = out.lines().rev().find_map(|l| serde_json::from_str::<Value>(l).ok());
        answer.unwrap_or_else(|| panic!("{file}: no JSON answer in:\n{out}"))
    }
}

/// An HTTP function's answer: status, headers and the body as JSON.
fn http(answer: &Value) -> (u64, &Value, Value) {
    let status = answer["statusCode"].as_u64().unwrap_or_else(|| panic!("not an HTTP answer: {answer}"));
    let body = answer["body"].as_str().map_or(Value::Null, |b| serde_json::from_str(b).unwrap_or(Value::Null));
    (status, &answer["headers"], body)
}

/// What the quote-shipping handler answers in this process for `file`, with the warehouse of
/// template.yaml's parameter defaults: the reference for the binary's answer.
async fn quote_in_process(file: &str) -> (u64, Value) {
    let template = system_tests::template();
    let default = |p: &str| template.root["Parameters"][p]["Default"].as_str().expect("a default").to_owned();
    let country = CountryCode::parse(&default("WarehouseCountry")).expect("a country");
    let shipping = ShippingCostService::standard_tariff(&default("WarehouseRegion"), country);
    let text = std::fs::read_to_string(root().join("events").join(file)).expect("the event file");
    let req = lambda_http::request::from_str(&text).expect("an HTTP API event");
    let resp = handlers::http::finish("/shipping/quote", handlers::http::quote_shipping(&shipping, req).await);
    (resp.status().as_u16().into(), serde_json::from_slice(resp.body().as_ref()).unwrap_or(Value::Null))
}

async fn reserved(products: &DynamoProductRepository) -> Vec<u32> {
    let mut out = vec![];
    for p in PRODUCTS {
        let id = ProductId::from_str(p).expect("id");
        out.push(products.get(id).await.expect("read").expect("the fixture product").value.reserved());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_events_invoke_the_real_functions_against_the_printed_environment() {
    let started = Instant::now();
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    let sdk = ministack::sdk_config().await; // fails loudly without a ministack
    let prefix = ministack::unique("invoke");

    // 1. local-aws, as `scripts/local-aws.sh` runs it: tables, bus, fixtures, environment.
    let env_file = scratch("env").display().to_string();
    let args = ["--endpoint", &endpoint, "--prefix", &prefix, "--env-file", &env_file];
    let (mut printed, mut log) = (vec![], vec![]);
    let template = root().join("template.yaml");
    let run = local_aws::run(args.map(str::to_owned), &template, &mut printed, &mut log).await;
    let log = String::from_utf8_lossy(&log);
    run.unwrap_or_else(|e| panic!("local-aws failed: {e}\n{log}"));
    let written = std::fs::read_to_string(&env_file).expect("the env file");
    assert_eq!(String::from_utf8_lossy(&printed), written, "it prints what it writes");
    let env = local_aws::parse_env(&written);
    assert_eq!(env.get("AWS_ENDPOINT_URL"), Some(&endpoint), "{written}");

    // 2. cargo lambda watch, then each function with its own sample events.
    let path = tools_path();
    let (_watch, port) = watch(&path).await;
    let names = TableNames::with_prefix(&prefix);
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);

    // quote-shipping: pure domain, but its warehouse comes from the environment.
    let mut f = Function::start("quote-shipping", &env, port, &path);
    for (file, want) in [("quote-shipping.json", 200), ("quote-shipping.overnight-abroad.json", 422)] {
        let answer = f.invoke(file).await;
        let (status, _, body) = http(&answer);
        assert_eq!(status, want, "{file}: {answer}");
        assert_eq!((status, body), quote_in_process(file).await, "{file}: the binary answers as the handler does");
    }
    drop(f);

    // create-order: 201 with its Location, stored PENDING; the same Idempotency-Key replays it.
    let mut f = Function::start("create-order", &env, port, &path);
    let answer = f.invoke("create-order.json").await;
    let (status, headers, created) = http(&answer);
    assert_eq!(status, 201, "{answer}");
    let id = created["id"].as_str().unwrap_or_else(|| panic!("no id: {created}")).to_owned();
    assert_eq!(headers["location"], format!("/orders/{id}"), "{answer}");
    assert_eq!((created["customerId"].as_str(), created["state"].as_str()), (Some(CUSTOMER), Some("PENDING")));
    let orders = DynamoOrderRepository::new(dynamo.clone(), names.orders.clone());
    let stored = orders.get(OrderId::from_str(&id).expect("an order id")).await.expect("read");
    assert_eq!(stored.map(|o| o.value.status()), Some(OrderStatus::Pending), "order {id} is stored PENDING");
    let again = f.invoke("create-order.json").await;
    let (status, headers, replayed) = http(&again);
    assert_eq!((status, &replayed["id"]), (201, &created["id"]), "{again}");
    assert_eq!(headers["idempotent-replayed"], "true", "{again}");
    drop(f);

    // reserve-stock: OrderCreated for the seeded order reserves both lines, once.
    let products = DynamoProductRepository::new(dynamo.clone(), names.products.clone());
    assert_eq!(reserved(&products).await, [0, 0], "nothing reserved before");
    let mut f = Function::start("reserve-stock", &env, port, &path);
    // A batch of one event from its queue: no failure, and the event applied.
    let answer = f.invoke("reserve-stock.json").await;
    assert_eq!(
        answer,
        serde_json::json!({"batchItemFailures": [], "reports": [{"outcome": "applied", "emitted": ["StockReserved"]}]})
    );
    assert_eq!(reserved(&products).await, [2, 1], "the order's quantities are reserved");
    let order = OrderId::from_str(ORDER).expect("id");
    assert!(products.reservation(order).await.expect("read").is_some(), "a reservation record for {ORDER}");
    let again = f.invoke("reserve-stock.json").await["reports"][0].clone();
    assert_ne!(again["outcome"], "applied", "a redelivery changes nothing: {again}");
    assert_eq!(again["emitted"], serde_json::json!([]), "{again}");
    assert_eq!(reserved(&products).await, [2, 1], "still reserved once");
    drop(f);

    eprintln!("local_invoke: {:.1} s", started.elapsed().as_secs_f64());
}
