//! The contract every storage adapter honours, as one suite run against the in-memory adapters
//! (in this crate's tests) and against DynamoDB on ministack (in aws-adapters' tests).
//!
//! Each case takes a fresh, empty [`Fixture`]. `contract_suite!(make_fixture)` expands to one
//! `#[tokio::test]` per case, so a failure names the broken promise.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::Arc;

use domain::events::{LineRequest, OrderCreated};
use domain::{
    Address, CatalogueEntry, CountryCode, Currency, CustomerId, CustomerName, Dimensions, DomainEvent, Email,
    EventEnvelope, KnownCustomer, Money, Order, OrderId, OrderStatus, ProductId, ProductName, Quantity,
    RejectionReason, ShippingCostService, ShippingSpeed, StockLevel, Weight,
};

use crate::access::Caller;
use crate::commands::{AddProduct, PlaceOrder, RegisterCustomer};
use crate::customers::CustomerService;
use crate::env::SharedEnv;
use crate::error::AppError;
use crate::orders::{OrderPlacement, OrderService};
use crate::page::{PageRequest, PageSize};
use crate::ports::{
    reads, AppliedEvent, Commit, CustomerRepository, CustomerWrite, IdempotencyKey, Item, OrderRepository, OrderWrite,
    ProductRepository, ProductWrite, StoreError,
};
use crate::products::ProductService;
use crate::step::{Consumer, StepOutcome};

/// Fresh, empty stores for one test.
pub struct Fixture {
    pub orders: Arc<dyn OrderRepository>,
    pub products: Arc<dyn ProductRepository>,
    pub customers: Arc<dyn CustomerRepository>,
    pub env: SharedEnv,
}

impl Fixture {
    fn customer_service(&self) -> CustomerService {
        CustomerService::new(self.customers.clone(), self.env.clone())
    }
    fn product_service(&self) -> ProductService {
        ProductService::new(self.products.clone(), self.env.clone())
    }
    fn order_service(&self) -> OrderService {
        OrderService::new(self.orders.clone(), self.env.clone())
    }
    fn placement(&self) -> OrderPlacement {
        OrderPlacement::new(self.orders.clone(), shipping(), self.env.clone())
    }
}

fn shipping() -> ShippingCostService {
    ShippingCostService::standard_tariff("OH", CountryCode::parse("US").unwrap())
}

fn usd(a: i64) -> Money {
    Money::new(a, Currency::USD).unwrap()
}

fn address() -> Address {
    Address::new("9 Elm St", "Dayton", "OH", "45402", "US").unwrap()
}

fn register_cmd() -> RegisterCustomer {
    RegisterCustomer { name: CustomerName::parse("Ada Lovelace").unwrap(), address: address() }
}

/// An address as the caller's identity provider verified it.
fn email(address: &str) -> Email {
    Email::parse(address).unwrap()
}

/// A caller who is not yet a customer.
fn newcomer(f: &Fixture) -> Caller {
    Caller::new(f.env.new_uuid(), false)
}

fn admin(f: &Fixture) -> Caller {
    Caller::new(f.env.new_uuid(), true)
}

fn me(c: CustomerId) -> Caller {
    Caller::customer(c)
}

/// A registered customer, known to the orders replica as its event would make it.
async fn customer(f: &Fixture, address: &str) -> CustomerId {
    let caller = newcomer(f);
    let id = f
        .customer_service()
        .register(&caller, email(address), register_cmd(), usd(100_000), None)
        .await
        .unwrap()
        .resource
        .id();
    let known = OrderWrite::Customer { customer: KnownCustomer { customer_id: id }, expected_version: 0 };
    f.orders.commit(Commit::new(vec![known], &[])).await.unwrap();
    id
}

async fn product(f: &Fixture, name: &str, stock: i64) -> ProductId {
    let cmd = AddProduct {
        name: ProductName::parse(name).unwrap(),
        price: usd(1_000),
        weight: Weight::new(500).unwrap(),
        dimensions: Dimensions::new(10, 10, 10).unwrap(),
        stock: StockLevel::new(stock).unwrap(),
    };
    let p = f.product_service().add(&admin(f), cmd, None).await.unwrap().resource;
    let entry = CatalogueEntry {
        product_id: p.id(),
        name: p.name().as_str().to_owned(),
        price: p.price(),
        weight: p.weight(),
        dimensions: p.dimensions(),
        sold: true,
        revision: p.revision(),
    };
    f.orders.commit(Commit::new(vec![OrderWrite::Catalogue { entry, expected_version: 0 }], &[])).await.unwrap();
    p.id()
}

fn line(p: ProductId, q: i64) -> LineRequest {
    LineRequest { product_id: p, quantity: Quantity::new(q).unwrap() }
}

fn place_cmd(c: CustomerId, lines: Vec<LineRequest>) -> PlaceOrder {
    PlaceOrder { customer_id: Some(c), lines, shipping_address: address(), shipping_speed: ShippingSpeed::Standard }
}

fn order_created(order: OrderId, c: CustomerId, lines: Vec<LineRequest>, f: &Fixture) -> EventEnvelope {
    let e = OrderCreated {
        order_id: order,
        customer_id: c,
        lines,
        shipping_address: address(),
        shipping_speed: ShippingSpeed::Standard,
    };
    EventEnvelope::new(DomainEvent::OrderCreated(e), f.env.as_ref())
}

/// The consumer name the contract's stock steps record their markers under.
const STOCK: Consumer = Consumer::new("contract-reserve-stock");

fn key(s: &str) -> IdempotencyKey {
    IdempotencyKey::parse(s).unwrap()
}

fn page(n: i64) -> PageSize {
    PageSize::new(n).unwrap()
}

pub async fn an_event_applied_twice_changes_nothing(f: Fixture) {
    let c = customer(&f, "twice@example.com").await;
    let p = product(&f, "Lamp", 5).await;
    let ev = order_created(OrderId::from_uuid(f.env.new_uuid()), c, vec![line(p, 2)], &f);
    let first = f.product_service().reserve_stock(STOCK, &ev).await.unwrap();
    assert_eq!(first, StepOutcome::Applied { emitted: vec!["StockReserved"] });
    let second = f.product_service().reserve_stock(STOCK, &ev).await.unwrap();
    assert_eq!(second, StepOutcome::AlreadyApplied);
    let stored = f.products.get(p).await.unwrap().unwrap();
    assert_eq!(stored.value.available(), 3);
    assert_eq!(stored.version, 2, "one write for the add, one for the reservation");
}

pub async fn the_same_order_reserved_through_another_event_changes_nothing(f: Fixture) {
    let c = customer(&f, "other-event@example.com").await;
    let p = product(&f, "Lamp", 5).await;
    let order = OrderId::from_uuid(f.env.new_uuid());
    f.product_service().reserve_stock(STOCK, &order_created(order, c, vec![line(p, 2)], &f)).await.unwrap();
    let again = f.product_service().reserve_stock(STOCK, &order_created(order, c, vec![line(p, 2)], &f)).await.unwrap();
    assert!(matches!(again, StepOutcome::Skipped(_)), "{again:?}");
    assert_eq!(f.products.get(p).await.unwrap().unwrap().value.available(), 3);
}

