use super::*;
use crate::events::{LineRequest, OrderCreated};
use crate::measures::{Dimensions, StockLevel, Weight};
use crate::money::Currency;
use crate::order::tests::{line, pending, priced, reserved, shipping, t0};
use crate::order::OrderStatus;
use crate::text::{Address, CustomerName, Email, ProductName};
use uuid::Uuid;

fn usd(a: i64) -> Money {
    Money::new(a, Currency::USD).unwrap()
}

fn stock_reserved(order: &Order) -> StockReserved {
    StockReserved {
        order_id: order.id(),
        lines: order
            .lines()
            .iter()
            .map(|l| reserved(&LineRequest { product_id: l.product_id, quantity: l.quantity }, 1_000))
            .collect(),
    }
}

fn credit_reserved(order: &Order) -> CreditReserved {
    CreditReserved { order_id: order.id(), customer_id: order.customer_id(), amount: usd(1) }
}

fn rejected(mut o: Order) -> Order {
    o.reject(RejectionReason::TimedOut, t0()).unwrap();
    o
}

#[test]
fn stock_reserved_prices_a_pending_order() {
    let o = pending(vec![line(1, 2)]);
    let step = price_order(&o, &stock_reserved(&o), &shipping(), t0());
    let Step::Apply { state, events } = step else { panic!("{step:?}") };
    assert!(state.pricing().is_some());
    assert!(matches!(events.as_slice(), [DomainEvent::OrderPriced(p)] if p.total.amount() == 2_599));
}

#[test]
fn stock_reserved_twice_is_skipped() {
    let o = priced();
    assert_eq!(price_order(&o, &stock_reserved(&o), &shipping(), t0()), Step::Skip(Skip::AlreadyDone));
}

#[test]
fn an_order_that_cannot_be_priced_is_rejected_and_its_stock_released_by_the_rejection() {
    let o = pending(vec![line(1, 2)]);
    let wrong = StockReserved { order_id: o.id(), lines: vec![reserved(&line(1, 3), 10)] };
    let Step::Apply { state, events } = price_order(&o, &wrong, &shipping(), t0()) else { panic!() };
    assert_eq!(state.state(), OrderState::Rejected { reason: RejectionReason::PricingFailed });
    assert!(matches!(events.as_slice(), [DomainEvent::OrderRejected(_)]));
}

#[test]
fn stock_reserved_for_a_rejected_order_asks_for_the_stock_back() {
    let o = rejected(pending(vec![line(1, 2)]));
    let step = price_order(&o, &stock_reserved(&o), &shipping(), t0());
    assert_eq!(
        step,
        Step::Emit(vec![DomainEvent::StockReleaseRequested(StockReleaseRequested {
            order_id: o.id(),
            product_ids: o.product_ids()
        })])
    );
}

#[test]
fn credit_reserved_approves_a_priced_order() {
    let o = priced();
    let Step::Apply { state, events } = approve_order(&o, &credit_reserved(&o), t0()) else { panic!() };
    assert_eq!(state.status(), OrderStatus::Approved);
    assert!(matches!(events.as_slice(), [DomainEvent::OrderApproved(_)]));
}

#[test]
fn credit_reserved_for_a_rejected_or_cancelled_order_asks_for_the_credit_back() {
    let o = rejected(priced());
    let want = Step::Emit(vec![DomainEvent::CreditReleaseRequested(CreditReleaseRequested {
        order_id: o.id(),
        customer_id: o.customer_id(),
    })]);
    assert_eq!(approve_order(&o, &credit_reserved(&o), t0()), want);
    let mut c = priced();
    c.approve(t0()).unwrap();
    c.cancel(t0()).unwrap();
    assert_eq!(approve_order(&c, &credit_reserved(&c), t0()), want);
}

#[test]
fn credit_reserved_twice_is_skipped() {
    let mut o = priced();
    o.approve(t0()).unwrap();
    assert_eq!(approve_order(&o, &credit_reserved(&o), t0()), Step::Skip(Skip::AlreadyDone));
}

