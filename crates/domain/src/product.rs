//! The Product aggregate (catalogue entry and stock) and the reservation of an order's stock
//! across several products at once, all or nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{ensure, DomainError, Inconsistent};
use crate::events::{
    LineRequest, Listing, ProductAdded, ProductDiscontinued, ProductUpdated, ReservedLine, StockAdded, StockFailure,
    StockResharded,
};
use crate::ids::{OrderId, ProductId};
use crate::measures::{Dimensions, RestockQuantity, ShardCount, StockLevel, Weight};
use crate::money::Money;
use crate::reservation::{Hold, HoldRefused, ReleaseOutcome, ReservationStatus};
use crate::stock::{self, ShardHold, StockShard};
use crate::text::ProductName;

/// A product. Its stock lives in K shards ([`crate::stock`]): shard 0 is `on_hand`/`reserved`,
/// shards 1..K are `shards`. Invariant: in every shard `reserved <= on_hand`, so `available` is
/// never negative; the reserved units summed over the shards are the quantities of this
/// product's active reservations; at most [`ShardCount::MAX`] shards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", try_from = "ProductSnapshot")]
pub struct Product {
    id: ProductId,
    name: ProductName,
    price: Money,
    weight: Weight,
    dimensions: Dimensions,
    on_hand: u32,
    reserved: u32,
    /// Shards 1..K of the stock (none for an ordinary product, K = 1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    shards: Vec<StockShard>,
    created_at: DateTime<Utc>,
    /// 1 when added, one more per catalogue change (name, price, discontinuation).
    revision: u32,
    /// When the product stopped being sold; orders placed since are refused.
    discontinued_at: Option<DateTime<Utc>>,
}

/// A product as stored, before its invariants are checked: the only way back into a [`Product`].
#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ProductSnapshot {
    id: ProductId,
    name: ProductName,
    price: Money,
    weight: Weight,
    dimensions: Dimensions,
    on_hand: u32,
    reserved: u32,
    #[serde(default)]
    shards: Vec<StockShard>,
    created_at: DateTime<Utc>,
    /// Products stored before revisions were counted are at revision 1.
    #[serde(default = "first_revision")]
    revision: u32,
    #[serde(default)]
    discontinued_at: Option<DateTime<Utc>>,
}

fn first_revision() -> u32 {
    1
}

impl TryFrom<ProductSnapshot> for Product {
    type Error = Inconsistent;

    fn try_from(s: ProductSnapshot) -> Result<Product, Inconsistent> {
        ensure(s.reserved <= s.on_hand, "product", "reserved <= on hand")?;
        let total = s.shards.iter().fold(u64::from(s.on_hand), |t, x| t + u64::from(x.on_hand()));
        ensure(total <= u64::from(StockLevel::MAX), "product", "on hand within the stock limit")?;
        ensure(s.shards.len() < ShardCount::MAX as usize, "product", "at most 64 stock shards")?;
        ensure(s.revision >= 1, "product", "revisions start at 1")?;
        Ok(Product {
            id: s.id,
            name: s.name,
            price: s.price,
            weight: s.weight,
            dimensions: s.dimensions,
            on_hand: s.on_hand,
            reserved: s.reserved,
            shards: s.shards,
            created_at: s.created_at,
            revision: s.revision,
            discontinued_at: s.discontinued_at,
        })
    }
}

/// The stock held for one order, every line of it. Invariant: `lines` are exactly what was
/// reserved (empty for a tombstone or a refusal); only `Active` records count as held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", try_from = "StockReservationSnapshot")]
pub struct StockReservation {
    pub order_id: OrderId,
    pub lines: Vec<LineRequest>,
    pub status: ReservationStatus,
    /// Where the lines of sharded products (K > 1 when held) are held. A line it does not name
    /// is held in shard 0.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardHold>,
}

/// A stock reservation as stored, before its invariants are checked.
#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct StockReservationSnapshot {
    order_id: OrderId,
    lines: Vec<LineRequest>,
    status: ReservationStatus,
    #[serde(default)]
    shards: Vec<ShardHold>,
}

impl TryFrom<StockReservationSnapshot> for StockReservation {
    type Error = Inconsistent;