pub async fn a_stale_version_is_a_conflict_naming_the_item(f: Fixture) {
    let c = customer(&f, "stale@example.com").await;
    let stored = f.customers.get(c).await.unwrap().unwrap();
    let write =
        |v| Commit::new(vec![CustomerWrite::Customer { customer: stored.value.clone(), expected_version: v }], &[]);
    f.customers.commit(write(stored.version)).await.unwrap();
    match f.customers.commit(write(stored.version)).await {
        Err(StoreError::Conflict { item }) => assert_eq!(item, Item::Customer(c)),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(f.customers.get(c).await.unwrap().unwrap().version, stored.version + 1);
}

pub async fn a_transaction_with_one_failing_condition_writes_nothing(f: Fixture) {
    let a = product(&f, "Anvil", 5).await;
    let b = product(&f, "Bell", 5).await;
    let pa = f.products.get(a).await.unwrap().unwrap();
    let pb = f.products.get(b).await.unwrap().unwrap();
    let cause =
        order_created(OrderId::from_uuid(f.env.new_uuid()), CustomerId::from_uuid(f.env.new_uuid()), vec![], &f);
    let applied = AppliedEvent { consumer: "contract", event_id: cause.id() };
    let commit = Commit::new(
        vec![
            ProductWrite::Product { product: pa.value.clone(), expected_version: pa.version },
            ProductWrite::Product { product: pb.value.clone(), expected_version: pb.version + 7 },
        ],
        std::slice::from_ref(&cause),
    )
    .applying(applied.clone());
    match f.products.commit(commit).await {
        Err(StoreError::Conflict { item }) => {
            assert_eq!(item, Item::Product(b), "the failing item is named")
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(f.products.get(a).await.unwrap().unwrap().version, pa.version, "the passing write did not land");
    assert!(!f.products.is_applied(&applied).await.unwrap(), "the marker did not land");
}

pub async fn an_idempotency_key_replay_returns_the_stored_response_and_writes_nothing(f: Fixture) {
    let c = customer(&f, "replay@example.com").await;
    let p = product(&f, "Lamp", 5).await;
    let k = key("order-123");
    let first = f.placement().place(&me(c), place_cmd(c, vec![line(p, 1)]), Some(&k)).await.unwrap();
    let second = f.placement().place(&me(c), place_cmd(c, vec![line(p, 1)]), Some(&k)).await.unwrap();
    assert!(!first.replayed);
    assert!(second.replayed);
    assert_eq!(first.resource, second.resource);
    let history = f.order_service().history(&me(c), c, None, page(10), None).await.unwrap();
    assert_eq!(history.items.len(), 1, "one order for one key");

    let caller = newcomer(&f);
    let svc = f.customer_service();
    let cust = svc.register(&caller, email("keyed@example.com"), register_cmd(), usd(5), Some(&k)).await.unwrap();
    let again = svc.register(&caller, email("keyed@example.com"), register_cmd(), usd(5), Some(&k)).await.unwrap();
    assert_eq!((cust.replayed, again.replayed), (false, true));
    assert_eq!(cust.resource, again.resource);
    assert_eq!(f.customers.get(cust.resource.id()).await.unwrap().unwrap().version, 1);
}

pub async fn concurrent_requests_with_one_key_make_one_order(f: Fixture) {
    let c = customer(&f, "race@example.com").await;
    let p = product(&f, "Lamp", 5).await;
    let k = key("order-race");
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let placement = f.placement();
            let (cmd, k) = (place_cmd(c, vec![line(p, 1)]), k.clone());
            tokio::spawn(async move { placement.place(&me(c), cmd, Some(&k)).await })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().unwrap().resource.id());
    }
    assert_eq!(ids.len(), 1, "every request answers with the one order");
    assert_eq!(f.order_service().history(&me(c), c, None, page(10), None).await.unwrap().items.len(), 1);
}

pub async fn a_reused_key_with_a_different_body_is_refused(f: Fixture) {
    let c = customer(&f, "reuse@example.com").await;
    let p = product(&f, "Lamp", 5).await;
    let k = key("order-456");
    f.placement().place(&me(c), place_cmd(c, vec![line(p, 1)]), Some(&k)).await.unwrap();
    let err = f.placement().place(&me(c), place_cmd(c, vec![line(p, 2)]), Some(&k)).await.unwrap_err();
    assert!(matches!(err, AppError::IdempotencyKeyReused), "{err:?}");
    assert_eq!(f.order_service().history(&me(c), c, None, page(10), None).await.unwrap().items.len(), 1);
}

pub async fn an_order_naming_an_unknown_product_or_customer_writes_nothing(f: Fixture) {
    let c = customer(&f, "unknown@example.com").await;
    let p = product(&f, "Lamp", 5).await;
    let ghost = ProductId::from_uuid(f.env.new_uuid());
    let err = f.placement().place(&me(c), place_cmd(c, vec![line(p, 1), line(ghost, 1)]), None).await.unwrap_err();
    assert!(matches!(err, AppError::UnknownReference(Item::Product(id)) if id == ghost), "{err:?}");
    let nobody = CustomerId::from_uuid(f.env.new_uuid());
    let err = f.placement().place(&me(nobody), place_cmd(nobody, vec![line(p, 1)]), None).await.unwrap_err();
    assert!(matches!(err, AppError::UnknownReference(Item::Customer(_))), "{err:?}");
    assert!(f.order_service().history(&me(c), c, None, page(10), None).await.unwrap().items.is_empty());
}

pub async fn two_callers_with_one_key_never_meet(f: Fixture) {
    let (a, b) = (customer(&f, "a@example.com").await, customer(&f, "b@example.com").await);
    let p = product(&f, "Lamp", 5).await;
    let k = key("same-key");
    let first = f.placement().place(&me(a), place_cmd(a, vec![line(p, 1)]), Some(&k)).await.unwrap();
    let second = f.placement().place(&me(b), place_cmd(b, vec![line(p, 1)]), Some(&k)).await.unwrap();
    assert!(!first.replayed && !second.replayed, "each caller's key is their own");
    assert_ne!(first.resource.id(), second.resource.id());
    assert_eq!(second.resource.customer_id(), b, "b never sees a's order");
    // And with a different body under the other caller's key: no "reused" refusal either.
    let third = f.placement().place(&me(b), place_cmd(b, vec![line(p, 2)]), Some(&key("b-only"))).await.unwrap();
    let fourth = f.placement().place(&me(a), place_cmd(a, vec![line(p, 1)]), Some(&key("b-only"))).await.unwrap();
    assert!(!third.replayed && !fourth.replayed);
}

pub async fn a_subject_registers_once(f: Fixture) {
    let caller = newcomer(&f);
    let svc = f.customer_service();
    let first = svc.register(&caller, email("once@example.com"), register_cmd(), usd(10), None).await.unwrap().resource;
    assert_eq!(first.id(), caller.customer_id(), "the customer is bound to the token's subject");
    let err = svc.register(&caller, email("twice@example.com"), register_cmd(), usd(10), None).await.unwrap_err();
    assert!(matches!(err, AppError::AlreadyRegistered), "{err:?}");
    let k = key("register-again");
    let err = svc.register(&caller, email("once@example.com"), register_cmd(), usd(10), Some(&k)).await.unwrap_err();
    assert!(matches!(err, AppError::AlreadyRegistered), "a new key does not make a second customer: {err:?}");
    assert_eq!(f.customers.get(first.id()).await.unwrap().unwrap().version, 1);
}

/// A client retrying its registration while the first request is still in flight: every answer
/// is the one stored response, never `already-registered` for its own customer.
pub async fn concurrent_registrations_with_one_key_answer_alike(f: Fixture) {
    let caller = newcomer(&f);
    let k = key("register-race");
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (svc, k) = (f.customer_service(), k.clone());
            tokio::spawn(async move {
                svc.register(&caller, email("race@example.com"), register_cmd(), usd(10), Some(&k)).await
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().unwrap().resource.id());
    }
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), vec![caller.customer_id()]);
}

