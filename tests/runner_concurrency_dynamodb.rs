//! Concurrent sagas on DynamoDB (ministack): the runner on real tables, many orders at once,
//! every step run concurrently as EventBridge would invoke them.

use std::time::{Duration, Instant};

use app::SystemEnvironment;
use local_runner::LocalSystem;
use serde_json::Value;
use system_tests::ministack;

async fn runner_on_dynamodb() -> system_tests::Running {
    let clients = aws_adapters::Clients::new(&ministack::sdk_config().await);
    let names = aws_adapters::TableNames::with_prefix(&ministack::unique("conc"));
    let system = LocalSystem::on_dynamodb(&system_tests::template(), SystemEnvironment::shared(), &clients, &names)
        .await
        .expect("the system builds on DynamoDB");
    system_tests::start_with(system).await
}

async fn place_concurrently(r: &system_tests::Running, customer: &str, product: &str, n: usize) -> Vec<String> {
    let lines = [(product, 1)];
    let placing = (0..n).map(|_| r.order(customer, &lines));
    let replies = futures_util::future::join_all(placing).await;
    replies
        .into_iter()
        .map(|rep| {
            assert_eq!(rep.status, 201, "{}", rep.body);
            rep.body["id"].as_str().expect("an id").to_owned()
        })
        .collect()
}

async fn settle_all(r: &system_tests::Running, ids: &[String]) -> Vec<Value> {
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let mut orders = vec![];
        for id in ids {
            orders.push(r.get(&format!("/orders/{id}")).await.body);
        }
        if orders.iter().all(|o| o["state"] != "PENDING") {
            return orders;
        }
        assert!(Instant::now() < until, "orders still PENDING after 120 s");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn count(orders: &[Value], state: &str, reason: Option<&str>) -> usize {
    orders.iter().filter(|o| o["state"] == state && reason.is_none_or(|r| o["rejectionReason"] == r)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_orders_for_ten_units_approve_exactly_ten() {
    let r = runner_on_dynamodb().await;
    let customer = r.customer("rich@example.com", 10_000_000).await;
    let product = r.product("Limited Edition", 1_000, 10).await;
    let ids = place_concurrently(&r, &customer, &product, 50).await;
    let orders = settle_all(&r, &ids).await;
    assert_eq!(count(&orders, "APPROVED", None), 10);
    assert_eq!(count(&orders, "REJECTED", Some("OUT_OF_STOCK")), 40);
    let p = r.get(&format!("/products/{product}")).await.body;
    assert_eq!((p["stock"].clone(), p["available"].clone()), (Value::from(10), Value::from(0)), "10 units reserved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_orders_never_reserve_credit_beyond_the_limit() {
    let r = runner_on_dynamodb().await;
    // Each order costs 10.00 + 5.99 local shipping = 15.99; the limit covers 7 of them.
    let limit = 7 * 1_599 + 500;
    let customer = r.customer("budget@example.com", limit).await;
    let product = r.product("Gadget", 1_000, 100).await;
    let ids = place_concurrently(&r, &customer, &product, 20).await;
    let orders = settle_all(&r, &ids).await;
    let approved = count(&orders, "APPROVED", None);
    assert_eq!(approved, 7, "as many as the limit allows");
    assert_eq!(count(&orders, "REJECTED", Some("CREDIT_LIMIT_EXCEEDED")), 13);
    // Rejections release their stock: only the approved orders hold units.
    let p = r.eventually(&format!("/products/{product}"), |p| p["available"] == 100 - approved as i64).await;
    assert_eq!(p["available"], 100 - approved as i64);
    let c = r.get(&format!("/customers/{customer}")).await.body;
    let available = c["availableCredit"]["amount"].as_i64().expect("an amount");
    assert_eq!(limit - available, approved as i64 * 1_599, "reserved credit is exactly the approved totals");
    assert!(available >= 0);
}

/// Operators saving one product at once with the ETag they all read, on DynamoDB: one save
/// lands, every other is a 412, and the product holds the winner's edit at the next revision.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_saves_with_one_etag_exactly_one_lands() {
    let r = runner_on_dynamodb().await;
    let product = r.product("Contested", 1_000, 5).await;
    let path = format!("/products/{product}");
    let etag = r.get(&path).await.headers.get("etag").and_then(|v| v.to_str().ok()).expect("an ETag").to_owned();
    let saves = (0..8).map(|n| {
        let (r, path, etag) = (&r, &path, etag.clone());
        async move {
            let headers = [("content-type", "application/json"), ("if-match", etag.as_str())];
            let body = serde_json::json!({"price": {"amount": 2_000 + n, "currency": "USD"}});
            r.send("PATCH", path, &headers, Some(body.to_string().into_bytes())).await
        }
    });
    let replies = futures_util::future::join_all(saves).await;
    let won: Vec<&system_tests::Reply> = replies.iter().filter(|x| x.status == 200).collect();
    assert_eq!(won.len(), 1, "{:?}", replies.iter().map(|x| x.status).collect::<Vec<_>>());
    assert!(replies.iter().all(|x| x.status == 200 || x.status == 412), "only 200 or 412");
    let now = r.get(&path).await;
    assert_eq!(now.body["price"], won[0].body["price"], "the winner's edit stands");
    assert_eq!(now.headers.get("etag"), won[0].headers.get("etag"));
}
