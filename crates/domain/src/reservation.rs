//! What is common to stock and credit reservations: one record per order in each context.
//!
//! A reservation is its own record, keyed by order, next to a counter on the aggregate: the set of
//! reservations grows without bound, an aggregate item must not (DynamoDB items stop at 400 KB).
//! The record is what makes the steps idempotent per order, whatever event delivered them.

use serde::{Deserialize, Serialize};

/// The life of one order's reservation in one context. Only `Active` holds anything.
/// `Released` with nothing ever held is a tombstone: a release that overtook its reserve, which
/// then finds the record and does nothing, so a late reservation cannot leak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReservationStatus {
    Active,
    Released,
    Refused,
}

/// What a release decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseOutcome<R> {
    /// An active reservation was given back; the record is now `Released`.
    Released(R),
    /// Nothing was reserved yet: record a tombstone so a late reserve is refused.
    Tombstone(R),
    /// Already released or refused: nothing to do.
    AlreadyHandled,
}

/// A change of an aggregate's held counter (a product's reserved units, a customer's reserved
/// credit in minor units) by `delta`: positive holds more, negative gives back. The rule that
/// makes it safe is the aggregate's invariant itself, so a store can apply it atomically, as a
/// condition on the stored counter, without reading the aggregate's version: concurrent holds
/// on one hot aggregate never conflict, they only fail when the invariant would break.
///
/// `basis` is the bound the decision was taken against (a product's units on hand, a customer's
/// credit limit): the hold is applied only while the stored aggregate still has that bound, so a
/// concurrent restock or limit change sends the step back to decide again instead of holding
/// against a bound that moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hold {
    pub delta: i64,
    pub basis: i64,
}

impl Hold {
    /// Whether holding `delta` more on top of `held`, under `bound`, keeps `held <= bound` (and
    /// `bound` the one decided on) for a hold and `held >= 0` for a release: the rule both stores
    /// enforce.
    pub fn allowed(&self, held: i64, bound: i64) -> bool {
        // A release gives back what is held, whatever the bound does meanwhile.
        if self.delta > 0 && bound != self.basis {
            return false;
        }
        let Some(after) = held.checked_add(self.delta) else { return false };
        if self.delta > 0 {
            after <= bound
        } else {
            after >= 0
        }
    }

    /// The largest stored counter a hold may find (`basis - delta`), `None` when even an empty
    /// counter would break the bound; for a release, the smallest (`-delta`).
    pub fn threshold(&self) -> Option<i64> {
        if self.delta > 0 {
            self.basis.checked_sub(self.delta).filter(|t| *t >= 0)
        } else {
            self.delta.checked_neg()
        }
    }
}

/// A hold the invariant does not allow now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the hold would break the invariant (not enough left, or less held than released)")]
pub struct HoldRefused;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_keeps_the_counter_within_its_bound_and_a_release_above_zero() {
        let hold = |delta, basis| Hold { delta, basis };
        assert!(hold(3, 10).allowed(7, 10), "exactly up to the bound");
        assert!(!hold(3, 10).allowed(8, 10), "one over");
        assert!(!hold(3, 10).allowed(0, 12), "the bound moved since the decision");
        assert!(hold(-3, 10).allowed(3, 12), "a release ignores the bound");
        assert!(!hold(-3, 10).allowed(2, 10), "less held than released");
        assert!(!hold(i64::MAX, 10).allowed(1, 10), "no overflow");
        assert_eq!(hold(3, 10).threshold(), Some(7));
        assert_eq!(hold(11, 10).threshold(), None, "more than the bound can ever hold");
        assert_eq!(hold(-4, 10).threshold(), Some(4));
    }
}
