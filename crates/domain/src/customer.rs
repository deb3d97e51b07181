//! The Customer aggregate: who buys, where to ship by default, and how much credit they have.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{ensure, DomainError, Inconsistent};
use crate::events::{CreditFailure, CreditLimitChanged, CustomerRegistered, CustomerUpdated};
use crate::ids::{CustomerId, OrderId};
use crate::money::Money;
use crate::reservation::{Hold, HoldRefused, ReleaseOutcome, ReservationStatus};
use crate::text::{Address, CustomerName, Email};

/// A customer. Invariant: `reserved` is the sum of the customer's active credit reservations, in
/// the limit's currency. A reservation never takes it above `credit_limit`; a lowered limit may
/// leave it above, and then no new reservation is made until enough is released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", try_from = "CustomerSnapshot")]
pub struct Customer {
    id: CustomerId,
    name: CustomerName,
    email: Email,
    address: Address,
    credit_limit: Money,
    reserved: Money,
    created_at: DateTime<Utc>,
}

/// A customer as stored, before its invariants are checked: the only way back into a [`Customer`].
#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct CustomerSnapshot {
    id: CustomerId,
    name: CustomerName,
    email: Email,
    address: Address,
    credit_limit: Money,
    reserved: Money,
    created_at: DateTime<Utc>,
}

impl TryFrom<CustomerSnapshot> for Customer {
    type Error = Inconsistent;

    fn try_from(s: CustomerSnapshot) -> Result<Customer, Inconsistent> {
        const KIND: &str = "customer";
        ensure(s.reserved.currency() == s.credit_limit.currency(), KIND, "reserved in the limit's currency")?;
        Ok(Customer {
            id: s.id,
            name: s.name,
            email: s.email,
            address: s.address,
            credit_limit: s.credit_limit,
            reserved: s.reserved,
            created_at: s.created_at,
        })
    }
}

/// Credit held for one order. Invariant: `amount` is in the customer's currency; only `Active`
/// records count towards the customer's `reserved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreditReservation {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub amount: Money,
    pub status: ReservationStatus,
}

/// What reserving credit for one order decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditOutcome {
    Reserved(CreditReservation),
    Refused(CreditReservation, CreditFailure),
    /// This order already has a record: reserving again changes nothing.
    AlreadyHandled,
}

impl Customer {
    pub fn register(
        id: CustomerId,
        name: CustomerName,
        email: Email,
        address: Address,
        credit_limit: Money,
        now: DateTime<Utc>,
    ) -> (Customer, CustomerRegistered) {
        let event = CustomerRegistered { customer_id: id, credit_limit };
        let c = Customer {
            id,
            name,
            email,
            address,
            credit_limit,
            reserved: Money::zero(credit_limit.currency()),
            created_at: now,
        };
        (c, event)
    }

    pub fn id(&self) -> CustomerId {
        self.id
    }
    pub fn name(&self) -> &CustomerName {
        &self.name
    }
    pub fn email(&self) -> &Email {
        &self.email
    }
    pub fn address(&self) -> &Address {
        &self.address
    }
    pub fn credit_limit(&self) -> Money {
        self.credit_limit
    }
    pub fn reserved_credit(&self) -> Money {
        self.reserved
    }
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// Sets a new credit limit in the limit's currency. Lowering it below what is reserved is
    /// allowed: nothing held is taken back, and new reservations are refused until enough is
    /// released. `None` when the limit is that already.
    pub fn change_credit_limit(&mut self, limit: Money) -> Result<Option<CreditLimitChanged>, DomainError> {
        if limit.currency() != self.credit_limit.currency() {
            return Err(DomainError::CurrencyMismatch { left: self.credit_limit.currency(), right: limit.currency() });
        }
        if limit == self.credit_limit {
            return Ok(None);
        }
        self.credit_limit = limit;
        Ok(Some(CreditLimitChanged { customer_id: self.id, credit_limit: limit }))
    }

