//! The modelled flash sale (`simulation::flash`): DynamoDB's per-item limits on a virtual clock.
//! Behaviour, not timing: the figures are virtual seconds, the same on any machine.

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

async fn modelled(s: FlashSale) -> FlashReport {
    let r = run(s, &rules()).await.expect("the sale runs");
    r.balanced().expect("never oversold, nothing PENDING, TIMED_OUT or dead-lettered");
    r
}

#[tokio::test]
async fn one_stock_item_caps_the_holds_near_500_a_second() {
    // 2,000 orders a second for one item, each a hold while stock lasts: four times what it takes.
    let r = modelled(sale(2_000, 1)).await;
    let peak = r.peak_holds_per_second;
    assert!((450..=550).contains(&peak), "one item takes 1,000 write units a second, 2 a hold: {peak}/s");
    assert!(r.failed_receives > 0 && r.usage.throttled_requests > 0, "the item throttled: {r:?}");
    assert!(!r.kept_up(), "the throttled holds waited out their queue's visibility timeout: {r:?}");
}

#[tokio::test]
async fn eight_stock_shards_keep_up_where_one_item_cannot() {
    // The same sale, the stock split over 8 items: 4,000 holds a second between them.
    let r = modelled(sale(2_000, 8)).await;
    assert!(r.kept_up(), "sold out as the orders came: {r:?}");
    assert_eq!(r.failed_receives, 0, "no step throttled: {r:?}");
    assert!(r.peak_holds_per_second > 1_500, "well past one item's 500: {}", r.peak_holds_per_second);
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
