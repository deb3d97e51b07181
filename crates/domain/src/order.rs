//! The Order aggregate and its lifecycle: PENDING → APPROVED | REJECTED(reason); APPROVED → CANCELLED.
//! While PENDING it is a semantic lock: the saga owns it and a cancel is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{ensure, DomainError, Inconsistent};
use crate::events::{
    LineRequest, OrderApproved, OrderCancelled, OrderCreated, OrderPriced, OrderRejected, ReservedLine,
};
use crate::ids::{CustomerId, OrderId, ProductId};
use crate::measures::Quantity;
use crate::money::Money;
use crate::shipping::{ShippingCostService, ShippingItem, ShippingSpeed};
use crate::text::Address;

/// Why an order was rejected. Stable names: rules on the bus filter on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RejectionReason {
    OutOfStock,
    UnknownProduct,
    CreditLimitExceeded,
    UnknownCustomer,
    PricingFailed,
    TimedOut,
}

impl RejectionReason {
    /// The name on the wire (`OUT_OF_STOCK`...).
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionReason::OutOfStock => "OUT_OF_STOCK",
            RejectionReason::UnknownProduct => "UNKNOWN_PRODUCT",
            RejectionReason::CreditLimitExceeded => "CREDIT_LIMIT_EXCEEDED",
            RejectionReason::UnknownCustomer => "UNKNOWN_CUSTOMER",
            RejectionReason::PricingFailed => "PRICING_FAILED",
            RejectionReason::TimedOut => "TIMED_OUT",
        }
    }
}

/// The four states of an order, without their data; used in errors, filters and indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Pending,
    Approved,
    Rejected,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "PENDING",
            OrderStatus::Approved => "APPROVED",
            OrderStatus::Rejected => "REJECTED",
            OrderStatus::Cancelled => "CANCELLED",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OrderStatus {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "PENDING" => Ok(OrderStatus::Pending),
            "APPROVED" => Ok(OrderStatus::Approved),
            "REJECTED" => Ok(OrderStatus::Rejected),
            "CANCELLED" => Ok(OrderStatus::Cancelled),
            _ => Err(DomainError::Invalid { field: "status", problem: crate::error::Problem::BadFormat }),
        }
    }
}

/// An order's state with the data that only some states have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderState {
    Pending,
    Approved,
    Rejected { reason: RejectionReason },
    Cancelled,
}

impl OrderState {
    pub fn status(&self) -> OrderStatus {
        match self {
            OrderState::Pending => OrderStatus::Pending,
            OrderState::Approved => OrderStatus::Approved,
            OrderState::Rejected { .. } => OrderStatus::Rejected,
            OrderState::Cancelled => OrderStatus::Cancelled,
        }
    }
}

/// One product on an order; `unit_price` is known once products reserved the stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub product_id: ProductId,
    pub quantity: Quantity,
    pub unit_price: Option<Money>,
}

/// What the order costs: `total = subtotal + shipping_cost`, all in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Pricing {
    pub subtotal: Money,
    pub shipping_cost: Money,
    pub total: Money,
}

/// One step an order went through, as the orders context recorded it: when, the event it
/// emitted, and the state it left the order in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Milestone {
    pub at: DateTime<Utc>,
    pub event: String,
    pub status: OrderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RejectionReason>,
}

/// An order. Invariants: 1..=[`Order::MAX_LINES`] lines with distinct products; `pricing` is set
/// at most once and only while PENDING; APPROVED implies priced; only the transitions of the
/// module doc happen, each through a method that returns the event it caused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", try_from = "OrderSnapshot")]
pub struct Order {
    id: OrderId,
    customer_id: CustomerId,
    lines: Vec<OrderLine>,
    shipping_address: Address,
    shipping_speed: ShippingSpeed,
    state: OrderState,
    pricing: Option<Pricing>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Every transition, oldest first (orders stored before it was kept start empty).
    timeline: Vec<Milestone>,
}

