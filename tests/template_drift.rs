//! Drift between the code and template.yaml. The manifest (crates/bundle/src/manifest.rs) says
//! what each function is triggered by, reads and calls; the template must say the same, no more.
//! ministack does not enforce IAM, so the permission check here is the proof of least privilege.

use std::collections::{BTreeMap, BTreeSet};

use bundle::manifest::{self, Auth, Resource, Spec as FunctionSpec, Table, Trigger};
use domain::{Context, DomainEvent};

/// What the bundle declares of every function.
fn specs() -> Vec<FunctionSpec> {
    bundle::Function::ALL.into_iter().map(bundle::Function::spec).collect()
}
use sam_template::{Function, Pattern};
use serde_json::{json, Value};

fn template_functions() -> BTreeMap<String, Function> {
    system_tests::template().functions().expect("functions").into_iter().map(|f| (f.binary.clone(), f)).collect()
}

fn pascal(name: &str) -> String {
    name.split('-').map(|w| w[..1].to_uppercase() + &w[1..]).collect()
}

fn table_id(t: Table) -> &'static str {
    match t {
        Table::Customers => "CustomersTable",
        Table::Products => "ProductsTable",
        Table::Orders => "OrdersTable",
    }
}

/// How the template writes the resource of a permission (tags read as their argument).
fn resource_text(r: Resource) -> String {
    match r {
        Resource::Table(t) => format!("{}.Arn", table_id(t)),
        Resource::Index(t, name) => format!("${{{}.Arn}}/index/{name}", table_id(t)),
        Resource::Stream(t) => format!("{}.StreamArn", table_id(t)),
        Resource::Bus => "EventBus.Arn".to_owned(),
    }
}

#[test]
fn every_function_of_the_manifest_is_in_the_template_and_in_functions_and_back() {
    let in_template: BTreeSet<String> = template_functions().into_keys().collect();
    let in_manifest: BTreeSet<String> = specs().iter().map(|f| f.name.to_owned()).collect();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
    let folders: BTreeSet<String> = std::fs::read_dir(root)
        .expect("functions/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(in_template, in_manifest, "template vs manifest");
    assert_eq!(folders, in_manifest, "functions/ vs manifest");
    for (name, f) in template_functions() {
        assert_eq!(f.logical_id, format!("{}Function", pascal(&name)));
        assert_eq!(f.properties["CodeUri"], ".", "{name} builds from the workspace root");
    }
    let t = system_tests::template();
    for (id, r) in t.resources_of("AWS::Serverless::Function") {
        assert_eq!(r["Metadata"]["BuildMethod"], "rust-cargolambda", "{id}");
    }
}

#[test]
fn every_route_in_code_is_in_the_template_and_back() {
    let code: BTreeSet<(String, String, String)> = specs()
        .iter()
        .filter_map(|f| match f.trigger {
            Trigger::Http { method, path, .. } => Some((method.to_owned(), path.to_owned(), f.name.to_owned())),
            _ => None,
        })
        .collect();
    let template: BTreeSet<(String, String, String)> = template_functions()
        .into_values()
        .flat_map(|f| f.routes.into_iter().map(move |(m, p)| (m, p, f.binary.clone())))
        .collect();
    assert_eq!(code, template);
    let t = system_tests::template();
    assert_eq!(t.resources_of("AWS::Serverless::HttpApi").len(), 1, "one HttpApi");
}

/// The JWT authorizer is the API's default, and exactly the routes the manifest makes public
/// opt out of it (`Auth: Authorizer: NONE`): a new route is behind the authorizer unless the code
/// says otherwise, and the template cannot open a route the code guards.
#[test]
fn every_route_but_the_public_ones_is_behind_the_jwt_authorizer() {
    let t = system_tests::template();
    let api = t.resources_of("AWS::Serverless::HttpApi").into_values().next().expect("the HttpApi");
    let auth = &api["Properties"]["Auth"];
    assert_eq!(auth["DefaultAuthorizer"], "JwtAuthorizer");
    let jwt = &auth["Authorizers"]["JwtAuthorizer"];
    assert_eq!(jwt["IdentitySource"], "$request.header.Authorization");
    let (issuer, audience) =
        (jwt["JwtConfiguration"]["issuer"].to_string(), jwt["JwtConfiguration"]["audience"].to_string());
    assert!(
        issuer.contains("${UserPool}") && issuer.contains("JwtIssuer"),
        "the user pool's, or a given issuer: {issuer}"
    );
    assert!(audience.contains("UserPoolClient") && audience.contains("JwtAudience"), "{audience}");
    let mut public = BTreeSet::new();
    for spec in specs() {
        let Trigger::Http { method, path, auth } = spec.trigger else { continue };
        let f = &template_functions()[spec.name];
        let events: Vec<&Value> = f.properties["Events"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, e)| e)
            .filter(|e| e["Type"] == "HttpApi")
            .collect();
        assert_eq!(events.len(), 1, "{}", spec.name);
        let opted_out = events[0]["Properties"]["Auth"]["Authorizer"] == "NONE";
        assert_eq!(opted_out, auth == Auth::Public, "{method} {path}: authorizer in the template vs the manifest");
        if opted_out {
            public.insert(format!("{method} {path}"));
        }
    }
    let expected: BTreeSet<String> =
        ["GET /products", "GET /products/{id}", "POST /shipping/quote"].into_iter().map(str::to_owned).collect();
    assert_eq!(public, expected, "only the catalogue reads and the shipping quote are public");
}

