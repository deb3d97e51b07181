//! A product's stock split across shards: the rules that pick, fill, release and respread them.
//!
//! One stored item takes a bounded number of writes a second, so a hot product's units live in
//! K shards (K = 1 for an ordinary product), each its own item with its own `reserved <= on_hand`
//! invariant. A hold is a condition on one shard's invariant, so concurrent holds on different
//! shards never meet, and holds on one shard only fail when that shard runs out.
//!
//! The rules, all deterministic (the caller supplies the start index, drawn at random):
//! - **Hold.** A line goes whole to the first shard with room, from the start index on; when no
//!   single shard has room but the shards together do, the line is split across them, filling
//!   each from the start index on. So a hold is refused only when the product as a whole has too
//!   few units: fragmentation never refuses an order, and no rebalancing is needed to hold.
//! - **Release.** Units go back to the shard that held them (the reservation names it). A shard
//!   that has since been folded away (K lowered) gave its reservations to shard `n mod K`, so
//!   that is where they go; if that shard holds fewer (K changed more than once since), the rest
//!   comes from the other shards in order. The sum over shards always covers what is released.
//! - **Restock.** New units are spread evenly, the first `q mod K` shards one more.
//! - **Change of K.** Shard `n` folds its reserved units into shard `n mod K'` (nothing moves
//!   when K grows), then the units nobody holds are spread evenly over the K' shards: no unit is
//!   lost or invented, and every shard keeps `reserved <= on_hand`.

use serde::{Deserialize, Serialize};

use crate::error::{ensure, Inconsistent};
use crate::ids::ProductId;
use crate::reservation::{Hold, HoldRefused};

/// One shard of a product's stock. Invariant: `reserved <= on_hand`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", try_from = "ShardSnapshot")]
pub struct StockShard {
    on_hand: u32,
    reserved: u32,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ShardSnapshot {
    on_hand: u32,
    reserved: u32,
}

impl TryFrom<ShardSnapshot> for StockShard {
    type Error = Inconsistent;
    fn try_from(s: ShardSnapshot) -> Result<StockShard, Inconsistent> {
        StockShard::new(s.on_hand, s.reserved)
    }
}

impl StockShard {
    pub fn new(on_hand: u32, reserved: u32) -> Result<StockShard, Inconsistent> {
        ensure(reserved <= on_hand, "stock shard", "reserved <= on hand")?;
        Ok(StockShard { on_hand, reserved })
    }
    #[cfg(test)]
    pub(crate) fn empty_with(on_hand: u32) -> StockShard {
        StockShard { on_hand, reserved: 0 }
    }
    pub fn on_hand(&self) -> u32 {
        self.on_hand
    }
    pub fn reserved(&self) -> u32 {
        self.reserved
    }
    pub fn available(&self) -> u32 {
        self.on_hand - self.reserved
    }

    /// This shard with `hold` applied, only while its invariant allows it (`reserved <=
    /// on_hand`, against the on-hand units the hold was decided on).
    pub fn apply_hold(&self, hold: Hold) -> Result<StockShard, HoldRefused> {
        if !hold.allowed(i64::from(self.reserved), i64::from(self.on_hand)) {
            return Err(HoldRefused);
        }
        let reserved = u32::try_from(i64::from(self.reserved) + hold.delta).map_err(|_| HoldRefused)?;
        StockShard::new(self.on_hand, reserved).map_err(|_| HoldRefused)
    }
}

/// Units of one product an order holds in one shard: what the reservation record names so a
/// release goes back where the hold was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ShardHold {
    pub product_id: ProductId,
    pub shard: u16,
    pub quantity: u32,
}

/// `total` split into `k` near-equal parts, the first `total mod k` one larger.
pub(crate) fn spread(total: u32, k: usize) -> impl Iterator<Item = u32> {
    let k32 = k.max(1) as u32;
    (0..k.max(1) as u32).map(move |i| total / k32 + u32::from(i < total % k32))
}

/// Where to hold `quantity` units, as (shard, units) pairs, or `None` when all the shards
/// together have too few. See the module's rules.
pub(crate) fn place(shards: &[StockShard], start: u32, quantity: u32) -> Option<Vec<(usize, u32)>> {
    let k = shards.len();
    if k == 0 {
        return None;
    }
    let order = || (0..k).map(move |i| (start as usize + i) % k);
    if let Some(i) = order().find(|i| shards[*i].available() >= quantity) {
        return Some(vec![(i, quantity)]);
    }
    let total: u64 = shards.iter().map(|s| u64::from(s.available())).sum();
    if total < u64::from(quantity) {
        return None;
    }
    let mut left = quantity;
    let mut parts = vec![];
    for i in order() {
        let take = shards[i].available().min(left);
        if take > 0 {
            parts.push((i, take));
            left -= take;
        }
        if left == 0 {
            break;
        }
    }
    Some(parts)
}