/// An order as stored, before its invariants are checked: the only way back into an [`Order`].
#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct OrderSnapshot {
    id: OrderId,
    customer_id: CustomerId,
    lines: Vec<OrderLine>,
    shipping_address: Address,
    shipping_speed: ShippingSpeed,
    state: OrderState,
    pricing: Option<Pricing>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    #[serde(default)]
    timeline: Vec<Milestone>,
}

impl TryFrom<OrderSnapshot> for Order {
    type Error = Inconsistent;

    fn try_from(s: OrderSnapshot) -> Result<Order, Inconsistent> {
        const KIND: &str = "order";
        ensure(!s.lines.is_empty() && s.lines.len() <= Order::MAX_LINES, KIND, "1 to 50 lines")?;
        let distinct: BTreeSet<ProductId> = s.lines.iter().map(|l| l.product_id).collect();
        ensure(distinct.len() == s.lines.len(), KIND, "one line per product")?;
        ensure(s.updated_at >= s.created_at, KIND, "updated after created")?;
        let priced = s.pricing.is_some();
        ensure(
            priced || !matches!(s.state, OrderState::Approved | OrderState::Cancelled),
            KIND,
            "approved and cancelled orders are priced",
        )?;
        ensure(!priced || s.lines.iter().all(|l| l.unit_price.is_some()), KIND, "a priced order prices every line")?;
        if let Some(p) = s.pricing {
            let sum = p.subtotal.checked_add(&p.shipping_cost);
            ensure(sum == Ok(p.total), KIND, "total = subtotal + shipping in one currency")?;
        }
        Ok(Order {
            id: s.id,
            customer_id: s.customer_id,
            lines: s.lines,
            shipping_address: s.shipping_address,
            shipping_speed: s.shipping_speed,
            state: s.state,
            pricing: s.pricing,
            created_at: s.created_at,
            updated_at: s.updated_at,
            timeline: s.timeline,
        })
    }
}

impl Order {
    pub const MAX_LINES: usize = 50;

    /// Places a new PENDING order; the returned event starts the saga.
    pub fn place(
        id: OrderId,
        customer_id: CustomerId,
        lines: Vec<LineRequest>,
        shipping_address: Address,
        shipping_speed: ShippingSpeed,
        now: DateTime<Utc>,
    ) -> Result<(Order, OrderCreated), DomainError> {
        if lines.is_empty() || lines.len() > Self::MAX_LINES {
            return Err(DomainError::LineCount { max: Self::MAX_LINES });
        }
        let mut seen = BTreeSet::new();
        for l in &lines {
            if !seen.insert(l.product_id) {
                return Err(DomainError::DuplicateLine(l.product_id.as_uuid()));
            }
        }
        let order = Order {
            id,
            customer_id,
            lines: lines
                .iter()
                .map(|l| OrderLine { product_id: l.product_id, quantity: l.quantity, unit_price: None })
                .collect(),
            shipping_address: shipping_address.clone(),
            shipping_speed,
            state: OrderState::Pending,
            pricing: None,
            created_at: now,
            updated_at: now,
            timeline: vec![],
        };
        let mut order = order;
        order.record(now, "OrderCreated", None);
        let event = OrderCreated { order_id: id, customer_id, lines, shipping_address, shipping_speed };
        Ok((order, event))
    }

    /// Places a new PENDING order at the catalogue's prices (`prices`, by product): the price each
    /// line shows now is the price it is charged, whatever the product costs by the time its stock
    /// is reserved. A line whose product has no price is refused.
    pub fn place_at(
        id: OrderId,
        customer_id: CustomerId,
        lines: Vec<LineRequest>,
        prices: &BTreeMap<ProductId, Money>,
        shipping_address: Address,
        shipping_speed: ShippingSpeed,
        now: DateTime<Utc>,
    ) -> Result<(Order, OrderCreated), DomainError> {
        let (mut order, event) = Order::place(id, customer_id, lines, shipping_address, shipping_speed, now)?;
        for line in &mut order.lines {
            let price = prices.get(&line.product_id).ok_or(DomainError::NotInCatalogue(line.product_id.as_uuid()))?;
            line.unit_price = Some(*price);
        }
        Ok((order, event))
    }

