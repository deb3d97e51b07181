//! BENCHMARKS.md's modelled flash sale: what `flash-model` (crates/simulation) wrote, as a
//! table of throughput against the stock's shard count K, a chart, and the DynamoDB cost per
//! 1,000 orders at each K as the model counted it (throttled retries and failed conditions
//! included, which is what the limit costs).

use std::fmt::Write as _;

use serde_json::Value;

use crate::benchmarks::PRICES;

/// DynamoDB's write units a second per item, and a transaction's units per item: one stock
/// shard item takes at most this many holds a second.
pub const HOLDS_PER_ITEM: f64 = 1_000.0 / 2.0;

fn runs(flash: &Value) -> Vec<&Value> {
    flash["runs"].as_array().map(|a| a.iter().collect()).unwrap_or_default()
}

fn n(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// DynamoDB's on-demand price of what one run counted, per 1,000 orders: (read units, write
/// units, USD).
pub fn cost_per_1000(run: &Value) -> (f64, f64, f64) {
    let orders = n(&run["orders"]).max(1.0);
    let (rru, wru) = (n(&run["readUnits"]) / orders * 1000.0, n(&run["writeUnits"]) / orders * 1000.0);
    let price = |what: &str| PRICES.iter().find(|p| p.what == what).map_or(0.0, |p| p.usd);
    (rru, wru, rru / 1e6 * price("DynamoDB on-demand reads") + wru / 1e6 * price("DynamoDB on-demand writes"))
}

/// The section: how the sale ran at each K, and what it cost.
pub fn section(md: &mut String, flash: &Value, chart_path: &str) {
    let rs = runs(flash);
    let Some(first) = rs.first() else { return };
    let _ = writeln!(
        md,
        "\n## A flash sale past one item's limit (modelled)\n\n\
         `flash-model` (crates/simulation, `simulation::flash`): {} orders of one unit for one product, offered at \
         {}/s, with stock for {}, through the bundle's handlers over in-memory stores that enforce DynamoDB's \
         per-item limits (`app::capacity`: 1,000 write units and 3,000 read units a second per item, 2 write units \
         per item in a transaction, 1 read unit per strongly consistent read and 0.5 per eventually consistent \
         one, the SDK's standard retries), on a virtual clock: deterministic from its seed, \
         and the seconds below are simulated ones. A throttled step's event comes back after its queue's \
         visibility timeout, up to {} receives, as deployed. K is the number of shard items the product's stock \
         is split into; one item takes at most {HOLDS_PER_ITEM:.0} holds a second. \"Kept up\": the holds ran at \
         the offered rate while the stock lasted, so the last unit was held within 5 % of the time to the order \
         that took it, plus the event's 0.1 s hop (`FlashReport::kept_up`).\n",
        first["orders"], first["rate"], first["stock"], flash["maxReceives"],
    );
    md.push_str(
        "| K | peak holds/s | K × 500 | kept up | sold out at | orders created/s | settled at | approved | out of stock | oversold | TIMED_OUT | creates throttled | failed receives (most of one event) | steps that exhausted their retries |\n\
         |---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in &rs {
        let k = n(&r["shards"]);
        let _ = writeln!(
            md,
            "| {k} | {} | {:.0} | {} | {:.1} s | {:.0} | {:.1} s | {} | {} | {} | {} | {} | {} ({}) | {} |",
            r["peakHoldsPerSecond"],
            k * HOLDS_PER_ITEM,
            if r["keptUp"].as_bool() == Some(true) { "yes" } else { "no" },
            n(&r["lastHeldSeconds"]),
            n(&r["createsPerSecond"]),
            n(&r["settledSeconds"]),
            r["approved"],
            r["outOfStock"],
            (n(&r["held"]) - n(&r["stock"])).max(0.0),
            r["timedOut"],
            r["createsThrottled"],
            r["failedReceives"],
            r["mostReceives"],
            r["deadLettered"],
        );
    }
    let _ = writeln!(md, "\n![peak stock holds a second against K]({chart_path})\n");
    md.push_str(
        "DynamoDB's cost of the sale per 1,000 orders at each K, as the model counted it: every read and \
         transaction that reached a table, the holds refused by the invariant and the reads of steps repeated \
         after their queue handed the event back included (a throttled request consumes nothing); each read of \
         the product reads its K shard items. The indexes' writes are not in the model (the cost per 1,000 \
         orders above adds them).\n\n\
         | K | read units | write units | USD |\n|---:|---:|---:|---:|\n",
    );
    for r in &rs {
        let (rru, wru, usd) = cost_per_1000(r);
        let _ = writeln!(md, "| {} | {rru:.0} | {wru:.0} | {usd:.4} |", r["shards"]);
    }
}

/// Peak holds a second against K, with one item's limit times K drawn in: plain SVG.
pub fn chart(flash: &Value) -> String {
    let rs = runs(flash);
    let (left, top, width, height) = (70.0, 40.0, 440.0, 220.0);
    let offered = rs.first().map_or(1.0, |r| n(&r["rate"]));
    let max = rs
        .iter()
        .map(|r| n(&r["peakHoldsPerSecond"]).max(n(&r["shards"]) * HOLDS_PER_ITEM).min(offered * 1.2))
        .fold(offered, f64::max);
    let y = |v: f64| top + height - v.min(max) / max * height;
    let slot = width / rs.len().max(1) as f64;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="11">"#,
        left + width + 20.0,
        top + height + 50.0
    );
    let _ = writeln!(
        s,
        r#"<text x="{left}" y="18" font-size="13">Peak stock holds a second against K shards ({offered:.0} orders/s offered)</text>"#
    );
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let _ = writeln!(
            s,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{v:.0}</text>"##,
            left + width,
            left - 6.0,
            y(v) + 4.0,
            y = y(v)
        );
    }
    let _ = writeln!(
        s,
        r##"<line x1="{left}" x2="{}" y1="{o:.1}" y2="{o:.1}" stroke="#c33" stroke-dasharray="4 3"/><text x="{}" y="{:.1}" fill="#c33" text-anchor="end">offered</text>"##,
        left + width,
        left + width,
        y(offered) - 4.0,
        o = y(offered)
    );
    let mut limit = String::new();
    for (i, r) in rs.iter().enumerate() {
        let k = n(&r["shards"]);
        let v = n(&r["peakHoldsPerSecond"]);
        let x = left + slot * i as f64 + slot * 0.2;
        let _ = writeln!(
            s,
            r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#4a7ebb"/><text x="{:.1}" y="{:.1}" text-anchor="middle">{v:.0}</text><text x="{:.1}" y="{}" text-anchor="middle">K = {k}</text>"##,
            y(v),
            slot * 0.6,
            top + height - y(v),
            x + slot * 0.3,
            y(v) - 4.0,
            x + slot * 0.3,
            top + height + 16.0,
        );
        let _ = write!(limit, "{:.1},{:.1} ", x + slot * 0.3, y(k * HOLDS_PER_ITEM));
    }
    let _ = writeln!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#2a2" stroke-width="2"/><text x="{left}" y="{}" fill="#2a2">green: K × 500, what K items take; red: the orders offered a second</text>"##,
        limit.trim_end(),
        top + height + 38.0
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flash() -> Value {
        json!({"maxReceives": 76, "runs": [
            {"shards": 1, "orders": 1000, "rate": 500, "stock": 500, "peakHoldsPerSecond": 500, "keptUp": false,
             "readUnits": 4000, "writeUnits": 20000, "held": 500},
            {"shards": 8, "orders": 1000, "rate": 500, "stock": 500, "peakHoldsPerSecond": 500, "keptUp": true,
             "readUnits": 3000, "writeUnits": 18000, "held": 500}]})
    }

    #[test]
    fn the_cost_is_the_counted_units_at_the_published_prices() {
        let (rru, wru, usd) = cost_per_1000(&flash()["runs"][0]);
        assert_eq!((rru, wru), (4000.0, 20000.0));
        assert!((usd - (4000.0 * 0.125 + 20000.0 * 0.625) / 1e6).abs() < 1e-12, "{usd}");
    }

    #[test]
    fn the_section_has_a_row_per_k_and_links_its_chart() {
        let mut md = String::new();
        section(&mut md, &flash(), "docs/flash-model.svg");
        assert!(md.contains("| 1 | 500 | 500 | no |") && md.contains("| 8 | 500 | 4000 | yes |"), "{md}");
        assert!(md.contains("](docs/flash-model.svg)"));
        let svg = chart(&flash());
        assert!(svg.starts_with("<svg") && svg.contains("K = 8") && svg.trim_end().ends_with("</svg>"));
    }
}
