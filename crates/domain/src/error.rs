//! The one error type of the domain layer. Adapters and handlers wrap it in their own enums.

use crate::money::Currency;
use crate::order::OrderStatus;
use crate::shipping::{ShippingSpeed, Zone};

/// Why a value was refused at construction. Kept small and machine-readable so the HTTP layer
/// can name the field and the problem without parsing a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("has an invalid format")]
    BadFormat,
    #[error("must be between {min} and {max}")]
    OutOfRange { min: i64, max: i64 },
    #[error("contains control, invisible or direction-changing characters")]
    ControlCharacters,
}

/// Every refusal the model can make. A variant per kind, so callers match instead of parsing text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{field} {problem}")]
    Invalid { field: &'static str, problem: Problem },
    #[error("cannot combine {left} with {right}")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("amount out of range")]
    Overflow,
    /// A restock that would take the stock on hand past its ceiling: a fact of the product's
    /// state, not of the request's shape.
    #[error("stock on hand may not exceed {max}; at most {room} more can be added")]
    StockCeiling { max: u32, room: u32 },
    #[error("an order in state {from} cannot be {action}")]
    InvalidTransition { from: OrderStatus, action: &'static str },
    #[error("an order needs between 1 and {max} lines")]
    LineCount { max: usize },
    #[error("product {0} appears on more than one line")]
    DuplicateLine(uuid::Uuid),
    #[error("the order is already priced")]
    AlreadyPriced,
    #[error("the order has not been priced yet")]
    NotPriced,
    #[error("the reserved lines do not match the order lines")]
    ReservationMismatch,
    #[error("product {0} is not in the catalogue")]
    NotInCatalogue(uuid::Uuid),
    #[error("the product is discontinued")]
    Discontinued,
    #[error("{speed} shipping is not offered in the {zone} zone")]
    ShippingUnavailable { zone: Zone, speed: ShippingSpeed },
}

impl DomainError {
    pub(crate) fn invalid(field: &'static str, problem: Problem) -> Self {
        DomainError::Invalid { field, problem }
    }
}

/// A stored aggregate that breaks one of its invariants: what a snapshot read back from storage
/// (or any other outside source) becomes when it could not have been produced by the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a stored {kind} breaks its invariant: {rule}")]
pub struct Inconsistent {
    pub kind: &'static str,
    pub rule: &'static str,
}

/// `Ok(())` when `holds`, else the broken rule of `kind`.
pub(crate) fn ensure(holds: bool, kind: &'static str, rule: &'static str) -> Result<(), Inconsistent> {
    if holds {
        Ok(())
    } else {
        Err(Inconsistent { kind, rule })
    }
}
