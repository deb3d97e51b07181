//! The modelled flash sale (`simulation::flash`): DynamoDB's per-item limits on a virtual clock.
//! Behaviour, not timing: the figures are virtual seconds, the same on any machine.
//!
//! The sale offers 5,000 orders a second for 10 seconds; these run the same rate for 2
//! seconds (stock for half, as there), which shows the same limits in a fifth of the time.

use local_runner::rules::RuleTable;
use sam_template::Template;
use simulation::flash::{run, FlashReport, FlashSale};

fn rules() -> RuleTable {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    RuleTable::from_template(&Template::load(&path).expect("the template")).expect("its rules")
}

fn sale(rate: u32, shards: u32) -> FlashSale {
    // Two seconds of orders at `rate`, stock for half.
    FlashSale { orders: rate as usize * 2, rate, shards, buyers: 50, seed: 7 }
}

/// One stock shard item takes 1,000 write units a second, 2 per hold in a transaction.
const HOLDS_PER_SHARD: u32 = 500;

async fn modelled(s: FlashSale) -> FlashReport {
    let r = run(s, &rules()).await.expect("the sale runs");
    // Exactly the stock approved and every order beyond it refused out of stock: no hold refused
    // after a stale read became a wrong refusal, nothing oversold, nothing PENDING, TIMED_OUT or
    // dead-lettered.
    r.balanced().expect("the books balance");
    r
}

#[tokio::test]
async fn one_stock_item_caps_the_holds_near_500_a_second() {
    // The rate for one item, each a hold while stock lasts: ten times what it takes.
    let r = modelled(sale(5_000, 1)).await;
    let peak = r.peak_holds_per_second;
    assert!((450..=550).contains(&peak), "one item takes 1,000 write units a second, 2 a hold: {peak}/s");
    assert!(r.failed_receives > 0 && r.usage.throttled_requests > 0, "the item throttled: {r:?}");
    assert!(!r.kept_up(), "the throttled holds waited out their queue's visibility timeout: {r:?}");
}

#[tokio::test]
async fn with_8_shards_the_reads_no_longer_bind_the_holds_reach_the_shards_write_limit() {
    let r = modelled(sale(5_000, 8)).await;
    // POST /orders reads the catalogue replica eventually consistently: 5,000 a second take
    // 2,500 of its item's 3,000 read units, so no create is throttled.
    assert_eq!(r.creates_throttled, 0, "{r:?}");
    assert!(r.creates_per_second() >= 4_990.0, "created as offered: {:.0}/s", r.creates_per_second());
    // The holds run at what 8 items' writes take (4,000 a second), not at a read limit below it.
    let ceiling = 8 * HOLDS_PER_SHARD;
    let peak = r.peak_holds_per_second;
    assert!(peak * 100 >= ceiling * 95 && peak <= ceiling * 11 / 10, "8 × 500 holds a second: {peak}/s");
    assert!(!r.kept_up(), "4,000 holds a second are fewer than the 5,000 orders offered: {r:?}");
}

#[tokio::test]
async fn at_seven_times_what_one_item_takes_8_shards_keep_up_and_one_does_not() {
    // 3,500 orders a second: seven times one item's 500 holds, within 8 shards' 4,000.
    let one = modelled(sale(3_500, 1)).await;
    assert!(!one.kept_up(), "one item: {one:?}");
    let eight = modelled(sale(3_500, 8)).await;
    assert_eq!(eight.creates_throttled, 0, "{eight:?}");
    assert!(eight.kept_up(), "held as the orders came, sold out on time: {eight:?}");
    assert!(eight.holds_per_second() >= 3_150.0, "{:.0} holds a second", eight.holds_per_second());
}

#[tokio::test]
async fn with_16_shards_the_holds_keep_up_with_5000_orders_a_second() {
    let r = modelled(sale(5_000, 16)).await;
    assert_eq!(r.creates_throttled, 0, "{r:?}");
    assert!(r.kept_up(), "held as the orders came, sold out on time: {r:?}");
    assert!(r.holds_per_second() >= 4_500.0, "{:.0} holds a second", r.holds_per_second());
}

#[tokio::test]
async fn below_the_item_limit_the_holds_keep_up_with_the_orders() {
    // 400 orders a second, each a hold until the stock is gone: within one item's 500.
    let r = modelled(sale(400, 1)).await;
    assert_eq!(r.failed_receives, 0, "nothing throttled: {r:?}");
    assert!(r.kept_up(), "{r:?}");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_sale() {
    let a = run(sale(1_000, 1), &rules()).await.expect("runs");
    let b = run(sale(1_000, 1), &rules()).await.expect("runs");
    assert_eq!(a, b);
}
