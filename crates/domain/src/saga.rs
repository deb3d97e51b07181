//! The saga's decisions as pure functions: (aggregate, incoming event) → (new state, events).
//!
//! Each function is one step of the choreography. The application layer loads the aggregate,
//! calls the step, and writes what it returns, the outbox records of the events and the
//! applied-event marker in one transaction. Nothing here knows about storage or the bus.
//!
//! A step that arrives for an order that is already over owes a compensation: a reservation made
//! for a rejected or cancelled order is asked back (`StockReleaseRequested`,
//! `CreditReleaseRequested`), so nothing leaks whatever order the bus delivers events in.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::customer::{CreditOutcome, CreditReservation, Customer};
use crate::events::{
    CreditFailure, CreditReleaseRequested, CreditReleased, CreditReservationFailed, CreditReserved, DomainEvent,
    OrderCreated, OrderPriced, StockFailure, StockReleaseRequested, StockReleased, StockReservationFailed,
    StockReserved,
};
use crate::ids::{CustomerId, OrderId, ProductId};
use crate::money::Money;
use crate::order::{Order, OrderState, RejectionReason};
use crate::product::{release_stock, reserve_stock, Product, StockOutcome, StockReservation};
use crate::reservation::{ReleaseOutcome, ReservationStatus};
use crate::shipping::ShippingCostService;

/// Why a step did nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// The step already ran for this order (a duplicate or a late redelivery).
    AlreadyDone,
    /// The order is in a state where this event means nothing (e.g. a credit failure for an
    /// order the sweeper already rejected).
    NotApplicable,
    /// The event names another owner than the record it would change holds (a release of an
    /// order's credit for another customer): refused, never applied.
    Mismatch,
}

/// What a step decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<S> {
    /// Write the new state and emit the events.
    Apply { state: S, events: Vec<DomainEvent> },
    /// No state changes; emit the events (a compensation request).
    Emit(Vec<DomainEvent>),
    /// Nothing to write or emit.
    Skip(Skip),
}

impl<S> Step<S> {
    /// The same decision with its new state turned into something else (the writes that store it).
    pub fn map<T>(self, f: impl FnOnce(S) -> T) -> Step<T> {
        match self {
            Step::Apply { state, events } => Step::Apply { state: f(state), events },
            Step::Emit(events) => Step::Emit(events),
            Step::Skip(s) => Step::Skip(s),
        }
    }

    pub fn events(&self) -> &[DomainEvent] {
        match self {
            Step::Apply { events, .. } | Step::Emit(events) => events,
            Step::Skip(_) => &[],
        }
    }
}

/// The products context's change for one order: the order's reservation record and the
/// products whose counters moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockChange {
    pub reservation: StockReservation,
    pub products: Vec<Product>,
}

/// The customers context's change for one order: the reservation record and, when its counter
/// moved, the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditChange {
    pub reservation: CreditReservation,
    pub customer: Option<Customer>,
}

// ---------------------------------------------------------------- orders

fn apply_order(order: Order, event: DomainEvent) -> Step<Order> {
    Step::Apply { state: order, events: vec![event] }
}

/// StockReserved → price the order, or reject it when it cannot be priced. For an order that is
/// already over, ask products to release what they just reserved.
pub fn price_order(
    order: &Order,
    ev: &StockReserved,
    shipping: &ShippingCostService,
    now: DateTime<Utc>,
) -> Step<Order> {
    match order.state() {
        OrderState::Pending if order.pricing().is_some() => Step::Skip(Skip::AlreadyDone),
        OrderState::Pending => {
            let mut next = order.clone();
            match next.price(&ev.lines, shipping, now) {
                Ok(priced) => apply_order(next, DomainEvent::OrderPriced(priced)),
                Err(_) => {
                    let mut rejected = order.clone();
                    match rejected.reject(RejectionReason::PricingFailed, now) {
                        Ok(e) => apply_order(rejected, DomainEvent::OrderRejected(e)),
                        Err(_) => Step::Skip(Skip::NotApplicable),
                    }
                }
            }
        }
        OrderState::Rejected { .. } | OrderState::Cancelled => {
            Step::Emit(vec![DomainEvent::StockReleaseRequested(StockReleaseRequested {
                order_id: order.id(),
                product_ids: order.product_ids(),
            })])
        }
        OrderState::Approved => Step::Skip(Skip::AlreadyDone),
    }
}

