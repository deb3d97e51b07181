//! The DynamoDB repositories and the EventBridge publisher against ministack: what the shared
//! contract cannot see (the stored items, the table layout, TTL, the bus and its targets).

mod common;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use app::page::{order_position, PageRequest, PageSize, Position};
use app::ports::{
    AppliedEvent, Commit, CustomerWrite, Duplicate, EventLedger, EventPublisher, HistoryQuery, IdempotencyKey,
    IdempotencyRecord, OrderRepository, OrderWrite, OutboxRecord, ProductRepository, ProductWrite, PublishError,
    StoreError, Transactional,
};
use aws_adapters::{
    create_tables, outbox_record_from_image, DynamoCustomerRepository, DynamoOrderRepository, DynamoProductRepository,
    EventBridgePublisher, RetryPolicy,
};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use common::{at, new_customer, new_order, new_product};
use domain::events::LineRequest;
use domain::{
    CustomerId, EventId, Order, OrderStatus, Product, Quantity, RejectionReason, ReservationStatus, StockReservation,
};
use uuid::Uuid;

type Item = HashMap<String, AttributeValue>;

// ---------------------------------------------------------------- helpers

async fn scan(client: &aws_sdk_dynamodb::Client, table: &str) -> Vec<Item> {
    let out = client.scan().table_name(table).consistent_read(true).send().await.expect("scan");
    let mut items = out.items.unwrap_or_default();
    items.sort_by_key(|i| format!("{:?}", i.get("PK")));
    items
}