#[test]
fn failures_reject_a_pending_order_with_their_reason() {
    let o = pending(vec![line(1, 1)]);
    let stock = StockReservationFailed {
        order_id: o.id(),
        failure: StockFailure::InsufficientStock { product_id: line(1, 1).product_id, requested: 1, available: 0 },
    };
    let Step::Apply { state, .. } = reject_for_stock(&o, &stock, t0()) else { panic!() };
    assert_eq!(state.state(), OrderState::Rejected { reason: RejectionReason::OutOfStock });

    let p = priced();
    let credit = CreditReservationFailed {
        order_id: p.id(),
        customer_id: p.customer_id(),
        failure: CreditFailure::CreditLimitExceeded { requested: usd(2), available: usd(1) },
    };
    let Step::Apply { state, events } = reject_for_credit(&p, &credit, t0()) else { panic!() };
    assert_eq!(state.state(), OrderState::Rejected { reason: RejectionReason::CreditLimitExceeded });
    assert!(
        matches!(events.as_slice(), [DomainEvent::OrderRejected(r)] if r.reason == RejectionReason::CreditLimitExceeded)
    );
}

#[test]
fn a_failure_for_an_order_already_over_changes_nothing() {
    let o = rejected(pending(vec![line(1, 1)]));
    let credit = CreditReservationFailed {
        order_id: o.id(),
        customer_id: o.customer_id(),
        failure: CreditFailure::UnknownCustomer,
    };
    assert_eq!(reject_for_credit(&o, &credit, t0()), Step::Skip(Skip::NotApplicable));
}

#[test]
fn the_sweeper_rejects_only_orders_pending_past_the_timeout() {
    let o = pending(vec![line(1, 1)]);
    let timeout = Duration::minutes(15);
    assert_eq!(sweep_order(&o, t0() + Duration::minutes(14), timeout), Step::Skip(Skip::NotApplicable));
    let Step::Apply { state, .. } = sweep_order(&o, t0() + Duration::minutes(15), timeout) else { panic!() };
    assert_eq!(state.state(), OrderState::Rejected { reason: RejectionReason::TimedOut });
}

fn product(n: u128, stock: i64) -> Product {
    Product::add(
        ProductId::from_uuid(Uuid::from_u128(n)),
        ProductName::parse("Lamp").unwrap(),
        usd(1_000),
        Weight::new(500).unwrap(),
        Dimensions::new(10, 10, 10).unwrap(),
        StockLevel::new(stock).unwrap(),
        t0(),
    )
    .0
}

fn created(lines: Vec<LineRequest>) -> OrderCreated {
    let o = pending(lines.clone());
    OrderCreated {
        order_id: o.id(),
        customer_id: o.customer_id(),
        lines,
        shipping_address: o.shipping_address().clone(),
        shipping_speed: o.shipping_speed(),
    }
}

#[test]
fn order_created_reserves_stock_and_reports_the_changed_products() {
    let ps: BTreeMap<_, _> = [product(1, 5)].into_iter().map(|p| (p.id(), p)).collect();
    let Step::Apply { state, events } = reserve_order_stock(&created(vec![line(1, 2)]), t0(), &ps, None, 0) else {
        panic!()
    };
    assert_eq!(state.products.len(), 1);
    assert_eq!(state.products[0].available(), 3);
    assert!(matches!(events.as_slice(), [DomainEvent::StockReserved(_)]));
}

#[test]
fn order_created_for_missing_stock_records_a_refusal() {
    let ps: BTreeMap<_, _> = [product(1, 1)].into_iter().map(|p| (p.id(), p)).collect();
    let Step::Apply { state, events } = reserve_order_stock(&created(vec![line(1, 2)]), t0(), &ps, None, 0) else {
        panic!()
    };
    assert_eq!(state.reservation.status, ReservationStatus::Refused);
    assert!(state.products.is_empty());
    assert!(matches!(events.as_slice(), [DomainEvent::StockReservationFailed(_)]));
}

