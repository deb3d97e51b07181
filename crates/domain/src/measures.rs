//! Counted and physical quantities: how many, how heavy, how big.

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Problem};

macro_rules! bounded_int {
    ($(#[$doc:meta])* $name:ident, $field:literal, $min:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        #[serde(try_from = "i64", into = "u32")]
        pub struct $name(u32);

        impl $name {
            pub const MIN: u32 = $min;
            pub const MAX: u32 = $max;
            pub fn new(n: i64) -> Result<Self, DomainError> {
                if n < i64::from(Self::MIN) || n > i64::from(Self::MAX) {
                    return Err(DomainError::invalid(
                        $field,
                        Problem::OutOfRange { min: i64::from(Self::MIN), max: i64::from(Self::MAX) },
                    ));
                }
                // In range, so the cast is exact.
                Ok($name(n as u32))
            }
            pub fn get(&self) -> u32 {
                self.0
            }
        }

        impl TryFrom<i64> for $name {
            type Error = DomainError;
            fn try_from(n: i64) -> Result<Self, Self::Error> {
                Self::new(n)
            }
        }

        impl From<$name> for u32 {
            fn from(v: $name) -> u32 {
                v.0
            }
        }
    };
}

bounded_int!(
    /// How many units of one product a line asks for: 1 to 999.
    Quantity,
    "quantity",
    1,
    999
);
bounded_int!(
    /// A parcel item's actual weight in grams: 1 g to 150 kg.
    Weight,
    "weightGrams",
    1,
    150_000
);
bounded_int!(
    /// One side of a box in centimetres: 1 to 300.
    Centimetres,
    "dimensionsCm",
    1,
    300
);
bounded_int!(
    /// Units a product has on hand: 0 to one million.
    StockLevel,
    "stock",
    0,
    1_000_000
);

bounded_int!(
    /// How many stock shards (items) a product's units are spread over: 1 (an ordinary product)
    /// to 64. More shards carry more reservations a second; each costs one more item to read.
    ShardCount,
    "shards",
    1,
    64
);

bounded_int!(
    /// Units added to a product's stock at once: 1 to one million.
    RestockQuantity,
    "quantity",
    1,
    1_000_000
);

/// The outer size of one unit of a product. Each side is 1..=300 cm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Dimensions {
    pub length: Centimetres,
    pub width: Centimetres,
    pub height: Centimetres,
}

impl Dimensions {
    pub fn new(length: i64, width: i64, height: i64) -> Result<Self, DomainError> {
        Ok(Dimensions {
            length: Centimetres::new(length)?,
            width: Centimetres::new(width)?,
            height: Centimetres::new(height)?,
        })
    }

    /// Volumetric weight in grams with the carriers' divisor of 5000 cm³/kg, rounded up.
    pub fn volumetric_grams(&self) -> u64 {
        let cm3 = u64::from(self.length.get()) * u64::from(self.width.get()) * u64::from(self.height.get());
        // cm³ / 5000 kg = cm³ / 5 g
        cm3.div_ceil(5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_is_between_1_and_999() {
        assert!(Quantity::new(0).is_err());
        assert!(Quantity::new(-3).is_err());
        assert!(Quantity::new(1000).is_err());
        assert_eq!(Quantity::new(1).unwrap().get(), 1);
        assert_eq!(Quantity::new(999).unwrap().get(), 999);
    }

    #[test]
    fn quantity_from_json_rejects_fractions_strings_and_out_of_range() {
        assert_eq!(serde_json::from_str::<Quantity>("3").unwrap().get(), 3);
        for bad in ["0", "1000", "-1", "2.5", "\"3\"", "null", "99999999999999999999"] {
            assert!(serde_json::from_str::<Quantity>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn weight_and_sides_are_bounded() {
        assert!(Weight::new(0).is_err());
        assert!(Weight::new(150_001).is_err());
        assert!(Dimensions::new(10, 0, 10).is_err());
        assert!(Dimensions::new(10, 10, 301).is_err());
    }

    #[test]
    fn volumetric_weight_uses_divisor_5000_and_rounds_up() {
        // 50 x 40 x 30 = 60,000 cm³ → 12 kg
        assert_eq!(Dimensions::new(50, 40, 30).unwrap().volumetric_grams(), 12_000);
        // 1 cm³ → 0.2 g → 1 g
        assert_eq!(Dimensions::new(1, 1, 1).unwrap().volumetric_grams(), 1);
    }

    #[test]
    fn stock_may_be_zero_but_not_negative() {
        assert_eq!(StockLevel::new(0).unwrap().get(), 0);
        assert!(StockLevel::new(-1).is_err());
        assert!(StockLevel::new(1_000_001).is_err());
    }
}