async fn raw(client: &aws_sdk_dynamodb::Client, table: &str, pk: &str, sk: &str) -> Option<Item> {
    client
        .get_item()
        .table_name(table)
        .key("PK", AttributeValue::S(pk.to_owned()))
        .key("SK", AttributeValue::S(sk.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("get_item")
        .item
}

fn number(item: &Item, name: &str) -> i64 {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().expect("a number"),
        other => panic!("{name} is not a number: {other:?}"),
    }
}

const TRACE: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

fn record(source: &str, detail_type: &str, detail: &str) -> OutboxRecord {
    OutboxRecord {
        event_id: EventId::from_uuid(Uuid::new_v4()),
        source: source.to_owned(),
        detail_type: detail_type.to_owned(),
        detail: detail.to_owned(),
        occurred_at: Utc::now(),
        // Every published test event carries an X-Ray trace, as the relay's entries do.
        trace_header: Some(TRACE.to_owned()),
    }
}

/// An event to commit: what kind does not matter to the store.
fn envelope() -> domain::EventEnvelope {
    let e = domain::events::OrderCancelled {
        order_id: domain::OrderId::from_uuid(Uuid::new_v4()),
        customer_id: CustomerId::from_uuid(Uuid::new_v4()),
        product_ids: vec![],
    };
    domain::EventEnvelope::new(domain::DomainEvent::OrderCancelled(e), &app::SystemEnvironment)
}

fn page(size: i64, after: Option<Position>) -> PageRequest {
    PageRequest { size: PageSize::new(size).expect("a valid page size"), after }
}

async fn add_products(repo: &DynamoProductRepository, products: &[Product]) {
    let writes = products.iter().map(|p| ProductWrite::Product { product: p.clone(), expected_version: 0 }).collect();
    repo.commit(Commit::new(writes, &[])).await.expect("adding products");
}

/// Orders of `customer` one second apart (index = seconds), every third one rejected.
async fn store_orders(repo: &DynamoOrderRepository, customer: CustomerId, n: i64) -> Vec<Order> {
    let mut out = vec![];
    for i in 0..n {
        let mut order = new_order(customer, at(i));
        if i % 3 == 0 {
            order.reject(RejectionReason::OutOfStock, at(i)).expect("a pending order can be rejected");
        }
        repo.commit(Commit::new(vec![OrderWrite::Put { order: order.clone(), expected_version: 0 }], &[]))
            .await
            .expect("storing an order");
        out.push(order);
    }
    out
}

/// Every page of a customer's history: the ids page by page, and whether each `next` is the
/// position of its page's last item.
async fn all_pages(
    repo: &DynamoOrderRepository,
    customer: CustomerId,
    status: Option<OrderStatus>,
    size: i64,
) -> Vec<Vec<domain::OrderId>> {
    let mut pages = vec![];
    let mut after = None;
    loop {
        let q = HistoryQuery { customer_id: customer, status, page: page(size, after.clone()) };
        let p = repo.history(&q).await.expect("history");
        pages.push(p.items.iter().map(Order::id).collect());
        match p.next {
            Some(next) => {
                assert_eq!(
                    Some(&next),
                    p.items.last().map(order_position).as_ref(),
                    "next is the last item's position"
                );
                after = Some(next);
            }
            None => return pages,
        }
        assert!(pages.len() < 50, "paging does not end");
    }
}

// ---------------------------------------------------------------- DynamoDB

#[tokio::test]
async fn a_version_conflict_names_the_contended_product() {
    let client = common::dynamo().await;
    let names = common::fresh_tables(&client).await;
    let repo = DynamoProductRepository::new(client.clone(), &names.products);
    let (a, b) = (new_product("Anvil", 5), new_product("Bell", 5));
    add_products(&repo, &[a.clone(), b.clone()]).await;
    // b is written once more behind our back: version 2.
    repo.commit(Commit::new(vec![ProductWrite::Product { product: b.clone(), expected_version: 1 }], &[]))
        .await
        .expect("a write at the right version");

    let both_at_one = vec![
        ProductWrite::Product { product: a.clone(), expected_version: 1 },
        ProductWrite::Product { product: b.clone(), expected_version: 1 },
    ];
    match repo.commit(Commit::new(both_at_one, &[])).await {
        Err(StoreError::Conflict { item }) => assert_eq!(item, app::ports::Item::Product(b.id())),
        other => panic!("expected a conflict on b, got {other:?}"),
    }
    assert_eq!(repo.get(a.id()).await.unwrap().unwrap().version, 1, "a is untouched");
    assert_eq!(repo.get(b.id()).await.unwrap().unwrap().version, 2);
}

#[tokio::test]
async fn a_transaction_with_one_failing_condition_writes_nothing() {
    let client = common::dynamo().await;
    let names = common::fresh_tables(&client).await;
    let repo = DynamoProductRepository::new(client.clone(), &names.products);
    let (a, b) = (new_product("Anvil", 5), new_product("Bell", 5));
    add_products(&repo, &[a.clone(), b.clone()]).await;
    let earlier = AppliedEvent { consumer: "reserve-stock", event_id: EventId::from_uuid(Uuid::new_v4()) };
    repo.commit(Commit::new(vec![], &[]).applying(earlier.clone())).await.expect("a marker alone");
    let before = scan(&client, &names.products).await;

    let order = domain::OrderId::from_uuid(Uuid::new_v4());
    let line = LineRequest { product_id: a.id(), quantity: Quantity::new(1).unwrap() };
    let reservation =
        StockReservation { order_id: order, lines: vec![line], status: ReservationStatus::Active, shards: vec![] };
    let writes = |b_expected| {
        vec![
            ProductWrite::Product { product: a.clone(), expected_version: 1 },
            ProductWrite::Reservation { reservation: reservation.clone(), expected_version: 0 },
            ProductWrite::Product { product: b.clone(), expected_version: b_expected },
        ]
    };
    let fresh = AppliedEvent { consumer: "reserve-stock", event_id: EventId::from_uuid(Uuid::new_v4()) };
    let mut commit = Commit::new(writes(7), &[]).applying(fresh.clone());
    commit.events.push(envelope());
    match repo.commit(commit).await {
        Err(StoreError::Conflict { item }) => assert_eq!(item, app::ports::Item::Product(b.id())),
        other => panic!("expected a conflict on b, got {other:?}"),
    }
    assert_eq!(scan(&client, &names.products).await, before, "no item changed: products, reservation, marker, outbox");

    // The same writes at the right versions, but the marker of an event already applied.
    let mut commit = Commit::new(writes(1), &[]).applying(earlier);
    commit.events.push(envelope());
    match repo.commit(commit).await {
        Err(StoreError::Duplicate(Duplicate::AppliedEvent)) => {}
        other => panic!("expected a duplicate applied event, got {other:?}"),
    }
    assert_eq!(scan(&client, &names.products).await, before, "nothing written behind a duplicate marker either");
    assert!(!repo.is_applied(&fresh).await.unwrap());
}

/// The email is the identity provider's to keep unique: registering writes the customer alone
/// (no `EMAIL#` claim), so a second subject with the same verified address is stored too.
#[tokio::test]
async fn a_customer_is_stored_alone_and_claims_no_email() {
    let client = common::dynamo().await;
    let names = common::fresh_tables(&client).await;
    let repo = DynamoCustomerRepository::new(client.clone(), &names.customers);
    let write = |c: &domain::Customer| CustomerWrite::Customer { customer: c.clone(), expected_version: 0 };
    let (first, second) = (new_customer("ada@example.com"), new_customer("ada@example.com"));
    repo.commit(Commit::new(vec![write(&first)], &[])).await.expect("the first");
    repo.commit(Commit::new(vec![write(&second)], &[])).await.expect("the second, with the same address");
    assert!(raw(&client, &names.customers, "EMAIL#ada@example.com", "EMAIL").await.is_none());
    assert_eq!(scan(&client, &names.customers).await.len(), 2, "the two customers, nothing else");
}

#[tokio::test]
async fn history_pages_newest_first_with_and_without_a_status_filter() {
    let client = common::dynamo().await;
    let names = common::fresh_tables(&client).await;
    let repo = DynamoOrderRepository::new(client.clone(), &names.orders);
    let customer = CustomerId::from_uuid(Uuid::new_v4());
    let orders = store_orders(&repo, customer, 9).await;
    store_orders(&repo, CustomerId::from_uuid(Uuid::new_v4()), 3).await;
    let id = |i: usize| orders[i].id();

    let pages = all_pages(&repo, customer, None, 3).await;
    assert_eq!(pages, vec![vec![id(8), id(7), id(6)], vec![id(5), id(4), id(3)], vec![id(2), id(1), id(0)]]);

    let pending = all_pages(&repo, customer, Some(OrderStatus::Pending), 2).await;
    assert_eq!(pending, vec![vec![id(8), id(7)], vec![id(5), id(4)], vec![id(2), id(1)]]);

    let rejected = all_pages(&repo, customer, Some(OrderStatus::Rejected), 1).await;
    assert_eq!(rejected, vec![vec![id(6)], vec![id(3)], vec![id(0)]]);

    let exact = all_pages(&repo, customer, None, 9).await;
    assert_eq!(exact.len(), 1, "a page that ends with the history has no next");
}

#[tokio::test]
async fn a_filtered_page_keeps_reading_past_orders_that_do_not_match() {
    let client = common::dynamo().await;
    let names = common::fresh_tables(&client).await;
    let repo = DynamoOrderRepository::new(client.clone(), &names.orders);
    let customer = CustomerId::from_uuid(Uuid::new_v4());
    // 3 old rejected orders behind 70 newer pending ones: more than one query's Limit.
    let mut rejected = vec![];
    for i in 0..73 {
        let mut order = new_order(customer, at(i));
        if i < 3 {
            order.reject(RejectionReason::TimedOut, at(i)).unwrap();
            rejected.push(order.id());
        }
        repo.commit(Commit::new(vec![OrderWrite::Put { order, expected_version: 0 }], &[])).await.unwrap();
    }
    let pages = all_pages(&repo, customer, Some(OrderStatus::Rejected), 2).await;
    assert_eq!(pages, vec![vec![rejected[2], rejected[1]], vec![rejected[0]]]);
}

#[tokio::test]
async fn a_position_resumes_after_it_even_when_no_order_is_there() {
    let client = common::dynamo().await;
    let names = common::fresh_tables(&client).await;
    let repo = DynamoOrderRepository::new(client.clone(), &names.orders);
    let customer = CustomerId::from_uuid(Uuid::new_v4());
    let orders = store_orders(&repo, customer, 6).await;

    // Half a second after order 4: the page starts at order 4.
    let between = Position {
        sort: (at(4) + chrono::Duration::milliseconds(500)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        id: Uuid::nil(),
    };
    let q = HistoryQuery { customer_id: customer, status: None, page: page(2, Some(between)) };
    let got: Vec<_> = repo.history(&q).await.unwrap().items.iter().map(Order::id).collect();
    assert_eq!(got, vec![orders[4].id(), orders[3].id()]);

    // The position of order 4 itself: the page starts after it, even once it changed status.
    let mut moved = orders[4].clone();
    moved.reject(RejectionReason::TimedOut, at(10)).unwrap();
    repo.commit(Commit::new(vec![OrderWrite::Put { order: moved, expected_version: 1 }], &[])).await.unwrap();
    let q = HistoryQuery {
        customer_id: customer,
        status: Some(OrderStatus::Pending),
        page: page(5, Some(order_position(&orders[4]))),
    };
    let got: Vec<_> = repo.history(&q).await.unwrap().items.iter().map(Order::id).collect();
    assert_eq!(got, vec![orders[2].id(), orders[1].id()]);
}

#[tokio::test]
async fn pending_before_reads_the_sparse_index_oldest_first() {
    let client = common::dynamo().await;
    let names = common::fresh_tables(&client).await;
    let repo = DynamoOrderRepository::new(client.clone(), &names.orders);
    let customer = CustomerId::from_uuid(Uuid::new_v4());
    let mut orders = vec![];
    for i in 0..5 {
        let order = new_order(customer, at(i));
        repo.commit(Commit::new(vec![OrderWrite::Put { order: order.clone(), expected_version: 0 }], &[]))
            .await
            .unwrap();
        orders.push(order);
    }
    let pk = |o: &Order| format!("ORDER#{}", o.id());
    let item = raw(&client, &names.orders, &pk(&orders[1]), "ORDER").await.unwrap();
    assert_eq!(item.get("GSI2PK"), Some(&AttributeValue::S("PENDING".into())));
    assert_eq!(item.get("status"), Some(&AttributeValue::S("PENDING".into())));

    let mut rejected = orders[1].clone();
    rejected.reject(RejectionReason::TimedOut, at(9)).unwrap();
    repo.commit(Commit::new(vec![OrderWrite::Put { order: rejected, expected_version: 1 }], &[])).await.unwrap();
    let item = raw(&client, &names.orders, &pk(&orders[1]), "ORDER").await.unwrap();
    assert!(!item.contains_key("GSI2PK") && !item.contains_key("GSI2SK"), "left the Pending index: {item:?}");
    assert_eq!(item.get("status"), Some(&AttributeValue::S("REJECTED".into())));
    assert!(item.contains_key("GSI1PK") && item.contains_key("GSI1SK"), "still in the history");

    let ids = |v: Vec<app::ports::Versioned<Order>>| v.into_iter().map(|o| o.value.id()).collect::<Vec<_>>();
    assert_eq!(ids(repo.pending_before(at(3), 10).await.unwrap().orders), vec![orders[0].id(), orders[2].id()]);
    assert_eq!(ids(repo.pending_before(at(3), 1).await.unwrap().orders), vec![orders[0].id()]);
    assert_eq!(ids(repo.pending_before(at(3) + chrono::Duration::nanoseconds(1), 10).await.unwrap().orders).len(), 3);
    assert!(repo.pending_before(at(0), 10).await.unwrap().orders.is_empty());
    assert!(repo.pending_before(at(9), 0).await.unwrap().orders.is_empty());
    assert_eq!(repo.pending_before(at(9), 10).await.unwrap().orders[0].version, 1);
}

#[tokio::test]
async fn ledger_items_carry_their_ttl_and_read_back() {
    let client = common::dynamo().await;
    let names = common::fresh_tables(&client).await;
    let repo = DynamoOrderRepository::new(client.clone(), &names.orders);
    let order = new_order(CustomerId::from_uuid(Uuid::new_v4()), Utc::now());
    let applied = AppliedEvent { consumer: "price-order", event_id: EventId::from_uuid(Uuid::new_v4()) };
    let idempotency = IdempotencyRecord {
        scope: "orders".into(),
        key: "key-1".into(),
        fingerprint: "abc".into(),
        resource_id: order.id().as_uuid(),
        response: serde_json::json!({"id": order.id(), "total": {"amount": 1250, "currency": "USD"}, "ratio": 1.0}),
    };
    let mut committed = envelope();
    committed.metadata.trace = domain::TraceHeader::parse(TRACE);
    let event = OutboxRecord::of(&committed).unwrap();
    assert_eq!(event.trace_header.as_deref(), Some(TRACE));
    let mut commit = Commit::new(vec![OrderWrite::Put { order: order.clone(), expected_version: 0 }], &[])
        .applying(applied.clone())
        .answering(Some(idempotency.clone()));
    commit.events.push(committed);
    let now = Utc::now().timestamp();
    repo.commit(commit).await.unwrap();

    let expires = |pk: String, sk: &'static str| {
        let client = client.clone();
        let table = names.orders.clone();
        async move { number(&raw(&client, &table, &pk, sk).await.expect("the item"), "expiresAt") - now }
    };
    let week = 7 * 24 * 3600;
    let outbox_ttl = expires(format!("OUTBOX#{}", event.event_id), "OUTBOX").await;
    let applied_ttl = expires(format!("APPLIED#price-order#{}", applied.event_id), "APPLIED").await;
    let key_ttl = expires("IDEMPOTENCY#orders#key-1".into(), "IDEMPOTENCY").await;
    assert!((week - 5..=week + 5).contains(&outbox_ttl), "{outbox_ttl}");
    assert!((week - 5..=week + 5).contains(&applied_ttl), "{applied_ttl}");
    assert!((24 * 3600 - 5..=24 * 3600 + 5).contains(&key_ttl), "{key_ttl}");
    let order_item = raw(&client, &names.orders, &format!("ORDER#{}", order.id()), "ORDER").await.unwrap();
    assert!(!order_item.contains_key("expiresAt"), "aggregates never expire");

    assert!(repo.is_applied(&applied).await.unwrap());
    let key = IdempotencyKey::parse("key-1").unwrap();
    assert_eq!(repo.idempotency("orders", &key).await.unwrap(), Some(idempotency), "the response as answered");
    assert_eq!(repo.idempotency("customers", &key).await.unwrap(), None);

    let outbox = raw(&client, &names.orders, &format!("OUTBOX#{}", event.event_id), "OUTBOX").await.unwrap();
    assert_eq!(outbox.get("detail"), Some(&AttributeValue::S(event.detail.clone())), "detail is JSON text");
    assert_eq!(outbox.get("detailType"), Some(&AttributeValue::S("OrderCancelled".into())));
    let back = outbox_record_from_image(serde_dynamo::Item::from(outbox)).unwrap();
    assert_eq!(back, Some(event), "the relay reads back exactly what was committed");
    assert_eq!(outbox_record_from_image(serde_dynamo::Item::from(order_item)).unwrap(), None);
}

#[tokio::test]
async fn the_tables_have_the_documented_layout_and_creating_them_again_is_harmless() {
    let client = common::dynamo().await;
    let names = common::fresh_tables(&client).await;
    create_tables(&client, &names).await.expect("a second create_tables on existing tables");
    for (table, indexes) in [
        (&names.customers, vec![]),
        (&names.products, vec![("Catalogue", "GSI1PK", "GSI1SK")]),
        (
            &names.orders,
            vec![("ByCustomer", "GSI1PK", "GSI1SK"), ("ByStatus", "GSI3PK", "GSI3SK"), ("Pending", "GSI2PK", "GSI2SK")],
        ),
    ] {
        let d = client.describe_table().table_name(table).send().await.unwrap().table.unwrap();
        let keys: Vec<_> = d.key_schema().iter().map(|k| (k.attribute_name(), k.key_type().as_str())).collect();
        assert_eq!(keys, [("PK", "HASH"), ("SK", "RANGE")]);
        let stream = d.stream_specification().expect("a stream");
        assert!(stream.stream_enabled());
        assert_eq!(stream.stream_view_type().map(|v| v.as_str()), Some("NEW_IMAGE"));
        assert_eq!(
            d.billing_mode_summary().and_then(|b| b.billing_mode()).map(|b| b.as_str()),
            Some("PAY_PER_REQUEST")
        );
        let mut got: Vec<_> = d
            .global_secondary_indexes()
            .iter()
            .map(|i| {
                let k = i.key_schema();
                assert_eq!(i.projection().and_then(|p| p.projection_type()).map(|p| p.as_str()), Some("ALL"));
                (i.index_name().unwrap_or_default(), k[0].attribute_name(), k[1].attribute_name())
            })
            .collect();
        got.sort();
        assert_eq!(got, indexes, "{table}");
        let ttl = client.describe_time_to_live().table_name(table).send().await.unwrap();
        let ttl = ttl.time_to_live_description().unwrap();
        assert_eq!(ttl.attribute_name(), Some("expiresAt"));
        assert_eq!(ttl.time_to_live_status().map(|s| s.as_str()), Some("ENABLED"));
    }
}

#[tokio::test]
async fn get_many_reads_past_one_batch_and_returns_each_product_once() {
    let client = common::dynamo().await;
    let names = common::fresh_tables(&client).await;
    let repo = DynamoProductRepository::new(client.clone(), &names.products);
    let products: Vec<Product> = (0..130).map(|i| new_product(&format!("P{i:03}"), 1)).collect();
    for chunk in products.chunks(25) {
        add_products(&repo, chunk).await;
    }
    let mut ids: Vec<_> = products.iter().map(Product::id).collect();
    ids.extend(products.iter().take(40).map(Product::id));
    ids.push(domain::ProductId::from_uuid(Uuid::new_v4()));
    let got = repo.get_many(&ids).await.unwrap();
    assert_eq!(got.len(), 130);
    let unique: BTreeSet<_> = got.iter().map(|p| p.value.id()).collect();
    assert_eq!(unique, products.iter().map(Product::id).collect());

    let first = repo.list(&page(100, None)).await.unwrap();
    let second = repo.list(&page(100, first.next.clone())).await.unwrap();
    let names_in_order: Vec<_> =
        first.items.iter().chain(&second.items).map(|p| p.name().as_str().to_owned()).collect();
    let want: Vec<_> = (0..130).map(|i| format!("P{i:03}")).collect();
    assert_eq!(names_in_order, want);
    assert!(second.next.is_none());
}

/// A store error is a typed, retryable failure, never an empty answer. (ministack, like AWS,
/// answers ResourceNotFoundException here; it never returns UnprocessedKeys for a table that
/// exists, so the re-read of unprocessed keys is not exercised against it.)
#[tokio::test]
async fn a_batch_read_of_a_missing_table_is_unavailable() {
    let client = common::dynamo().await;
    let repo = DynamoProductRepository::new(client, common::unique("missing"));
    match repo.get_many(&[new_product("Ghost", 1).id()]).await {
        Err(StoreError::Unavailable(_)) => {}
        other => panic!("expected unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_commit_beyond_one_transaction_is_refused_before_anything_is_sent() {
    let client = common::dynamo().await;
    let names = common::fresh_tables(&client).await;
    let repo = DynamoProductRepository::new(client.clone(), &names.products);
    let writes = (0..101)
        .map(|i| ProductWrite::Product { product: new_product(&format!("P{i}"), 1), expected_version: 0 })
        .collect();
    match repo.commit(Commit::new(writes, &[])).await {
        Err(StoreError::Unavailable(e)) => assert!(e.to_string().contains("101"), "{e}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(scan(&client, &names.products).await.is_empty());
}

#[tokio::test]
async fn the_default_config_honours_aws_endpoint_url() {
    let endpoint = common::endpoint();
    assert!(
        std::env::var("AWS_ACCESS_KEY_ID").is_ok(),
        "AWS_ACCESS_KEY_ID is not set: run through scripts/with-ministack.sh, which sets dummy credentials"
    );
    let config = aws_adapters::load_sdk_config().await;
    assert_eq!(config.endpoint_url(), Some(endpoint.as_str()));
    let client = aws_adapters::Clients::new(&config).dynamo().clone();
    client.list_tables().limit(1).send().await.expect("ministack answers through the default config");
}

/// What a deployed function runs on: the variables Lambda (or ministack running the function)
/// sets, and nothing of the default chain.
#[tokio::test]
async fn the_lambda_config_reaches_the_endpoint_with_the_environments_credentials() {
    let endpoint = common::endpoint();
    let config = aws_adapters::lambda_sdk_config();
    assert_eq!(config.endpoint_url(), Some(endpoint.as_str()));
    let client = aws_adapters::Clients::new(&config).dynamo().clone();
    client.list_tables().limit(1).send().await.expect("ministack answers through the Lambda config");
}

// ---------------------------------------------------------------- EventBridge

/// The log lines of the code under test, for the one test that checks what was re-sent.
#[derive(Clone, Default)]
struct CapturedLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync {
        let log = self.clone();
        tracing_subscriber::fmt().with_ansi(false).with_writer(move || log.clone()).finish()
    }

    fn lines_containing(&self, needle: &str) -> Vec<String> {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        String::from_utf8_lossy(&bytes).lines().filter(|l| l.contains(needle)).map(str::to_owned).collect()
    }
}

/// A fresh bus with one rule (`source` and `detail-type`) targeting a fresh SQS queue.
struct Wiring {
    bus: String,
    queue_url: String,
    sqs: aws_sdk_sqs::Client,
    events: aws_sdk_eventbridge::Client,
}

async fn wiring(source: &str, detail_types: &[&str]) -> Wiring {
    let config = common::sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let events = aws_sdk_eventbridge::Client::new(&config);
    let bus = common::unique("bus");
    let queue_url = sqs.create_queue().queue_name(common::unique("q")).send().await.unwrap().queue_url.unwrap();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let queue_arn =
        attrs.attributes().and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)).unwrap().clone();
    events.create_event_bus().name(&bus).send().await.unwrap();
    let pattern = serde_json::json!({"source": [source], "detail-type": detail_types}).to_string();
    let rule = common::unique("rule");
    events.put_rule().name(&rule).event_bus_name(&bus).event_pattern(pattern).send().await.unwrap();
    let target = aws_sdk_eventbridge::types::Target::builder().id("queue").arn(queue_arn).build().unwrap();
    let put = events.put_targets().rule(&rule).event_bus_name(&bus).targets(target).send().await.unwrap();
    assert_eq!(put.failed_entry_count(), 0);
    Wiring { bus, queue_url, sqs, events }
}

impl Wiring {
    fn publisher(&self) -> EventBridgePublisher {
        let fast = RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
        };
        EventBridgePublisher::new(self.events.clone(), &self.bus).with_retry(fast)
    }

    /// The EventBridge events that reached the queue: waits for `n`, then briefly for extras.
    async fn receive(&self, n: usize) -> Vec<serde_json::Value> {
        let mut got = vec![];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        let mut quiet_rounds = 0;
        while tokio::time::Instant::now() < deadline && (got.len() < n || quiet_rounds < 1) {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(if got.len() < n { 1 } else { 0 })
                .send()
                .await
                .unwrap();
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() && got.len() >= n {
                quiet_rounds += 1;
            }
            for m in messages {
                got.push(serde_json::from_str(m.body().unwrap()).unwrap());
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
        got
    }
}

#[tokio::test]
async fn published_events_reach_an_sqs_target_by_source_and_detail_type() {
    let w = wiring("shop.orders", &["OrderCreated"]).await;
    let wanted = record("shop.orders", "OrderCreated", r#"{"orderId":"o-1","lines":[{"quantity":2}]}"#);
    let other_type = record("shop.orders", "OrderApproved", r#"{"orderId":"o-1"}"#);
    let other_source = record("shop.products", "OrderCreated", r#"{"orderId":"o-1"}"#);
    w.publisher().publish(&[wanted.clone(), other_type, other_source]).await.expect("published");

    let got = w.receive(1).await;
    assert_eq!(got.len(), 1, "only the matching event: {got:?}");
    let event = &got[0];
    assert_eq!(event["source"], "shop.orders");
    assert_eq!(event["detail-type"], "OrderCreated");
    assert_eq!(event["detail"], serde_json::from_str::<serde_json::Value>(&wanted.detail).unwrap());
}

#[tokio::test]
async fn twenty_five_records_are_all_delivered() {
    let w = wiring("shop.orders", &["OrderCreated"]).await;
    let records: Vec<_> = (0..25).map(|i| record("shop.orders", "OrderCreated", &format!(r#"{{"n":{i}}}"#))).collect();
    w.publisher().publish(&records).await.expect("published");
    let got: BTreeSet<i64> = w.receive(25).await.iter().map(|e| e["detail"]["n"].as_i64().unwrap()).collect();
    assert_eq!(got, (0..25).collect());
}

#[tokio::test]
async fn large_records_are_split_by_size_and_one_too_large_is_refused() {
    let w = wiring("shop.orders", &["OrderCreated"]).await;
    let big = |i: usize| {
        let pad = "x".repeat(100 * 1024);
        record("shop.orders", "OrderCreated", &format!(r#"{{"n":{i},"pad":"{pad}"}}"#))
    };
    let records: Vec<_> = (0..5).map(big).collect();
    w.publisher().publish(&records).await.expect("five entries of 100 KiB go out in three calls");
    let got: BTreeSet<i64> = w.receive(5).await.iter().map(|e| e["detail"]["n"].as_i64().unwrap()).collect();
    assert_eq!(got, (0..5).collect());

    let huge = record("shop.orders", "OrderCreated", &format!(r#"{{"pad":"{}"}}"#, "x".repeat(256 * 1024)));
    let id = huge.event_id;
    match w.publisher().publish(&[big(9), huge]).await {
        Err(PublishError::TooLarge(e)) => assert_eq!(e, id),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(w.receive(0).await.is_empty(), "nothing is sent when one entry cannot be");
}

/// ministack refuses, per entry, any event whose source starts with `aws.` (as AWS does:
/// NotAuthorizedForSourceException) while accepting the rest of the call: the only per-entry
/// failure it produces for entries on one existing bus.
#[tokio::test]
async fn refused_entries_are_resent_alone_and_finally_rejected() {
    let w = wiring("shop.orders", &["OrderCreated"]).await;
    let good: Vec<_> = (0..3).map(|i| record("shop.orders", "OrderCreated", &format!(r#"{{"n":{i}}}"#))).collect();
    let refused = |i: i64| record("aws.shop", "OrderCreated", &format!(r#"{{"n":{i}}}"#));
    let records = vec![good[0].clone(), refused(100), good[1].clone(), refused(101), good[2].clone()];
    let log = CapturedLog::default();
    let outcome = {
        let _guard = tracing::subscriber::set_default(log.subscriber());
        w.publisher().publish(&records).await
    };
    match outcome {
        Err(PublishError::Rejected { failed, total, attempts }) => assert_eq!((failed, total, attempts), (2, 5, 4)),
        other => panic!("expected Rejected, got {other:?}"),
    }
    // Each refused entry was sent four times; no accepted one was refused or sent again.
    let refusals = log.lines_containing("the bus refused an entry");
    assert_eq!(refusals.len(), 8, "{refusals:#?}");
    for r in [&records[1], &records[3]] {
        let attempts: Vec<_> = refusals.iter().filter(|l| l.contains(&r.event_id.to_string())).collect();
        assert_eq!(attempts.len(), 4, "{attempts:#?}");
        assert!(attempts.iter().all(|l| l.contains("NotAuthorizedForSourceException")), "{attempts:#?}");
    }
    let got: Vec<i64> = w.receive(3).await.iter().map(|e| e["detail"]["n"].as_i64().unwrap()).collect();
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(sorted, vec![0, 1, 2], "the accepted entries were delivered once each, not re-sent: {got:?}");
}

/// One PENDING item that does not decode (a bug, a foreign writer) is reported and skipped: the
/// sweep still rejects every other overdue order.
#[tokio::test]
async fn an_unreadable_pending_item_does_not_stop_the_sweep() {
    let client = common::dynamo().await;
    let names = common::fresh_tables(&client).await;
    let repo = std::sync::Arc::new(DynamoOrderRepository::new(client.clone(), &names.orders));
    let customer = CustomerId::from_uuid(Uuid::new_v4());
    let hour_ago = Utc::now() - chrono::Duration::hours(1);
    let (good, bad) = (new_order(customer, hour_ago), new_order(customer, hour_ago + chrono::Duration::seconds(1)));
    for o in [&good, &bad] {
        let put = OrderWrite::Put { order: o.clone(), expected_version: 0 };
        repo.commit(Commit::new(vec![put], &[])).await.unwrap();
    }
    let mut item = raw(&client, &names.orders, &format!("ORDER#{}", bad.id()), "ORDER").await.unwrap();
    item.insert("data".to_owned(), AttributeValue::S("{\"not\": \"an order\"}".to_owned()));
    client.put_item().table_name(&names.orders).set_item(Some(item)).send().await.unwrap();

    let overdue = repo.pending_before(Utc::now(), 10).await.unwrap();
    assert_eq!(overdue.orders.iter().map(|o| o.value.id()).collect::<Vec<_>>(), vec![good.id()]);
    assert_eq!(overdue.unreadable.len(), 1);
    assert!(overdue.unreadable[0].to_string().contains(&bad.id().to_string()), "{}", overdue.unreadable[0]);

    let sweeper =
        app::orders::Sweeper::new(repo.clone(), chrono::Duration::seconds(1), app::SystemEnvironment::shared());
    let report = sweeper.sweep().await.unwrap();
    assert_eq!((report.examined, report.rejected, report.unreadable), (1, 1, 1));
    let swept = repo.get(good.id()).await.unwrap().unwrap().value;
    assert_eq!(swept.status(), OrderStatus::Rejected);
}

// ---------------------------------------------------------------- the stream, read back

/// The stream of `table`: its ARN, its (one) shard, and every record's (sequence number, PK).
async fn stream_of(config: &aws_config::SdkConfig, table: &str) -> (String, String, Vec<(String, String)>) {
    let dynamo = aws_sdk_dynamodb::Client::new(config);
    let streams = aws_sdk_dynamodbstreams::Client::new(config);
    let (arn, shard) = aws_adapters::table_stream(&dynamo, &streams, table).await.unwrap();
    let it = streams
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(&shard)
        .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap();
    let page = streams.get_records().set_shard_iterator(it.shard_iterator).send().await.unwrap();
    let records = page
        .records()
        .iter()
        .filter_map(|r| {
            let d = r.dynamodb()?;
            let pk = match d.keys()?.get("PK")? {
                aws_sdk_dynamodbstreams::types::AttributeValue::S(s) => s.clone(),
                _ => return None,
            };
            Some((d.sequence_number()?.to_owned(), pk))
        })
        .collect();
    (arn, shard, records)
}

#[tokio::test]
async fn a_stream_range_reads_back_exactly_its_outbox_records_and_redrives_them_onto_the_bus() {
    use app::ports::{OutboxStream, StreamError, StreamRange};
    let config = common::sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let names = common::fresh_tables(&client).await;
    let repo = DynamoOrderRepository::new(client.clone(), &names.orders);
    // Outbox records with other changes of the table between them (orders, markers).
    let customer = CustomerId::from_uuid(Uuid::new_v4());
    let mut emitted = vec![];
    for i in 0..5 {
        let e = envelope();
        let order = new_order(customer, at(i));
        let write = OrderWrite::Put { order, expected_version: 0 };
        repo.commit(Commit::new(vec![write], std::slice::from_ref(&e))).await.unwrap();
        emitted.push(e.id());
    }
    let (arn, shard, records) = stream_of(&config, &names.orders).await;
    let seq_of = |id: EventId| records.iter().find(|(_, pk)| *pk == format!("OUTBOX#{id}")).unwrap().0.clone();
    let range =
        StreamRange { stream: arn.clone(), shard: shard.clone(), first: seq_of(emitted[1]), last: seq_of(emitted[3]) };

    let stream = aws_adapters::DynamoOutboxStream::new(aws_sdk_dynamodbstreams::Client::new(&config));
    let got = stream.outbox_records(&range).await.unwrap();
    assert_eq!(got.iter().map(|r| r.event_id).collect::<Vec<_>>(), emitted[1..4].to_vec(), "in commit order");
    assert!(got.iter().all(|r| r.detail_type == "OrderCancelled" && r.source == "shop.orders"));

    // What a redrive function does with it: the records reach the bus's targets, the stream's ARN
    // naming the orders table (so its records may speak for orders).
    let w = wiring("shop.orders", &["OrderCancelled"]).await;
    let publisher = std::sync::Arc::new(w.publisher());
    let sources = app::relay::StreamSources::new([(names.orders.clone(), domain::Context::Orders)]);
    let redrive = app::relay::Redrive::new(
        std::sync::Arc::new(stream.clone()),
        publisher,
        sources,
        app::SystemEnvironment::shared(),
    );
    assert_eq!(redrive.redrive(&range).await.unwrap(), app::relay::Relayed { sent: 3, refused: 0 });
    let delivered = w.receive(3).await;
    let mut ids: Vec<String> =
        delivered.iter().map(|e| e["detail"]["metadata"]["eventId"].as_str().unwrap_or_default().to_owned()).collect();
    ids.sort();
    let mut want: Vec<String> = emitted[1..4].iter().map(|i| i.to_string()).collect();
    want.sort();
    assert_eq!(ids, want, "{delivered:?}");

    // A sequence number the stream does not hold (trimmed past 24 hours) and a range that is no
    // range are permanent; a stream that does not exist is too.
    let gone = StreamRange { first: "1".into(), last: "2".into(), ..range.clone() };
    assert!(matches!(stream.outbox_records(&gone).await, Err(StreamError::Trimmed(_))), "trimmed");
    let reversed = StreamRange { first: range.last.clone(), last: range.first.clone(), ..range.clone() };
    assert!(matches!(stream.outbox_records(&reversed).await, Err(StreamError::Invalid(_))));
    let elsewhere = StreamRange { stream: arn.replace(&names.orders, "no-such-table"), ..range };
    assert!(stream.outbox_records(&elsewhere).await.is_err_and(|e| matches!(e, StreamError::Trimmed(_))));
}
