//! Outage drills on the deployed stack (the SAM build on ministack, as the end-to-end test deploys
//! it): one context at a time is taken down while buyers keep ordering and reading, then brought
//! back. During each outage every route that does not need the down context answers as usual and
//! nothing answers a bare 5xx (the down context's own routes answer 503 problem+json with
//! `Retry-After`); orders wait PENDING. After it, every order settles on its merits with no human
//! step (APPROVED, or REJECTED for stock or credit; none TIMED_OUT), and the books balance: stock
//! and credit held equal what the APPROVED orders hold.
//!
//! The test command runs the short drills (customers 75 s, products 30 s, the bus 30 s);
//! `scripts/drill.sh` the full ones (customers 10 minutes, products 50 s, the bus 5 minutes) and
//! writes their report to docs/DRILLS.md. `DRILL_SECONDS=customers:600,products:50,bus:300` sets
//! the lengths; `DRILL_REPORT` where the report goes (default target/tmp/drills.md).
//!
//! ministack runs each step's queue as SQS does on AWS (a failed event comes back after the
//! queue's visibility timeout, 60 s), so the drill exercises the same delivery path AWS would.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use system_tests::{deployed_api, harness, ministack, Api};

/// What the buyers saw of one route during an outage: answers by status.
type Seen = BTreeMap<String, BTreeMap<u16, usize>>;

struct Drill {
    context: &'static str,
    length: Duration,
    /// The routes of the down context itself (503 with Retry-After allowed there).
    own_routes: &'static [&'static str],
}

fn lengths() -> BTreeMap<String, u64> {
    let spec = std::env::var("DRILL_SECONDS").unwrap_or_else(|_| "customers:75,products:30,bus:30".into());
    spec.split(',')
        .filter_map(|p| p.split_once(':'))
        .filter_map(|(k, v)| Some((k.trim().to_owned(), v.trim().parse().ok()?)))
        .collect()
}

fn down(stack: &str, context: &str, on: bool) {
    let state = if on { "on" } else { "off" };
    if context == "bus" {
        harness(&["outage", stack, state]);
    } else {
        harness(&["down", stack, context, state]);
    }
}