/// The email is the identity provider's: the store claims no uniqueness for it, so a subject's
/// registration is refused only by that subject's own earlier one. Two subjects whose verified
/// identities carry one address (it moved from one account to another) both register; before
/// this, the first to claim an address locked its owner out and told anyone who asked that it
/// was taken.
pub async fn only_a_subjects_own_registration_refuses_it(f: Fixture) {
    let svc = f.customer_service();
    let (before, owner) = (newcomer(&f), newcomer(&f));
    svc.register(&before, email("moved@example.com"), register_cmd(), usd(1), None).await.unwrap();
    let theirs = svc.register(&owner, email("MOVED@example.com"), register_cmd(), usd(1), None).await.unwrap();
    assert_eq!(theirs.resource.email().as_str(), "moved@example.com");
    let again = svc.register(&owner, email("moved@example.com"), register_cmd(), usd(1), None).await.unwrap_err();
    assert!(matches!(again, AppError::AlreadyRegistered), "{again:?}");
}

async fn stored_orders(f: &Fixture, c: CustomerId, n: usize) -> Vec<Order> {
    let p = ProductId::from_uuid(f.env.new_uuid());
    let mut out = vec![];
    for i in 0..n {
        let id = OrderId::from_uuid(f.env.new_uuid());
        // Creation times one second apart, so "newest first" is unambiguous.
        let at = chrono::DateTime::from_timestamp(1_800_000_000 + i as i64, 0).unwrap();
        let (mut order, _) = Order::place(id, c, vec![line(p, 1)], address(), ShippingSpeed::Standard, at).unwrap();
        if i % 3 == 0 {
            order.reject(RejectionReason::OutOfStock, at).unwrap();
        }
        f.orders
            .commit(Commit::new(vec![OrderWrite::Put { order: order.clone(), expected_version: 0 }], &[]))
            .await
            .unwrap();
        out.push(order);
    }
    out
}

pub async fn three_pages_of_history_return_every_order_once_newest_first(f: Fixture) {
    let c = CustomerId::from_uuid(f.env.new_uuid());
    let other = CustomerId::from_uuid(f.env.new_uuid());
    let orders = stored_orders(&f, c, 8).await;
    stored_orders(&f, other, 2).await;
    let svc = f.order_service();
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let p = svc.history(&me(c), c, None, page(3), cursor.as_deref()).await.unwrap();
        pages += 1;
        seen.extend(p.items.iter().map(|o| (o.created_at(), o.id())));
        match p.next_cursor {
            Some(n) => cursor = Some(n),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    let mut want: Vec<_> = orders.iter().map(|o| (o.created_at(), o.id())).collect();
    want.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, want, "every order once, newest first, nobody else's");
}

