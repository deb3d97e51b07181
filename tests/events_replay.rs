//! Every events/*.json replayed through its function's handler, wired as the function's main wires
//! it, against DynamoDB and EventBridge on ministack; each outcome is checked. The replay also
//! records, per function, every AWS action the code calls on which resource: it must be exactly
//! what the manifest (and so the template) grants.

use std::collections::BTreeSet;
use std::str::FromStr;

use app::SystemEnvironment;
use aws_adapters::TableNames;
use bundle::lambda::AwsResources;
use bundle::manifest::{Resource, Table, Trigger};
use bundle::{wire, Config, Function, Handler};
use domain::events::LineRequest;
use domain::{OrderId, ProductId, Quantity};
use local_runner::fixtures::{self, ORDER, PRODUCTS};
use sam_template::generate::table_id;
use serde_json::Value;
use system_tests::iam::{Counts, Recorder};
use system_tests::ministack;

fn events_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn function_of(file: &str) -> &str {
    file.split('.').next().unwrap_or(file)
}

#[test]
fn every_function_has_an_event_file_and_every_file_a_function() {
    let files: Vec<String> = std::fs::read_dir(events_dir())
        .expect("events/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for f in &files {
        assert!(f.ends_with(".json"), "{f} is not a .json event");
        assert!(Function::from_name(function_of(f)).is_some(), "{f} matches no function");
        let text = std::fs::read_to_string(events_dir().join(f)).expect("readable");
        assert!(serde_json::from_str::<Value>(&text).is_ok(), "{f} is not JSON");
    }
    for f in Function::ALL {
        assert!(files.iter().any(|file| function_of(file) == f.name()), "{f} has no event file");
    }
}

/// What a replay must end in.
#[derive(Debug, Clone, PartialEq)]
enum Expect {
    Status(u16),
    Applied(&'static [&'static str]),
    Skipped,
    /// Records sent to the bus, and refused for naming another context than their table's.
    Relayed(usize, usize),
    Swept(usize),
    /// The email a user pool's trigger added to the access token.
    Claimed(Option<String>),
}

fn manifest_name(r: Resource) -> String {
    match r {
        Resource::Table(t) => format!("{t:?}"),
        Resource::Index(t, i) => format!("{t:?}/index/{i}"),
        Resource::Stream(t) => format!("{t:?}/stream"),
        Resource::Bus => "bus".to_owned(),
    }
}

/// Index names recorded from requests, as the manifest's `&'static str` (a handful per run).
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

struct World {
    /// The outbox records the redrive replay's ranges hold, counted from the streams.
    expected_redrive: std::sync::atomic::AtomicUsize,
    names: TableNames,
    bus: String,
    sdk: aws_config::SdkConfig,
    recorder: Recorder,
    /// The requests of each replay after its cold start, in replay order.
    counts: std::sync::Mutex<Vec<(String, Counts)>>,
}

impl World {
    async fn new(recorder: Recorder) -> World {
        let sdk = ministack::sdk_config().await;
        let prefix = ministack::unique("replay");
        let names = TableNames::with_prefix(&prefix);
        aws_adapters::create_tables(&aws_sdk_dynamodb::Client::new(&sdk), &names).await.expect("tables");
        let bus = format!("{prefix}bus");
        aws_sdk_eventbridge::Client::new(&sdk).create_event_bus().name(&bus).send().await.expect("bus");
        let w = World { expected_redrive: Default::default(), names, bus, sdk, recorder, counts: Default::default() };
        w.seed().await;
        w
    }

    fn value(&self, var: &str) -> Option<String> {
        Some(match var {
            "CUSTOMERS_TABLE" | "CUSTOMERS_OUTBOX" => self.names.customers.clone(),
            "PRODUCTS_TABLE" | "PRODUCTS_OUTBOX" => self.names.products.clone(),
            "ORDERS_TABLE" | "ORDERS_OUTBOX" => self.names.orders.clone(),
            "EVENT_BUS_NAME" => self.bus.clone(),
            "PENDING_TIMEOUT_SECONDS" => "900".into(),
            "WAREHOUSE_REGION" => "OH".into(),
            "WAREHOUSE_COUNTRY" => "US".into(),
            "DEFAULT_CREDIT_LIMIT" => "50000 USD".into(),
            _ => return None,
        })
    }

