//! What generating template.yaml from the manifest cannot guarantee by itself: that the committed
//! file is the generator's output, that the functions' folders are the manifest's, that the
//! rules' patterns match exactly what each step consumes among what the system emits, and that
//! the hand-written shared part (the authorizer, the timeout parameter, the dashboard) agrees with
//! the code. That the generator writes each function's manifest entry faithfully is tested in
//! crates/sam-template/tests/generated.rs; that each function calls exactly what it is granted,
//! by the event replays (tests/events_replay.rs).

use std::collections::{BTreeMap, BTreeSet};

use bundle::manifest::{Auth, Resource, Spec as FunctionSpec, Table, Trigger};
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

use sam_template::generate::{pascal, table_id};

#[test]
fn the_committed_template_is_the_generators_output() {
    let generated = sam_template::generate::template(sam_template::generate::SHARED).expect("generate");
    let committed = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"))
        .expect("template.yaml");
    assert!(
        generated == committed,
        "template.yaml is not the generator's output: run `cargo run -p sam-template -- generate`"
    );
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
        let Trigger::Http { method, path, auth, .. } = spec.trigger else { continue };
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
    let Trigger::Bus { consumes: cs, .. } = spec.trigger else { return false };
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
        let Trigger::Bus { .. } = spec.trigger else {
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
        let target = &system_tests::template().root["Resources"][&rule.name]["Properties"]["Targets"][0];
        assert!(target["RetryPolicy"]["MaximumRetryAttempts"].is_number(), "{}: RetryPolicy", spec.name);
        assert!(target["DeadLetterConfig"]["Arn"].is_string(), "{}: DeadLetterConfig", spec.name);
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
/// table of one context at most. Together with the event replays, which require the calls each
/// function makes to equal its grants, no function can read or write another context's data
/// without this test failing. The relay and its redrive know the three tables by name (each
/// stream record names its table, which tells the one context its records may speak for), and
/// may touch none of them.
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
        let outboxes: Vec<Table> = Table::ALL.into_iter().filter(|t| spec.env.contains(&t.outbox_var())).collect();
        if !outboxes.is_empty() {
            assert!(by_permission.is_empty(), "{}: names outbox tables and may use a table", spec.name);
            for t in outboxes {
                assert_eq!(f.env[t.outbox_var()], table_id(t), "{}: {}", spec.name, t.outbox_var());
            }
        }
    }
}