/// Below the table: each function's statements on its table allow only the partition keys it
/// uses (`dynamodb:LeadingKeys`, from the manifest; events_replay proves the code touches exactly
/// those). Index statements carry none: a query on an index is checked against the index's keys.
#[test]
fn every_table_statement_is_limited_to_the_functions_key_prefixes() {
    for spec in specs() {
        let f = &template_functions()[spec.name];
        let function = bundle::Function::from_name(spec.name).expect("a function");
        let statements: Vec<&Value> = f.properties["Policies"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|p| p["Statement"].as_array().into_iter().flatten())
            .collect();
        for st in statements {
            let resource = st["Resource"].to_string();
            let condition = &st["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
            // Stream reads name a shard, never an item: `LeadingKeys` does not apply to them.
            if resource.contains("Table") && !resource.contains("/index/") && !resource.contains("StreamArn") {
                let allowed: Vec<String> = serde_json::from_value(condition.clone())
                    .unwrap_or_else(|_| panic!("{}: {resource} has no LeadingKeys condition", spec.name));
                assert_eq!(allowed, function.leading_keys(), "{}: {resource}", spec.name);
            } else {
                assert!(st["Condition"].is_null(), "{}: {resource} needs no key condition", spec.name);
            }
        }
    }
}

/// An event as the bus delivers it.
fn event(source: &str, detail_type: &str, data: Value) -> Value {
    json!({"source": source, "detail-type": detail_type, "detail": {"metadata": {}, "data": data}})
}

const REASONS: [&str; 6] =
    ["OUT_OF_STOCK", "UNKNOWN_PRODUCT", "CREDIT_LIMIT_EXCEEDED", "UNKNOWN_CUSTOMER", "PRICING_FAILED", "TIMED_OUT"];

/// Every event the system emits: each type from its own source, OrderRejected once per reason.
fn emitted() -> Vec<(Context, &'static str, Option<&'static str>, Value)> {
    let mut out = vec![];
    for &(t, c) in DomainEvent::TYPES {
        if t == "OrderRejected" {
            for r in REASONS {
                out.push((c, t, Some(r), event(app::bus::source(c), t, json!({"reason": r}))));
            }
        } else {
            out.push((c, t, None, event(app::bus::source(c), t, json!({}))));
        }
    }
    out
}

fn consumes(spec: &FunctionSpec, ctx: Context, detail_type: &str, reason: Option<&str>) -> bool {
    let Trigger::Bus(cs) = spec.trigger else { return false };
    cs.iter().any(|c| {
        c.source == ctx
            && c.detail_type == detail_type
            && c.filter.is_none_or(|f| f.field == "reason" && reason.is_some_and(|r| !f.values.contains(&r)))
    })
}

#[test]
fn every_step_has_one_rule_that_matches_exactly_what_it_consumes() {
    let fns = template_functions();
    for spec in &specs() {
        let f = &fns[spec.name];
        let Trigger::Bus(_) = spec.trigger else {
            assert!(f.rules.is_empty(), "{} is not a bus consumer but has rules", spec.name);
            continue;
        };
        assert_eq!(f.rules.len(), 1, "{}: one EventBridgeRule per step", spec.name);
        let rule = &f.rules[0];
        assert_eq!(rule.bus.as_deref(), Some("EventBus"), "{}: rule on the custom bus", spec.name);
        let pattern = Pattern::parse(&rule.pattern).expect("a pattern the runner understands");
        for (ctx, t, reason, ev) in emitted() {
            assert_eq!(
                pattern.matches(&ev),
                consumes(spec, ctx, t, reason),
                "{}: {t} ({reason:?}) from {}",
                spec.name,
                app::bus::source(ctx)
            );
            // The same type from any other source never matches.
            let other = event("shop.elsewhere", t, ev["detail"]["data"].clone());
            assert!(!pattern.matches(&other), "{}: matches {t} from a foreign source", spec.name);
        }
        let props = &f.properties["Events"][&rule.name]["Properties"];
        assert!(props["RetryPolicy"]["MaximumRetryAttempts"].is_number(), "{}: RetryPolicy", spec.name);
        assert!(props["DeadLetterConfig"]["Arn"].is_string(), "{}: DeadLetterConfig", spec.name);
    }
}

#[test]
fn every_rule_matches_an_event_something_emits() {
    for f in template_functions().into_values() {
        for rule in &f.rules {
            let p = Pattern::parse(&rule.pattern).expect("pattern");
            assert!(emitted().iter().any(|(.., ev)| p.matches(ev)), "{}: rule {} matches nothing", f.binary, rule.name);
        }
    }
}

#[test]
fn every_variable_a_function_reads_is_set_for_it_and_nothing_else() {
    let fns = template_functions();
    for spec in &specs() {
        let set: BTreeSet<&str> = fns[spec.name].env.keys().map(String::as_str).collect();
        let read: BTreeSet<&str> = spec.env.iter().copied().collect();
        assert_eq!(set, read, "{}", spec.name);
    }
    for v in [manifest::vars::CUSTOMERS_TABLE, manifest::vars::PRODUCTS_TABLE, manifest::vars::ORDERS_TABLE] {
        for (name, f) in &fns {
            if let Some(value) = f.env.get(v) {
                let want = match v {
                    "CUSTOMERS_TABLE" => "CustomersTable",
                    "PRODUCTS_TABLE" => "ProductsTable",
                    _ => "OrdersTable",
                };
                assert_eq!(value, want, "{name}: {v} names the right table");
            }
        }
    }
}

#[test]
fn each_function_is_granted_exactly_the_actions_its_manifest_lists() {
    let fns = template_functions();
    for spec in &specs() {
        let f = &fns[spec.name];
        let granted: BTreeSet<(String, String)> = f
            .statements
            .iter()
            .flat_map(|s| s.actions.iter().flat_map(move |a| s.resources.iter().map(move |r| (a.clone(), r.clone()))))
            .collect();
        let wanted: BTreeSet<(String, String)> =
            spec.permissions.iter().map(|p| (p.action.to_owned(), resource_text(p.resource))).collect();
        assert_eq!(granted, wanted, "{}", spec.name);
        for s in &f.statements {
            assert!(s.actions.iter().all(|a| !a.contains('*')), "{}: wildcard action in {:?}", spec.name, s.actions);
            assert!(s.resources.iter().all(|r| r != "*"), "{}: wildcard resource", spec.name);
        }
        let policies = f.properties["Policies"].as_array().cloned().unwrap_or_default();
        assert!(policies.iter().all(Value::is_object), "{}: no SAM policy templates or managed policies", spec.name);
    }
}

#[test]
fn no_statement_anywhere_in_the_template_has_a_wildcard_action() {
    fn walk(v: &Value, path: &str, bad: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    if k == "Action" || k == "NotAction" {
                        let actions = match child {
                            Value::String(s) => vec![s.clone()],
                            Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
                            _ => vec![],
                        };
                        bad.extend(actions.into_iter().filter(|a| a.contains('*')).map(|a| format!("{path}: {a}")));
                    }
                    walk(child, &format!("{path}.{k}"), bad);
                }
            }
            Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| walk(c, &format!("{path}[{i}]"), bad)),
            _ => {}
        }
    }
    let mut bad = vec![];
    walk(&system_tests::template().root, "$", &mut bad);
    assert!(bad.is_empty(), "{bad:?}");
}

