//! The createOrder saga end to end through the offline runner, over HTTP.

use std::time::Duration;

use serde_json::{json, Value};

const SETTLE: Duration = Duration::from_secs(1);

fn amount(v: &Value) -> i64 {
    v["amount"].as_i64().expect("an amount")
}

#[tokio::test]
async fn an_order_within_stock_and_credit_is_approved_within_a_second() {
    let r = system_tests::start().await;
    let c = r.customer("ok@example.com", 100_000).await;
    let p = r.product("Lamp", 1_000, 5).await;
    let created = r.order(&c, &[(&p, 2)]).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["state"], "PENDING");
    let o = r.settled(created.body["id"].as_str().unwrap(), SETTLE).await;
    assert_eq!(o["state"], "APPROVED", "{o}");
    // 2 x 10.00 + local standard shipping for 1 kg (4.99 + 1.00)
    assert_eq!(amount(&o["total"]), 2_599);
    assert_eq!(r.get(&format!("/products/{p}")).await.body["available"], 3);
    assert_eq!(amount(&r.get(&format!("/customers/{c}")).await.body["availableCredit"]), 100_000 - 2_599);
}

#[tokio::test]
async fn missing_stock_rejects_the_order_for_stock() {
    let r = system_tests::start().await;
    let c = r.customer("short@example.com", 100_000).await;
    let p = r.product("Rare", 1_000, 1).await;
    let created = r.order(&c, &[(&p, 2)]).await;
    let o = r.settled(created.body["id"].as_str().unwrap(), SETTLE).await;
    assert_eq!((o["state"].clone(), o["rejectionReason"].clone()), (json!("REJECTED"), json!("OUT_OF_STOCK")));
    assert_eq!(r.get(&format!("/products/{p}")).await.body["available"], 1);
    assert_eq!(amount(&r.get(&format!("/customers/{c}")).await.body["availableCredit"]), 100_000);
}

#[tokio::test]
async fn over_the_credit_limit_the_order_is_rejected_and_its_stock_released() {
    let r = system_tests::start().await;
    let c = r.customer("poor@example.com", 1_000).await;
    let p = r.product("Pricey", 5_000, 4).await;
    let created = r.order(&c, &[(&p, 1)]).await;
    let o = r.settled(created.body["id"].as_str().unwrap(), SETTLE).await;
    assert_eq!((o["state"].clone(), o["rejectionReason"].clone()), (json!("REJECTED"), json!("CREDIT_LIMIT_EXCEEDED")));
    let product = r.eventually(&format!("/products/{p}"), |v| v["available"] == 4).await;
    assert_eq!(product["available"], 4, "the compensation released the stock");
    assert_eq!(amount(&r.get(&format!("/customers/{c}")).await.body["availableCredit"]), 1_000);
}

#[tokio::test]
async fn cancelling_an_approved_order_restores_stock_and_credit() {
    let r = system_tests::start().await;
    let c = r.customer("cancel@example.com", 100_000).await;
    let p = r.product("Chair", 3_000, 2).await;
    let created = r.order(&c, &[(&p, 2)]).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.settled(&id, SETTLE).await["state"], "APPROVED");
    assert_eq!(r.get(&format!("/products/{p}")).await.body["available"], 0);
    let cancelled = r.post(&format!("/orders/{id}/cancel"), json!({})).await;
    assert_eq!((cancelled.status, cancelled.body["state"].clone()), (200, json!("CANCELLED")));
    let product = r.eventually(&format!("/products/{p}"), |v| v["available"] == 2).await;
    assert_eq!(product["available"], 2);
    let customer = r.eventually(&format!("/customers/{c}"), |v| v["availableCredit"]["amount"] == 100_000).await;
    assert_eq!(amount(&customer["availableCredit"]), 100_000);
    let again = r.post(&format!("/orders/{id}/cancel"), json!({})).await;
    assert_eq!((again.status, again.body["state"].clone()), (200, json!("CANCELLED")), "cancelling twice is a no-op");
}

#[tokio::test]
async fn history_pages_newest_first() {
    let r = system_tests::start().await;
    let c = r.customer("history@example.com", 1_000_000).await;
    let p = r.product("Pen", 100, 100).await;
    let mut ids = vec![];
    for _ in 0..5 {
        ids.push(r.order(&c, &[(&p, 1)]).await.body["id"].as_str().unwrap().to_owned());
    }
    let mut seen: Vec<(String, String)> = vec![];
    let mut path = format!("/customers/{c}/orders?limit=2");
    let mut pages = 0;
    loop {
        let page = r.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        pages += 1;
        for o in page.body["items"].as_array().unwrap() {
            seen.push((o["createdAt"].as_str().unwrap().to_owned(), o["id"].as_str().unwrap().to_owned()));
        }
        match page.body["nextCursor"].as_str() {
            Some(cursor) => path = format!("/customers/{c}/orders?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first");
    let mut got: Vec<String> = seen.into_iter().map(|(_, id)| id).collect();
    got.sort();
    ids.sort();
    assert_eq!(got, ids, "every order exactly once");
}

#[tokio::test]
async fn the_same_post_with_the_same_idempotency_key_makes_one_order() {
    let r = system_tests::start().await;
    let c = r.customer("idem@example.com", 100_000).await;
    let p = r.product("Mug", 800, 10).await;
    let body = system_tests::order_body(&c, &[(&p, 1)]);
    let first = r.order_keyed(Some("retry-me"), body.clone()).await;
    let second = r.order_keyed(Some("retry-me"), body).await;
    assert_eq!((first.status, second.status), (201, 201));
    assert_eq!(first.body["id"], second.body["id"]);
    assert_eq!(second.headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    r.settled(first.body["id"].as_str().unwrap(), SETTLE).await;
    let history = r.get(&format!("/customers/{c}/orders")).await.body;
    assert_eq!(history["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(r.get(&format!("/products/{p}")).await.body["available"], 9, "reserved once");
}

#[test]
fn a_rule_the_runner_cannot_evaluate_stops_it_at_start_naming_the_rule() {
    let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"))
        .expect("template.yaml");
    // The reserve-stock rule, now also filtering on a numeric range.
    let edited = text.replacen(
        "detail-type: [OrderCreated]",
        "detail-type: [OrderCreated]\n              detail: {total: [{numeric: [\">\", 0]}]}",
        1,
    );
    assert_ne!(edited, text, "the template still has the rule this test edits");
    let template = sam_template::Template::parse(&edited).expect("still a template");
    let err = match local_runner::LocalSystem::in_memory(&template, app::SystemEnvironment::shared()) {
        Ok(_) => panic!("the runner started with a rule it cannot evaluate"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("reserve-stock") && err.contains("numeric"), "{err}");
}
