//! The bundle as a user deploys it: the SAM build of template.yaml deployed to ministack
//! (CloudFormation with the SAM transform), the real binaries run by ministack's Lambda, the saga
//! carried by the template's stream event sources and EventBridge rules, orders driven over the
//! deployed HTTP API.
//!
//! Needs `.aws-sam/build` (scripts/sam-build.sh; ./scripts/test.sh runs it first) and a ministack
//! (scripts/with-ministack.sh). The one ministack gap worked around, in the harness only: it does
//! not create HttpApi routes or the authorizer from SAM's OpenAPI body, so tests/e2e/ministack.py
//! wires them as API Gateway would; requests carry real tokens of the stack's Cognito user pool.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};
use system_tests::{deployed_api, harness, ministack, root, Api};

const SAGA: Duration = Duration::from_secs(60);

fn amount(v: &Value) -> i64 {
    v["amount"].as_i64().unwrap_or_else(|| panic!("no amount in {v}"))
}

async fn settled(api: &Api, id: &str) -> Value {
    let o = api.eventually_within(&format!("/orders/{id}"), SAGA, |o| o["state"] != "PENDING").await;
    assert_ne!(o["state"], "PENDING", "order {id} still PENDING after {SAGA:?}");
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deployed_bundle_runs_the_saga_end_to_end() {
    let _ = ministack::sdk_config().await; // fails loudly without a ministack
                                           // Tokens are real Cognito access tokens from the stack's user pool (ministack's Cognito),
                                           // checked by the JWT authorizer the harness put on the API as the template declares it.
    let (api, stack, _) = deployed_api("e2e");
    // Every event on the bus, for the contract check at the end.
    let tap = harness(&["tap", &stack]);

    // Catalogue and customers, through the API.
    let rich = api.customer("rich@example.com", 1_000_000).await;
    let poor = api.customer("poor@example.com", 1_000).await;
    assert_eq!(api.get(&format!("/customers/{rich}")).await.status, 200);
    let me = api.as_customer(&rich).get("/me").await;
    assert_eq!((me.status, me.body["id"].as_str()), (200, Some(rich.as_str())), "{}", me.body);
    // The email is the user pool's: its pre token generation trigger (token-claims) put the
    // verified address in the access token, and no body may name one.
    assert_eq!(me.body["email"], "rich@example.com", "{}", me.body);
    let squatter = api.with_token(api.new_token("squatter@example.com", false).await);
    let squat = squatter
        .post(
            "/customers",
            json!({"name": "Squatter", "email": "poor@example.com", "address": system_tests::address()}),
        )
        .await;
    assert_eq!(squat.status, 400, "{}", squat.body);
    let lamp = api.product("Desk Lamp", 2_500, 10).await;
    let rare = api.product("Rare Vase", 90_000, 1).await;
    assert_eq!(api.get(&format!("/products/{lamp}")).await.status, 200);
    assert_eq!(api.get("/products?limit=1").await.body["items"].as_array().map(Vec::len), Some(1));
    let quote = api
        .post(
            "/shipping/quote",
            json!({"destination": system_tests::address(), "shippingSpeed": "standard",
                   "items": [{"weightGrams": 800, "dimensionsCm": {"length": 20, "width": 20, "height": 30}, "quantity": 1}],
                   "subtotal": {"amount": 2500, "currency": "USD"}}),
        )
        .await;
    assert_eq!(quote.status, 200, "{}", quote.body);

    // Within credit and stock: APPROVED.
    let approved = api.order(&rich, &[(&lamp, 2)]).await;
    assert_eq!(approved.status, 201, "{}", approved.body);
    let approved_id = approved.body["id"].as_str().expect("id").to_owned();
    let o = settled(&api, &approved_id).await;
    assert_eq!(o["state"], "APPROVED", "{o}");
    let total = amount(&o["total"]);
    // The operator's view lists it among every customer's APPROVED orders; a customer is refused.
    let listed = api.get("/orders?status=APPROVED&limit=100").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert!(listed.body["items"].as_array().is_some_and(|i| i.iter().any(|o| o["id"] == approved_id.as_str())));
    assert_eq!(api.as_customer(&rich).get("/orders").await.status, 403);
    let timeline = api.as_customer(&rich).get(&format!("/orders/{approved_id}/timeline")).await;
    let events: Vec<&str> =
        timeline.body["steps"].as_array().into_iter().flatten().filter_map(|s| s["event"].as_str()).collect();
    assert_eq!(events, ["OrderCreated", "OrderPriced", "OrderApproved"], "{}", timeline.body);
    // One id finds the whole saga: every log line naming the order carries one trace id (the
    // create request's X-Ray trace, carried on by every event), and that trace id finds the
    // saga's lines in every function it went through, from the request to the approval.
    let trace_of = |line: &Value| -> Option<String> {
        let v: Value = serde_json::from_str(line.as_str()?).ok()?;
        let t = v["span"]["trace_id"].as_str().or(v["fields"]["trace_id"].as_str())?;
        (!t.is_empty()).then(|| t.to_owned())
    };
    let by_order = harness(&["grep", &stack, &approved_id]);
    let lines: Vec<&Value> = by_order
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
        .flat_map(|v| v.as_array().into_iter().flatten())
        .collect();
    let traces: std::collections::BTreeSet<Option<String>> = lines.iter().map(|l| trace_of(l)).collect();
    assert_eq!(traces.len(), 1, "one trace id on every line of order {approved_id}: {by_order}");
    let trace = traces.into_iter().next().flatten().unwrap_or_else(|| panic!("no trace id: {by_order}"));
    let by_trace = harness(&["grep", &stack, &trace]);
    for f in ["create-order", "reserve-stock", "price-order", "reserve-credit", "approve-order"] {
        let found = by_trace[f].as_array().map_or(0, Vec::len);
        assert!(found > 0, "trace {trace} finds no line of {f}: {by_trace}");
    }

    // Over the credit limit: REJECTED for credit, its stock released again.
    let over = api.order(&poor, &[(&lamp, 1)]).await.body["id"].as_str().expect("id").to_owned();
    let o = settled(&api, &over).await;
    assert_eq!((o["state"].clone(), o["rejectionReason"].clone()), (json!("REJECTED"), json!("CREDIT_LIMIT_EXCEEDED")));
    let lamp_now = api.eventually_within(&format!("/products/{lamp}"), SAGA, |p| p["available"] == 8).await;
    assert_eq!(lamp_now["available"], 8, "only the approved order holds lamps");

    // Missing stock: REJECTED for stock.
    let short = api.order(&rich, &[(&rare, 2)]).await.body["id"].as_str().expect("id").to_owned();
    let o = settled(&api, &short).await;
    assert_eq!((o["state"].clone(), o["rejectionReason"].clone()), (json!("REJECTED"), json!("OUT_OF_STOCK")));

    // Cancelling the approved order: CANCELLED, stock and credit restored.
    let cancelled = api.post(&format!("/orders/{approved_id}/cancel"), json!({})).await;
    assert_eq!((cancelled.status, cancelled.body["state"].clone()), (200, json!("CANCELLED")), "{}", cancelled.body);
    let lamp_now = api.eventually_within(&format!("/products/{lamp}"), SAGA, |p| p["available"] == 10).await;
    assert_eq!(lamp_now["available"], 10);
    let credit = |c: &Value| amount(&c["availableCredit"]);
    let c = api.eventually_within(&format!("/customers/{rich}"), SAGA, |c| credit(c) == 1_000_000).await;
    assert_eq!(credit(&c), 1_000_000, "the {total} held for the order is back");

    // The same POST with the same Idempotency-Key: one order.
    let body = system_tests::order_body(&rich, &[(&lamp, 1)]);
    let first = api.order_keyed(Some("e2e-key-1"), body.clone()).await;
    let again = api.order_keyed(Some("e2e-key-1"), body).await;
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(first.body["id"], again.body["id"]);
    settled(&api, first.body["id"].as_str().expect("id")).await;

    // History: newest first across pages, every order once.
    let mut seen: Vec<(String, String)> = vec![];
    let mut path = format!("/customers/{rich}/orders?limit=2");
    loop {
        let page = api.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        for o in page.body["items"].as_array().expect("items") {
            seen.push((
                o["createdAt"].as_str().expect("createdAt").to_owned(),
                o["id"].as_str().expect("id").to_owned(),
            ));
        }
        match page.body["nextCursor"].as_str() {
            Some(c) => path = format!("/customers/{rich}/orders?limit=2&cursor={c}"),
            None => break,
        }
    }
    let mut newest_first = seen.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, newest_first);
    assert_eq!(seen.len(), 3, "approved, out of stock, idempotent: {seen:?}");

    // The relay cannot reach the bus for longer than its retries: each stream event source gives
    // up on its batch and leaves the batch's range in the relay's failure queue; redrive-outbox
    // reads the range back from the stream and publishes it. Every hop of this saga goes that
    // way, and it completes with no one acting.
    let down = harness(&["outage", &stack, "on"]);
    assert_eq!(down["mappings"], 3, "{down}");
    let through = api.order(&rich, &[(&lamp, 1)]).await.body["id"].as_str().expect("id").to_owned();
    let outage = Duration::from_secs(180);
    let o = api.eventually_within(&format!("/orders/{through}"), outage, |o| o["state"] != "PENDING").await;
    assert_eq!(o["state"], "APPROVED", "the saga went through the redrive while the relay was down: {o}");
    harness(&["outage", &stack, "off"]);
    let failed = harness(&["logs", &stack, "relay failed"]);
    let redrove = harness(&["logs", &stack, "redrove a stream range"]);
    assert!(failed["outbox-relay"].as_u64() >= Some(4), "the relay failed on every hop: {failed}");
    assert!(redrove["redrive-outbox"].as_u64() >= Some(4), "each hop was redriven: {redrove}");

    // The catalogue and the accounts change. Restock, then order: the rare vase is back in stock.
    let buyer = api.customer("buyer@example.com", 10_000).await;
    let restocked = api.post(&format!("/products/{rare}/restock"), json!({"quantity": 2})).await;
    assert_eq!((restocked.status, restocked.body["stock"].clone()), (200, json!(3)), "{}", restocked.body);
    let limit = api
        .send_json(
            "PUT",
            &format!("/customers/{buyer}/credit-limit"),
            json!({"creditLimit": {"amount": 500_000, "currency": "USD"}}),
        )
        .await;
    assert_eq!((limit.status, amount(&limit.body["creditLimit"])), (200, 500_000), "{}", limit.body);
    let renamed = api.send_json("PATCH", &format!("/customers/{buyer}"), json!({"name": "Buyer Renamed"})).await;
    assert_eq!((renamed.status, renamed.body["name"].clone()), (200, json!("Buyer Renamed")), "{}", renamed.body);
    let vases = api.order(&buyer, &[(&rare, 2)]).await.body["id"].as_str().expect("id").to_owned();
    assert_eq!(settled(&api, &vases).await["state"], "APPROVED");

    // An order placed before a reprice keeps its price; once the orders replica has the new
    // price, new orders are placed (and charged) at it.
    let before = api.order(&buyer, &[(&lamp, 1)]).await;
    assert_eq!(before.body["lines"][0]["unitPrice"]["amount"], 2_500, "{}", before.body);
    let repriced = api
        .send_json("PATCH", &format!("/products/{lamp}"), json!({"price": {"amount": 3_000, "currency": "USD"}}))
        .await;
    assert_eq!((repriced.status, amount(&repriced.body["price"])), (200, 3_000), "{}", repriced.body);
    let o = settled(&api, before.body["id"].as_str().expect("id")).await;
    assert_eq!((o["state"].clone(), amount(&o["lines"][0]["unitPrice"])), (json!("APPROVED"), 2_500), "{o}");
    let until = std::time::Instant::now() + SAGA;
    let after = loop {
        let r = api.order(&buyer, &[(&lamp, 1)]).await;
        if r.body["lines"][0]["unitPrice"]["amount"] == 3_000 || std::time::Instant::now() > until {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(amount(&after.body["lines"][0]["unitPrice"]), 3_000, "the replica follows the reprice: {}", after.body);
    let o = settled(&api, after.body["id"].as_str().expect("id")).await;
    assert_eq!((o["state"].clone(), amount(&o["lines"][0]["unitPrice"])), (json!("APPROVED"), 3_000), "{o}");

    // Discontinued: no more stock for it.
    let gone = api.post(&format!("/products/{rare}/discontinue"), json!({})).await;
    assert_eq!((gone.status, gone.body["discontinued"].clone()), (200, json!(true)), "{}", gone.body);
    let refused = api.post(&format!("/products/{rare}/restock"), json!({"quantity": 1})).await;
    assert_eq!(refused.status, 409, "{}", refused.body);

    // Identity at the edge: no token, no entry (API Gateway's own 401); the public routes stay
    // open; one customer cannot see or spend another's; only an admin writes the catalogue.
    let anonymous = api.send_anonymous("GET", &format!("/customers/{rich}"), &[], None).await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    let forged = api.with_token("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.").get(&format!("/orders/{approved_id}")).await;
    assert_eq!(forged.status, 401, "{}", forged.body);
    assert_eq!(api.send_anonymous("GET", "/products?limit=1", &[], None).await.status, 200);
    let poor_api = api.as_customer(&poor);
    let peek = poor_api.get(&format!("/orders/{approved_id}")).await;
    assert_eq!(
        (peek.status, peek.body["type"].as_str()),
        (404, Some("https://shop-saga.dev/problems/not-found")),
        "{}",
        peek.body
    );
    let spend = poor_api.post("/orders", system_tests::order_body(&rich, &[(&lamp, 1)])).await;
    assert_eq!(spend.status, 403, "{}", spend.body);
    let free = poor_api
        .send_json("PATCH", &format!("/products/{lamp}"), json!({"price": {"amount": 0, "currency": "USD"}}))
        .await;
    assert_eq!(free.status, 403, "{}", free.body);

    // Bad input reaches the function and comes back as problem+json.
    let bad = api.post("/orders", json!({"customerId": "nope"})).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(bad.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/problem+json"));

    // The sweeper fires every minute on AWS; here it is invoked as its schedule would.
    let swept =
        harness(&["invoke", &stack, "sweep-orders", root().join("events/sweep-orders.json").to_str().expect("path")]);
    assert_eq!(swept["error"], Value::Null, "{swept}");
    let report: Value = serde_json::from_str(swept["payload"].as_str().expect("payload")).expect("JSON");
    assert!(report["examined"].is_number(), "{report}");

    // Every event the run put on the bus matches its published schema (schemas/events).
    let validators: BTreeMap<String, jsonschema::Validator> = app::bus::schemas()
        .into_iter()
        .map(|(file, schema)| {
            let detail_type = file.split('.').next().unwrap_or_default().to_owned();
            (detail_type, jsonschema::draft202012::new(&schema).expect("a schema that compiles"))
        })
        .collect();
    let emitted = harness(&["drain", tap["queueUrl"].as_str().expect("queueUrl")]);
    let emitted = emitted.as_array().expect("events");
    assert!(emitted.len() > 30, "the run emitted {} events", emitted.len());
    for e in emitted {
        let t = e["detail-type"].as_str().unwrap_or_default();
        let v = validators.get(t).unwrap_or_else(|| panic!("an event of unknown type on the bus: {e}"));
        let errors: Vec<String> = v.iter_errors(&e["detail"]).map(|x| x.to_string()).collect();
        assert!(errors.is_empty(), "{t} does not match its schema: {errors:?}\n{e}");
    }

    // Every function of the template ran at least once (ministack keeps their logs).
    let logs: BTreeMap<String, Value> = serde_json::from_value(harness(&["logs", &stack])).expect("logs");
    let silent: Vec<&String> = logs.iter().filter(|(_, n)| n.as_u64() == Some(0)).map(|(f, _)| f).collect();
    assert_eq!(logs.len(), bundle::Function::ALL.len());
    assert!(silent.is_empty(), "never invoked: {silent:?}");

    // Last, as it would end the run if it failed: the deployed tables refuse to be deleted, and
    // the user pool is protected too. (Nothing deletes the stack: ministack stops with the tests.)
    let protected = harness(&["protected", &stack]);
    for (table, outcome) in protected["tables"].as_object().expect("tables") {
        let refused = outcome.as_str().unwrap_or_default();
        assert!(refused.contains("protected against deletion"), "{table}: {refused}");
    }
    assert_eq!(protected["userPool"], "ACTIVE", "{protected}");
}

/// CloudFormation refuses, before it creates anything, a stack that names a JWT issuer and no
/// audience: the authorizer would accept that issuer's tokens for any client.
#[tokio::test]
async fn a_jwt_issuer_without_an_audience_is_refused() {
    let _ = ministack::sdk_config().await; // fails loudly without a ministack
    let stack = format!("rules-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let outcomes = harness(&["rules", &stack]);
    let refused = outcomes["issuer without audience"].as_str().unwrap_or_default();
    assert!(refused.starts_with("refused: ") && refused.contains("JwtAudience"), "{outcomes}");
    assert_eq!(outcomes["issuer with audience"], "created", "{outcomes}");
    assert_eq!(outcomes["neither (the stack's user pool)"], "created", "{outcomes}");
}

/// docs/DEPLOY.md as a reader follows it, against a stack deployed on ministack: its blocks marked
/// `run by the e2e against ministack` run as written (the outputs read with the `aws` CLI, a user
/// with a password and its access token, an admin, the first calls with curl, the storefront's
/// upload), each `# →` line matched in their output. Then what the upload and the template left:
/// every file of the site in the bucket with its content type and cache header, config.json
/// naming this stack's API and hosted UI, nothing the site no longer has, the distribution's
/// cache invalidated; the API's CORS answering the storefront's origin and no other; the page
/// served by the distribution from the private bucket with the template's security headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deploy_guide_runs_against_the_deployed_stack() {
    let _ = ministack::sdk_config().await; // fails loudly without a ministack
    let (api, stack, deployed) = deployed_api("guide");
    let api_url = deployed["apiUrl"].as_str().expect("apiUrl");
    let run = harness(&["docs", &stack, api_url]);
    let (stdout, stderr) = (run["stdout"].as_str().unwrap_or_default(), run["stderr"].as_str().unwrap_or_default());
    assert!(run["blocks"].as_u64() >= Some(5), "the guide's blocks for the e2e: {run}");
    assert_eq!(run["status"], 0, "docs/DEPLOY.md's blocks failed:\n{stdout}\n{stderr}");
    assert_eq!(run["unmatched"], json!([]), "lines of docs/DEPLOY.md no output matched:\n{stdout}\n{stderr}");

    let s = harness(&["storefront", &stack]);
    let outputs = &s["outputs"];
    let out = |k: &str| outputs[k].as_str().unwrap_or_else(|| panic!("no output {k}: {outputs}")).to_owned();
    let objects = s["objects"].as_object().expect("objects");
    let site: Vec<&str> = s["site"].as_array().expect("site").iter().filter_map(Value::as_str).collect();
    assert!(site.contains(&"index.html"), "{site:?}");
    for file in &site {
        let o = objects.get(*file).unwrap_or_else(|| panic!("{file} is not in the bucket: {objects:?}"));
        // What the runner serves the same file as: the upload and the runner agree.
        assert_eq!(o["contentType"], storefront::content_type(file), "{file}: {o}");
        let cache = if file.ends_with(".html") { "no-cache" } else { "public, max-age=300" };
        assert_eq!(o["cacheControl"], cache, "{file}: {o}");
    }
    assert!(!objects.contains_key("stale.js"), "the upload deletes what the site no longer has: {objects:?}");
    assert_eq!(objects["config.json"], json!({"contentType": "application/json", "cacheControl": "no-cache"}));
    // The API explorer (/docs) reads the document the API was built with, beside the page.
    assert_eq!(objects["openapi.json"], json!({"contentType": "application/json", "cacheControl": "no-cache"}));
    let origin = out("StorefrontUrl");
    assert_eq!(
        s["config"],
        json!({"apiUrl": out("ApiUrl").trim_end_matches('/'), "auth": {"kind": "cognito", "domain": out("AuthDomain"),
               "clientId": out("StorefrontClientId"), "redirectUri": format!("{origin}/"), "logoutUri": format!("{origin}/"),
               "scopes": ["openid", "email"]}}),
    );
    assert!(out("AuthDomain").starts_with("https://shop-saga-"), "{outputs}");
    assert!(s["invalidations"].as_u64() >= Some(1), "{s}");

    // CORS: the API answers a preflight from the storefront's origin with that origin, and one
    // from anywhere else without it.
    let preflight = |from: String| {
        let api = api.clone();
        async move {
            let headers = [
                ("origin", from.as_str()),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "authorization,content-type,idempotency-key"),
            ];
            api.send_anonymous("OPTIONS", "/orders", &headers, None).await
        }
    };
    let allowed = |r: &system_tests::Reply| {
        r.headers.get("access-control-allow-origin").and_then(|v| v.to_str().ok()).map(str::to_owned)
    };
    let ours = preflight(origin.clone()).await;
    assert_eq!(allowed(&ours), Some(origin.clone()), "{} {:?}", ours.status, ours.headers);
    let theirs = preflight("https://evil.example.com".to_owned()).await;
    assert_eq!(allowed(&theirs), None, "{} {:?}", theirs.status, theirs.headers);

    // A shopper signs in on the hosted UI as the page does it (authorization code with PKCE, for
    // the storefront's client, back to the storefront's origin), and the API takes that token.
    let signed_in = harness(&["hosted-ui", &stack, "shopper@example.com"]);
    assert_eq!(signed_in["page"], 200, "the hosted UI's sign-in page: {signed_in}");
    assert_eq!(signed_in["redirect"], format!("{origin}/"), "{signed_in}");
    assert_ne!(signed_in["foreignRedirect"], 302, "a redirect URI not registered: {signed_in}");
    assert_eq!(signed_in["wrongVerifier"], 400, "a code is worth nothing without its verifier: {signed_in}");
    let shopper = api.with_token(signed_in["accessToken"].as_str().unwrap_or_else(|| panic!("no token: {signed_in}")));
    assert_eq!(shopper.get("/me").await.status, 404, "through the authorizer, not yet registered");
    let registered = shopper.post("/customers", json!({"name": "Shopper", "address": system_tests::address()})).await;
    assert_eq!(
        (registered.status, registered.body["email"].as_str()),
        (201, Some("shopper@example.com")),
        "{}",
        registered.body
    );

    // The page through the distribution (ministack serves it for its Host), read from the private
    // bucket through the origin access control, with the template's headers; plain HTTP refused.
    // ministack's distribution reads the bucket in-process, which its policy evaluator takes for
    // plain HTTP: the bucket's TLS-only statement refuses it, as it refuses any read without TLS.
    // The harness then drops that one statement (CloudFront reaches S3 over HTTPS on AWS), and
    // the statement that lets this distribution alone read the bucket serves the page.
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL");
    let edge = system_tests::Api::new(endpoint.trim_end_matches('/'));
    let host = origin.trim_start_matches("https://").to_owned();
    let over_http = edge.send_anonymous("GET", "/", &[("host", &host), ("x-forwarded-proto", "https")], None).await;
    assert_eq!(over_http.status, 403, "{}", String::from_utf8_lossy(&over_http.raw));
    assert_eq!(harness(&["edge-over-tls", &stack])["statements"], json!(["OnlyTheStorefrontDistribution"]));
    let page = edge.send_anonymous("GET", "/", &[("host", &host), ("x-forwarded-proto", "https")], None).await;
    assert_eq!(page.status, 200, "{:?} {}", page.headers, String::from_utf8_lossy(&page.raw));
    let header =
        |r: &system_tests::Reply, h: &str| r.headers.get(h).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(header(&page, "content-type").starts_with("text/html"), "{:?}", page.headers);
    let csp = header(&page, "content-security-policy");
    assert!(csp.contains("script-src 'self';"), "only the site's own scripts: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(header(&page, "strict-transport-security").contains("max-age=63072000"), "{:?}", page.headers);
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    let config =
        edge.send_anonymous("GET", "/config.json", &[("host", &host), ("x-forwarded-proto", "https")], None).await;
    assert_eq!(config.body, s["config"], "{}", String::from_utf8_lossy(&config.raw));
    let plain = edge.send_anonymous("GET", "/", &[("host", &host), ("x-forwarded-proto", "http")], None).await;
    assert_eq!(plain.status, 403, "https-only: {}", String::from_utf8_lossy(&plain.raw));
}
