//! Typed identifiers. A `CustomerId` can never be passed where an `OrderId` is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{DomainError, Problem};

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn from_uuid(id: Uuid) -> Self {
                $name(id)
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            /// Accepts the hyphenated form only, so one id has one spelling in keys and URLs.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                if s.len() != 36 {
                    return Err(DomainError::invalid($field, Problem::BadFormat));
                }
                Uuid::parse_str(s)
                    .map($name)
                    .map_err(|_| DomainError::invalid($field, Problem::BadFormat))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

typed_id!(
    /// Identity of a customer; a UUID, written hyphenated.
    CustomerId,
    "customerId"
);
typed_id!(
    /// Identity of a product; a UUID, written hyphenated.
    ProductId,
    "productId"
);
typed_id!(
    /// Identity of an order; a UUID, written hyphenated. It is also the saga's correlation id.
    OrderId,
    "orderId"
);
typed_id!(
    /// Identity of one domain event; consumers record it to apply each event once.
    EventId,
    "eventId"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_the_hyphenated_form_only() {
        let s = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        assert_eq!(OrderId::from_str(s).unwrap().to_string(), s);
        assert!(OrderId::from_str("67e5504410b1426f9247bb680e5fe0c8").is_err());
        assert!(OrderId::from_str("not-a-uuid").is_err());
        assert!(OrderId::from_str("").is_err());
    }
}