    fn try_from(s: StockReservationSnapshot) -> Result<StockReservation, Inconsistent> {
        const KIND: &str = "stock reservation";
        ensure(s.status != ReservationStatus::Active || !s.lines.is_empty(), KIND, "an active one holds lines")?;
        ensure(s.status != ReservationStatus::Refused || s.lines.is_empty(), KIND, "a refused one holds nothing")?;
        let distinct: std::collections::BTreeSet<ProductId> = s.lines.iter().map(|l| l.product_id).collect();
        ensure(distinct.len() == s.lines.len(), KIND, "one line per product")?;
        let split_as_held = s.lines.iter().all(|l| {
            let parts = s.shards.iter().filter(|h| h.product_id == l.product_id);
            parts.clone().next().is_none()
                || parts.map(|h| u64::from(h.quantity)).sum::<u64>() == u64::from(l.quantity.get())
        });
        ensure(split_as_held, KIND, "a line's shards hold exactly its quantity")?;
        ensure(s.shards.iter().all(|h| distinct.contains(&h.product_id)), KIND, "shards hold only its lines")?;
        Ok(StockReservation { order_id: s.order_id, lines: s.lines, status: s.status, shards: s.shards })
    }
}

/// What reserving an order's stock decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockOutcome {
    /// Every line is held; the lines carry what pricing needs.
    Reserved(StockReservation, Vec<ReservedLine>),
    /// Nothing is held; the first line that failed says why.
    Refused(StockReservation, StockFailure),
    /// The order already has a record: reserving again changes nothing.
    AlreadyHandled,
}

impl Product {
    pub fn add(
        id: ProductId,
        name: ProductName,
        price: Money,
        weight: Weight,
        dimensions: Dimensions,
        stock: StockLevel,
        now: DateTime<Utc>,
    ) -> (Product, ProductAdded) {
        let event = ProductAdded {
            product_id: id,
            name: name.as_str().to_owned(),
            price,
            weight,
            dimensions,
            stock: stock.get(),
        };
        let p = Product {
            id,
            name,
            price,
            weight,
            dimensions,
            on_hand: stock.get(),
            reserved: 0,
            shards: vec![],
            created_at: now,
            revision: 1,
            discontinued_at: None,
        };
        (p, event)
    }

    /// How the catalogue lists the product now.
    pub fn listing(&self) -> Listing {
        Listing {
            product_id: self.id,
            name: self.name.as_str().to_owned(),
            price: self.price,
            weight: self.weight,
            dimensions: self.dimensions,
            sold: self.discontinued_at.is_none(),
            revision: self.revision,
        }
    }

    /// Renames and/or reprices the product (a discontinued one too: its listing stays accurate).
    /// `None` when nothing changes. Orders already placed keep the price they were placed at.
    pub fn update(&mut self, name: Option<ProductName>, price: Option<Money>) -> Option<ProductUpdated> {
        let name = name.filter(|n| *n != self.name);
        let price = price.filter(|p| *p != self.price);
        if name.is_none() && price.is_none() {
            return None;
        }
        if let Some(n) = name {
            self.name = n;
        }
        if let Some(p) = price {
            self.price = p;
        }
        self.revision += 1;
        Some(ProductUpdated { listing: self.listing() })
    }

    /// Adds `quantity` units to the stock on hand; reservations are untouched. A discontinued
    /// product takes no more stock.
    pub fn restock(&mut self, quantity: RestockQuantity) -> Result<StockAdded, DomainError> {
        if self.discontinued_at.is_some() {
            return Err(DomainError::Discontinued);
        }
        let total = self.on_hand();
        let on_hand = total
            .checked_add(quantity.get())
            .filter(|n| *n <= StockLevel::MAX)
            .ok_or(DomainError::StockCeiling { max: StockLevel::MAX, room: StockLevel::MAX.saturating_sub(total) })?;
        let mut shards = self.stock_shards();
        stock::restock(&mut shards, quantity.get());
        self.set_shards(shards);
        Ok(StockAdded { product_id: self.id, quantity: quantity.get(), on_hand })
    }

    /// Spreads the stock over `k` shards (see [`crate::stock`]): the units on hand and reserved
    /// stay the same in sum; reservations of a shard that goes keep their units in shard
    /// `n mod k`. `None` when the product has `k` shards already. A discontinued product may
    /// still change K (its reservations are still released).
    pub fn reshard(&mut self, k: ShardCount) -> Option<StockResharded> {
        let k = k.get() as usize;
        let shards = self.stock_shards();
        if shards.len() == k {
            return None;
        }
        self.set_shards(stock::reshard(&shards, k));
        Some(StockResharded { product_id: self.id, shards: k as u32, on_hand: self.on_hand() })
    }