#[test]
fn the_relay_reads_every_table_stream_filtered_to_outbox_inserts() {
    let relay = &template_functions()["outbox-relay"];
    let streams: BTreeSet<&str> = relay.streams.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        streams,
        BTreeSet::from(["CustomersTable.StreamArn", "ProductsTable.StreamArn", "OrdersTable.StreamArn"])
    );
    for (stream, props) in &relay.streams {
        assert_eq!(props["BisectBatchOnFunctionError"], true, "{stream}");
        assert!(props["MaximumRetryAttempts"].as_i64().is_some_and(|n| n > 0 && n <= 100), "{stream}: bounded retries");
        assert!(props["DestinationConfig"]["OnFailure"]["Destination"].is_string(), "{stream}: on-failure destination");
        let filters = props["FilterCriteria"]["Filters"].as_array().expect("filters");
        let pattern: Value =
            serde_json::from_str(filters[0]["Pattern"].as_str().expect("a JSON pattern")).expect("JSON");
        let p = Pattern::parse(&pattern).expect("pattern");
        let record = |name: &str, pk: &str| json!({"eventName": name, "dynamodb": {"Keys": {"PK": {"S": pk}, "SK": {"S": "X"}}}});
        assert!(p.matches(&record("INSERT", "OUTBOX#1")), "{stream}");
        assert!(!p.matches(&record("REMOVE", "OUTBOX#1")), "{stream}: TTL deletions are not relayed");
        assert!(!p.matches(&record("INSERT", "ORDER#1")), "{stream}: aggregates are not relayed");
    }
    let sweeper = &template_functions()["sweep-orders"];
    assert_eq!(sweeper.schedules.len(), 1, "the sweeper runs on a schedule");
}