    /// Changes the name and/or the default shipping address; `None` when nothing changes.
    pub fn update(&mut self, name: Option<CustomerName>, address: Option<Address>) -> Option<CustomerUpdated> {
        let name = name.filter(|n| *n != self.name);
        let address = address.filter(|a| *a != self.address);
        if name.is_none() && address.is_none() {
            return None;
        }
        if let Some(n) = name {
            self.name = n;
        }
        if let Some(a) = address {
            self.address = a;
        }
        Some(CustomerUpdated { customer_id: self.id })
    }

    /// The hold that moves this customer's reserved credit from what `before` had to what it has
    /// now (minor units), against the credit limit the decision saw; `None` when nothing moved.
    pub fn hold_since(&self, before: &Customer) -> Option<Hold> {
        let delta = self.reserved.amount() - before.reserved.amount();
        (delta != 0).then_some(Hold { delta, basis: before.credit_limit.amount() })
    }

    /// Applies `hold` to the reserved credit, only while the invariant allows it (a hold never
    /// takes `reserved` above the limit the hold was decided on; a release never below zero).
    pub fn apply_hold(&mut self, hold: Hold) -> Result<(), HoldRefused> {
        if !hold.allowed(self.reserved.amount(), self.credit_limit.amount()) {
            return Err(HoldRefused);
        }
        let after = self.reserved.amount() + hold.delta;
        self.reserved = Money::new(after, self.reserved.currency()).map_err(|_| HoldRefused)?;
        Ok(())
    }

    pub fn available_credit(&self) -> Money {
        self.credit_limit.saturating_sub(&self.reserved).unwrap_or(Money::zero(self.credit_limit.currency()))
    }

    /// Holds `amount` for `order_id` if the order has no record yet and the limit allows it.
    pub fn reserve_credit(
        &mut self,
        existing: Option<&CreditReservation>,
        order_id: OrderId,
        amount: Money,
    ) -> CreditOutcome {
        if existing.is_some() {
            return CreditOutcome::AlreadyHandled;
        }
        let record = |status| CreditReservation { order_id, customer_id: self.id, amount, status };
        if amount.currency() != self.credit_limit.currency() {
            return CreditOutcome::Refused(record(ReservationStatus::Refused), CreditFailure::CurrencyMismatch);
        }
        let available = self.available_credit();
        match self.reserved.checked_add(&amount) {
            Ok(new_total) if new_total.amount() <= self.credit_limit.amount() => {
                self.reserved = new_total;
                CreditOutcome::Reserved(record(ReservationStatus::Active))
            }
            _ => CreditOutcome::Refused(
                record(ReservationStatus::Refused),
                CreditFailure::CreditLimitExceeded { requested: amount, available },
            ),
        }
    }