    pub fn id(&self) -> OrderId {
        self.id
    }
    pub fn customer_id(&self) -> CustomerId {
        self.customer_id
    }
    /// The product of each line, in line order.
    pub fn product_ids(&self) -> Vec<ProductId> {
        self.lines.iter().map(|l| l.product_id).collect()
    }

    pub fn lines(&self) -> &[OrderLine] {
        &self.lines
    }
    pub fn shipping_address(&self) -> &Address {
        &self.shipping_address
    }
    pub fn shipping_speed(&self) -> ShippingSpeed {
        self.shipping_speed
    }
    pub fn state(&self) -> OrderState {
        self.state
    }
    pub fn status(&self) -> OrderStatus {
        self.state.status()
    }
    pub fn pricing(&self) -> Option<Pricing> {
        self.pricing
    }
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    /// The steps the order went through, oldest first.
    pub fn timeline(&self) -> &[Milestone] {
        &self.timeline
    }

    fn record(&mut self, at: DateTime<Utc>, event: &str, reason: Option<RejectionReason>) {
        self.timeline.push(Milestone { at, event: event.to_owned(), status: self.status(), reason });
    }

    fn refuse(&self, action: &'static str) -> DomainError {
        DomainError::InvalidTransition { from: self.status(), action }
    }

    /// Prices a PENDING order from the lines products reserved: subtotal, shipping, total.
    pub fn price(
        &mut self,
        reserved: &[ReservedLine],
        shipping: &ShippingCostService,
        now: DateTime<Utc>,
    ) -> Result<OrderPriced, DomainError> {
        if self.state != OrderState::Pending {
            return Err(self.refuse("priced"));
        }
        if self.pricing.is_some() {
            return Err(DomainError::AlreadyPriced);
        }
        let mut priced = self.lines.clone();
        if reserved.len() != priced.len() {
            return Err(DomainError::ReservationMismatch);
        }
        let mut items = Vec::with_capacity(reserved.len());
        let mut line_totals = Vec::with_capacity(reserved.len());
        for line in &mut priced {
            let r = reserved
                .iter()
                .find(|r| r.product_id == line.product_id && r.quantity == line.quantity)
                .ok_or(DomainError::ReservationMismatch)?;
            // The price the order was placed at wins over the product's current one; an order
            // placed without prices takes the reservation's.
            let unit_price = *line.unit_price.get_or_insert(r.unit_price);
            line_totals.push(unit_price.checked_mul(r.quantity.get())?);
            items.push(ShippingItem { weight: r.weight, dimensions: r.dimensions, quantity: r.quantity });
        }
        let currency =
            priced.first().and_then(|l| l.unit_price).map(|p| p.currency()).ok_or(DomainError::ReservationMismatch)?;
        let subtotal = Money::sum(currency, &line_totals)?;
        let quote = shipping.quote(&self.shipping_address, self.shipping_speed, &items, subtotal)?;
        let total = subtotal.checked_add(&quote.cost)?;
        let pricing = Pricing { subtotal, shipping_cost: quote.cost, total };
        self.lines = priced;
        self.pricing = Some(pricing);
        self.updated_at = now;
        self.record(now, "OrderPriced", None);
        Ok(OrderPriced { order_id: self.id, customer_id: self.customer_id, subtotal, shipping_cost: quote.cost, total })
    }

    /// PENDING and priced → APPROVED.
    pub fn approve(&mut self, now: DateTime<Utc>) -> Result<OrderApproved, DomainError> {
        if self.state != OrderState::Pending {
            return Err(self.refuse("approved"));
        }
        let pricing = self.pricing.ok_or(DomainError::NotPriced)?;
        self.state = OrderState::Approved;
        self.updated_at = now;
        self.record(now, "OrderApproved", None);
        Ok(OrderApproved { order_id: self.id, customer_id: self.customer_id, total: pricing.total })
    }

    /// PENDING → REJECTED(reason).
    pub fn reject(&mut self, reason: RejectionReason, now: DateTime<Utc>) -> Result<OrderRejected, DomainError> {
        if self.state != OrderState::Pending {
            return Err(self.refuse("rejected"));
        }
        self.state = OrderState::Rejected { reason };
        self.updated_at = now;
        self.record(now, "OrderRejected", Some(reason));
        Ok(OrderRejected { order_id: self.id, customer_id: self.customer_id, reason, product_ids: self.product_ids() })
    }