pub async fn history_filters_by_status_across_pages(f: Fixture) {
    let c = CustomerId::from_uuid(f.env.new_uuid());
    let orders = stored_orders(&f, c, 10).await;
    let svc = f.order_service();
    let mut seen = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let p = svc.history(&me(c), c, Some(OrderStatus::Rejected), page(2), cursor.as_deref()).await.unwrap();
        assert!(p.items.iter().all(|o| o.status() == OrderStatus::Rejected));
        seen.extend(p.items.iter().map(|o| o.id()));
        match p.next_cursor {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    let want: BTreeSet<_> = orders.iter().filter(|o| o.status() == OrderStatus::Rejected).map(|o| o.id()).collect();
    assert_eq!(seen, want);
}

/// The operator's view: every customer's orders of one status, oldest first, page after page, each
/// once; refused to a customer; a cursor of one status is no cursor of another.
pub async fn every_customers_orders_of_a_status_page_oldest_first_for_admins_only(f: Fixture) {
    let (a, b) = (CustomerId::from_uuid(f.env.new_uuid()), CustomerId::from_uuid(f.env.new_uuid()));
    let mut orders = stored_orders(&f, a, 5).await;
    orders.extend(stored_orders(&f, b, 4).await);
    let (svc, operator) = (f.order_service(), admin(&f));
    let (mut seen, mut cursor, mut pages) = (vec![], None::<String>, 0);
    loop {
        let p = svc.by_status(&operator, OrderStatus::Pending, page(2), cursor.as_deref()).await.unwrap();
        seen.extend(p.items.iter().map(|o| (o.created_at(), o.id())));
        pages += 1;
        assert!(pages < 10, "paging does not end");
        let Some(next) = p.next_cursor else { break };
        assert!(matches!(
            svc.by_status(&operator, OrderStatus::Rejected, page(2), Some(&next)).await,
            Err(AppError::InvalidCursor)
        ));
        cursor = Some(next);
    }
    let mut want: Vec<_> =
        orders.iter().filter(|o| o.status() == OrderStatus::Pending).map(|o| (o.created_at(), o.id())).collect();
    want.sort();
    assert_eq!(seen, want, "every PENDING order once, oldest first");
    let refused = svc.by_status(&me(a), OrderStatus::Pending, page(2), None).await;
    assert!(matches!(refused, Err(AppError::Forbidden(_))), "{refused:?}");
}

pub async fn a_tampered_or_foreign_cursor_is_refused(f: Fixture) {
    let c = CustomerId::from_uuid(f.env.new_uuid());
    stored_orders(&f, c, 4).await;
    let svc = f.order_service();
    let cursor = svc.history(&me(c), c, None, page(2), None).await.unwrap().next_cursor.unwrap();
    let other = CustomerId::from_uuid(f.env.new_uuid());
    assert!(matches!(svc.history(&me(other), other, None, page(2), Some(&cursor)).await, Err(AppError::InvalidCursor)));
    assert!(matches!(
        svc.history(&me(c), c, Some(OrderStatus::Pending), page(2), Some(&cursor)).await,
        Err(AppError::InvalidCursor)
    ));
    let mut tampered = cursor.clone();
    tampered.insert(5, 'x');
    assert!(matches!(svc.history(&me(c), c, None, page(2), Some(&tampered)).await, Err(AppError::InvalidCursor)));
    assert!(matches!(svc.history(&me(c), c, None, page(2), Some("not a cursor")).await, Err(AppError::InvalidCursor)));
}

pub async fn pending_orders_before_a_cutoff_come_oldest_first(f: Fixture) {
    let c = CustomerId::from_uuid(f.env.new_uuid());
    let orders = stored_orders(&f, c, 6).await;
    let cutoff = orders[4].created_at();
    let got: Vec<OrderId> =
        f.orders.pending_before(cutoff, 10).await.unwrap().orders.into_iter().map(|o| o.value.id()).collect();
    // indexes 0 and 3 are rejected; 4 is not before the cutoff
    assert_eq!(got, vec![orders[1].id(), orders[2].id()]);
    assert_eq!(f.orders.pending_before(cutoff, 1).await.unwrap().orders.len(), 1);
}

pub async fn the_catalogue_pages_by_name(f: Fixture) {
    for name in ["Pear", "apple", "Apple", "Banana", "Cherry"] {
        product(&f, name, 1).await;
    }
    let svc = f.product_service();
    let first = svc.list(page(3), None).await.unwrap();
    let second = svc.list(page(3), first.next_cursor.as_deref()).await.unwrap();
    assert!(second.next_cursor.is_none());
    let names: Vec<String> =
        first.items.iter().chain(second.items.iter()).map(|p| p.name().as_str().to_owned()).collect();
    assert_eq!(names, ["Apple", "Banana", "Cherry", "Pear", "apple"]);
    assert!(matches!(svc.list(page(3), Some("garbage")).await, Err(AppError::InvalidCursor)));
}

pub async fn get_many_returns_existing_products_once(f: Fixture) {
    let a = product(&f, "A", 1).await;
    let b = product(&f, "B", 1).await;
    let ghost = ProductId::from_uuid(f.env.new_uuid());
    let got: BTreeSet<ProductId> =
        f.products.get_many(&[a, ghost, b, a]).await.unwrap().into_iter().map(|p| p.value.id()).collect();
    assert_eq!(got, BTreeSet::from([a, b]));
    assert!(f.products.get_many(&[]).await.unwrap().is_empty());
}

pub async fn one_short_line_reserves_nothing(f: Fixture) {
    let a = product(&f, "A", 5).await;
    let b = product(&f, "B", 1).await;
    let c = CustomerId::from_uuid(f.env.new_uuid());
    let ev = order_created(OrderId::from_uuid(f.env.new_uuid()), c, vec![line(a, 2), line(b, 2)], &f);
    let out = f.product_service().reserve_stock(STOCK, &ev).await.unwrap();
    assert_eq!(out, StepOutcome::Applied { emitted: vec!["StockReservationFailed"] });
    assert_eq!(f.products.get(a).await.unwrap().unwrap().value.available(), 5);
    assert_eq!(f.products.get(b).await.unwrap().unwrap().value.available(), 1);
}

pub async fn concurrent_reservations_never_oversell(f: Fixture) {
    let p = product(&f, "Scarce", 3).await;
    let c = CustomerId::from_uuid(f.env.new_uuid());
    let mut tasks = vec![];
    for _ in 0..8 {
        let svc = f.product_service();
        let ev = order_created(OrderId::from_uuid(f.env.new_uuid()), c, vec![line(p, 1)], &f);
        tasks.push(tokio::spawn(async move { svc.reserve_stock(STOCK, &ev).await }));
    }
    let mut reserved = 0;
    let mut failed = 0;
    for t in tasks {
        match t.await.unwrap().unwrap() {
            StepOutcome::Applied { emitted } if emitted == ["StockReserved"] => reserved += 1,
            StepOutcome::Applied { emitted } if emitted == ["StockReservationFailed"] => failed += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((reserved, failed), (3, 5));
    let stored = f.products.get(p).await.unwrap().unwrap().value;
    assert_eq!((stored.reserved(), stored.available()), (3, 0));
}

/// The consumer name the contract's credit steps record their markers under.
const CREDIT: Consumer = Consumer::new("contract-reserve-credit");

/// A flash sale: many orders for one product at once, half of them servable. Every step settles
/// in its own invocation (no step exhausts its attempts, whatever the interleaving), exactly the
/// units on hand are reserved, and the rest are told at once that the product sold out.
pub async fn a_hot_product_settles_every_concurrent_order_without_exhausting_a_step(f: Fixture) {
    const ORDERS: usize = 40;
    let p = product(&f, "Flash Sale", (ORDERS / 2) as i64).await;
    assert_eq!(flash_sale(&f, p, ORDERS).await, (ORDERS / 2, ORDERS / 2));
    let stored = f.products.get(p).await.unwrap().unwrap().value;
    assert_eq!((stored.reserved(), stored.available()), ((ORDERS / 2) as u32, 0));
}

/// `orders` concurrent orders of one unit of `p`: how many were reserved and how many sold out.
/// Panics if a step did not settle in its own invocation.
async fn flash_sale(f: &Fixture, p: ProductId, orders: usize) -> (usize, usize) {
    let c = CustomerId::from_uuid(f.env.new_uuid());
    let mut tasks = vec![];
    for _ in 0..orders {
        let svc = f.product_service();
        let ev = order_created(OrderId::from_uuid(f.env.new_uuid()), c, vec![line(p, 1)], f);
        tasks.push(tokio::spawn(async move { svc.reserve_stock(STOCK, &ev).await }));
    }
    let (mut reserved, mut sold_out) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(StepOutcome::Applied { emitted }) if emitted == ["StockReserved"] => reserved += 1,
            Ok(StepOutcome::Applied { emitted }) if emitted == ["StockReservationFailed"] => sold_out += 1,
            other => panic!("a step did not settle in its invocation: {other:?}"),
        }
    }
    (reserved, sold_out)
}

/// A buyer placing many orders at once, with credit for half: the same as for a hot product.
pub async fn one_customers_concurrent_orders_settle_within_their_credit_without_exhausting_a_step(f: Fixture) {
    const ORDERS: usize = 40;
    let c = customer(&f, "b2b@example.com").await; // 100,000 of credit
    let admin = admin(&f);
    let limit = crate::commands::ChangeCreditLimit { credit_limit: usd(2_500 * (ORDERS / 2) as i64) };
    f.customer_service().change_credit_limit(&admin, c, limit).await.unwrap();
    let mut tasks = vec![];
    for _ in 0..ORDERS {
        let svc = f.customer_service();
        let e = domain::events::OrderPriced {
            order_id: OrderId::from_uuid(f.env.new_uuid()),
            customer_id: c,
            subtotal: usd(2_000),
            shipping_cost: usd(500),
            total: usd(2_500),
        };
        let ev = EventEnvelope::new(DomainEvent::OrderPriced(e), f.env.as_ref());
        tasks.push(tokio::spawn(async move { svc.reserve_credit(CREDIT, &ev).await }));
    }
    let (mut reserved, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(StepOutcome::Applied { emitted }) if emitted == ["CreditReserved"] => reserved += 1,
            Ok(StepOutcome::Applied { emitted }) if emitted == ["CreditReservationFailed"] => refused += 1,
            other => panic!("a step did not settle in its invocation: {other:?}"),
        }
    }
    assert_eq!((reserved, refused), (ORDERS / 2, ORDERS / 2));
    let stored = f.customers.get(c).await.unwrap().unwrap().value;
    assert_eq!(stored.available_credit(), usd(0));
}