fn reject_pending(order: &Order, reason: RejectionReason, now: DateTime<Utc>) -> Step<Order> {
    let mut next = order.clone();
    match next.reject(reason, now) {
        Ok(e) => apply_order(next, DomainEvent::OrderRejected(e)),
        Err(_) => Step::Skip(Skip::NotApplicable),
    }
}

/// StockReservationFailed → reject the order (nothing was reserved, nothing to compensate).
pub fn reject_for_stock(order: &Order, ev: &StockReservationFailed, now: DateTime<Utc>) -> Step<Order> {
    let reason = match ev.failure {
        StockFailure::UnknownProduct { .. } => RejectionReason::UnknownProduct,
        StockFailure::InsufficientStock { .. } => RejectionReason::OutOfStock,
    };
    reject_pending(order, reason, now)
}

/// CreditReserved → approve. For an order that is already over, ask customers to release the
/// credit they just reserved.
pub fn approve_order(order: &Order, _ev: &CreditReserved, now: DateTime<Utc>) -> Step<Order> {
    match order.state() {
        OrderState::Pending => {
            let mut next = order.clone();
            match next.approve(now) {
                Ok(e) => apply_order(next, DomainEvent::OrderApproved(e)),
                Err(_) => Step::Skip(Skip::NotApplicable),
            }
        }
        OrderState::Rejected { .. } | OrderState::Cancelled => {
            Step::Emit(vec![DomainEvent::CreditReleaseRequested(CreditReleaseRequested {
                order_id: order.id(),
                customer_id: order.customer_id(),
            })])
        }
        OrderState::Approved => Step::Skip(Skip::AlreadyDone),
    }
}

/// CreditReservationFailed → reject; the rejection makes products release the stock.
pub fn reject_for_credit(order: &Order, ev: &CreditReservationFailed, now: DateTime<Utc>) -> Step<Order> {
    let reason = match ev.failure {
        CreditFailure::UnknownCustomer => RejectionReason::UnknownCustomer,
        CreditFailure::CreditLimitExceeded { .. } | CreditFailure::CurrencyMismatch => {
            RejectionReason::CreditLimitExceeded
        }
    };
    reject_pending(order, reason, now)
}

/// The sweeper: an order PENDING for `timeout` or longer is rejected as TIMED_OUT, which
/// releases whatever stock and credit it may hold.
pub fn sweep_order(order: &Order, now: DateTime<Utc>, timeout: Duration) -> Step<Order> {
    if order.is_stuck(now, timeout) {
        reject_pending(order, RejectionReason::TimedOut, now)
    } else {
        Step::Skip(Skip::NotApplicable)
    }
}

// ---------------------------------------------------------------- products

fn changed_products(products: &BTreeMap<ProductId, Product>, lines: &[crate::events::LineRequest]) -> Vec<Product> {
    lines.iter().filter_map(|l| products.get(&l.product_id).cloned()).collect()
}

/// OrderCreated → reserve every line or none. `products` are the existing products the order
/// names; `existing` is the order's reservation record, if any; `start` is the caller's random
/// draw of the first shard to try (see [`crate::stock`]).
pub fn reserve_order_stock(
    ev: &OrderCreated,
    placed_at: DateTime<Utc>,
    products: &BTreeMap<ProductId, Product>,
    existing: Option<&StockReservation>,
    start: u32,
) -> Step<StockChange> {
    // A product discontinued before the order was placed is, for this order, not in the
    // catalogue: the order is refused as for an unknown product. One discontinued later keeps
    // the orders placed while it was sold.
    let mut products: BTreeMap<ProductId, Product> =
        products.iter().filter(|(_, p)| p.sold_at(placed_at)).map(|(id, p)| (*id, p.clone())).collect();
    match reserve_stock(ev.order_id, &ev.lines, &mut products, existing, start) {
        StockOutcome::Reserved(reservation, lines) => Step::Apply {
            events: vec![DomainEvent::StockReserved(StockReserved { order_id: ev.order_id, lines })],
            state: StockChange { products: changed_products(&products, &reservation.lines), reservation },
        },
        StockOutcome::Refused(reservation, failure) => Step::Apply {
            state: StockChange { reservation, products: vec![] },
            events: vec![DomainEvent::StockReservationFailed(StockReservationFailed {
                order_id: ev.order_id,
                failure,
            })],
        },
        StockOutcome::AlreadyHandled => Step::Skip(Skip::AlreadyDone),
    }
}