/// The relay knows every table it is triggered by: each stream it reads is the stream of a table
/// it names as an outbox, so none of its records goes unchecked (or is refused wholesale).
#[test]
fn the_relay_names_every_table_whose_stream_it_relays() {
    let relay = &template_functions()["outbox-relay"];
    let streams: BTreeSet<String> = relay.streams.iter().map(|(s, _)| s.clone()).collect();
    let named: BTreeSet<String> = Table::ALL
        .into_iter()
        .filter(|t| relay.env.contains_key(t.outbox_var()))
        .map(|t| format!("{}.StreamArn", relay.env[t.outbox_var()]))
        .collect();
    assert_eq!(streams, named);
    assert_eq!(named.len(), 3);
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
/// every saga step's window is bounded, as the template writes it (the rule's retries for events
/// EventBridge could not hand to the queue, then the queue's receives a visibility timeout
/// apart), it waits out an hour's outage of its context, and `PendingTimeoutSeconds` may not be
/// set below the windows' sum along the saga's longest path to a decision, with a minute of relay
/// per hop.
#[test]
fn the_pending_timeout_covers_every_retry_window_on_the_saga_path() {
    const RELAY_PER_HOP: i64 = 60;
    const AN_HOUR: i64 = 3600;
    let t = system_tests::template();
    let fns = template_functions();
    let window = |f: bundle::Function| -> i64 {
        let rule = &t.root["Resources"][&fns[f.name()].rules[0].name]["Properties"]["Targets"][0]["RetryPolicy"];
        let queue = &t.root["Resources"][format!("{}Queue", pascal(f.name()))]["Properties"];
        let rule_age = rule["MaximumEventAgeInSeconds"].as_i64().unwrap_or_else(|| panic!("{f}: rule age"));
        let visibility = queue["VisibilityTimeout"].as_i64().unwrap_or_else(|| panic!("{f}: visibility"));
        let receives = queue["RedrivePolicy"]["maxReceiveCount"].as_i64().unwrap_or_else(|| panic!("{f}: receives"));
        assert!(visibility * receives > AN_HOUR, "{f}: an hour's outage of its context is waited out");
        rule_age + visibility * receives + RELAY_PER_HOP
    };
    for spec in specs() {
        if let Trigger::Bus { .. } = spec.trigger {
            let f = bundle::Function::from_name(spec.name).expect("function");
            assert!(window(f) <= 2 * AN_HOUR, "{f}: one hop settles or is dead-lettered within two hours");
        }
    }
    use bundle::Function as F;
    let path = window(F::ReserveStock)
        + window(F::PriceOrder)
        + window(F::ReserveCredit)
        + window(F::ApproveOrder).max(window(F::RejectOrder));
    assert_eq!(
        path,
        i64::from(bundle::manifest::min_pending_timeout_seconds()),
        "the manifest's floor is the template's"
    );
    let param = system_tests::template().parameter("PendingTimeoutSeconds").clone();
    let min = param["MinValue"].as_i64().expect("a MinValue");
    let default = param["Default"].as_i64().expect("a Default");
    assert!(min >= path, "PendingTimeoutSeconds MinValue {min} < the saga's retry windows {path}");
    assert!(default >= min, "the default {default} is below the minimum {min}");
}

/// The data outlives a mistake: each table and the user pool (whose `sub`s are the customers'
/// ids) is kept when the stack is deleted or a change would replace it, and refuses a direct
/// delete until its protection is turned off.
#[test]
fn the_tables_and_the_user_pool_are_retained_and_protected_from_deletion() {
    let t = system_tests::template();
    let retained = |id: &str, r: &Value| {
        assert_eq!((&r["DeletionPolicy"], &r["UpdateReplacePolicy"]), (&json!("Retain"), &json!("Retain")), "{id}");
    };
    let tables = t.resources_of("AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 3, "{:?}", tables.keys());
    for (id, r) in &tables {
        retained(id, r);
        assert_eq!(r["Properties"]["DeletionProtectionEnabled"], json!(true), "{id}");
    }
    let pools = t.resources_of("AWS::Cognito::UserPool");
    assert_eq!(pools.len(), 1);
    for (id, r) in &pools {
        retained(id, r);
        assert_eq!(r["Properties"]["DeletionProtection"], json!("ACTIVE"), "{id}");
    }
}

/// API Gateway applies an HttpApi's DefaultRouteSettings to each route on its own, so the
/// throttling parameters limit each route, not the API and not a client; their texts say so.
#[test]
fn the_throttling_parameters_say_they_limit_each_route() {
    let t = system_tests::template();
    let api = &t.resources_of("AWS::Serverless::HttpApi")["HttpApi"]["Properties"];
    let settings = &api["DefaultRouteSettings"];
    assert!(api.get("RouteSettings").is_none(), "no route overrides the default settings");
    for (setting, param) in
        [("ThrottlingRateLimit", "ApiThrottlingRateLimit"), ("ThrottlingBurstLimit", "ApiThrottlingBurstLimit")]
    {
        assert_eq!(settings[setting], json!(param), "{setting} is !Ref {param}");
        let text = t.parameter(param)["Description"].as_str().unwrap_or_default().to_owned();
        for says in ["each route", "per route", "not per client"] {
            assert!(text.contains(says), "{param}'s description does not say {says:?}: {text}");
        }
        assert!(!text.contains("across all routes"), "{param}: {text}");
    }
}