#[test]
fn globals_run_every_function_the_same_way() {
    let t = system_tests::template();
    let g = &t.root["Globals"]["Function"];
    assert_eq!(g["Runtime"], "provided.al2023");
    assert_eq!(g["Handler"], "bootstrap");
    assert_eq!(g["Architectures"][0], "Architecture");
    assert_eq!(t.root["Parameters"]["Architecture"]["Default"], "arm64");
    assert_eq!(g["LoggingConfig"]["LogFormat"], "JSON");
    assert_eq!(g["Tracing"], "Active");
    assert!(g["Environment"].is_null(), "no global variables: each function gets its own");
}

#[test]
fn every_dead_letter_queue_has_an_alarm() {
    let t = system_tests::template();
    let queues = t.resources_of("AWS::SQS::Queue");
    let alarms = t.resources_of("AWS::CloudWatch::Alarm");
    for q in queues.keys() {
        let watched = alarms.values().any(|a| {
            a["Properties"]["Dimensions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|d| d["Value"] == format!("{q}.QueueName"))
        });
        assert!(watched, "no alarm watches {q}");
    }
}

/// The operator hears of a failing or throttled function, a dead letter left for hours and a
/// failing or slow API before customers do: one alarm per function on its errors and throttles,
/// one per queue on the age of its oldest message, and the API's 5xx rate and p99 latency.
#[test]
fn every_function_queue_and_the_api_have_their_alarms() {
    let t = system_tests::template();
    let alarms = t.resources_of("AWS::CloudWatch::Alarm");
    let text = |v: &Value| v.to_string();
    for f in template_functions().values() {
        for metric in ["Errors", "Throttles"] {
            let watched = alarms.values().any(|a| {
                a["Properties"]["MetricName"] == metric
                    && text(&a["Properties"]["Dimensions"]).contains(&format!("\"{}\"", f.logical_id))
            });
            assert!(watched, "no {metric} alarm on {}", f.binary);
        }
    }
    for q in t.resources_of("AWS::SQS::Queue").keys() {
        let aged = alarms.values().any(|a| {
            a["Properties"]["MetricName"] == "ApproximateAgeOfOldestMessage"
                && text(&a["Properties"]["Dimensions"]).contains(&format!("{q}.QueueName"))
        });
        assert!(aged, "no age alarm on {q}");
    }
    let on_api = |metric: &str| {
        alarms.values().any(|a| {
            let p = &a["Properties"];
            p["MetricName"] == metric && text(&p["Dimensions"]).contains("HttpApi")
        })
    };
    assert!(on_api("5xx") && on_api("Latency"), "the API's 5xx rate and latency need alarms");
}

/// The dashboard shows the saga funnel, its duration, the relay's lag and every dead-letter
/// queue, under the names the code measures (`app::measure`).
#[test]
fn the_dashboard_shows_what_the_code_measures() {
    use app::measure as m;
    let t = system_tests::template();
    let dashboards = t.resources_of("AWS::CloudWatch::Dashboard");
    let body = dashboards.values().next().expect("a dashboard")["Properties"]["DashboardBody"].to_string();
    for name in [
        m::ORDERS_CREATED,
        m::ORDERS_APPROVED,
        m::ORDERS_REJECTED,
        m::ORDERS_CANCELLED,
        m::SAGA_DURATION,
        m::RELAY_LAG,
        m::EVENTS_REDRIVEN,
        m::HOLDS_REFUSED,
        m::VERSION_CONFLICTS,
        m::STEP_GAVE_UP,
    ] {
        assert!(body.contains(name), "the dashboard does not show {name}");
    }
    assert!(body.contains(bundle::telemetry::METRICS_NAMESPACE) && body.contains("IteratorAge"));
    for q in t.resources_of("AWS::SQS::Queue").keys() {
        assert!(body.contains(&format!("{q}.QueueName")), "the dashboard does not show {q}");
    }
}

/// Database per service: every function's permissions, variables and template grants name the
/// table of one context at most (the relay names only the bus). Together with the event replays,
/// which require the calls each function makes to equal its grants, no function can read or
/// write another context's data without this test failing.
#[test]
fn no_function_touches_more_than_one_contexts_table() {
    let fns = template_functions();
    let table_ids = [table_id(Table::Customers), table_id(Table::Products), table_id(Table::Orders)];
    for spec in &specs() {
        let by_permission: BTreeSet<Table> = spec
            .permissions
            .iter()
            .filter_map(|p| match p.resource {
                Resource::Table(t) | Resource::Index(t, _) => Some(t),
                // The relay and its redrive read every table's stream, and only its outbox records.
                Resource::Stream(_) | Resource::Bus => None,
            })
            .collect();
        let by_variable: BTreeSet<Table> = [Table::Customers, Table::Products, Table::Orders]
            .into_iter()
            .filter(|t| spec.env.contains(&t.var()))
            .collect();
        assert!(by_permission.len() <= 1, "{} is granted several contexts' tables: {by_permission:?}", spec.name);
        assert_eq!(by_variable, by_permission, "{}: the tables it names and the tables it may use", spec.name);
        let f = &fns[spec.name];
        let in_template: BTreeSet<&str> = f
            .statements
            .iter()
            .flat_map(|s| s.resources.iter())
            .filter(|r| !r.ends_with(".StreamArn"))
            .filter_map(|r| table_ids.iter().copied().find(|id| r.contains(id)))
            .collect();
        assert!(in_template.len() <= 1, "{}: the template grants several tables: {in_template:?}", spec.name);
    }
}

/// The operator hears of a stalled saga before a customer does: the relay's stream lag and the
/// orders the sweeper rejects TIMED_OUT each have an alarm, counted from what those functions
/// really emit (the sweeper's "sweep done" log line and its `rejected` field).
#[test]
fn relay_lag_and_timed_out_orders_have_alarms() {
    let t = system_tests::template();
    let alarms = t.resources_of("AWS::CloudWatch::Alarm");
    let lag = alarms.values().any(|a| {
        let p = &a["Properties"];
        p["MetricName"] == "IteratorAge"
            && p["Dimensions"].as_array().into_iter().flatten().any(|d| d["Value"] == "OutboxRelayFunction")
    });
    assert!(lag, "no alarm on the relay's IteratorAge");
    let filters = t.resources_of("AWS::Logs::MetricFilter");
    let filter = filters.values().find(|f| f["Properties"]["LogGroupName"] == "SweepOrdersLogGroup");
    let filter = filter.expect("a metric filter on the sweeper's log group");
    let pattern = filter["Properties"]["FilterPattern"].as_str().unwrap_or_default();
    assert!(pattern.contains("\"sweep done\"") && pattern.contains("$.fields.rejected"), "{pattern}");
    let metric = &filter["Properties"]["MetricTransformations"][0]["MetricName"];
    assert!(
        alarms.values().any(|a| &a["Properties"]["MetricName"] == metric),
        "no alarm on the sweeper's metric {metric}"
    );
    // The log line the filter counts is the one the sweeper writes.
    let source = include_str!("../crates/handlers/src/events.rs");
    assert!(source.contains("rejected = report.rejected, \"sweep done\""), "the sweeper's log line changed");
}

/// The sweeper never rejects an order one of whose steps is still legitimately being retried:
/// every saga step's retry window is bounded (the rule's retries for events EventBridge could not
/// hand over, Lambda's async window once it did), and `PendingTimeoutSeconds` may not be set below
/// their sum along the saga's longest path to a decision, with a minute of relay per hop.
#[test]
fn the_pending_timeout_covers_every_retry_window_on_the_saga_path() {
    const RELAY_PER_HOP: i64 = 60;
    let fns = template_functions();
    let window = |f: bundle::Function| -> i64 {
        let t = &fns[f.name()];
        let rule = &t.properties["Events"][&t.rules[0].name]["Properties"]["RetryPolicy"];
        let invoke = &t.properties["EventInvokeConfig"];
        let rule_age = rule["MaximumEventAgeInSeconds"].as_i64().unwrap_or_else(|| panic!("{f}: rule age"));
        let async_age = invoke["MaximumEventAgeInSeconds"].as_i64().unwrap_or_else(|| panic!("{f}: async age"));
        assert!(invoke["MaximumRetryAttempts"].as_i64().is_some(), "{f}: Lambda's retries stated");
        rule_age + async_age + RELAY_PER_HOP
    };
    for spec in specs() {
        if let Trigger::Bus(_) = spec.trigger {
            let f = bundle::Function::from_name(spec.name).expect("function");
            assert!(window(f) <= 600, "{f}: one hop settles or is dead-lettered within minutes");
        }
    }
    use bundle::Function as F;
    let path = window(F::ReserveStock)
        + window(F::PriceOrder)
        + window(F::ReserveCredit)
        + window(F::ApproveOrder).max(window(F::RejectOrder));
    let param = system_tests::template().parameter("PendingTimeoutSeconds").clone();
    let min = param["MinValue"].as_i64().expect("a MinValue");
    let default = param["Default"].as_i64().expect("a Default");
    assert!(min >= path, "PendingTimeoutSeconds MinValue {min} < the saga's retry windows {path}");
    assert!(default >= min, "the default {default} is below the minimum {min}");
}
