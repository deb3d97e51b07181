//! A corpus of malformed requests against the runner: every one is answered with a 4xx
//! problem+json, and afterwards nothing has been written (no resource changed, no event published).

use std::time::Duration;

use serde_json::{json, Value};

struct Bad {
    name: String,
    method: &'static str,
    path: String,
    content_type: Option<&'static str>,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

fn req(name: impl Into<String>, method: &'static str, path: impl Into<String>, body: impl Into<Vec<u8>>) -> Bad {
    Bad {
        name: name.into(),
        method,
        path: path.into(),
        content_type: Some("application/json"),
        headers: vec![],
        body: body.into(),
    }
}

/// Every leaf of `v` replaced, one at a time, by values of the wrong type or out of every
/// field's range (for a string leaf: not a string, empty, or with a control character; for a
/// number leaf: not a number, negative, fractional or overflowing); and every field removed.
fn mutations(v: &Value) -> Vec<(String, Value)> {
    let not_a_value = [json!(null), json!(true), json!([]), json!({})];
    let bad_strings = [json!(""), json!("\u{0007}bell"), json!(1)];
    let bad_numbers = [json!("1"), json!(-1), json!(1.5), json!(1e300)];
    fn walk(
        v: &Value,
        path: &mut Vec<String>,
        root: &Value,
        reps: &dyn Fn(&Value) -> Vec<Value>,
        out: &mut Vec<(String, Value)>,
    ) {
        if let Value::Object(m) = v {
            for (k, child) in m {
                path.push(k.clone());
                let mut removed = root.clone();
                remove_at(&mut removed, path);
                out.push((format!("missing {}", path.join(".")), removed));
                if child.is_object() {
                    walk(child, path, root, reps, out);
                } else {
                    for r in reps(child) {
                        let mut changed = root.clone();
                        set_at(&mut changed, path, r.clone());
                        out.push((format!("{} = {r}", path.join(".")), changed));
                    }
                }
                path.pop();
            }
        }
    }
    let reps = |leaf: &Value| -> Vec<Value> {
        let specific: &[Value] = if leaf.is_string() { &bad_strings } else { &bad_numbers };
        not_a_value.iter().chain(specific).cloned().collect()
    };
    let mut out = vec![];
    walk(v, &mut vec![], v, &reps, &mut out);
    out
}

fn remove_at(v: &mut Value, path: &[String]) {
    if let Some((last, init)) = path.split_last() {
        let mut cur = v;
        for p in init {
            cur = &mut cur[p];
        }
        if let Value::Object(m) = cur {
            m.remove(last);
        }
    }
}

fn set_at(v: &mut Value, path: &[String], new: Value) {
    let mut cur = v;
    for p in path {
        cur = &mut cur[p];
    }
    *cur = new;
}

fn corpus(customer: &str, product: &str) -> Vec<Bad> {
    let address = system_tests::address();
    let customer_body = json!({"name": "Eve", "address": address});
    let product_body = json!({"name": "Box", "price": {"amount": 100, "currency": "USD"}, "weightGrams": 10,
        "dimensionsCm": {"length": 1, "width": 1, "height": 1}, "stock": 1});
    let order_body = system_tests::order_body(customer, &[(product, 1)]);
    let quote_body = json!({"destination": address, "shippingSpeed": "standard",
        "items": [{"weightGrams": 10, "dimensionsCm": {"length": 1, "width": 1, "height": 1}, "quantity": 1}],
        "subtotal": {"amount": 100, "currency": "USD"}});
    // The catalogue and account changes: a PATCH may leave out any one of its fields, so only
    // its values are mutated, never removed.
    let rename = json!({"name": "Box Two", "price": {"amount": 150, "currency": "USD"}, "shards": 4});
    let restock = json!({"quantity": 15});
    let limit = json!({"creditLimit": {"amount": 150000, "currency": "USD"}});
    let move_house = json!({"name": "Eve Two", "address": address});
    let product_path = format!("/products/{product}");
    let restock_path = format!("/products/{product}/restock");
    let customer_path = format!("/customers/{customer}");
    let limit_path = format!("/customers/{customer}/credit-limit");
    let mut out = vec![];
    for (method, path, body, patch) in [
        ("POST", "/customers", &customer_body, false),
        ("POST", "/products", &product_body, false),
        ("POST", "/orders", &order_body, false),
        ("POST", "/shipping/quote", &quote_body, false),
        ("PATCH", product_path.as_str(), &rename, true),
        ("POST", restock_path.as_str(), &restock, false),
        ("PATCH", customer_path.as_str(), &move_house, true),
        ("PUT", limit_path.as_str(), &limit, false),
    ] {
        for broken in [
            "",
            "{",
            "}",
            "[",
            "null",
            "[]",
            "\"text\"",
            "42",
            "{\"name\":}",
            "{\"name\": \"a\",}",
            "{'name': 'a'}",
            "{\"name\": NaN}",
            "{/* c */}",
            "\u{feff}{}",
            "{\"a\":1}{\"b\":2}",
            "{\"name\": \"\\ud800\"}",
        ] {
            out.push(req(format!("{method} {path}: broken json {broken:?}"), method, path, broken));
        }
        for (what, mutated) in mutations(body) {
            if patch && what.starts_with("missing ") {
                continue;
            }
            // An order's customerId is optional (the token's customer): leaving it out is fine.
            if matches!(what.as_str(), "missing customerId" | "customerId = null") {
                continue;
            }
            out.push(req(format!("{method} {path}: {what}"), method, path, mutated.to_string()));
        }
        if patch {
            out.push(req(format!("{method} {path}: nothing to change"), method, path, "{}"));
        }
        let mut extra = body.clone();
        extra["isAdmin"] = json!(true);
        out.push(req(format!("{method} {path}: unknown field"), method, path, extra.to_string()));
        for ct in [None, Some("text/plain"), Some("application/xml"), Some("multipart/form-data; boundary=x")] {
            let mut r = req(format!("{method} {path}: content type {ct:?}"), method, path, body.to_string());
            r.content_type = ct;
            out.push(r);
        }
        let big = format!("{{\"name\": \"{}\"}}", "x".repeat(20_000));
        out.push(req(format!("{method} {path}: 20 KB body"), method, path, big));
        out.push(req(format!("{method} {path}: 11 MB body"), method, path, vec![b' '; 11 * 1024 * 1024]));
        // A number too large for any field (bodies without a number have no such case).
        let text = body.to_string();
        let huge = text.replacen("1", "99999999999999999999999", 1);
        if huge != text {
            out.push(req(format!("{method} {path}: huge number"), method, path, huge));
        }
    }
    let unknown = "00000000-0000-4000-8000-000000000009";
    out.push(req("rename an unknown product", "PATCH", format!("/products/{unknown}"), rename.to_string()));
    out.push(req("restock an unknown product", "POST", format!("/products/{unknown}/restock"), restock.to_string()));
    out.push(req("discontinue an unknown product", "POST", format!("/products/{unknown}/discontinue"), ""));
    out.push(req("discontinue a bad id", "POST", "/products/nope/discontinue", ""));
    for shards in [0, 65] {
        let body = json!({ "shards": shards }).to_string();
        out.push(req(format!("PATCH {product_path}: {shards} shards"), "PATCH", product_path.clone(), body));
    }
    out.push(req("limit an unknown customer", "PUT", format!("/customers/{unknown}/credit-limit"), limit.to_string()));
    let euros = json!({"creditLimit": {"amount": 150000, "currency": "EUR"}});
    out.push(req("limit in another currency", "PUT", limit_path.clone(), euros.to_string()));
    // Field-specific values that type-check but are out of range or malformed.
    let customer_cases = [
        // Not the caller's to choose at all (the token's verified address is the customer's):
        // any email in the body is an unknown field, someone else's address included.
        ("email", json!("victim@example.com")),
        ("email", json!("not-an-email")),
        ("name", json!("   ")),
        ("name", json!("x".repeat(101))),
        ("name", json!("Eve\u{0000}")),
        ("name", json!("Eve\u{202E}evE")),
        ("name", json!("E\u{200B}ve")),
    ];
    for (field, v) in customer_cases {
        let mut b = customer_body.clone();
        b[field] = v.clone();
        out.push(req(format!("/customers: {field} = {v}"), "POST", "/customers", b.to_string()));
    }
    for (field, v) in
        [("country", json!("XX")), ("country", json!("usa")), ("postalCode", json!("12<3>")), ("street", json!(""))]
    {
        let mut b = customer_body.clone();
        b["address"][field] = v.clone();
        out.push(req(format!("/customers: address.{field} = {v}"), "POST", "/customers", b.to_string()));
    }
    for (v, why) in
        [(json!({"amount": -1, "currency": "USD"}), "negative"), (json!({"amount": 5, "currency": "XYZ"}), "currency")]
    {
        let mut b = customer_body.clone();
        b["creditLimit"] = v;
        // Not the caller's to choose at all: any creditLimit is an unknown field.
        out.push(req(format!("/customers: creditLimit {why}"), "POST", "/customers", b.to_string()));
    }
    for (v, why) in [
        (json!([]), "no lines"),
        (
            json!((0..51)
                .map(|i| json!({"productId": format!("00000000-0000-4000-8000-{i:012}"), "quantity": 1}))
                .collect::<Vec<_>>()),
            "51 lines",
        ),
        (json!([{"productId": product, "quantity": 1}, {"productId": product, "quantity": 2}]), "duplicate product"),
        (json!([{"productId": product, "quantity": 1000}]), "quantity 1000"),
        (json!([{"productId": "not-a-uuid", "quantity": 1}]), "bad product id"),
        (json!([{"productId": "00000000-0000-4000-8000-000000000009", "quantity": 1}]), "unknown product"),
    ] {
        let mut b = order_body.clone();
        b["lines"] = v;
        out.push(req(format!("/orders: lines {why}"), "POST", "/orders", b.to_string()));
    }
    for (field, v) in [
        ("customerId", json!("00000000-0000-4000-8000-000000000009")),
        ("customerId", json!("123")),
        ("shippingSpeed", json!("teleport")),
        ("shippingSpeed", json!("STANDARD")),
    ] {
        let mut b = order_body.clone();
        b[field] = v.clone();
        out.push(req(format!("/orders: {field} = {v}"), "POST", "/orders", b.to_string()));
    }
    let mut abroad = order_body.clone();
    abroad["shippingAddress"]["country"] = json!("FR");
    abroad["shippingSpeed"] = json!("overnight");
    out.push(req("/orders: overnight abroad", "POST", "/orders", abroad.to_string()));
    let mut quote = quote_body.clone();
    quote["items"] = json!([]);
    out.push(req("/shipping/quote: no items", "POST", "/shipping/quote", quote.to_string()));
    for key in ["", "x".repeat(129).as_str(), "naïve", "has space"] {
        let mut r = req(format!("idempotency key {key:?}"), "POST", "/orders", order_body.to_string());
        r.headers.push(("idempotency-key", key.to_owned()));
        out.push(r);
    }
    // A write on a revision the product is not at (412), or an If-Match no answer gave (400).
    let reprice = json!({"price": {"amount": 1, "currency": "USD"}}).to_string();
    for tag in ["\"9\"", "W/\"1\"", "1", "\"1\", \"2\"", "\"x\""] {
        let mut r = req(format!("PATCH with If-Match {tag}"), "PATCH", format!("/products/{product}"), reprice.clone());
        r.headers.push(("if-match", tag.to_owned()));
        out.push(r);
    }
    for action in ["restock", "discontinue"] {
        let mut r = req(
            format!("{action} on a stale If-Match"),
            "POST",
            format!("/products/{product}/{action}"),
            r#"{"quantity":1}"#,
        );
        r.headers.push(("if-match", "\"9\"".to_owned()));
        out.push(r);
    }
    // Paths and queries.
    let reads = [
        "/orders/not-a-uuid".to_owned(),
        "/orders/00000000-0000-4000-8000-000000000009".to_owned(),
        "/customers/123".to_owned(),
        "/customers/00000000-0000-4000-8000-000000000009".to_owned(),
        "/products/%00".to_owned(),
        "/products/00000000-0000-4000-8000-000000000009".to_owned(),
        "/customers/abc/orders".to_owned(),
        format!("/customers/{customer}/orders?limit=0"),
        format!("/customers/{customer}/orders?limit=101"),
        format!("/customers/{customer}/orders?limit=abc"),
        format!("/customers/{customer}/orders?status=SHIPPED"),
        format!("/customers/{customer}/orders?cursor=garbage"),
        format!("/customers/{customer}/orders?cursor=eyJ2IjoxfQ"),
        "/products?cursor=%%%".to_owned(),
        "/products?limit=-5".to_owned(),
        "/nowhere".to_owned(),
        "/orders/00000000-0000-4000-8000-000000000009/refund".to_owned(),
    ];
    for path in reads {
        out.push(req(format!("GET {path}"), "GET", path, ""));
    }
    out.push(req("cancel a bad id", "POST", "/orders/nope/cancel", ""));
    out.push(req("cancel an unknown order", "POST", "/orders/00000000-0000-4000-8000-000000000009/cancel", ""));
    out.push(req("DELETE a product", "DELETE", format!("/products/{product}"), ""));
    out.push(req("PUT an order", "PUT", "/orders", order_body.to_string()));
    out
}

#[tokio::test]
async fn every_malformed_request_is_a_4xx_problem_and_writes_nothing() {
    let r = system_tests::start().await;
    let customer = r.customer("owner@example.com", 100_000).await;
    let product = r.product("Widget", 100, 10).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = snapshot(&r, &customer, &product).await;
    let corpus = corpus(&customer, &product);
    assert!(corpus.len() >= 100, "the corpus has {} requests", corpus.len());
    let mut failures = vec![];
    for bad in &corpus {
        let mut headers: Vec<(&str, &str)> = bad.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(ct) = bad.content_type {
            headers.push(("content-type", ct));
        }
        let reply = r.send(bad.method, &bad.path, &headers, Some(bad.body.clone())).await;
        let ct = reply.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        let problem_ok = reply.body["status"] == reply.status
            && reply.body["type"].as_str().is_some_and(|t| t.starts_with("https://shop-saga.dev/problems/"))
            && reply.body["title"].is_string()
            && reply.body["detail"].is_string();
        // RFC 9110: a 405 says which methods the path has.
        let allow = reply.headers.get("allow").and_then(|v| v.to_str().ok()).unwrap_or("");
        if reply.status == 405 && (allow.is_empty() || allow.contains(bad.method)) {
            failures.push(format!("{} → 405 with Allow {allow:?}", bad.name));
        }
        if !(400..500).contains(&reply.status) || ct != "application/problem+json" || !problem_ok {
            failures.push(format!("{} → {} {ct} {}", bad.name, reply.status, String::from_utf8_lossy(&reply.raw)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} requests were not 4xx problems:\n{}",
        failures.len(),
        corpus.len(),
        failures.join("\n")
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(snapshot(&r, &customer, &product).await, before, "a malformed request wrote something");
}

/// Everything a malformed request could have changed, as the API shows it.
async fn snapshot(r: &system_tests::Running, c: &str, p: &str) -> (Value, Value, Value, Value, usize) {
    (
        r.get("/products?limit=100").await.body,
        r.get(&format!("/customers/{c}")).await.body,
        r.get(&format!("/customers/{c}/orders")).await.body,
        r.get(&format!("/products/{p}")).await.body,
        r.system.published(),
    )
}