    /// The stock shards, shard 0 first (one for an ordinary product).
    pub fn stock_shards(&self) -> Vec<StockShard> {
        let mut v = Vec::with_capacity(1 + self.shards.len());
        v.push(StockShard::new(self.on_hand, self.reserved).unwrap_or_default());
        v.extend(self.shards.iter().copied());
        v
    }

    /// How many shards hold the stock (K).
    pub fn shard_count(&self) -> u32 {
        1 + self.shards.len() as u32
    }

    /// The same product with shards 1..K replaced by `extra` (K becomes `extra.len() + 1`): how
    /// a store puts back together a product whose shards are items of their own.
    pub fn with_extra_shards(mut self, extra: Vec<StockShard>) -> Result<Product, Inconsistent> {
        ensure(extra.len() < ShardCount::MAX as usize, "product", "at most 64 stock shards")?;
        self.shards = extra;
        let total = self.stock_shards().iter().map(|s| u64::from(s.on_hand())).sum::<u64>();
        ensure(total <= u64::from(StockLevel::MAX), "product", "on hand within the stock limit")?;
        Ok(self)
    }

    fn set_shards(&mut self, shards: Vec<StockShard>) {
        let mut it = shards.into_iter();
        let first = it.next().unwrap_or_default();
        self.on_hand = first.on_hand();
        self.reserved = first.reserved();
        self.shards = it.collect();
    }

    /// Stops selling the product: orders placed from `now` on are refused; reservations already
    /// made are kept. `None` when it was discontinued already.
    pub fn discontinue(&mut self, now: DateTime<Utc>) -> Option<ProductDiscontinued> {
        if self.discontinued_at.is_some() {
            return None;
        }
        self.discontinued_at = Some(now);
        self.revision += 1;
        Some(ProductDiscontinued { listing: self.listing() })
    }

    /// Whether an order placed at `placed_at` may have this product: it was still sold then.
    pub fn sold_at(&self, placed_at: DateTime<Utc>) -> bool {
        self.discontinued_at.is_none_or(|d| placed_at < d)
    }

    pub fn discontinued_at(&self) -> Option<DateTime<Utc>> {
        self.discontinued_at
    }

    pub fn revision(&self) -> u32 {
        self.revision
    }

    pub fn id(&self) -> ProductId {
        self.id
    }
    pub fn name(&self) -> &ProductName {
        &self.name
    }
    pub fn price(&self) -> Money {
        self.price
    }
    pub fn weight(&self) -> Weight {
        self.weight
    }
    pub fn dimensions(&self) -> Dimensions {
        self.dimensions
    }
    /// Units on hand, summed over the shards.
    pub fn on_hand(&self) -> u32 {
        self.shards.iter().fold(self.on_hand, |t, s| t.saturating_add(s.on_hand()))
    }
    /// Units reserved, summed over the shards.
    pub fn reserved(&self) -> u32 {
        self.shards.iter().fold(self.reserved, |t, s| t.saturating_add(s.reserved()))
    }
    /// Units nobody holds, summed over the shards.
    pub fn available(&self) -> u32 {
        self.on_hand().saturating_sub(self.reserved())
    }
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// The holds, one per shard that moved, that take each shard's reserved units from what
    /// `before` had to what it has now, against the units on hand the decision saw (the same
    /// shards: holds never change K).
    pub fn hold_since(&self, before: &Product) -> Vec<(u16, Hold)> {
        let (now, then) = (self.stock_shards(), before.stock_shards());
        now.iter()
            .zip(&then)
            .enumerate()
            .filter_map(|(n, (a, b))| {
                let delta = i64::from(a.reserved()) - i64::from(b.reserved());
                (delta != 0).then_some((n as u16, Hold { delta, basis: i64::from(b.on_hand()) }))
            })
            .collect()
    }

