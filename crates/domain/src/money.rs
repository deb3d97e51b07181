//! Money: integer minor units with a currency. No floats anywhere, and no arithmetic that can
//! wrap or mix currencies without saying so.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Problem};

/// The currencies the shop prices in. Each has two minor-unit digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Currency {
    USD,
    EUR,
    GBP,
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Currency::USD => "USD",
            Currency::EUR => "EUR",
            Currency::GBP => "GBP",
        })
    }
}

impl std::str::FromStr for Currency {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "USD" => Ok(Currency::USD),
            "EUR" => Ok(Currency::EUR),
            "GBP" => Ok(Currency::GBP),
            _ => Err(DomainError::invalid("currency", Problem::BadFormat)),
        }
    }
}

/// A non-negative amount in minor units (cents) of one currency, at most [`Money::MAX_MINOR`].
///
/// The bound keeps every amount exactly representable as a JSON number (below 2^53), and every
/// operation that could leave the range returns [`DomainError::Overflow`] instead of wrapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(try_from = "RawMoney", into = "RawMoney")]
pub struct Money {
    amount: i64,
    currency: Currency,
}

#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
struct RawMoney {
    amount: i64,
    currency: Currency,
}

impl TryFrom<RawMoney> for Money {
    type Error = DomainError;
    fn try_from(raw: RawMoney) -> Result<Self, Self::Error> {
        Money::new(raw.amount, raw.currency)
    }
}

impl From<Money> for RawMoney {
    fn from(m: Money) -> Self {
        RawMoney { amount: m.amount, currency: m.currency }
    }
}

impl Money {
    /// One trillion major units: far above any order, far below 2^53.
    pub const MAX_MINOR: i64 = 100_000_000_000_000;

    pub fn new(amount: i64, currency: Currency) -> Result<Self, DomainError> {
        if !(0..=Self::MAX_MINOR).contains(&amount) {
            return Err(DomainError::invalid("amount", Problem::OutOfRange { min: 0, max: Self::MAX_MINOR }));
        }
        Ok(Money { amount, currency })
    }

    pub fn zero(currency: Currency) -> Self {
        Money { amount: 0, currency }
    }

    pub fn amount(&self) -> i64 {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.amount == 0
    }

    fn same_currency(&self, other: &Money) -> Result<(), DomainError> {
        if self.currency != other.currency {
            return Err(DomainError::CurrencyMismatch { left: self.currency, right: other.currency });
        }
        Ok(())
    }

    fn bounded(amount: Option<i64>, currency: Currency) -> Result<Money, DomainError> {
        match amount {
            Some(a) if (0..=Self::MAX_MINOR).contains(&a) => Ok(Money { amount: a, currency }),
            _ => Err(DomainError::Overflow),
        }
    }

    pub fn checked_add(&self, other: &Money) -> Result<Money, DomainError> {
        self.same_currency(other)?;
        Self::bounded(self.amount.checked_add(other.amount), self.currency)
    }

    /// Subtraction that refuses to go below zero.
    pub fn checked_sub(&self, other: &Money) -> Result<Money, DomainError> {
        self.same_currency(other)?;
        Self::bounded(self.amount.checked_sub(other.amount), self.currency)
    }

    /// Subtraction that stops at zero, for releasing more than is held.
    pub fn saturating_sub(&self, other: &Money) -> Result<Money, DomainError> {
        self.same_currency(other)?;
        Ok(Money { amount: (self.amount - other.amount).max(0), currency: self.currency })
    }

    pub fn checked_mul(&self, factor: u32) -> Result<Money, DomainError> {
        Self::bounded(self.amount.checked_mul(i64::from(factor)), self.currency)
    }

    /// Sums amounts of one currency; an empty iterator sums to zero of `currency`.
    pub fn sum<'a>(currency: Currency, items: impl IntoIterator<Item = &'a Money>) -> Result<Money, DomainError> {
        items.into_iter().try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02} {}", self.amount / 100, self.amount % 100, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd(a: i64) -> Money {
        Money::new(a, Currency::USD).unwrap()
    }

    #[test]
    fn negative_amounts_are_refused() {
        assert!(Money::new(-1, Currency::USD).is_err());
    }

    #[test]
    fn amounts_above_the_bound_are_refused() {
        assert!(Money::new(Money::MAX_MINOR + 1, Currency::USD).is_err());
        assert!(Money::new(Money::MAX_MINOR, Currency::USD).is_ok());
    }

    #[test]
    fn adding_different_currencies_is_refused() {
        let eur = Money::new(5, Currency::EUR).unwrap();
        assert_eq!(
            usd(5).checked_add(&eur),
            Err(DomainError::CurrencyMismatch { left: Currency::USD, right: Currency::EUR })
        );
    }

    #[test]
    fn subtracting_below_zero_is_an_error_not_a_wrap() {
        assert_eq!(usd(3).checked_sub(&usd(4)), Err(DomainError::Overflow));
        assert_eq!(usd(3).saturating_sub(&usd(4)).unwrap(), usd(0));
    }

    #[test]
    fn money_round_trips_through_json_and_validates_on_the_way_in() {
        let json = serde_json::to_string(&usd(1999)).unwrap();
        assert_eq!(json, r#"{"amount":1999,"currency":"USD"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), usd(1999));
        assert!(serde_json::from_str::<Money>(r#"{"amount":-5,"currency":"USD"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":5,"currency":"XXX"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":5.5,"currency":"USD"}"#).is_err());
    }

    #[test]
    fn display_shows_major_and_minor_units() {
        assert_eq!(usd(12345).to_string(), "123.45 USD");
    }

    proptest! {
        #[test]
        fn addition_never_overflows_silently(a in 0..=Money::MAX_MINOR, b in 0..=Money::MAX_MINOR) {
            match usd(a).checked_add(&usd(b)) {
                Ok(sum) => prop_assert_eq!(sum.amount(), a + b),
                Err(e) => {
                    prop_assert_eq!(e, DomainError::Overflow);
                    prop_assert!(a + b > Money::MAX_MINOR);
                }
            }
        }

        #[test]
        fn multiplication_never_overflows_silently(a in 0..=Money::MAX_MINOR, k in any::<u32>()) {
            match usd(a).checked_mul(k) {
                Ok(p) => prop_assert_eq!(i128::from(p.amount()), i128::from(a) * i128::from(k)),
                Err(_) => prop_assert!(i128::from(a) * i128::from(k) > i128::from(Money::MAX_MINOR)),
            }
        }

        #[test]
        fn subtraction_is_the_inverse_of_addition(a in 0..=Money::MAX_MINOR / 2, b in 0..=Money::MAX_MINOR / 2) {
            let sum = usd(a).checked_add(&usd(b)).unwrap();
            prop_assert_eq!(sum.checked_sub(&usd(b)).unwrap(), usd(a));
        }
    }
}