    /// What a function's cold start builds (its handler, from `wire`, on clients tapped by the
    /// recorder), with its connection warmed as on Lambda.
    async fn cold(&self, function: Function) -> Handler {
        let config = Config::from_lookup(function, |v| self.value(v)).expect("config");
        let tap = || self.recorder.tap(function.name());
        let dynamo = aws_sdk_dynamodb::config::Builder::from(&self.sdk).interceptor(tap()).build();
        let events = aws_sdk_eventbridge::config::Builder::from(&self.sdk).interceptor(tap()).build();
        let streams = aws_sdk_dynamodbstreams::config::Builder::from(&self.sdk).interceptor(tap()).build();
        let clients = aws_adapters::Clients::new(&self.sdk)
            .with_dynamo(aws_sdk_dynamodb::Client::from_conf(dynamo))
            .with_events(aws_sdk_eventbridge::Client::from_conf(events))
            .with_streams(aws_sdk_dynamodbstreams::Client::from_conf(streams));
        let resources = AwsResources::new(function, &config, &clients);
        let handler = wire(function, &config, &resources, SystemEnvironment::shared()).expect("wired");
        resources.warm_up().await;
        handler
    }

    fn plain(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }

    /// The fixtures' customer, products and a PENDING order, written directly with their ids.
    async fn seed(&self) {
        fixtures::seed(&self.plain(), &self.names).await.expect("fixtures");
    }

    async fn place(&self, id: OrderId, lines: Vec<LineRequest>, at: chrono::DateTime<chrono::Utc>) {
        assert!(fixtures::place_order(&self.plain(), &self.names, id, lines, at).await.expect("order"), "a new order");
    }

    /// Replays one file through its function, wired as its main wires it, and counts the
    /// requests the invocation made (after the cold start, which warms the connection).
    async fn replay(&self, file: &str) -> (Expect, Value) {
        let function = Function::from_name(function_of(file)).expect("a function of the bundle");
        let handler = self.cold(function).await;
        let mark = self.recorder.mark();
        let out = self.invoke(file, function, &handler).await;
        let counts = Counts::of(&self.recorder.since(mark));
        self.counts.lock().expect("counts").push((file.to_owned(), counts));
        out
    }

    async fn invoke(&self, file: &str, function: Function, handler: &Handler) -> (Expect, Value) {
        let text = std::fs::read_to_string(events_dir().join(file)).expect("event file");
        if let Handler::Http(h) = handler {
            let req = lambda_http::request::from_str(&text).expect("an HTTP API payload 2.0 event");
            let resp = h(req).await;
            let body = serde_json::from_slice(resp.body().as_ref()).unwrap_or(Value::Null);
            return (Expect::Status(resp.status().as_u16()), body);
        }
        let mut payload: Value = serde_json::from_str(&text).expect("JSON");
        if function == Function::RedriveOutbox {
            let outbox = self.point_at_streams(&mut payload).await;
            assert!(outbox > 3, "the ranges hold the outbox records of the replays so far");
            self.expected_redrive.store(outbox, std::sync::atomic::Ordering::SeqCst);
        }
        if function == Function::OutboxRelay {
            self.point_at_tables(&mut payload);
        }
        let answer = bundle::lambda::invoke(function, handler, payload)
            .await
            .unwrap_or_else(|e| panic!("{file}: the invocation failed: {e}"));
        match function.trigger() {
            Trigger::Bus { .. } => {
                // A batch of one event from the step's queue: its report, or its failure.
                let failures = answer["batchItemFailures"].as_array().map_or(0, Vec::len);
                assert_eq!(failures, 0, "{file}: the step failed on its event: {answer}");
                let report = &answer["reports"][0];
                match report["outcome"].as_str() {
                    Some("applied") => (Expect::Applied(&[]), report["emitted"].clone()),
                    _ => (Expect::Skipped, report["emitted"].clone()),
                }
            }
            Trigger::OutboxStream { .. } | Trigger::RelayFailures { .. } => {
                let count = |k: &str| answer[k].as_u64().unwrap_or(0) as usize;
                (Expect::Relayed(count("sent"), count("refused")), answer)
            }
            Trigger::Schedule { .. } => (Expect::Swept(answer["rejected"].as_u64().unwrap_or(0) as usize), Value::Null),
            Trigger::TokenGeneration => {
                let added = &answer["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"];
                (Expect::Claimed(added["claimsToAddOrOverride"]["email"].as_str().map(str::to_owned)), answer)
            }
            Trigger::Http { .. } => unreachable!("answered above"),
        }
    }