    /// Applies `hold` to the reserved units of shard `shard`, only while that shard's invariant
    /// allows it (`reserved <= on_hand`, against the on-hand units the hold was decided on).
    pub fn apply_hold(&mut self, shard: u16, hold: Hold) -> Result<(), HoldRefused> {
        let mut shards = self.stock_shards();
        let s = shards.get_mut(usize::from(shard)).ok_or(HoldRefused)?;
        *s = s.apply_hold(hold)?;
        self.set_shards(shards);
        Ok(())
    }
}

/// Reserves every line of `order_id` or none. `products` holds the products the lines name that
/// exist; the ones that change are updated in place.
///
/// Each line is held in the product's shards as [`crate::stock`] says, from shard
/// `start mod K` on: the caller draws `start` at random so concurrent orders spread over the
/// shards.
pub fn reserve_stock(
    order_id: OrderId,
    lines: &[LineRequest],
    products: &mut BTreeMap<ProductId, Product>,
    existing: Option<&StockReservation>,
    start: u32,
) -> StockOutcome {
    if existing.is_some() {
        return StockOutcome::AlreadyHandled;
    }
    let refuse = |failure| {
        StockOutcome::Refused(
            StockReservation { order_id, lines: vec![], status: ReservationStatus::Refused, shards: vec![] },
            failure,
        )
    };
    let mut reserved_lines = Vec::with_capacity(lines.len());
    for l in lines {
        let Some(p) = products.get(&l.product_id) else {
            return refuse(StockFailure::UnknownProduct { product_id: l.product_id });
        };
        if p.available() < l.quantity.get() {
            return refuse(StockFailure::InsufficientStock {
                product_id: l.product_id,
                requested: l.quantity.get(),
                available: p.available(),
            });
        }
        reserved_lines.push(ReservedLine {
            product_id: p.id,
            quantity: l.quantity,
            unit_price: p.price,
            weight: p.weight,
            dimensions: p.dimensions,
        });
    }
    // All checks passed (lines name distinct products, so each check saw the final state, and
    // a product with enough units in sum always has a placement).
    let mut held = vec![];
    for l in lines {
        if let Some(p) = products.get_mut(&l.product_id) {
            let mut shards = p.stock_shards();
            let parts = stock::place(&shards, start, l.quantity.get()).unwrap_or_default();
            stock::hold(&mut shards, &parts);
            p.set_shards(shards);
            if p.shard_count() > 1 {
                held.extend(parts.iter().map(|(n, q)| ShardHold {
                    product_id: l.product_id,
                    shard: *n as u16,
                    quantity: *q,
                }));
            }
        }
    }
    StockOutcome::Reserved(
        StockReservation { order_id, lines: lines.to_vec(), status: ReservationStatus::Active, shards: held },
        reserved_lines,
    )
}