/// A hold is applied on the invariant alone, the same way by every store: within the bound it
/// lands (and moves the version, so a put read before it conflicts); past it, against a bound
/// that moved, or releasing more than is held, it is refused and writes nothing.
pub async fn a_hold_lands_within_the_invariant_and_is_refused_past_it(f: Fixture) {
    use domain::Hold;
    let p = product(&f, "Held", 5).await;
    let before = f.products.get(p).await.unwrap().unwrap();
    let hold = |delta, basis| {
        Commit::new(vec![ProductWrite::Hold { product_id: p, shard: 0, hold: Hold { delta, basis } }], &[])
    };
    f.products.commit(hold(3, 5)).await.unwrap();
    for (delta, basis, why) in [(3, 5, "past the bound"), (1, 6, "the bound moved"), (-4, 5, "more than is held")] {
        match f.products.commit(hold(delta, basis)).await {
            Err(StoreError::Refused { item }) => assert_eq!(item, Item::Product(p), "{why}"),
            other => panic!("{why}: {other:?}"),
        }
    }
    let ghost = ProductId::from_uuid(f.env.new_uuid());
    let missing =
        Commit::new(vec![ProductWrite::Hold { product_id: ghost, shard: 0, hold: Hold { delta: 1, basis: 5 } }], &[]);
    assert!(matches!(f.products.commit(missing).await, Err(StoreError::Refused { .. })), "no such product");
    let after = f.products.get(p).await.unwrap().unwrap();
    assert_eq!((after.value.reserved(), after.value.on_hand()), (3, 5));
    assert!(after.version > before.version, "a hold moves the version");
    let stale = ProductWrite::Product { product: before.value, expected_version: before.version };
    assert!(matches!(f.products.commit(Commit::new(vec![stale], &[])).await, Err(StoreError::Conflict { .. })));
    f.products.commit(hold(-3, 5)).await.unwrap();
    assert_eq!(f.products.get(p).await.unwrap().unwrap().value.reserved(), 0);
}

pub async fn an_unknown_id_is_not_found(f: Fixture) {
    let id = OrderId::from_str("00000000-0000-4000-8000-000000000000").unwrap();
    assert!(matches!(f.order_service().get(&admin(&f), id).await, Err(AppError::NotFound(Item::Order(_)))));
    assert!(f.customers.get(CustomerId::from_uuid(id.as_uuid())).await.unwrap().is_none());
    assert!(f.products.reservation(id).await.unwrap().is_none());
    assert!(f.customers.reservation(id).await.unwrap().is_none());
    let query = crate::ports::HistoryQuery {
        customer_id: CustomerId::from_uuid(id.as_uuid()),
        status: None,
        page: PageRequest { size: page(5), after: None },
    };
    assert!(f.orders.history(&query).await.unwrap().items.is_empty());
}

pub async fn an_order_is_placed_at_the_replica_price_and_only_for_what_the_replica_sells(f: Fixture) {
    let c = customer(&f, "replica@example.com").await;
    let p = product(&f, "Lamp", 5).await;
    // The replica says 12.34 (say the product was repriced and the event has arrived).
    let mut entry = f.orders.catalogue(&[p]).await.unwrap().remove(0);
    entry.value.price = usd(1_234);
    let write = OrderWrite::Catalogue { entry: entry.value.clone(), expected_version: entry.version };
    f.orders.commit(Commit::new(vec![write], &[])).await.unwrap();
    let placed = f.placement().place(&me(c), place_cmd(c, vec![line(p, 2)]), None).await.unwrap().resource;
    assert_eq!(placed.lines()[0].unit_price, Some(usd(1_234)), "the replica's price, not the products table's");

    // A product the products context has but whose event has not reached the replica yet, and
    // one the replica knows but no longer sells, are refused like unknown ones, writing nothing.
    let lagging = product(&f, "Fresh", 5).await;
    f.orders
        .commit(Commit::new(
            vec![OrderWrite::Catalogue {
                entry: domain::CatalogueEntry {
                    sold: false,
                    ..f.orders.catalogue(&[lagging]).await.unwrap()[0].value.clone()
                },
                expected_version: 1,
            }],
            &[],
        ))
        .await
        .unwrap();
    let err = f.placement().place(&me(c), place_cmd(c, vec![line(lagging, 1)]), None).await.unwrap_err();
    assert!(matches!(err, AppError::UnknownReference(Item::Product(id)) if id == lagging), "{err:?}");
    let cmd = AddProduct {
        name: ProductName::parse("Unseen").unwrap(),
        price: usd(100),
        weight: Weight::new(1).unwrap(),
        dimensions: Dimensions::new(1, 1, 1).unwrap(),
        stock: StockLevel::new(1).unwrap(),
    };
    let unseen = f.product_service().add(&admin(&f), cmd, None).await.unwrap().resource.id();
    let err = f.placement().place(&me(c), place_cmd(c, vec![line(unseen, 1)]), None).await.unwrap_err();
    assert!(matches!(err, AppError::UnknownReference(Item::Product(id)) if id == unseen), "{err:?}");
    assert_eq!(f.order_service().history(&me(c), c, None, page(10), None).await.unwrap().items.len(), 1);
}