/// One round of a buyer: an order, the catalogue, a product, their history, a quote, `/me`.
async fn round(api: &Api, buyer: &str, product: &str, seen: &mut Seen, placed: &mut Vec<String>) {
    let me = api.as_customer(buyer);
    let mut note =
        |route: &str, status: u16| *seen.entry(route.to_owned()).or_default().entry(status).or_default() += 1;
    let order = me.post("/orders", system_tests::order_body(buyer, &[(product, 1)])).await;
    note("POST /orders", order.status);
    if order.status == 201 {
        placed.push(order.body["id"].as_str().expect("an id").to_owned());
    }
    note("GET /products", api.get("/products?limit=5").await.status);
    note("GET /products/{id}", api.get(&format!("/products/{product}")).await.status);
    note("GET /customers/{id}/orders", me.get(&format!("/customers/{buyer}/orders?limit=5")).await.status);
    let quote = json!({"destination": system_tests::address(), "shippingSpeed": "standard",
        "items": [{"weightGrams": 500, "dimensionsCm": {"length": 10, "width": 10, "height": 10}, "quantity": 1}],
        "subtotal": {"amount": 1000, "currency": "USD"}});
    note("POST /shipping/quote", api.post("/shipping/quote", quote).await.status);
    let who = me.get("/me").await;
    if who.status == 503 {
        assert!(who.headers.get("retry-after").is_some(), "a 503 says when to retry");
        assert_eq!(who.headers["content-type"], "application/problem+json");
    }
    note("GET /me", who.status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_context_down_disturbs_the_others_and_every_order_settles_on_its_merits() {
    let _ = ministack::sdk_config().await; // fails loudly without a ministack
    let (api, stack, _) = deployed_api("drill");
    let lengths = lengths();
    let drills = [
        Drill { context: "customers", length: Duration::ZERO, own_routes: &["GET /me"] },
        Drill { context: "products", length: Duration::ZERO, own_routes: &["GET /products", "GET /products/{id}"] },
        Drill { context: "bus", length: Duration::ZERO, own_routes: &[] },
    ]
    .map(|d| Drill { length: Duration::from_secs(lengths.get(d.context).copied().unwrap_or(30)), ..d });

    // Eight buyers with credit for some orders and not others, a product with stock for some.
    let mut buyers = vec![];
    for i in 0..8 {
        buyers.push(api.customer(&format!("buyer{i}@example.com"), if i % 4 == 0 { 1_500 } else { 1_000_000 }).await);
    }
    let product = api.product("Drill Mug", 1_200, 150).await;
    let mut report = String::from(
        "| drill | down for | orders placed | APPROVED | REJECTED (stock / credit) | TIMED_OUT | drained after recovery | what buyers saw while it was down |\n|---|---|---|---|---|---|---|---|\n",
    );
    for d in &drills {
        let mut seen = Seen::new();
        let mut placed = vec![];
        down(&stack, d.context, true);
        let started = Instant::now();
        while started.elapsed() < d.length {
            for b in &buyers {
                round(&api, b, &product, &mut seen, &mut placed).await;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        down(&stack, d.context, false);
        let recovered = Instant::now();
        for (route, statuses) in &seen {
            for (status, n) in statuses {
                let own = d.own_routes.contains(&route.as_str());
                assert!(
                    *status < 500 || (own && *status == 503),
                    "{}: {route} answered {status} ({n} times)",
                    d.context
                );
                if !own {
                    assert!(
                        *status < 400,
                        "{}: {route} answered {status} ({n} times) though it needs no down context",
                        d.context
                    );
                }
            }
        }
        assert!(!placed.is_empty(), "{}: orders were placed during the outage", d.context);
        // After the recovery: every order settles on its merits, within the steps' retry windows.
        let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
        for id in &placed {
            let o = api
                .eventually_within(&format!("/orders/{id}"), Duration::from_secs(600), |o| o["state"] != "PENDING")
                .await;
            let outcome = match (o["state"].as_str(), o["rejectionReason"].as_str()) {
                (Some(s), Some(r)) => format!("{s} {r}"),
                (Some(s), None) => s.to_owned(),
                _ => panic!("order {id}: {o}"),
            };
            assert!(
                matches!(outcome.as_str(), "APPROVED" | "REJECTED OUT_OF_STOCK" | "REJECTED CREDIT_LIMIT_EXCEEDED"),
                "{}: order {id} ended {outcome}: {o}",
                d.context
            );
            *outcomes.entry(outcome).or_default() += 1;
        }
        let drained = recovered.elapsed();
        let saw: Vec<String> = seen
            .iter()
            .map(|(route, s)| {
                let s: Vec<String> = s.iter().map(|(status, n)| format!("{n}× {status}")).collect();
                format!("{route}: {}", s.join(", "))
            })
            .collect();
        let count = |k: &str| outcomes.get(k).copied().unwrap_or(0);
        report.push_str(&format!(
            "| {} | {} s | {} | {} | {} / {} | 0 | {} s | {} |\n",
            d.context,
            d.length.as_secs(),
            placed.len(),
            count("APPROVED"),
            count("REJECTED OUT_OF_STOCK"),
            count("REJECTED CREDIT_LIMIT_EXCEEDED"),
            drained.as_secs(),
            saw.join("; ")
        ));
    }

    // The books: the product's stock held is what its APPROVED orders hold, and each buyer's
    // credit held is what their APPROVED orders total.
    let mut held_qty = 0;
    for b in &buyers {
        let history = api.as_customer(b).get(&format!("/customers/{b}/orders?status=APPROVED&limit=100")).await.body;
        let approved: Vec<Value> = history["items"].as_array().cloned().unwrap_or_default();
        held_qty += approved.len() as i64;
        let total: i64 = approved.iter().map(|o| o["total"]["amount"].as_i64().unwrap_or(0)).sum();
        let c = api.get(&format!("/customers/{b}")).await.body;
        let held =
            c["creditLimit"]["amount"].as_i64().unwrap_or(0) - c["availableCredit"]["amount"].as_i64().unwrap_or(0);
        assert_eq!(held, total, "buyer {b}: credit held {held}, APPROVED orders total {total}");
    }
    let p = api.get(&format!("/products/{product}")).await.body;
    let reserved = p["stock"].as_i64().unwrap_or(0) - p["available"].as_i64().unwrap_or(0);
    assert_eq!(reserved, held_qty, "stock held vs the APPROVED orders' units: {p}");

    println!("{report}");
    let out = std::env::var("DRILL_REPORT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| system_tests::root().join("target/tmp/drills.md"));
    if let Some(dir) = out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&out, report).expect("the report");
}