    /// APPROVED → CANCELLED with an event; CANCELLED → nothing to do (`None`); PENDING and
    /// REJECTED are refused.
    pub fn cancel(&mut self, now: DateTime<Utc>) -> Result<Option<OrderCancelled>, DomainError> {
        match self.state {
            OrderState::Approved => {
                self.state = OrderState::Cancelled;
                self.updated_at = now;
                self.record(now, "OrderCancelled", None);
                Ok(Some(OrderCancelled {
                    order_id: self.id,
                    customer_id: self.customer_id,
                    product_ids: self.product_ids(),
                }))
            }
            OrderState::Cancelled => Ok(None),
            OrderState::Pending | OrderState::Rejected { .. } => Err(self.refuse("cancelled")),
        }
    }

    /// True when the order has waited in PENDING for `timeout` or longer.
    pub fn is_stuck(&self, now: DateTime<Utc>, timeout: Duration) -> bool {
        self.state == OrderState::Pending && now - self.created_at >= timeout
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::measures::{Dimensions, Weight};
    use crate::money::Currency;
    use proptest::prelude::*;
    use std::str::FromStr;
    use uuid::Uuid;

    pub fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
    }
    pub fn pid(n: u128) -> ProductId {
        ProductId::from_uuid(Uuid::from_u128(n))
    }
    pub fn home() -> Address {
        Address::new("9 Elm St", "Dayton", "OH", "45402", "US").unwrap()
    }
    pub fn shipping() -> ShippingCostService {
        ShippingCostService::standard_tariff("OH", crate::text::CountryCode::parse("US").unwrap())
    }
    pub fn line(n: u128, q: i64) -> LineRequest {
        LineRequest { product_id: pid(n), quantity: Quantity::new(q).unwrap() }
    }
    pub fn reserved(l: &LineRequest, cents: i64) -> ReservedLine {
        ReservedLine {
            product_id: l.product_id,
            quantity: l.quantity,
            unit_price: Money::new(cents, Currency::USD).unwrap(),
            weight: Weight::new(500).unwrap(),
            dimensions: Dimensions::new(10, 10, 10).unwrap(),
        }
    }
    pub fn pending(lines: Vec<LineRequest>) -> Order {
        let id = OrderId::from_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
        let cid = CustomerId::from_str("11111111-10b1-426f-9247-bb680e5fe0c8").unwrap();
        Order::place(id, cid, lines, home(), ShippingSpeed::Standard, t0()).unwrap().0
    }
    #[test]
    fn a_stored_order_that_breaks_an_invariant_does_not_load() {
        let good = serde_json::to_value(pending(vec![line(1, 1), line(2, 1)])).unwrap();
        assert_eq!(serde_json::from_value::<Order>(good.clone()).unwrap(), pending(vec![line(1, 1), line(2, 1)]));
        let mut no_lines = good.clone();
        no_lines["lines"] = serde_json::json!([]);
        let err = serde_json::from_value::<Order>(no_lines).unwrap_err().to_string();
        assert!(err.contains("1 to 50 lines"), "{err}");
        let mut twice = good.clone();
        twice["lines"][1]["productId"] = twice["lines"][0]["productId"].clone();
        assert!(serde_json::from_value::<Order>(twice).is_err());
        let mut approved_unpriced = good;
        approved_unpriced["state"] = serde_json::json!({"status": "APPROVED"});
        let err = serde_json::from_value::<Order>(approved_unpriced).unwrap_err().to_string();
        assert!(err.contains("priced"), "{err}");
    }

    pub fn priced() -> Order {
        let lines = vec![line(1, 2)];
        let mut o = pending(lines.clone());
        o.price(&[reserved(&lines[0], 1_000)], &shipping(), t0()).unwrap();
        o
    }
    fn approved() -> Order {
        let mut o = priced();
        o.approve(t0()).unwrap();
        o
    }

