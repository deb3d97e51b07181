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