#[test]
fn releasing_stock_twice_releases_once() {
    let ps: BTreeMap<_, _> = [product(1, 5)].into_iter().map(|p| (p.id(), p)).collect();
    let ev = created(vec![line(1, 2)]);
    let Step::Apply { state: reserved, .. } = reserve_order_stock(&ev, t0(), &ps, None, 0) else { panic!() };
    let ps: BTreeMap<_, _> = reserved.products.iter().map(|p| (p.id(), p.clone())).collect();
    let Step::Apply { state: released, events } = release_order_stock(ev.order_id, &ps, Some(&reserved.reservation))
    else {
        panic!()
    };
    assert_eq!(released.products[0].available(), 5);
    assert!(matches!(events.as_slice(), [DomainEvent::StockReleased(_)]));
    assert_eq!(release_order_stock(ev.order_id, &ps, Some(&released.reservation)), Step::Skip(Skip::AlreadyDone));
}

fn customer(limit: i64) -> Customer {
    Customer::register(
        crate::order::tests::pending(vec![line(1, 1)]).customer_id(),
        CustomerName::parse("Ada").unwrap(),
        Email::parse("ada@example.com").unwrap(),
        Address::new("1 Main St", "Dayton", "OH", "45402", "US").unwrap(),
        usd(limit),
        t0(),
    )
    .0
}

fn order_priced(total: i64) -> OrderPriced {
    let o = priced();
    OrderPriced {
        order_id: o.id(),
        customer_id: o.customer_id(),
        subtotal: usd(total),
        shipping_cost: usd(0),
        total: usd(total),
    }
}

#[test]
fn order_priced_reserves_credit_within_the_limit() {
    let Step::Apply { state, events } = reserve_order_credit(&order_priced(5_000), Some(&customer(5_000)), None) else {
        panic!()
    };
    assert_eq!(state.customer.unwrap().available_credit(), usd(0));
    assert!(matches!(events.as_slice(), [DomainEvent::CreditReserved(_)]));
}

#[test]
fn order_priced_over_the_limit_fails_without_touching_the_customer() {
    let Step::Apply { state, events } = reserve_order_credit(&order_priced(5_001), Some(&customer(5_000)), None) else {
        panic!()
    };
    assert!(state.customer.is_none());
    assert!(matches!(
        events.as_slice(),
        [DomainEvent::CreditReservationFailed(f)] if matches!(f.failure, CreditFailure::CreditLimitExceeded { .. })
    ));
}

#[test]
fn order_priced_for_an_unknown_customer_fails() {
    let Step::Apply { events, .. } = reserve_order_credit(&order_priced(1), None, None) else { panic!() };
    assert!(matches!(
        events.as_slice(),
        [DomainEvent::CreditReservationFailed(f)] if f.failure == CreditFailure::UnknownCustomer
    ));
}

#[test]
fn a_credit_release_that_overtakes_its_reserve_blocks_the_reserve() {
    let ev = order_priced(100);
    let c = customer(5_000);
    let Step::Apply { state, events } = release_order_credit(ev.order_id, ev.customer_id, Some(&c), None) else {
        panic!()
    };
    assert!(events.is_empty());
    assert!(state.customer.is_none());
    assert_eq!(reserve_order_credit(&ev, Some(&c), Some(&state.reservation)), Step::Skip(Skip::AlreadyDone));
}

#[test]
fn a_release_naming_another_customer_than_the_reservation_is_refused() {
    let ev = order_priced(1_500);
    let c = customer(5_000);
    let Step::Apply { state: held, .. } = reserve_order_credit(&ev, Some(&c), None) else { panic!() };
    let other = CustomerId::from_uuid(Uuid::from_u128(0xbad));
    let step = release_order_credit(ev.order_id, other, held.customer.as_ref(), Some(&held.reservation));
    assert_eq!(step, Step::Skip(Skip::Mismatch));
}

#[test]
fn releasing_credit_gives_back_what_was_held() {
    let ev = order_priced(1_500);
    let c = customer(5_000);
    let Step::Apply { state: held, .. } = reserve_order_credit(&ev, Some(&c), None) else { panic!() };
    let c = held.customer.unwrap();
    let Step::Apply { state, events } =
        release_order_credit(ev.order_id, ev.customer_id, Some(&c), Some(&held.reservation))
    else {
        panic!()
    };
    assert_eq!(state.customer.unwrap().available_credit(), usd(5_000));
    assert!(matches!(events.as_slice(), [DomainEvent::CreditReleased(r)] if r.amount == usd(1_500)));
}