    #[test]
    fn placing_an_order_makes_it_pending_and_emits_order_created() {
        let lines = vec![line(1, 2), line(2, 1)];
        let (o, e) = Order::place(
            OrderId::from_uuid(Uuid::from_u128(9)),
            CustomerId::from_uuid(Uuid::from_u128(8)),
            lines.clone(),
            home(),
            ShippingSpeed::Express,
            t0(),
        )
        .unwrap();
        assert_eq!(o.status(), OrderStatus::Pending);
        assert_eq!(e.lines, lines);
        assert!(o.pricing().is_none());
    }

    #[test]
    fn an_order_needs_between_one_and_fifty_distinct_lines() {
        let place = |lines| {
            Order::place(
                OrderId::from_uuid(Uuid::from_u128(1)),
                CustomerId::from_uuid(Uuid::from_u128(2)),
                lines,
                home(),
                ShippingSpeed::Standard,
                t0(),
            )
        };
        assert_eq!(place(vec![]).unwrap_err(), DomainError::LineCount { max: 50 });
        assert_eq!(place((0..51).map(|n| line(n, 1)).collect()).unwrap_err(), DomainError::LineCount { max: 50 });
        assert!(place((0..50).map(|n| line(n, 1)).collect()).is_ok());
        assert!(matches!(place(vec![line(1, 1), line(1, 2)]), Err(DomainError::DuplicateLine(_))));
    }

    #[test]
    fn an_order_placed_at_catalogue_prices_is_charged_them_whatever_the_reservation_says() {
        let lines = vec![line(1, 2)];
        let prices = BTreeMap::from([(pid(1), Money::new(1_000, Currency::USD).unwrap())]);
        let (mut o, _) = Order::place_at(
            OrderId::from_uuid(Uuid::from_u128(9)),
            CustomerId::from_uuid(Uuid::from_u128(8)),
            lines.clone(),
            &prices,
            home(),
            ShippingSpeed::Standard,
            t0(),
        )
        .unwrap();
        assert_eq!(o.lines()[0].unit_price, prices.get(&pid(1)).copied(), "shown at creation");
        // The product was repriced to 15.00 before its stock was reserved: the order keeps 10.00.
        o.price(&[reserved(&lines[0], 1_500)], &shipping(), t0()).unwrap();
        assert_eq!(o.pricing().unwrap().subtotal, Money::new(2_000, Currency::USD).unwrap());
        assert_eq!(o.lines()[0].unit_price, Some(Money::new(1_000, Currency::USD).unwrap()));
        let missing = Order::place_at(
            OrderId::from_uuid(Uuid::from_u128(9)),
            CustomerId::from_uuid(Uuid::from_u128(8)),
            vec![line(2, 1)],
            &prices,
            home(),
            ShippingSpeed::Standard,
            t0(),
        );
        assert!(matches!(missing, Err(DomainError::NotInCatalogue(_))));
    }

    #[test]
    fn pricing_sums_lines_and_adds_shipping() {
        let o = priced();
        let p = o.pricing().unwrap();
        // 2 x 10.00; 1 kg local standard = 4.99 + 1.00
        assert_eq!(p.subtotal.amount(), 2_000);
        assert_eq!(p.shipping_cost.amount(), 599);
        assert_eq!(p.total.amount(), 2_599);
        assert_eq!(o.lines()[0].unit_price.unwrap().amount(), 1_000);
    }

    #[test]
    fn pricing_twice_is_refused() {
        let mut o = priced();
        let r = reserved(&line(1, 2), 1_000);
        assert_eq!(o.price(&[r], &shipping(), t0()), Err(DomainError::AlreadyPriced));
    }

    #[test]
    fn pricing_with_lines_that_do_not_match_is_refused() {
        let mut o = pending(vec![line(1, 2)]);
        assert_eq!(o.price(&[reserved(&line(1, 3), 100)], &shipping(), t0()), Err(DomainError::ReservationMismatch));
        assert_eq!(o.price(&[], &shipping(), t0()), Err(DomainError::ReservationMismatch));
        assert!(o.pricing().is_none());
    }