/// The reads a step or a create makes together (one request on DynamoDB) find what the single
/// reads find: present, absent, repeated and unknown ids alike.
pub async fn the_combined_reads_read_what_the_single_reads_read(f: Fixture) {
    let c = customer(&f, "together@example.com").await;
    let (p, q) = (product(&f, "Lamp", 5).await, product(&f, "Desk", 5).await);
    let unknown = ProductId::from_uuid(f.env.new_uuid());
    let order = OrderId::from_uuid(f.env.new_uuid());
    f.product_service().reserve_stock(STOCK, &order_created(order, c, vec![line(p, 2)], &f)).await.unwrap();
    let ids = [p, q, unknown, p];
    let versions = |v: Vec<crate::ports::Versioned<domain::Product>>| {
        let mut v: Vec<(ProductId, u64)> = v.into_iter().map(|p| (p.value.id(), p.version)).collect();
        v.sort_unstable();
        v
    };

    let (reservation, products) = f.products.reservation_and_products(order, &ids, reads::STOCK_AGAIN).await.unwrap();
    let single = f.products.reservation(order).await.unwrap();
    assert_eq!(reservation.map(|r| (r.version, r.value.lines)), single.map(|r| (r.version, r.value.lines)));
    let products = versions(products);
    assert_eq!(products, versions(f.products.get_many(&ids).await.unwrap()));
    assert_eq!(products.len(), 2, "each existing product once");
    let (none, empty) = f
        .products
        .reservation_and_products(OrderId::from_uuid(f.env.new_uuid()), &[unknown], reads::STOCK_FIRST)
        .await
        .unwrap();
    assert!(none.is_none() && empty.is_empty());

    let (customer, credit) = f.customers.customer_and_reservation(c, order).await.unwrap();
    assert!(customer.is_some() && credit.is_none());
    assert_eq!(customer.map(|c| c.version), f.customers.get(c).await.unwrap().map(|c| c.version));

    let (caller, k) = (me(c), key("together-1"));
    f.placement().place(&caller, place_cmd(c, vec![line(q, 1)]), Some(&k)).await.unwrap();
    let scope = crate::idempotency::scope("orders", &caller);
    let read = f.orders.placement(Some((&scope, &k)), c, &ids).await.unwrap();
    assert!(read.prior.is_some());
    assert_eq!(read.prior, f.orders.idempotency(&scope, &k).await.unwrap());
    assert_eq!(read.customer.map(|c| c.version), f.orders.known_customer(c).await.unwrap().map(|c| c.version));
    let entries = |v: Vec<crate::ports::Versioned<CatalogueEntry>>| {
        let mut v: Vec<(ProductId, u64)> = v.into_iter().map(|e| (e.value.product_id, e.version)).collect();
        v.sort_unstable();
        v
    };
    assert_eq!(entries(read.catalogue), entries(f.orders.catalogue(&ids).await.unwrap()));
    let stranger = CustomerId::from_uuid(f.env.new_uuid());
    let read = f.orders.placement(None, stranger, &[unknown]).await.unwrap();
    assert!(read.prior.is_none() && read.customer.is_none() && read.catalogue.is_empty());
}

// ---------------------------------------------------------------- sharded stock

/// Spreads `p`'s stock over `k` shards, as an admin's PATCH does.
async fn reshard(f: &Fixture, p: ProductId, k: i64) -> domain::Product {
    let cmd =
        crate::commands::UpdateProduct { name: None, price: None, shards: Some(domain::ShardCount::new(k).unwrap()) };
    f.product_service().update(&admin(f), p, cmd, None).await.unwrap()
}

/// Each shard's (on hand, reserved), as the store reads them back.
async fn shards_of(f: &Fixture, p: ProductId) -> Vec<(u32, u32)> {
    let stored = f.products.get(p).await.unwrap().unwrap().value;
    stored.stock_shards().iter().map(|s| (s.on_hand(), s.reserved())).collect()
}

fn release_requested(order: OrderId, p: ProductId, f: &Fixture) -> EventEnvelope {
    let e = domain::events::StockReleaseRequested { order_id: order, product_ids: vec![p] };
    EventEnvelope::new(DomainEvent::StockReleaseRequested(e), f.env.as_ref())
}

/// With K > 1 a line goes whole to a shard with room (a line no shard can take alone is split,
/// never refused while the shards together have the units), the record names the shards, and a
/// release gives the units back to the shards that held them.
pub async fn a_sharded_product_holds_across_shards_and_releases_to_the_shard_that_held(f: Fixture) {
    let c = CustomerId::from_uuid(f.env.new_uuid());
    let p = product(&f, "Sharded", 8).await;
    assert_eq!(reshard(&f, p, 4).await.shard_count(), 4);
    assert_eq!(shards_of(&f, p).await, vec![(2, 0); 4], "the units spread evenly");
    let (a, b) = (OrderId::from_uuid(f.env.new_uuid()), OrderId::from_uuid(f.env.new_uuid()));
    f.product_service().reserve_stock(STOCK, &order_created(a, c, vec![line(p, 2)], &f)).await.unwrap();
    let held_a = f.products.reservation(a).await.unwrap().unwrap().value.shards;
    assert_eq!(held_a.len(), 1, "a line that fits one shard is held whole: {held_a:?}");
    let out = f.product_service().reserve_stock(STOCK, &order_created(b, c, vec![line(p, 5)], &f)).await.unwrap();
    assert_eq!(out, StepOutcome::Applied { emitted: vec!["StockReserved"] }, "split, not refused");
    let held_b = f.products.reservation(b).await.unwrap().unwrap().value.shards;
    assert_eq!(held_b.iter().map(|h| h.quantity).sum::<u32>(), 5);
    assert!(held_b.len() >= 3, "no shard has 5: {held_b:?}");
    let stored = f.products.get(p).await.unwrap().unwrap().value;
    assert_eq!((stored.on_hand(), stored.reserved(), stored.available()), (8, 7, 1));
    let short = order_created(OrderId::from_uuid(f.env.new_uuid()), c, vec![line(p, 2)], &f);
    let out = f.product_service().reserve_stock(STOCK, &short).await.unwrap();
    assert_eq!(out, StepOutcome::Applied { emitted: vec!["StockReservationFailed"] }, "1 left in all");

    f.product_service().release_stock(STOCK, &release_requested(b, p, &f)).await.unwrap();
    let mut want = vec![(2, 0); 4];
    want[usize::from(held_a[0].shard)].1 = 2;
    assert_eq!(shards_of(&f, p).await, want, "b's units went back where b held them; a's stay");
}