/// Holds the placed units. Callers pass what [`place`] returned for these shards.
pub(crate) fn hold(shards: &mut [StockShard], parts: &[(usize, u32)]) {
    for (i, q) in parts {
        if let Some(s) = shards.get_mut(*i) {
            s.reserved = s.reserved.saturating_add(*q).min(s.on_hand);
        }
    }
}

/// Gives back `quantity` units held in shard `named` (see the module's rules for a shard that is
/// gone). Never takes a shard's reserved below zero.
pub(crate) fn release(shards: &mut [StockShard], named: u16, quantity: u32) {
    let k = shards.len();
    if k == 0 {
        return;
    }
    let first = usize::from(named) % k;
    let mut left = quantity;
    for i in (0..k).map(|i| (first + i) % k) {
        let give = shards[i].reserved.min(left);
        shards[i].reserved -= give;
        left -= give;
        if left == 0 {
            break;
        }
    }
}

/// Adds `quantity` units, spread evenly.
pub(crate) fn restock(shards: &mut [StockShard], quantity: u32) {
    let k = shards.len();
    for (s, add) in shards.iter_mut().zip(spread(quantity, k)) {
        s.on_hand += add;
    }
}

/// The same units over `k` shards: reserved units folded into shard `n mod k`, free units spread
/// evenly.
pub(crate) fn reshard(shards: &[StockShard], k: usize) -> Vec<StockShard> {
    let k = k.max(1);
    let mut out = vec![StockShard::default(); k];
    for (n, s) in shards.iter().enumerate() {
        out[n % k].reserved += s.reserved;
    }
    let free: u32 = shards.iter().map(StockShard::available).sum();
    for (s, add) in out.iter_mut().zip(spread(free, k)) {
        s.on_hand = s.reserved + add;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn shards(v: &[(u32, u32)]) -> Vec<StockShard> {
        v.iter().map(|(o, r)| StockShard::new(*o, *r).unwrap()).collect()
    }

    #[test]
    fn a_line_goes_whole_to_the_first_shard_with_room_from_the_start() {
        let s = shards(&[(5, 5), (5, 1), (5, 0)]);
        assert_eq!(place(&s, 0, 3), Some(vec![(1, 3)]), "shard 0 is full, shard 1 has room");
        assert_eq!(place(&s, 2, 3), Some(vec![(2, 3)]));
        assert_eq!(place(&s, 2, 5), Some(vec![(2, 5)]));
    }

    #[test]
    fn a_line_no_single_shard_can_take_is_split_and_one_the_product_cannot_take_is_refused() {
        let s = shards(&[(5, 2), (5, 2), (5, 5)]);
        assert_eq!(place(&s, 1, 5), Some(vec![(1, 3), (0, 2)]));
        assert_eq!(place(&s, 0, 7), None, "6 free in all");
    }

    #[test]
    fn a_release_of_a_folded_shard_goes_where_it_was_folded() {
        let mut s = reshard(&shards(&[(4, 1), (4, 2), (4, 3)]), 2);
        assert_eq!(s.iter().map(StockShard::reserved).collect::<Vec<_>>(), vec![4, 2]);
        release(&mut s, 2, 3);
        assert_eq!(s.iter().map(StockShard::reserved).collect::<Vec<_>>(), vec![1, 2]);
    }

    proptest! {
        /// Holds (placed anywhere), releases, restocks and changes of K in any order: every
        /// shard keeps reserved <= on hand, the sums match the units added and the units held,
        /// and a hold is refused only when the product as a whole is short.
        #[test]
        fn shards_never_oversell_lose_or_invent_a_unit(
            initial in 0u32..50,
            k0 in 1usize..9,
            ops in prop::collection::vec((0u8..4, 0u32..1000, 1u32..20, 1usize..9), 0..60),
        ) {
            let mut s: Vec<StockShard> = spread(initial, k0).map(StockShard::empty_with).collect();
            let mut added = initial;
            let mut held: Vec<(u16, u32)> = vec![];
            for (op, start, q, k) in ops {
                match op {
                    0 => {
                        let free: u32 = s.iter().map(StockShard::available).sum();
                        match place(&s, start, q) {
                            Some(parts) => {
                                for (i, n) in &parts {
                                    prop_assert!(*n <= s[*i].available(), "a hold never exceeds its shard");
                                    held.push((*i as u16, *n));
                                }
                                prop_assert_eq!(parts.iter().map(|p| p.1).sum::<u32>(), q);
                                hold(&mut s, &parts);
                            }
                            None => prop_assert!(free < q, "refused with {} free for {}", free, q),
                        }
                    }
                    1 if !held.is_empty() => {
                        let (shard, n) = held.remove(start as usize % held.len());
                        release(&mut s, shard, n);
                    }
                    2 => { restock(&mut s, q); added += q; }
                    _ => { s = reshard(&s, k); }
                }
                prop_assert!(s.iter().all(|x| x.reserved <= x.on_hand));
                prop_assert_eq!(s.iter().map(|x| x.on_hand).sum::<u32>(), added);
                prop_assert_eq!(s.iter().map(|x| x.reserved).sum::<u32>(), held.iter().map(|h| h.1).sum::<u32>());
            }
        }
    }
}
