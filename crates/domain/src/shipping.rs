//! ShippingCostService: what it costs to send a set of items to an address at a given speed.
//!
//! The price is `base + per_kg × started kilograms` of chargeable weight, from a table of rates per
//! zone and speed. Chargeable weight is, item by item, the larger of actual and volumetric weight.
//! Standard shipping is free inside the country above a subtotal threshold. Pure: no I/O.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Problem};
use crate::measures::{Dimensions, Quantity, Weight};
use crate::money::{Currency, Money};
use crate::text::{Address, CountryCode};

/// How fast a parcel travels. Ordered from slowest to fastest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ShippingSpeed {
    Standard,
    Express,
    Overnight,
}

impl ShippingSpeed {
    pub const ALL: [ShippingSpeed; 3] = [ShippingSpeed::Standard, ShippingSpeed::Express, ShippingSpeed::Overnight];

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for ShippingSpeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ShippingSpeed::Standard => "standard",
            ShippingSpeed::Express => "express",
            ShippingSpeed::Overnight => "overnight",
        })
    }
}

impl std::str::FromStr for ShippingSpeed {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "standard" => Ok(ShippingSpeed::Standard),
            "express" => Ok(ShippingSpeed::Express),
            "overnight" => Ok(ShippingSpeed::Overnight),
            _ => Err(DomainError::invalid("shippingSpeed", Problem::BadFormat)),
        }
    }
}

/// Distance class from the warehouse to the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Zone {
    /// Same region of the same country.
    Local,
    /// Same country, another region.
    Domestic,
    /// Another country.
    International,
}

impl Zone {
    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Zone::Local => "local",
            Zone::Domestic => "domestic",
            Zone::International => "international",
        })
    }
}

/// A tariff: a fixed part plus a price per started kilogram, both in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub base: i64,
    pub per_kg: i64,
}

/// One kind of item in a parcel: a unit's weight and size, and how many units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ShippingItem {
    pub weight: Weight,
    pub dimensions: Dimensions,
    pub quantity: Quantity,
}

/// The answer to "what does shipping cost": never negative, in the service's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ShippingQuote {
    pub zone: Zone,
    pub speed: ShippingSpeed,
    pub chargeable_grams: u64,
    pub cost: Money,
    pub free_shipping_applied: bool,
}

/// The tariff table and the warehouse it ships from. Invariant: within a zone, a faster speed never
/// has a lower base or per-kilogram rate than a slower one (so faster never costs less).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippingCostService {
    origin_region: String,
    origin_country: CountryCode,
    currency: Currency,
    rates: [[Option<Rate>; 3]; 3],
    free_standard_from: Money,
}

impl ShippingCostService {
    /// The shop's tariff, in US cents:
    ///
    /// | zone          | standard     | express      | overnight    |
    /// |---------------|--------------|--------------|--------------|
    /// | local         | 4.99 + 1.00  | 9.99 + 1.50  | 19.99 + 2.50 |
    /// | domestic      | 7.99 + 1.50  | 14.99 + 2.50 | 29.99 + 4.00 |
    /// | international | 19.99 + 5.00 | 39.99 + 8.00 | not offered  |
    ///
    /// (base + per started kg). Standard shipping is free in local and domestic zones from a
    /// subtotal of 100.00.
    pub fn standard_tariff(origin_region: &str, origin_country: CountryCode) -> Self {
        let r = |base, per_kg| Some(Rate { base, per_kg });
        ShippingCostService {
            origin_region: origin_region.trim().to_lowercase(),
            origin_country,
            currency: Currency::USD,
            rates: [
                [r(499, 100), r(999, 150), r(1999, 250)],
                [r(799, 150), r(1499, 250), r(2999, 400)],
                [r(1999, 500), r(3999, 800), None],
            ],
            free_standard_from: Money::new(10_000, Currency::USD).unwrap_or(Money::zero(Currency::USD)),
        }
    }

    pub fn zone(&self, destination: &Address) -> Zone {
        let same_country = self.origin_country == destination.country();
        if same_country && self.origin_region == destination.region().to_lowercase() {
            Zone::Local
        } else if same_country {
            Zone::Domestic
        } else {
            Zone::International
        }
    }

    pub fn offers(&self, zone: Zone, speed: ShippingSpeed) -> bool {
        self.rates[zone.index()][speed.index()].is_some()
    }