    /// Rewrites the stream records in `payload` to come from this world's tables: the sample names
    /// a deployed stack's (`<stack>-<LogicalId>-<suffix>`), whose stream the relay would know.
    fn point_at_tables(&self, payload: &mut Value) {
        let ours = [
            (table_id(Table::Customers), &self.names.customers),
            (table_id(Table::Products), &self.names.products),
            (table_id(Table::Orders), &self.names.orders),
        ];
        for r in payload["Records"].as_array_mut().into_iter().flatten() {
            let arn = r["eventSourceARN"].as_str().expect("a stream record names its stream").to_owned();
            let (head, rest) = arn.split_once(":table/").expect("a DynamoDB stream ARN");
            let (table, label) = rest.split_once("/stream/").expect("a DynamoDB stream ARN");
            let (_, name) = ours.iter().find(|(id, _)| table.contains(id)).expect("one of the stack's tables");
            r["eventSourceARN"] = format!("{head}:table/{name}/stream/{label}").into();
        }
    }

    /// Rewrites the on-failure messages in `payload` to point at this world's streams (orders,
    /// products, customers), each from its first record to its last (the sample names a deployed
    /// stack's); answers how many outbox records those ranges hold.
    async fn point_at_streams(&self, payload: &mut Value) -> usize {
        let streams = aws_sdk_dynamodbstreams::Client::new(&self.sdk);
        let mut outbox = 0;
        let tables = [&self.names.orders, &self.names.products, &self.names.customers];
        for (i, table) in tables.into_iter().enumerate() {
            let (arn, shard_id) = aws_adapters::table_stream(&self.plain(), &streams, table).await.expect("a stream");
            let it = streams
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(&shard_id)
                .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
                .send()
                .await
                .expect("iterator");
            let page = streams.get_records().set_shard_iterator(it.shard_iterator).send().await.expect("records");
            let seqs: Vec<&str> =
                page.records().iter().filter_map(|r| r.dynamodb().and_then(|d| d.sequence_number())).collect();
            outbox += page
                .records()
                .iter()
                .filter(|r| r.event_name() == Some(&aws_sdk_dynamodbstreams::types::OperationType::Insert))
                .filter(|r| {
                    let pk = r.dynamodb().and_then(|d| d.keys()).and_then(|k| k.get("PK"));
                    matches!(pk, Some(aws_sdk_dynamodbstreams::types::AttributeValue::S(pk)) if pk.starts_with("OUTBOX#"))
                })
                .count();
            let record = &mut payload["Records"][i];
            let mut body: Value = serde_json::from_str(record["body"].as_str().expect("body")).expect("JSON body");
            let info = &mut body["DDBStreamBatchInfo"];
            info["streamArn"] = arn.into();
            info["shardId"] = shard_id.into();
            info["startSequenceNumber"] = seqs.first().copied().expect("records").into();
            info["endSequenceNumber"] = seqs.last().copied().expect("records").into();
            record["body"] = body.to_string().into();
        }
        outbox
    }