/// A restock spreads over the shards; K goes up, down to 1 and up again with units held, and
/// no unit is lost or invented; the catalogue shows the summed stock; a discontinued sharded
/// product keeps its reservations and still releases them.
pub async fn restock_and_changes_of_k_with_stock_held_keep_every_unit(f: Fixture) {
    let c = CustomerId::from_uuid(f.env.new_uuid());
    let p = product(&f, "Respread", 10).await;
    reshard(&f, p, 4).await;
    let order = OrderId::from_uuid(f.env.new_uuid());
    f.product_service().reserve_stock(STOCK, &order_created(order, c, vec![line(p, 3)], &f)).await.unwrap();
    let restock = crate::commands::Restock { quantity: domain::RestockQuantity::new(8).unwrap() };
    f.product_service().restock(&admin(&f), p, restock, None, None).await.unwrap();
    let shards = shards_of(&f, p).await;
    assert_eq!(shards.iter().map(|s| s.0).collect::<Vec<_>>(), vec![5, 5, 4, 4], "2 more each: {shards:?}");
    let totals = |v: &[(u32, u32)]| (v.iter().map(|s| s.0).sum::<u32>(), v.iter().map(|s| s.1).sum::<u32>());
    for k in [2, 1, 5, 3] {
        reshard(&f, p, k).await;
        let shards = shards_of(&f, p).await;
        assert_eq!(shards.len(), k as usize);
        assert_eq!(totals(&shards), (18, 3), "K = {k}: {shards:?}");
        assert!(shards.iter().all(|(on_hand, reserved)| reserved <= on_hand), "K = {k}: {shards:?}");
    }
    let listed = f.products.list(&PageRequest { size: page(10), after: None }).await.unwrap().items;
    let listed = listed.iter().find(|x| x.id() == p).unwrap();
    assert_eq!((listed.on_hand(), listed.reserved(), listed.shard_count()), (18, 3, 3));

    f.product_service().discontinue(&admin(&f), p, None).await.unwrap();
    let late = order_created(OrderId::from_uuid(f.env.new_uuid()), c, vec![line(p, 1)], &f);
    let out = f.product_service().reserve_stock(STOCK, &late).await.unwrap();
    assert_eq!(out, StepOutcome::Applied { emitted: vec!["StockReservationFailed"] });
    f.product_service().release_stock(STOCK, &release_requested(order, p, &f)).await.unwrap();
    assert_eq!(totals(&shards_of(&f, p).await), (18, 0), "released after discontinuation");
}

/// An order over sharded products is one transaction: one short line leaves every shard of
/// every product as it was.
pub async fn a_multi_product_order_over_shards_is_all_or_nothing(f: Fixture) {
    let c = CustomerId::from_uuid(f.env.new_uuid());
    let (a, b) = (product(&f, "A", 9).await, product(&f, "B", 4).await);
    reshard(&f, a, 3).await;
    reshard(&f, b, 2).await;
    let (before_a, before_b) = (shards_of(&f, a).await, shards_of(&f, b).await);
    let ev = order_created(OrderId::from_uuid(f.env.new_uuid()), c, vec![line(a, 7), line(b, 5)], &f);
    let out = f.product_service().reserve_stock(STOCK, &ev).await.unwrap();
    assert_eq!(out, StepOutcome::Applied { emitted: vec!["StockReservationFailed"] });
    assert_eq!((shards_of(&f, a).await, shards_of(&f, b).await), (before_a, before_b));
    let ev = order_created(OrderId::from_uuid(f.env.new_uuid()), c, vec![line(a, 7), line(b, 4)], &f);
    let out = f.product_service().reserve_stock(STOCK, &ev).await.unwrap();
    assert_eq!(out, StepOutcome::Applied { emitted: vec!["StockReserved"] });
    assert_eq!(
        (
            f.products.get(a).await.unwrap().unwrap().value.available(),
            f.products.get(b).await.unwrap().unwrap().value.available()
        ),
        (2, 0)
    );
}

/// The flash sale on a sharded product: every order settles in its invocation and exactly the
/// units on hand are reserved, none in a shard past its own units.
pub async fn a_hot_sharded_product_settles_every_concurrent_order_exactly(f: Fixture) {
    const ORDERS: usize = 40;
    let p = product(&f, "Sharded Flash Sale", (ORDERS / 2) as i64).await;
    reshard(&f, p, 4).await;
    assert_eq!(flash_sale(&f, p, ORDERS).await, (ORDERS / 2, ORDERS / 2));
    assert_eq!(shards_of(&f, p).await, vec![(5, 5); 4]);
}

// ---------------------------------------------------------------- If-Match on catalogue edits

fn reprice(amount: i64) -> crate::commands::UpdateProduct {
    let price = Money::new(amount, Currency::USD).unwrap();
    crate::commands::UpdateProduct { name: None, price: Some(price), shards: None }
}