    /// Gives back what `order_id` holds. Unknown order: a tombstone, and the customer is unchanged.
    pub fn release_credit(
        &mut self,
        existing: Option<&CreditReservation>,
        order_id: OrderId,
    ) -> ReleaseOutcome<CreditReservation> {
        match existing {
            Some(r) if r.status == ReservationStatus::Active => {
                self.reserved = self.reserved.saturating_sub(&r.amount).unwrap_or(self.reserved);
                ReleaseOutcome::Released(CreditReservation { status: ReservationStatus::Released, ..*r })
            }
            Some(_) => ReleaseOutcome::AlreadyHandled,
            None => ReleaseOutcome::Tombstone(CreditReservation {
                order_id,
                customer_id: self.id,
                amount: Money::zero(self.credit_limit.currency()),
                status: ReservationStatus::Released,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use uuid::Uuid;

    fn usd(a: i64) -> Money {
        Money::new(a, Currency::USD).unwrap()
    }
    fn oid(n: u128) -> OrderId {
        OrderId::from_uuid(Uuid::from_u128(n))
    }
    fn customer(limit: i64) -> Customer {
        Customer::register(
            CustomerId::from_uuid(Uuid::from_u128(7)),
            CustomerName::parse("Ada").unwrap(),
            Email::parse("ada@example.com").unwrap(),
            Address::new("1 Main St", "Dayton", "OH", "45402", "US").unwrap(),
            usd(limit),
            chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
        )
        .0
    }

    #[test]
    fn reserving_within_the_limit_holds_the_amount() {
        let mut c = customer(10_000);
        let out = c.reserve_credit(None, oid(1), usd(4_000));
        assert!(matches!(out, CreditOutcome::Reserved(r) if r.status == ReservationStatus::Active));
        assert_eq!(c.available_credit(), usd(6_000));
    }

    #[test]
    fn reserving_beyond_the_limit_is_refused_and_holds_nothing() {
        let mut c = customer(10_000);
        c.reserve_credit(None, oid(1), usd(6_000));
        let out = c.reserve_credit(None, oid(2), usd(4_001));
        assert_eq!(
            out,
            CreditOutcome::Refused(
                CreditReservation {
                    order_id: oid(2),
                    customer_id: c.id(),
                    amount: usd(4_001),
                    status: ReservationStatus::Refused
                },
                CreditFailure::CreditLimitExceeded { requested: usd(4_001), available: usd(4_000) }
            )
        );
        assert_eq!(c.reserved_credit(), usd(6_000));
    }

    #[test]
    fn reserving_twice_for_one_order_changes_nothing() {
        let mut c = customer(10_000);
        let CreditOutcome::Reserved(r) = c.reserve_credit(None, oid(1), usd(1_000)) else { panic!("not reserved") };
        let before = c.clone();
        assert_eq!(c.reserve_credit(Some(&r), oid(1), usd(1_000)), CreditOutcome::AlreadyHandled);
        assert_eq!(c, before);
    }

    #[test]
    fn credit_in_another_currency_is_refused() {
        let mut c = customer(10_000);
        let eur = Money::new(10, Currency::EUR).unwrap();
        assert!(matches!(
            c.reserve_credit(None, oid(1), eur),
            CreditOutcome::Refused(_, CreditFailure::CurrencyMismatch)
        ));
    }

    #[test]
    fn releasing_an_unknown_reservation_leaves_a_tombstone_and_changes_nothing() {
        let mut c = customer(10_000);
        let before = c.clone();
        let out = c.release_credit(None, oid(3));
        assert!(
            matches!(out, ReleaseOutcome::Tombstone(r) if r.status == ReservationStatus::Released && r.amount.is_zero())
        );
        assert_eq!(c, before);
    }

    #[test]
    fn releasing_gives_the_amount_back_once() {
        let mut c = customer(10_000);
        let CreditOutcome::Reserved(r) = c.reserve_credit(None, oid(1), usd(2_500)) else { panic!("not reserved") };
        let ReleaseOutcome::Released(done) = c.release_credit(Some(&r), oid(1)) else { panic!("not released") };
        assert_eq!(c.available_credit(), usd(10_000));
        assert_eq!(c.release_credit(Some(&done), oid(1)), ReleaseOutcome::AlreadyHandled);
        assert_eq!(c.available_credit(), usd(10_000));
    }

    proptest! {
        /// Any interleaving of reserves (some repeated) and releases: the customer's reserved
        /// credit equals the sum of its active records and never exceeds the limit.
        #[test]
        fn reservations_never_exceed_the_limit(
            limit in 0i64..50_000,
            ops in prop::collection::vec((any::<bool>(), 0u128..8, 0i64..20_000), 0..60),
        ) {
            let mut c = customer(limit);
            let mut records: BTreeMap<OrderId, CreditReservation> = BTreeMap::new();
            for (reserve, order, amount) in ops {
                let id = oid(order);
                if reserve {
                    match c.reserve_credit(records.get(&id), id, usd(amount)) {
                        CreditOutcome::Reserved(r) | CreditOutcome::Refused(r, _) => { records.insert(id, r); }
                        CreditOutcome::AlreadyHandled => {}
                    }
                } else {
                    match c.release_credit(records.get(&id), id) {
                        ReleaseOutcome::Released(r) | ReleaseOutcome::Tombstone(r) => { records.insert(id, r); }
                        ReleaseOutcome::AlreadyHandled => {}
                    }
                }
                let active: i64 = records.values().filter(|r| r.status == ReservationStatus::Active).map(|r| r.amount.amount()).sum();
                prop_assert_eq!(c.reserved_credit().amount(), active);
                prop_assert!(active <= limit);
            }
        }
    }
}