    /// A recorded resource in the manifest's terms (`Orders`, `Orders/index/ByCustomer`, `bus`),
    /// when it is one of this world's.
    fn resource_name(&self, recorded: &str) -> Option<String> {
        if recorded == "bus" {
            return Some("bus".to_owned());
        }
        let (table, index, stream) = match (recorded.split_once("/index/"), recorded.strip_suffix("/stream")) {
            (Some((t, i)), _) => (t, Some(i), false),
            (None, Some(t)) => (t, None, true),
            (None, None) => (recorded, None, false),
        };
        let t = [
            (&self.names.customers, Table::Customers),
            (&self.names.products, Table::Products),
            (&self.names.orders, Table::Orders),
        ]
        .into_iter()
        .find(|(n, _)| n.as_str() == table)?
        .1;
        Some(manifest_name(match index {
            Some(i) => Resource::Index(t, leak(i)),
            None if stream => Resource::Stream(t),
            None => Resource::Table(t),
        }))
    }

    async fn expect(&self, file: &str, want: Expect) -> Value {
        let (got, body) = self.replay(file).await;
        match (&want, &got) {
            (Expect::Applied(emitted), Expect::Applied(_)) => {
                let got: Vec<&str> = body.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                assert_eq!(got, emitted.to_vec(), "{file}: emitted");
            }
            _ => assert_eq!(got, want, "{file}: {body}"),
        }
        body
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_file_replays_through_its_function_calling_only_what_it_is_granted() {
    let recorder = Recorder::default();

    // The happy path, in saga order.
    let a = World::new(recorder.clone()).await;
    let ada = a.expect("create-customer.json", Expect::Status(201)).await;
    assert_eq!(ada["email"], "ada@example.com", "the token's verified address");
    // Someone else's address in the body is refused; a token without a verified one registers no one.
    a.expect("create-customer.email-in-body.json", Expect::Status(400)).await;
    a.expect("create-customer.unverified-email.json", Expect::Status(403)).await;
    a.expect("get-customer.json", Expect::Status(200)).await;
    a.expect("get-customer.malformed-id.json", Expect::Status(400)).await;
    assert_eq!(a.expect("get-me.json", Expect::Status(200)).await["id"], local_runner::fixtures::CUSTOMER);
    a.expect("get-me.id-token.json", Expect::Status(401)).await;
    a.expect("create-product.not-admin.json", Expect::Status(403)).await;
    a.expect("create-product.comma-in-group-name.json", Expect::Status(403)).await;
    let added = a.expect("create-product.json", Expect::Status(201)).await;
    let again = a.expect("create-product.json", Expect::Status(201)).await;
    assert_eq!(added["id"], again["id"], "the same Idempotency-Key adds the product once");
    a.expect("create-product.negative-stock.json", Expect::Status(400)).await;
    a.expect("get-product.json", Expect::Status(200)).await;
    a.expect("list-products.json", Expect::Status(200)).await;
    let renamed = a.expect("update-product.json", Expect::Status(200)).await;
    assert_eq!(
        (renamed["name"].as_str(), renamed["price"]["amount"].as_i64()),
        (Some("Espresso Cup Set (6)"), Some(2799))
    );
    a.expect("update-product.empty.json", Expect::Status(400)).await;
    let restocked = a.expect("restock-product.json", Expect::Status(200)).await;
    assert_eq!(restocked["stock"], 75, "50 on hand + 25");
    let again = a.expect("restock-product.json", Expect::Status(200)).await;
    assert_eq!(again["stock"], 75, "the same Idempotency-Key adds once");
    a.expect("update-customer.json", Expect::Status(200)).await;
    let limited = a.expect("change-credit-limit.json", Expect::Status(200)).await;
    assert_eq!(limited["creditLimit"]["amount"], 250000);
    a.expect("change-credit-limit.other-currency.json", Expect::Status(422)).await;
    a.expect("quote-shipping.json", Expect::Status(200)).await;
    a.expect("quote-shipping.overnight-abroad.json", Expect::Status(422)).await;
    a.expect("create-order.someone-elses-credit.json", Expect::Status(403)).await;
    a.expect("create-order.json", Expect::Status(201)).await;
    a.expect("create-order.invalid-quantity.json", Expect::Status(400)).await;
    a.expect("create-order.not-json.json", Expect::Status(415)).await;
    a.expect("reserve-stock.json", Expect::Applied(&["StockReserved"])).await;
    a.expect("reserve-stock.json", Expect::Skipped).await;
    a.expect("price-order.json", Expect::Applied(&["OrderPriced"])).await;
    a.expect("reserve-credit.json", Expect::Applied(&["CreditReserved"])).await;
    a.expect("approve-order.json", Expect::Applied(&["OrderApproved"])).await;
    assert_eq!(a.expect("get-order.json", Expect::Status(200)).await["state"], "APPROVED");
    let approved = a.expect("list-orders.json", Expect::Status(200)).await;
    assert!(approved["items"].as_array().is_some_and(|i| i.iter().any(|o| o["id"] == ORDER)), "{approved}");
    let timeline = a.expect("get-order-timeline.json", Expect::Status(200)).await;
    let events: Vec<&str> =
        timeline["steps"].as_array().into_iter().flatten().filter_map(|s| s["event"].as_str()).collect();
    assert_eq!(events, ["OrderCreated", "OrderPriced", "OrderApproved"], "{timeline}");
    let hidden = a.expect("get-order.another-customer.json", Expect::Status(404)).await;
    assert_eq!(hidden["type"], "https://shop-saga.dev/problems/not-found", "as for an order that does not exist");
    a.expect("cancel-order.no-claims.json", Expect::Status(401)).await;
    let history = a.expect("find-order-history.json", Expect::Status(200)).await;
    assert!(history["items"].as_array().is_some_and(|i| i.iter().any(|o| o["id"] == ORDER)), "{history}");
    a.expect("find-order-history.tampered-cursor.json", Expect::Status(400)).await;
    assert_eq!(a.expect("cancel-order.json", Expect::Status(200)).await["state"], "CANCELLED");
    a.expect("release-stock.json", Expect::Applied(&["StockReleased"])).await;
    a.expect("release-stock.stock-release-requested.json", Expect::Skipped).await;
    a.expect("release-credit.json", Expect::Applied(&["CreditReleased"])).await;
    a.expect("release-credit.credit-release-requested.json", Expect::Skipped).await;
    a.expect("replicate-catalogue.json", Expect::Applied(&[])).await;
    a.expect("replicate-catalogue.json", Expect::Skipped).await;
    a.expect("replicate-customers.json", Expect::Applied(&[])).await;
    // Signing in: the user pool's trigger puts the verified email in the access token.
    a.expect("token-claims.json", Expect::Claimed(Some("ada@example.com".to_owned()))).await;
    a.expect("outbox-relay.json", Expect::Relayed(2, 0)).await;
    a.expect("outbox-relay.products.json", Expect::Relayed(1, 0)).await;
    // An orders-table record that speaks for customers: refused, reported, never on the bus.
    a.expect("outbox-relay.other-context.json", Expect::Relayed(0, 1)).await;
    // Every outbox record the three tables have streamed so far, read back and published.
    let (got, redriven) = a.replay("redrive-outbox.json").await;
    let want = a.expected_redrive.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(got, Expect::Relayed(want, 0), "{redriven}");
    assert_eq!(redriven["batchItemFailures"], serde_json::json!([]), "{redriven}");

    // Rejections, compensations and the sweeper.
    let b = World::new(recorder.clone()).await;
    let stuck = OrderId::from_str("00000000-0000-4000-8000-00000000dead").expect("id");
    let line = LineRequest {
        product_id: ProductId::from_str(PRODUCTS[0]).expect("id"),
        quantity: Quantity::new(1).expect("q"),
    };
    b.place(stuck, vec![line], chrono::Utc::now() - chrono::Duration::hours(1)).await;
    b.expect("reject-order.json", Expect::Applied(&["OrderRejected"])).await;
    b.expect("reject-order.credit-reservation-failed.json", Expect::Skipped).await;
    b.expect("price-order.json", Expect::Applied(&["StockReleaseRequested"])).await;
    b.expect("approve-order.json", Expect::Applied(&["CreditReleaseRequested"])).await;
    b.expect("release-stock.order-rejected.json", Expect::Applied(&[])).await;
    b.expect("release-credit.order-rejected.json", Expect::Applied(&[])).await;
    b.expect("reserve-stock.json", Expect::Skipped).await;
    b.expect("sweep-orders.json", Expect::Swept(1)).await;
    let withdrawn = b.expect("discontinue-product.json", Expect::Status(200)).await;
    assert_eq!(withdrawn["discontinued"], true);
    b.expect("discontinue-product.json", Expect::Status(200)).await;
    b.expect("restock-product.discontinued.json", Expect::Status(409)).await;

    // Every file was replayed.
    let all: BTreeSet<String> = std::fs::read_dir(events_dir())
        .expect("events/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let replayed = BTreeSet::from([
        "create-customer.json",
        "create-customer.email-in-body.json",
        "create-customer.unverified-email.json",
        "get-customer.json",
        "get-customer.malformed-id.json",
        "get-me.json",
        "get-me.id-token.json",
        "create-product.not-admin.json",
        "create-product.comma-in-group-name.json",
        "create-order.someone-elses-credit.json",
        "get-order.another-customer.json",
        "cancel-order.no-claims.json",
        "create-product.json",
        "create-product.negative-stock.json",
        "get-product.json",
        "list-products.json",
        "quote-shipping.json",
        "quote-shipping.overnight-abroad.json",
        "create-order.json",
        "create-order.invalid-quantity.json",
        "create-order.not-json.json",
        "reserve-stock.json",
        "price-order.json",
        "reserve-credit.json",
        "approve-order.json",
        "get-order.json",
        "get-order-timeline.json",
        "list-orders.json",
        "find-order-history.json",
        "find-order-history.tampered-cursor.json",
        "cancel-order.json",
        "release-stock.json",
        "release-stock.stock-release-requested.json",
        "release-credit.json",
        "release-credit.credit-release-requested.json",
        "replicate-catalogue.json",
        "replicate-customers.json",
        "update-product.json",
        "update-product.empty.json",
        "restock-product.json",
        "restock-product.discontinued.json",
        "discontinue-product.json",
        "update-customer.json",
        "change-credit-limit.json",
        "change-credit-limit.other-currency.json",
        "outbox-relay.json",
        "outbox-relay.products.json",
        "outbox-relay.other-context.json",
        "token-claims.json",
        "reject-order.json",
        "reject-order.credit-reservation-failed.json",
        "release-stock.order-rejected.json",
        "release-credit.order-rejected.json",
        "sweep-orders.json",
        "redrive-outbox.json",
    ]);
    let replayed: BTreeSet<String> = replayed.into_iter().map(str::to_owned).collect();
    assert_eq!(all, replayed, "a new event file needs an expectation here");

    requests_per_operation(&[&a, &b]);

    // Least privilege: called == granted, per function, per resource.
    let calls = recorder.calls();
    let mut problems = vec![];
    for spec in Function::ALL.map(Function::spec) {
        let called: BTreeSet<(String, String)> = calls
            .get(spec.name)
            .into_iter()
            .flatten()
            .filter_map(|(action, res)| [&a, &b].iter().find_map(|w| w.resource_name(res)).map(|r| (action.clone(), r)))
            .collect();
        let granted: BTreeSet<(String, String)> =
            spec.permissions.iter().map(|p| (p.action.to_owned(), manifest_name(p.resource))).collect();
        if called != granted {
            problems.push(format!(
                "{}: called but not granted {:?}; granted but never called {:?}",
                spec.name,
                called.difference(&granted).collect::<Vec<_>>(),
                granted.difference(&called).collect::<Vec<_>>()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // Least privilege below the table: every item a function reads or writes has a partition key
    // its `dynamodb:LeadingKeys` condition allows, and it uses every prefix it is granted.
    let keys = recorder.keys();
    let mut problems = vec![];
    for f in Function::ALL {
        let allowed = f.leading_keys();
        let matches = |pk: &str| {
            allowed.iter().any(|a| match a.strip_suffix('*') {
                Some(prefix) => pk.starts_with(prefix),
                None => pk == a,
            })
        };
        let touched: BTreeSet<&String> = keys
            .get(f.name())
            .into_iter()
            .flatten()
            .filter(|(table, _)| [&a, &b].iter().any(|w| w.resource_name(table).is_some()))
            .map(|(_, pk)| pk)
            .collect();
        let outside: Vec<&&String> = touched.iter().filter(|pk| !matches(pk)).collect();
        let unused: Vec<&String> = allowed
            .iter()
            .filter(|a| !touched.iter().any(|pk| a.strip_suffix('*').map_or(pk == a, |p| pk.starts_with(p))))
            .collect();
        if !outside.is_empty() || !unused.is_empty() {
            problems.push(format!("{f}: keys outside {allowed:?}: {outside:?}; allowed but never touched: {unused:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// DynamoDB read and write requests of each HTTP operation and saga step, first delivery, as the
/// replays make them (after the cold start). A change that adds a request to one of them fails
/// here; one that saves a request updates the table (BENCHMARKS.md reports it).
const REQUESTS: &[(&str, usize, usize)] = &[
    // (event file, read requests, write requests)
    ("create-order.json", 1, 1),
    ("reserve-stock.json", 1, 1),
    ("price-order.json", 1, 1),
    ("reserve-credit.json", 1, 1),
    ("approve-order.json", 1, 1),
    ("reject-order.json", 1, 1),
    // The release events name the order's products, so the record and the products are one
    // BatchGetItem (an event without them costs a second read: the record first).
    ("release-stock.json", 1, 1),
    ("release-credit.json", 1, 1),
    ("replicate-catalogue.json", 1, 1),
    ("replicate-customers.json", 1, 1),
    ("sweep-orders.json", 1, 1),
    ("create-customer.json", 1, 1),
    ("create-product.json", 1, 1),
    ("update-product.json", 1, 1),
    ("restock-product.json", 2, 1),
    ("discontinue-product.json", 1, 1),
    ("update-customer.json", 1, 1),
    ("change-credit-limit.json", 1, 1),
    ("cancel-order.json", 1, 1),
    ("get-order.json", 1, 0),
    ("get-order-timeline.json", 1, 0),
    ("get-customer.json", 1, 0),
    ("get-me.json", 1, 0),
    ("get-product.json", 1, 0),
    ("list-products.json", 1, 0),
    ("find-order-history.json", 1, 0),
    ("list-orders.json", 1, 0),
    ("quote-shipping.json", 0, 0),
];

/// The createOrder saga on its happy path: the request and the four steps it triggers.
const SAGA: &[&str] =
    &["create-order.json", "reserve-stock.json", "price-order.json", "reserve-credit.json", "approve-order.json"];

fn requests_per_operation(worlds: &[&World]) {
    let mut first: std::collections::BTreeMap<String, Counts> = Default::default();
    for w in worlds {
        for (file, c) in w.counts.lock().expect("counts").iter() {
            first.entry(file.clone()).or_insert(*c);
        }
    }
    let mut wrong = vec![];
    for (file, reads, writes) in REQUESTS {
        let got = first.get(*file).copied().unwrap_or_default();
        if (got.reads, got.writes) != (*reads, *writes) {
            wrong.push(format!(
                "{file}: {} reads + {} writes, the table says {reads} + {writes}",
                got.reads, got.writes
            ));
        }
    }
    let saga = SAGA.iter().map(|f| first.get(*f).copied().unwrap_or_default()).fold(Counts::default(), |a, b| a + b);
    // Each saga event is one outbox record, published by the relay in one PutEvents entry.
    let report = serde_json::json!({
        "operations": first.iter().map(|(f, c)| (f.trim_end_matches(".json").to_owned(), serde_json::to_value(c).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
        "createOrderSaga": {"dynamodb": saga, "events": SAGA.len(), "steps": SAGA},
    });
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("request-counts.json");
    if let Err(e) = std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap_or_default()) {
        eprintln!("cannot write {}: {e}", path.display());
    }
    assert!(wrong.is_empty(), "requests per operation changed:\n{}", wrong.join("\n"));
    assert_eq!((saga.reads, saga.writes), (5, 5), "the createOrder saga: one read and one write per step");
}