/// An edit made on the strength of a revision read earlier (`If-Match`): refused with nothing
/// written once the product is at another revision; let through while only the stock moved (an
/// order's hold moves the item's version, not its catalogue revision); of two concurrent edits
/// on one revision, one lands and the other is refused, whatever the interleaving.
pub async fn an_edit_on_a_stale_revision_is_refused_and_writes_nothing(f: Fixture) {
    let svc = f.product_service();
    let p = product(&f, "Guarded", 10).await;
    let read = svc.get(p).await.unwrap().revision();
    let c = CustomerId::from_uuid(f.env.new_uuid());
    let order = OrderId::from_uuid(f.env.new_uuid());
    svc.reserve_stock(STOCK, &order_created(order, c, vec![line(p, 2)], &f)).await.unwrap();
    let edited = svc.update(&admin(&f), p, reprice(1234), Some(read.into())).await.unwrap();
    assert_eq!((edited.revision(), edited.price().amount()), (read + 1, 1234), "a hold is not an edit");

    let before = f.products.get(p).await.unwrap().unwrap();
    let restock = crate::commands::Restock { quantity: domain::RestockQuantity::new(5).unwrap() };
    let refusals = [
        svc.update(&admin(&f), p, reprice(999), Some(read.into())).await.map(|_| ()),
        svc.restock(&admin(&f), p, restock, None, Some(read.into())).await.map(|_| ()),
        svc.discontinue(&admin(&f), p, Some(read.into())).await.map(|_| ()),
    ];
    for r in refusals {
        match r {
            Err(AppError::PreconditionFailed { item, expected, current }) => {
                assert_eq!((item, expected, current), (Item::Product(p), u64::from(read), read + 1))
            }
            other => panic!("expected a failed precondition, got {other:?}"),
        }
    }
    let after = f.products.get(p).await.unwrap().unwrap();
    assert_eq!((after.version, &after.value), (before.version, &before.value), "nothing was written");

    let at = after.value.revision();
    let admin = admin(&f);
    let (a, b) = tokio::join!(
        svc.update(&admin, p, reprice(1111), Some(at.into())),
        svc.update(&admin, p, reprice(2222), Some(at.into())),
    );
    let (won, lost) = match (a, b) {
        (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
        other => panic!("one of two edits on one revision lands, the other is refused: {other:?}"),
    };
    assert!(matches!(lost, AppError::PreconditionFailed { current, .. } if current == at + 1), "{lost:?}");
    let stored = f.products.get(p).await.unwrap().unwrap().value;
    assert_eq!((stored.revision(), stored.price()), (at + 1, won.price()), "the winner's edit stands");
}

/// A ProductRepository whose eventually consistent reservation read answers what was stored at
/// [`StaleFirstRead::freeze`] (DynamoDB's eventual consistency at its worst), and every other read
/// from the store: what a stale first read of reserve-stock may see.
struct StaleFirstRead {
    inner: Arc<dyn ProductRepository>,
    frozen: std::sync::Mutex<Option<StaleView>>,
}

type StaleView =
    (Option<crate::ports::Versioned<domain::StockReservation>>, Vec<crate::ports::Versioned<domain::Product>>);

impl StaleFirstRead {
    async fn freeze(&self, order: OrderId, ids: &[ProductId]) {
        let now = self.inner.reservation_and_products(order, ids, reads::STRONG).await.unwrap();
        *self.frozen.lock().unwrap() = Some(now);
    }
}

#[async_trait::async_trait]
impl crate::ports::EventLedger for StaleFirstRead {
    async fn is_applied(&self, a: &AppliedEvent) -> Result<bool, StoreError> {
        self.inner.is_applied(a).await
    }
    async fn idempotency(
        &self,
        scope: &str,
        key: &IdempotencyKey,
    ) -> Result<Option<crate::ports::IdempotencyRecord>, StoreError> {
        self.inner.idempotency(scope, key).await
    }
}

#[async_trait::async_trait]
impl crate::ports::Transactional<ProductWrite> for StaleFirstRead {
    async fn commit(&self, c: Commit<ProductWrite>) -> Result<(), StoreError> {
        self.inner.commit(c).await
    }
}

#[async_trait::async_trait]
impl ProductRepository for StaleFirstRead {
    async fn get(&self, id: ProductId) -> Result<Option<crate::ports::Versioned<domain::Product>>, StoreError> {
        self.inner.get(id).await
    }
    async fn get_many(&self, ids: &[ProductId]) -> Result<Vec<crate::ports::Versioned<domain::Product>>, StoreError> {
        self.inner.get_many(ids).await
    }
    async fn list(&self, page: &PageRequest) -> Result<crate::page::Page<domain::Product>, StoreError> {
        self.inner.list(page).await
    }
    async fn reservation(
        &self,
        order_id: OrderId,
    ) -> Result<Option<crate::ports::Versioned<domain::StockReservation>>, StoreError> {
        self.inner.reservation(order_id).await
    }
    async fn reservation_and_products(
        &self,
        order_id: OrderId,
        ids: &[ProductId],
        consistency: crate::ports::Consistency,
    ) -> Result<StaleView, StoreError> {
        let frozen = self.frozen.lock().unwrap().clone();
        match (consistency, frozen) {
            (crate::ports::Consistency::Eventual, Some(view)) => Ok(view),
            _ => self.inner.reservation_and_products(order_id, ids, consistency).await,
        }
    }
}

/// reserve-stock's first read is eventually consistent (`reads::STOCK_FIRST`): a stale view
/// that shows more stock than is left has its hold refused and decides again on a strong read,
/// refusing the order without overselling; one that missed a restock does not refuse an order
/// the stock can serve.
pub async fn a_stale_first_read_neither_oversells_nor_refuses_what_the_stock_serves(f: Fixture) {
    let c = customer(&f, "stale@example.com").await;
    let p = product(&f, "Last one", 1).await;
    let stale = Arc::new(StaleFirstRead { inner: f.products.clone(), frozen: Default::default() });
    let service = ProductService::new(stale.clone(), f.env.clone());
    let reserved = |o: &Result<StepOutcome, _>| matches!(o, Ok(StepOutcome::Applied { emitted }) if emitted == &vec!["StockReserved"]);

    // The view shows the last unit; another order takes it before this one holds.
    let (late, first) = (OrderId::from_uuid(f.env.new_uuid()), OrderId::from_uuid(f.env.new_uuid()));
    stale.freeze(late, &[p]).await;
    let o = f.product_service().reserve_stock(STOCK, &order_created(first, c, vec![line(p, 1)], &f)).await;
    assert!(reserved(&o), "{o:?}");
    let o = service.reserve_stock(STOCK, &order_created(late, c, vec![line(p, 1)], &f)).await;
    assert!(matches!(&o, Ok(StepOutcome::Applied { emitted }) if emitted == &vec!["StockReservationFailed"]), "{o:?}");
    assert_eq!(f.products.get(p).await.unwrap().unwrap().value.reserved(), 1, "not oversold");

    // The view shows none left; a restock lands before this order is decided.
    let more = OrderId::from_uuid(f.env.new_uuid());
    stale.freeze(more, &[p]).await;
    let restock = crate::commands::Restock { quantity: domain::RestockQuantity::new(1).unwrap() };
    f.product_service().restock(&admin(&f), p, restock, None, None).await.unwrap();
    let o = service.reserve_stock(STOCK, &order_created(more, c, vec![line(p, 1)], &f)).await;
    assert!(reserved(&o), "the restocked unit serves it: {o:?}");
    let stored = f.products.get(p).await.unwrap().unwrap().value;
    assert_eq!((stored.reserved(), stored.on_hand()), (2, 2));
}

/// Expands to one `#[tokio::test]` per contract case, each with `$make().await` as its fixture.
#[macro_export]
macro_rules! contract_suite {
    ($make:path) => {
        $crate::contract_suite!(@cases $make;
            an_event_applied_twice_changes_nothing,
            the_same_order_reserved_through_another_event_changes_nothing,
            a_stale_version_is_a_conflict_naming_the_item,
            a_transaction_with_one_failing_condition_writes_nothing,
            an_idempotency_key_replay_returns_the_stored_response_and_writes_nothing,
            concurrent_requests_with_one_key_make_one_order,
            a_reused_key_with_a_different_body_is_refused,
            an_order_naming_an_unknown_product_or_customer_writes_nothing,
            two_callers_with_one_key_never_meet,
            a_subject_registers_once,
            concurrent_registrations_with_one_key_answer_alike,
            only_a_subjects_own_registration_refuses_it,
            three_pages_of_history_return_every_order_once_newest_first,
            history_filters_by_status_across_pages,
            a_tampered_or_foreign_cursor_is_refused,
            every_customers_orders_of_a_status_page_oldest_first_for_admins_only,
            pending_orders_before_a_cutoff_come_oldest_first,
            the_catalogue_pages_by_name,
            get_many_returns_existing_products_once,
            one_short_line_reserves_nothing,
            concurrent_reservations_never_oversell,
            a_hot_product_settles_every_concurrent_order_without_exhausting_a_step,
            one_customers_concurrent_orders_settle_within_their_credit_without_exhausting_a_step,
            a_hold_lands_within_the_invariant_and_is_refused_past_it,
            an_unknown_id_is_not_found,
            an_order_is_placed_at_the_replica_price_and_only_for_what_the_replica_sells,
            the_combined_reads_read_what_the_single_reads_read,
            a_sharded_product_holds_across_shards_and_releases_to_the_shard_that_held,
            restock_and_changes_of_k_with_stock_held_keep_every_unit,
            a_multi_product_order_over_shards_is_all_or_nothing,
            a_hot_sharded_product_settles_every_concurrent_order_exactly,
            an_edit_on_a_stale_revision_is_refused_and_writes_nothing,
            a_stale_first_read_neither_oversells_nor_refuses_what_the_stock_serves,
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::contract::$case($make().await).await;
            }
        )*
    };
}