/// Gives back every line `order_id` holds. No record yet: a tombstone, products unchanged.
pub fn release_stock(
    order_id: OrderId,
    products: &mut BTreeMap<ProductId, Product>,
    existing: Option<&StockReservation>,
) -> ReleaseOutcome<StockReservation> {
    match existing {
        Some(r) if r.status == ReservationStatus::Active => {
            for l in &r.lines {
                if let Some(p) = products.get_mut(&l.product_id) {
                    let mut shards = p.stock_shards();
                    let named: Vec<&ShardHold> = r.shards.iter().filter(|h| h.product_id == l.product_id).collect();
                    if named.is_empty() {
                        stock::release(&mut shards, 0, l.quantity.get());
                    }
                    for h in named {
                        stock::release(&mut shards, h.shard, h.quantity);
                    }
                    p.set_shards(shards);
                }
            }
            ReleaseOutcome::Released(StockReservation { status: ReservationStatus::Released, ..r.clone() })
        }
        Some(_) => ReleaseOutcome::AlreadyHandled,
        None => ReleaseOutcome::Tombstone(StockReservation {
            order_id,
            lines: vec![],
            status: ReservationStatus::Released,
            shards: vec![],
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measures::Quantity;
    use crate::measures::{RestockQuantity, ShardCount};
    use crate::money::Currency;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn pid(n: u128) -> ProductId {
        ProductId::from_uuid(Uuid::from_u128(n))
    }
    fn oid(n: u128) -> OrderId {
        OrderId::from_uuid(Uuid::from_u128(1000 + n))
    }
    fn product(n: u128, stock: i64) -> Product {
        Product::add(
            pid(n),
            ProductName::parse("Widget").unwrap(),
            Money::new(250, Currency::USD).unwrap(),
            Weight::new(100).unwrap(),
            Dimensions::new(5, 5, 5).unwrap(),
            StockLevel::new(stock).unwrap(),
            DateTime::from_timestamp(0, 0).unwrap_or_default(),
        )
        .0
    }
    fn catalogue(stocks: &[i64]) -> BTreeMap<ProductId, Product> {
        stocks.iter().enumerate().map(|(i, s)| (pid(i as u128), product(i as u128, *s))).collect()
    }
    fn line(n: u128, q: i64) -> LineRequest {
        LineRequest { product_id: pid(n), quantity: Quantity::new(q).unwrap() }
    }

    #[test]
    fn a_stored_product_with_more_reserved_than_on_hand_does_not_load() {
        let (p, _) = Product::add(
            ProductId::from_uuid(uuid::Uuid::from_u128(7)),
            ProductName::parse("Lamp").unwrap(),
            Money::new(100, crate::money::Currency::USD).unwrap(),
            Weight::new(100).unwrap(),
            Dimensions::new(1, 1, 1).unwrap(),
            StockLevel::new(3).unwrap(),
            DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        );
        let mut v = serde_json::to_value(&p).unwrap();
        assert_eq!(serde_json::from_value::<Product>(v.clone()).unwrap(), p);
        v["reserved"] = serde_json::json!(4);
        let err = serde_json::from_value::<Product>(v).unwrap_err().to_string();
        assert!(err.contains("reserved <= on hand"), "{err}");
        let active_empty = serde_json::json!({"orderId": p.id().to_string(), "lines": [], "status": "ACTIVE"});
        assert!(serde_json::from_value::<StockReservation>(active_empty).is_err());
    }

    #[test]
    fn reserving_holds_every_line_and_reports_prices_and_sizes() {
        let mut ps = catalogue(&[5, 5]);
        let out = reserve_stock(oid(1), &[line(0, 2), line(1, 5)], &mut ps, None, 0);
        let StockOutcome::Reserved(r, lines) = out else { panic!("not reserved: {out:?}") };
        assert_eq!(r.status, ReservationStatus::Active);
        assert_eq!(lines[0].unit_price.amount(), 250);
        assert_eq!(ps[&pid(0)].available(), 3);
        assert_eq!(ps[&pid(1)].available(), 0);
    }

    #[test]
    fn one_short_line_reserves_nothing_at_all() {
        let mut ps = catalogue(&[5, 1]);
        let before = ps.clone();
        let out = reserve_stock(oid(1), &[line(0, 2), line(1, 2)], &mut ps, None, 0);
        assert!(matches!(
            out,
            StockOutcome::Refused(_, StockFailure::InsufficientStock { requested: 2, available: 1, .. })
        ));
        assert_eq!(ps, before);
    }

    #[test]
    fn an_unknown_product_is_named_in_the_refusal() {
        let mut ps = catalogue(&[5]);
        let out = reserve_stock(oid(1), &[line(0, 1), line(9, 1)], &mut ps, None, 0);
        assert!(
            matches!(out, StockOutcome::Refused(_, StockFailure::UnknownProduct { product_id }) if product_id == pid(9))
        );
    }

    #[test]
    fn reserving_twice_for_one_order_changes_nothing() {
        let mut ps = catalogue(&[5]);
        let StockOutcome::Reserved(r, _) = reserve_stock(oid(1), &[line(0, 2)], &mut ps, None, 0) else { panic!() };
        let before = ps.clone();
        assert_eq!(reserve_stock(oid(1), &[line(0, 2)], &mut ps, Some(&r), 0), StockOutcome::AlreadyHandled);
        assert_eq!(ps, before);
    }

    #[test]
    fn a_release_that_overtakes_its_reserve_blocks_the_reserve() {
        let mut ps = catalogue(&[5]);
        let ReleaseOutcome::Tombstone(t) = release_stock(oid(1), &mut ps, None) else { panic!() };
        assert_eq!(reserve_stock(oid(1), &[line(0, 2)], &mut ps, Some(&t), 0), StockOutcome::AlreadyHandled);
        assert_eq!(ps[&pid(0)].available(), 5);
    }

    #[test]
    fn a_sharded_reservation_names_its_shards_and_its_release_gives_back_to_them() {
        let mut ps = catalogue(&[8]);
        ps.get_mut(&pid(0)).unwrap().reshard(ShardCount::new(4).unwrap());
        let StockOutcome::Reserved(r, _) = reserve_stock(oid(1), &[line(0, 2)], &mut ps, None, 6) else { panic!() };
        assert_eq!(r.shards, vec![ShardHold { product_id: pid(0), shard: 2, quantity: 2 }], "from shard 6 mod 4");
        let StockOutcome::Reserved(_, _) = reserve_stock(oid(2), &[line(0, 1)], &mut ps, None, 2) else { panic!() };
        assert_eq!(ps[&pid(0)].stock_shards()[3].reserved(), 1, "shard 2 was full, so the next");
        release_stock(oid(1), &mut ps, Some(&r));
        let reserved: Vec<u32> = ps[&pid(0)].stock_shards().iter().map(StockShard::reserved).collect();
        assert_eq!(reserved, vec![0, 0, 0, 1]);
        let unsharded = catalogue(&[8]).remove(&pid(0)).unwrap();
        let mut ps = BTreeMap::from([(pid(0), unsharded)]);
        let StockOutcome::Reserved(r, _) = reserve_stock(oid(3), &[line(0, 2)], &mut ps, None, 5) else { panic!() };
        assert!(r.shards.is_empty(), "an ordinary product's record is as before");
    }

    proptest! {
        /// Any interleaving of reserves (some repeated) and releases over a few products and
        /// orders: reserved never exceeds on hand and equals the sum of active records.
        #[test]
        fn reservations_never_exceed_stock(
            stocks in prop::collection::vec(0i64..20, 1..4),
            shards in prop::collection::vec(1i64..6, 4),
            ops in prop::collection::vec((0u8..5, 0u128..6, prop::collection::vec((0u128..4, 1i64..8), 1..3)), 0..50),
        ) {
            let mut ps = catalogue(&stocks);
            for (p, k) in ps.values_mut().zip(&shards) {
                p.reshard(ShardCount::new(*k).unwrap());
            }
            let mut added: BTreeMap<ProductId, u32> = ps.values().map(|p| (p.id(), p.on_hand())).collect();
            let mut records: BTreeMap<OrderId, StockReservation> = BTreeMap::new();
            for (op, order, wanted) in ops {
                let id = oid(order);
                let target = pid(wanted[0].0);
                if op == 3 {
                    if let Some(p) = ps.get_mut(&target) {
                        let q = wanted[0].1 as u32;
                        if p.restock(RestockQuantity::new(i64::from(q)).unwrap()).is_ok() {
                            *added.entry(target).or_default() += q;
                        }
                    }
                } else if op == 4 {
                    if let Some(p) = ps.get_mut(&target) {
                        p.reshard(ShardCount::new(wanted[0].1 % 5 + 1).unwrap());
                    }
                } else if op < 2 {
                    let mut lines: Vec<LineRequest> = vec![];
                    for (p, q) in wanted {
                        if !lines.iter().any(|l| l.product_id == pid(p)) { lines.push(line(p, q)); }
                    }
                    match reserve_stock(id, &lines, &mut ps, records.get(&id), order as u32) {
                        StockOutcome::Reserved(r, _) | StockOutcome::Refused(r, _) => { records.insert(id, r); }
                        StockOutcome::AlreadyHandled => {}
                    }
                } else {
                    match release_stock(id, &mut ps, records.get(&id)) {
                        ReleaseOutcome::Released(r) | ReleaseOutcome::Tombstone(r) => { records.insert(id, r); }
                        ReleaseOutcome::AlreadyHandled => {}
                    }
                }
                for p in ps.values() {
                    prop_assert!(p.reserved() <= p.on_hand());
                    prop_assert!(p.stock_shards().iter().all(|s| s.reserved() <= s.on_hand()), "no shard oversold");
                    prop_assert_eq!(p.on_hand(), added[&p.id()], "no unit lost or invented");
                    let held: u32 = records.values()
                        .filter(|r| r.status == ReservationStatus::Active)
                        .flat_map(|r| r.lines.iter())
                        .filter(|l| l.product_id == p.id())
                        .map(|l| l.quantity.get())
                        .sum();
                    prop_assert_eq!(p.reserved(), held);
                }
            }
        }
    }
}
