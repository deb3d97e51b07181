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

    // Its timeline, for its customer: each step with its time and outcome; anyone else: 404.
    let path = format!("/orders/{}/timeline", o["id"].as_str().unwrap());
    let t = r.as_customer(&c).get(&path).await;
    assert_eq!(t.status, 200, "{}", t.body);
    let steps: Vec<(&str, &str)> = t.body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["event"].as_str().unwrap(), s["state"].as_str().unwrap()))
        .collect();
    assert_eq!(steps, [("OrderCreated", "PENDING"), ("OrderPriced", "PENDING"), ("OrderApproved", "APPROVED")]);
    let elapsed: Vec<i64> =
        t.body["steps"].as_array().unwrap().iter().map(|s| s["elapsedMs"].as_i64().unwrap()).collect();
    assert!(elapsed[0] == 0 && elapsed.windows(2).all(|w| w[0] <= w[1]), "{elapsed:?}");
    let other = r.customer("other@example.com", 100).await;
    assert_eq!(r.as_customer(&other).get(&path).await.status, 404);
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
        "      EventPattern:\n        detail-type: [OrderCreated]",
        "      EventPattern:\n        detail-type: [OrderCreated]\n        detail: {total: [{numeric: [\">\", 0]}]}",
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

#[tokio::test]
async fn the_catalogue_and_accounts_change_and_orders_follow() {
    let r = system_tests::start().await;
    let c = r.customer("changes@example.com", 3_000).await;
    let p = r.product("Lamp", 1_000, 1).await;

    // Restock, then order more than there was.
    let restocked = r.post(&format!("/products/{p}/restock"), json!({"quantity": 4})).await;
    assert_eq!((restocked.status, restocked.body["stock"].clone()), (200, json!(5)), "{}", restocked.body);
    let o = r.settled(r.order(&c, &[(&p, 3)]).await.body["id"].as_str().unwrap(), SETTLE).await;
    assert_eq!(o["state"], "REJECTED", "3 x 10.00 + shipping is over the 30.00 limit: {o}");
    assert_eq!(o["rejectionReason"], "CREDIT_LIMIT_EXCEEDED");

    // A higher limit, then the same order goes through.
    let limit = json!({"creditLimit": {"amount": 100_000, "currency": "USD"}});
    let raised = r.send_json("PUT", &format!("/customers/{c}/credit-limit"), limit).await;
    assert_eq!((raised.status, amount(&raised.body["creditLimit"])), (200, 100_000), "{}", raised.body);
    let o = r.settled(r.order(&c, &[(&p, 3)]).await.body["id"].as_str().unwrap(), SETTLE).await;
    assert_eq!(o["state"], "APPROVED", "{o}");

    // A reprice: new orders take the new price once the replica has it; the approved one keeps its own.
    let approved = o["id"].as_str().unwrap().to_owned();
    let repriced =
        r.send_json("PATCH", &format!("/products/{p}"), json!({"price": {"amount": 1_200, "currency": "USD"}})).await;
    assert_eq!((repriced.status, amount(&repriced.body["price"])), (200, 1_200), "{}", repriced.body);
    let later = r.eventually(&format!("/orders/{approved}"), |_| true).await;
    assert_eq!(amount(&later["lines"][0]["unitPrice"]), 1_000);
    let next = until_within(Duration::from_secs(5), || async {
        let o = r.order(&c, &[(&p, 1)]).await;
        (o.body["lines"][0]["unitPrice"]["amount"] == 1_200).then_some(o)
    })
    .await;
    assert!(next.is_some(), "orders are placed at 12.00 once the replica has the new price");

    // Discontinued: no new orders (once the replica knows), no more stock.
    let gone = r.post(&format!("/products/{p}/discontinue"), json!({})).await;
    assert_eq!((gone.status, gone.body["discontinued"].clone()), (200, json!(true)), "{}", gone.body);
    assert_eq!(r.post(&format!("/products/{p}/restock"), json!({"quantity": 1})).await.status, 409);
    let refused = until_within(Duration::from_secs(5), || async {
        let o = r.as_customer(&c).post("/orders", system_tests::order_body(&c, &[(&p, 1)])).await;
        (o.status == 422).then_some(o)
    })
    .await
    .expect("a discontinued product takes no new orders once the replica knows");
    assert_eq!(refused.body["type"], "https://shop-saga.dev/problems/unknown-reference");

    // The customer's details.
    let moved = r.send_json("PATCH", &format!("/customers/{c}"), json!({"name": "Changed Name"})).await;
    assert_eq!((moved.status, moved.body["name"].clone()), (200, json!("Changed Name")), "{}", moved.body);
}

/// Two operators read one product and both save with the ETag they read: the first save lands
/// and answers the next ETag; the second is a 412 that changes nothing, so the first edit stands.
#[tokio::test]
async fn of_two_writers_with_one_etag_the_first_wins_and_the_second_gets_412() {
    let r = system_tests::start().await;
    let p = r.product("Desk", 10_000, 3).await;
    let path = format!("/products/{p}");
    let read = r.get(&path).await;
    let etag = read.headers.get("etag").and_then(|v| v.to_str().ok()).expect("an ETag").to_owned();
    let save = |name: &'static str| {
        let (r, path, etag) = (&r, &path, etag.clone());
        async move {
            let headers = [("content-type", "application/json"), ("if-match", etag.as_str())];
            r.send("PATCH", path, &headers, Some(json!({"name": name}).to_string().into_bytes())).await
        }
    };
    let first = save("Standing Desk").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let next = first.headers.get("etag").and_then(|v| v.to_str().ok()).expect("the next ETag").to_owned();
    assert_ne!(next, etag);
    let second = save("Sitting Desk").await;
    assert_eq!(second.status, 412, "{}", second.body);
    assert_eq!(second.body["type"], "https://shop-saga.dev/problems/precondition-failed");
    let now = r.get(&path).await;
    assert_eq!(
        (now.body["name"].clone(), now.headers.get("etag").and_then(|v| v.to_str().ok())),
        (json!("Standing Desk"), Some(next.as_str()))
    );
}

/// `attempt` again every 20 ms until it gives something, for at most `limit`.
async fn until_within<T, F, Fut>(limit: Duration, attempt: F) -> Option<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = std::time::Instant::now() + limit;
    loop {
        if let Some(v) = attempt().await {
            return Some(v);
        }
        if std::time::Instant::now() > until {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