    /// Refuses a speed the destination's zone does not offer; used when an order is placed, so a
    /// customer hears "no overnight abroad" at once rather than as a rejection later.
    pub fn check_offered(&self, destination: &Address, speed: ShippingSpeed) -> Result<Zone, DomainError> {
        let zone = self.zone(destination);
        if self.offers(zone, speed) {
            Ok(zone)
        } else {
            Err(DomainError::ShippingUnavailable { zone, speed })
        }
    }

    /// Sum over items of max(actual, volumetric) weight × quantity, in grams.
    pub fn chargeable_grams(items: &[ShippingItem]) -> u64 {
        items
            .iter()
            .map(|i| {
                let unit = u64::from(i.weight.get()).max(i.dimensions.volumetric_grams());
                unit * u64::from(i.quantity.get())
            })
            .sum()
    }

    pub fn quote(
        &self,
        destination: &Address,
        speed: ShippingSpeed,
        items: &[ShippingItem],
        subtotal: Money,
    ) -> Result<ShippingQuote, DomainError> {
        if subtotal.currency() != self.currency {
            return Err(DomainError::CurrencyMismatch { left: self.currency, right: subtotal.currency() });
        }
        let zone = self.check_offered(destination, speed)?;
        let rate = self.rates[zone.index()][speed.index()].ok_or(DomainError::ShippingUnavailable { zone, speed })?;
        let chargeable_grams = Self::chargeable_grams(items);
        let free = speed == ShippingSpeed::Standard
            && zone != Zone::International
            && subtotal.amount() >= self.free_standard_from.amount();
        let cost = if free {
            Money::zero(self.currency)
        } else {
            let kgs = i64::try_from(chargeable_grams.div_ceil(1000)).map_err(|_| DomainError::Overflow)?;
            let amount =
                rate.per_kg.checked_mul(kgs).and_then(|v| v.checked_add(rate.base)).ok_or(DomainError::Overflow)?;
            Money::new(amount, self.currency).map_err(|_| DomainError::Overflow)?
        };
        Ok(ShippingQuote { zone, speed, chargeable_grams, cost, free_shipping_applied: free })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn to(region: &str, country: &str) -> Address {
        Address::new("9 Elm St", "Town", region, "12345", country).unwrap()
    }
    fn item(grams: i64, l: i64, w: i64, h: i64, qty: i64) -> ShippingItem {
        ShippingItem {
            weight: Weight::new(grams).unwrap(),
            dimensions: Dimensions::new(l, w, h).unwrap(),
            quantity: Quantity::new(qty).unwrap(),
        }
    }
    fn usd(a: i64) -> Money {
        Money::new(a, Currency::USD).unwrap()
    }
    fn svc() -> ShippingCostService {
        ShippingCostService::standard_tariff("OH", CountryCode::parse("US").unwrap())
    }

    #[test]
    fn zone_follows_region_and_country() {
        assert_eq!(svc().zone(&to("OH", "US")), Zone::Local);
        assert_eq!(svc().zone(&to("oh", "US")), Zone::Local);
        assert_eq!(svc().zone(&to("CA", "US")), Zone::Domestic);
        assert_eq!(svc().zone(&to("OH", "CA")), Zone::International);
    }

    #[test]
    fn chargeable_weight_takes_the_larger_of_actual_and_volumetric() {
        // heavy and small: actual wins
        assert_eq!(ShippingCostService::chargeable_grams(&[item(2_000, 10, 10, 10, 1)]), 2_000);
        // light and bulky: 60x50x40 = 120,000 cm³ → 24 kg volumetric
        assert_eq!(ShippingCostService::chargeable_grams(&[item(500, 60, 50, 40, 1)]), 24_000);
        // per item, times quantity, summed
        assert_eq!(
            ShippingCostService::chargeable_grams(&[item(300, 10, 10, 10, 3), item(100, 50, 40, 30, 2)]),
            900 + 24_000
        );
    }

    /// (destination region, country, speed, grams per unit, qty, subtotal) → cost in cents.
    #[test]
    fn the_tariff_table_is_pinned() {
        let cases: &[(&str, &str, ShippingSpeed, i64, i64, i64, i64)] = &[
            ("OH", "US", ShippingSpeed::Standard, 1_000, 1, 5_000, 499 + 100),
            ("OH", "US", ShippingSpeed::Standard, 1_001, 1, 5_000, 499 + 200),
            ("OH", "US", ShippingSpeed::Express, 2_500, 1, 5_000, 999 + 3 * 150),
            ("OH", "US", ShippingSpeed::Overnight, 500, 2, 5_000, 1999 + 250),
            ("CA", "US", ShippingSpeed::Standard, 4_000, 1, 9_999, 799 + 4 * 150),
            ("CA", "US", ShippingSpeed::Express, 4_000, 1, 9_999, 1499 + 4 * 250),
            ("CA", "US", ShippingSpeed::Overnight, 10_000, 1, 50_000, 2999 + 10 * 400),
            ("ON", "CA", ShippingSpeed::Standard, 1_000, 3, 50_000, 1999 + 3 * 500),
            ("ON", "CA", ShippingSpeed::Express, 1_000, 1, 50_000, 3999 + 800),
            // free standard shipping from 100.00 inside the country
            ("OH", "US", ShippingSpeed::Standard, 20_000, 1, 10_000, 0),
            ("CA", "US", ShippingSpeed::Standard, 20_000, 1, 10_000, 0),
            // ...but not for faster speeds nor abroad
            ("CA", "US", ShippingSpeed::Express, 1_000, 1, 10_000, 1499 + 250),
            ("ON", "CA", ShippingSpeed::Standard, 1_000, 1, 10_000, 1999 + 500),
        ];
        for &(region, country, speed, grams, qty, subtotal, want) in cases {
            let q = svc().quote(&to(region, country), speed, &[item(grams, 10, 10, 10, qty)], usd(subtotal)).unwrap();
            assert_eq!(q.cost, usd(want), "{region} {country} {speed} {grams}g x{qty} subtotal {subtotal}");
            assert_eq!(q.free_shipping_applied, want == 0);
        }
    }

    #[test]
    fn overnight_is_not_offered_abroad() {
        let err = svc()
            .quote(&to("ON", "CA"), ShippingSpeed::Overnight, &[item(1_000, 10, 10, 10, 1)], usd(100))
            .unwrap_err();
        assert_eq!(
            err,
            DomainError::ShippingUnavailable { zone: Zone::International, speed: ShippingSpeed::Overnight }
        );
    }

    #[test]
    fn a_subtotal_in_another_currency_is_refused() {
        let eur = Money::new(100, Currency::EUR).unwrap();
        assert!(matches!(
            svc().quote(&to("OH", "US"), ShippingSpeed::Standard, &[item(1, 1, 1, 1, 1)], eur),
            Err(DomainError::CurrencyMismatch { .. })
        ));
    }

    fn any_destination() -> impl Strategy<Value = Address> {
        prop_oneof![Just(to("OH", "US")), Just(to("CA", "US")), Just(to("ON", "CA")), Just(to("BY", "DE"))]
    }

    fn any_item() -> impl Strategy<Value = ShippingItem> {
        (1i64..=150_000, 1i64..=300, 1i64..=300, 1i64..=300, 1i64..=999).prop_map(|(g, l, w, h, q)| item(g, l, w, h, q))
    }

    proptest! {
        #[test]
        fn cost_never_decreases_with_weight(
            dest in any_destination(),
            speed in prop::sample::select(ShippingSpeed::ALL.to_vec()),
            items in prop::collection::vec(any_item(), 1..5),
            extra in any_item(),
            subtotal in 0i64..20_000,
        ) {
            let s = svc();
            if let Ok(before) = s.quote(&dest, speed, &items, usd(subtotal)) {
                let mut heavier = items.clone();
                heavier.push(extra);
                let after = s.quote(&dest, speed, &heavier, usd(subtotal)).unwrap();
                prop_assert!(after.cost.amount() >= before.cost.amount());
            }
        }

        #[test]
        fn a_faster_speed_never_costs_less(
            dest in any_destination(),
            items in prop::collection::vec(any_item(), 1..5),
            subtotal in 0i64..20_000,
        ) {
            let s = svc();
            let costs: Vec<i64> = ShippingSpeed::ALL
                .iter()
                .filter_map(|&sp| s.quote(&dest, sp, &items, usd(subtotal)).ok())
                .map(|q| q.cost.amount())
                .collect();
            prop_assert!(costs.windows(2).all(|w| w[0] <= w[1]), "{costs:?}");
        }

        #[test]
        fn the_free_shipping_threshold_holds(
            dest in any_destination(),
            items in prop::collection::vec(any_item(), 1..5),
            subtotal in 0i64..20_000,
        ) {
            let s = svc();
            let q = s.quote(&dest, ShippingSpeed::Standard, &items, usd(subtotal)).unwrap();
            let free_expected = subtotal >= 10_000 && q.zone != Zone::International;
            prop_assert_eq!(q.cost.is_zero(), free_expected);
            prop_assert_eq!(q.free_shipping_applied, free_expected);
        }
    }
}