    #[test]
    fn pricing_with_mixed_currencies_is_refused_and_changes_nothing() {
        let lines = vec![line(1, 1), line(2, 1)];
        let mut o = pending(lines.clone());
        let mut eur = reserved(&lines[1], 100);
        eur.unit_price = Money::new(100, Currency::EUR).unwrap();
        let before = o.clone();
        assert!(matches!(
            o.price(&[reserved(&lines[0], 100), eur], &shipping(), t0()),
            Err(DomainError::CurrencyMismatch { .. })
        ));
        assert_eq!(o, before);
    }

    #[test]
    fn approving_an_unpriced_order_is_refused() {
        let mut o = pending(vec![line(1, 1)]);
        assert_eq!(o.approve(t0()), Err(DomainError::NotPriced));
    }

    #[test]
    fn cancelling_a_pending_order_is_refused() {
        let mut o = pending(vec![line(1, 1)]);
        assert_eq!(
            o.cancel(t0()),
            Err(DomainError::InvalidTransition { from: OrderStatus::Pending, action: "cancelled" })
        );
    }

    #[test]
    fn cancelling_an_approved_order_emits_order_cancelled_and_again_is_a_no_op() {
        let mut o = approved();
        assert!(o.cancel(t0()).unwrap().is_some());
        assert_eq!(o.status(), OrderStatus::Cancelled);
        assert_eq!(o.cancel(t0()).unwrap(), None);
    }

    #[test]
    fn cancelling_a_rejected_order_is_refused() {
        let mut o = pending(vec![line(1, 1)]);
        o.reject(RejectionReason::OutOfStock, t0()).unwrap();
        assert!(o.cancel(t0()).is_err());
    }

    #[test]
    fn an_order_is_stuck_only_while_pending_past_the_timeout() {
        let o = pending(vec![line(1, 1)]);
        assert!(!o.is_stuck(t0() + Duration::seconds(59), Duration::seconds(60)));
        assert!(o.is_stuck(t0() + Duration::seconds(60), Duration::seconds(60)));
        assert!(!approved().is_stuck(t0() + Duration::days(9), Duration::seconds(60)));
    }

    #[derive(Debug, Clone, Copy)]
    enum Action {
        Price,
        Approve,
        Reject,
        Cancel,
    }

    fn apply(o: &mut Order, a: Action) -> Result<(), DomainError> {
        match a {
            Action::Price => o.price(&[reserved(&line(1, 2), 1_000)], &shipping(), t0()).map(|_| ()),
            Action::Approve => o.approve(t0()).map(|_| ()),
            Action::Reject => o.reject(RejectionReason::TimedOut, t0()).map(|_| ()),
            Action::Cancel => o.cancel(t0()).map(|_| ()),
        }
    }

    /// The whole transition table: (status before, priced?, action) → allowed?
    fn allowed(status: OrderStatus, is_priced: bool, a: Action) -> bool {
        use OrderStatus::*;
        match (status, a) {
            (Pending, Action::Price) => !is_priced,
            (Pending, Action::Approve) => is_priced,
            (Pending, Action::Reject) => true,
            (Approved, Action::Cancel) => true,
            (Cancelled, Action::Cancel) => true, // the idempotent no-op
            _ => false,
        }
    }

    proptest! {
        #[test]
        fn every_transition_the_state_does_not_allow_is_refused(
            actions in prop::collection::vec(prop_oneof![
                Just(Action::Price), Just(Action::Approve), Just(Action::Reject), Just(Action::Cancel)
            ], 0..12)
        ) {
            let mut o = pending(vec![line(1, 2)]);
            for a in actions {
                let before = o.clone();
                let ok = apply(&mut o, a).is_ok();
                prop_assert_eq!(ok, allowed(before.status(), before.pricing().is_some(), a), "{:?} from {:?}", a, before.state());
                if !ok {
                    prop_assert_eq!(&o, &before, "a refused transition changed the order");
                }
                if o.status() == OrderStatus::Approved {
                    prop_assert!(o.pricing().is_some());
                }
            }
        }
    }
}