/// OrderRejected / OrderCancelled / StockReleaseRequested → give the order's stock back.
pub fn release_order_stock(
    order_id: OrderId,
    products: &BTreeMap<ProductId, Product>,
    existing: Option<&StockReservation>,
) -> Step<StockChange> {
    let mut products = products.clone();
    match release_stock(order_id, &mut products, existing) {
        ReleaseOutcome::Released(reservation) => Step::Apply {
            events: vec![DomainEvent::StockReleased(StockReleased { order_id, lines: reservation.lines.clone() })],
            state: StockChange { products: changed_products(&products, &reservation.lines), reservation },
        },
        ReleaseOutcome::Tombstone(reservation) => {
            Step::Apply { state: StockChange { reservation, products: vec![] }, events: vec![] }
        }
        ReleaseOutcome::AlreadyHandled => Step::Skip(Skip::AlreadyDone),
    }
}

// ---------------------------------------------------------------- customers

/// OrderPriced → hold the order's total against the customer's credit.
pub fn reserve_order_credit(
    ev: &OrderPriced,
    customer: Option<&Customer>,
    existing: Option<&CreditReservation>,
) -> Step<CreditChange> {
    if existing.is_some() {
        return Step::Skip(Skip::AlreadyDone);
    }
    let failed = |reservation, failure| Step::Apply {
        state: CreditChange { reservation, customer: None },
        events: vec![DomainEvent::CreditReservationFailed(CreditReservationFailed {
            order_id: ev.order_id,
            customer_id: ev.customer_id,
            failure,
        })],
    };
    let Some(customer) = customer else {
        let record = CreditReservation {
            order_id: ev.order_id,
            customer_id: ev.customer_id,
            amount: ev.total,
            status: ReservationStatus::Refused,
        };
        return failed(record, CreditFailure::UnknownCustomer);
    };
    let mut next = customer.clone();
    match next.reserve_credit(None, ev.order_id, ev.total) {
        CreditOutcome::Reserved(reservation) => Step::Apply {
            state: CreditChange { reservation, customer: Some(next) },
            events: vec![DomainEvent::CreditReserved(CreditReserved {
                order_id: ev.order_id,
                customer_id: ev.customer_id,
                amount: ev.total,
            })],
        },
        CreditOutcome::Refused(reservation, failure) => failed(reservation, failure),
        CreditOutcome::AlreadyHandled => Step::Skip(Skip::AlreadyDone),
    }
}

/// OrderRejected / OrderCancelled / CreditReleaseRequested → give the order's credit back.
pub fn release_order_credit(
    order_id: OrderId,
    customer_id: CustomerId,
    customer: Option<&Customer>,
    existing: Option<&CreditReservation>,
) -> Step<CreditChange> {
    // Only what can be checked is trusted: the record says whose credit the order holds.
    if existing.is_some_and(|r| r.customer_id != customer_id) {
        return Step::Skip(Skip::Mismatch);
    }
    let Some(customer) = customer else {
        return match existing {
            Some(_) => Step::Skip(Skip::AlreadyDone),
            None => Step::Apply {
                state: CreditChange {
                    reservation: CreditReservation {
                        order_id,
                        customer_id,
                        amount: Money::zero(crate::money::Currency::USD),
                        status: ReservationStatus::Released,
                    },
                    customer: None,
                },
                events: vec![],
            },
        };
    };
    let mut next = customer.clone();
    match next.release_credit(existing, order_id) {
        ReleaseOutcome::Released(reservation) => Step::Apply {
            events: vec![DomainEvent::CreditReleased(CreditReleased {
                order_id,
                customer_id,
                amount: reservation.amount,
            })],
            state: CreditChange { reservation, customer: Some(next) },
        },
        ReleaseOutcome::Tombstone(reservation) => {
            Step::Apply { state: CreditChange { reservation, customer: None }, events: vec![] }
        }
        ReleaseOutcome::AlreadyHandled => Step::Skip(Skip::AlreadyDone),
    }
}

#[cfg(test)]
#[path = "saga_tests.rs"]
mod tests;
