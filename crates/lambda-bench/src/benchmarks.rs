//! BENCHMARKS.md from what the measuring tools wrote: `lambda-bench`'s JSON (cold starts, memory,
//! sizes, first and warm invocations, both modes), the request counts of the events replay
//! (`target/tmp/request-counts.json`), the load test's JSON (in memory and on DynamoDB), and a
//! cost model per 1,000 orders built from those measurements. Plus an SVG chart of init and RSS
//! per function against the bare binary. `scripts/benchmarks.sh` runs everything and this.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The targets of issue 13, each a ratio or a count measured side by side in one run.
pub const INIT_TARGET: f64 = 1.5;
pub const RSS_TARGET: f64 = 2.0;
pub const ZIP_TARGET_MB: f64 = 2.5;
pub const FIRST_WARM_TARGET: f64 = 1.2;
/// A release `sam build` of the whole bundle (`scripts/sam-build.sh --release`, cold), seconds.
pub const SAM_BUILD_TARGET_S: f64 = 300.0;

/// Prices used by the cost model: us-east-1, as published on the pages named, read 2026-12-03.
pub struct Price {
    pub what: &'static str,
    pub usd: f64,
    pub per: &'static str,
    pub source: &'static str,
}

pub const PRICES: &[Price] = &[
    Price { what: "Lambda requests", usd: 0.20, per: "1M requests", source: "https://aws.amazon.com/lambda/pricing/" },
    Price {
        what: "Lambda duration, arm64",
        usd: 0.000_013_333_4,
        per: "GB-second",
        source: "https://aws.amazon.com/lambda/pricing/",
    },
    Price {
        what: "DynamoDB on-demand reads",
        usd: 0.125,
        per: "1M read request units",
        source: "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    },
    Price {
        what: "DynamoDB on-demand writes",
        usd: 0.625,
        per: "1M write request units",
        source: "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    },
    Price {
        what: "EventBridge custom events",
        usd: 1.00,
        per: "1M events (64 KB chunks)",
        source: "https://aws.amazon.com/eventbridge/pricing/",
    },
    Price {
        what: "API Gateway HTTP API",
        usd: 1.00,
        per: "1M requests (first 300M)",
        source: "https://aws.amazon.com/api-gateway/pricing/",
    },
    Price {
        what: "CloudWatch Logs ingestion",
        usd: 0.50,
        per: "GB",
        source: "https://aws.amazon.com/cloudwatch/pricing/",
    },
];

/// Bytes Lambda itself writes per invocation to the function's log (START, END and REPORT lines).
pub const PLATFORM_LOG_BYTES: f64 = 400.0;
/// Lambda memory the template configures, in GB.
pub const MEMORY_GB: f64 = 0.125;

/// What the report reads.
#[derive(Debug, Default)]
pub struct Inputs {
    pub bench: Option<Value>,
    pub logs: Option<PathBuf>,
    pub requests: Option<Value>,
    pub loads: Vec<Value>,
    pub builds: Option<String>,
    /// Why the targets this run misses stay unmet (docs/targets.md), printed under the table.
    pub targets_notes: Option<String>,
    /// Wall seconds of a cold release `sam build` of the bundle in this run, when one was timed.
    pub sam_build_s: Option<f64>,
    pub commit: String,
    pub date: String,
    /// The profile the binaries were built with, overrides included (else the bench's own word).
    pub profile: Option<String>,
    /// What `flash-model` wrote (--json), and the path of its chart relative to the report.
    pub flash: Option<Value>,
    pub flash_chart: String,
}

fn f(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn num(x: Option<f64>, d: usize) -> String {
    x.map_or_else(|| "–".to_owned(), |x| format!("{x:.d$}"))
}

/// One binary of one mode, as lambda-bench measured it.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub init_ms: Option<f64>,
    pub rss_mib: Option<f64>,
    pub zip_mib: f64,
    pub first_ms: Option<f64>,
    pub warm_ms: Option<f64>,
    pub init_x: Option<f64>,
    pub rss_x: Option<f64>,
}

impl Row {
    pub fn first_over_warm(&self) -> Option<f64> {
        match (self.first_ms, self.warm_ms) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            _ => None,
        }
    }
}

/// The rows of `mode` ("binary-only" or "ministack"), bare first.
pub fn rows(bench: &Value, mode: &str) -> Vec<Row> {
    let Some(m) = bench["modes"].as_array().and_then(|ms| ms.iter().find(|m| m["mode"] == mode)) else {
        return vec![];
    };
    m["binaries"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| Row {
            name: b["name"].as_str().unwrap_or("?").to_owned(),
            init_ms: f(&b["median"]["init_ms"]),
            rss_mib: f(&b["median"]["rss_mib"]),
            zip_mib: b["sizes"]["zip_bytes"].as_f64().unwrap_or(0.0) / (1024.0 * 1024.0),
            first_ms: f(&b["median"]["first_ms"]),
            warm_ms: f(&b["median"]["warm_ms"]),
            init_x: f(&b["ratio_to_bare"]["init"]),
            rss_x: f(&b["ratio_to_bare"]["rss"]),
        })
        .collect()
}

fn worst(rows: &[Row], key: impl Fn(&Row) -> Option<f64>) -> Option<(f64, String)> {
    rows.iter()
        .filter(|r| r.name != "bare-lambda")
        .filter_map(|r| key(r).map(|v| (v, r.name.clone())))
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

/// Log bytes per invocation of each function, from lambda-bench's logs of the ministack mode.
pub fn log_bytes(dir: &Path, bench: &Value) -> BTreeMap<String, f64> {
    let per_process = 1 + bench["warm_per_run"].as_u64().unwrap_or(0);
    let invocations = (bench["runs"].as_u64().unwrap_or(0) * per_process) as f64;
    let mut out = BTreeMap::new();
    for r in rows(bench, "ministack") {
        let path = dir.join(format!("ministack.{}.log", r.name));
        if let (Ok(meta), true) = (std::fs::metadata(&path), invocations > 0.0) {
            out.insert(r.name, meta.len() as f64 / invocations);
        }
    }
    out
}

/// One line of the cost model.
#[derive(Debug, Clone, PartialEq)]
pub struct Cost {
    pub what: &'static str,
    pub quantity: f64,
    pub unit: &'static str,
    pub usd: f64,
}

/// What 1,000 orders cost on AWS, from the measurements: the createOrder saga on its happy path
/// (one HTTP request, four steps, five events, each relayed by one relay invocation), each
/// invocation billed at its measured warm duration rounded up to the millisecond at 128 MB
/// arm64; DynamoDB units from the counted items (strongly consistent reads: 1 RRU per item up to
/// 4 KB; transactional writes: 2 WRU per item up to 1 KB; the orders table's two indexes and the
/// products table's one take a standard write per indexed item written).
pub fn cost_per_1000_orders(
    saga: &Value,
    warm_ms: &BTreeMap<String, f64>,
    log_bytes: &BTreeMap<String, f64>,
) -> Vec<Cost> {
    const ORDERS: f64 = 1000.0;
    let steps: Vec<String> = saga["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(|s| s.trim_end_matches(".json").to_owned()))
        .collect();
    let events = saga["events"].as_f64().unwrap_or(steps.len() as f64);
    let mut invocations: Vec<String> = steps.clone();
    invocations.extend(std::iter::repeat_n("outbox-relay".to_owned(), events as usize));
    let gb_s: f64 =
        invocations.iter().map(|f| warm_ms.get(f).copied().unwrap_or(0.0).ceil() / 1000.0 * MEMORY_GB).sum();
    let d = &saga["dynamodb"];
    let rru = d["readItems"].as_f64().unwrap_or(0.0);
    // Indexed writes of one order with one line: the order item is written three times while in
    // both indexes (created, priced, approved), the product's counter once (Catalogue index).
    let index_wru = 3.0 * 2.0 + 1.0;
    let wru = 2.0 * d["writeItems"].as_f64().unwrap_or(0.0) + index_wru;
    let log = invocations.iter().map(|f| log_bytes.get(f).copied().unwrap_or(0.0) + PLATFORM_LOG_BYTES).sum::<f64>();
    let price = |i: usize| PRICES[i].usd;
    let n = invocations.len() as f64 * ORDERS;
    vec![
        Cost { what: "Lambda requests", quantity: n, unit: "invocations", usd: n / 1e6 * price(0) },
        Cost { what: "Lambda duration", quantity: gb_s * ORDERS, unit: "GB-s", usd: gb_s * ORDERS * price(1) },
        Cost { what: "DynamoDB reads", quantity: rru * ORDERS, unit: "RRU", usd: rru * ORDERS / 1e6 * price(2) },
        Cost { what: "DynamoDB writes", quantity: wru * ORDERS, unit: "WRU", usd: wru * ORDERS / 1e6 * price(3) },
        Cost { what: "EventBridge", quantity: events * ORDERS, unit: "events", usd: events * ORDERS / 1e6 * price(4) },
        Cost { what: "HTTP API", quantity: ORDERS, unit: "requests", usd: ORDERS / 1e6 * price(5) },
        Cost { what: "CloudWatch Logs", quantity: log * ORDERS / 1e6, unit: "MB", usd: log * ORDERS / 1e9 * price(6) },
    ]
}

/// A bar chart of init and RSS per function as multiples of the bare binary, binary only, with
/// the targets drawn in: plain SVG, no plotting crate for two series of bars.
pub fn chart(rows: &[Row]) -> String {
    let funcs: Vec<&Row> = rows.iter().filter(|r| r.name != "bare-lambda").collect();
    let (left, top, bar_h, gap, width) = (170.0, 40.0, 7.0, 6.0, 460.0);
    let max = funcs
        .iter()
        .flat_map(|r| [r.init_x.unwrap_or(0.0), r.rss_x.unwrap_or(0.0)])
        .fold(INIT_TARGET.max(RSS_TARGET), f64::max)
        .ceil();
    let x = |v: f64| left + v / max * width;
    let height = top + funcs.len() as f64 * (2.0 * bar_h + gap) + 40.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" font-family="sans-serif" font-size="10">"#,
        w = left + width + 30.0
    );
    let _ = writeln!(
        s,
        r##"<text x="{left}" y="16" font-size="12">init (blue) and idle RSS (orange), × the bare lambda_runtime binary; binary only</text>"##
    );
    for tick in 0..=(max as u32) {
        let tx = x(f64::from(tick));
        let _ = writeln!(
            s,
            r##"<line x1="{tx}" y1="{top}" x2="{tx}" y2="{b}" stroke="#ddd"/><text x="{tx}" y="{ty}" text-anchor="middle">×{tick}</text>"##,
            b = height - 30.0,
            ty = height - 18.0
        );
    }
    for (target, color) in [(INIT_TARGET, "#1f77b4"), (RSS_TARGET, "#ff7f0e")] {
        let tx = x(target);
        let _ = writeln!(
            s,
            r##"<line x1="{tx}" y1="{top}" x2="{tx}" y2="{b}" stroke="{color}" stroke-dasharray="4 3"/>"##,
            b = height - 30.0
        );
    }
    for (i, r) in funcs.iter().enumerate() {
        let y = top + i as f64 * (2.0 * bar_h + gap);
        let _ = writeln!(
            s,
            r##"<text x="{lx}" y="{ty}" text-anchor="end">{name}</text>"##,
            lx = left - 6.0,
            ty = y + bar_h + 3.0,
            name = r.name
        );
        for (k, (v, color)) in [(r.init_x, "#1f77b4"), (r.rss_x, "#ff7f0e")].into_iter().enumerate() {
            let w = x(v.unwrap_or(0.0)) - left;
            let _ = writeln!(
                s,
                r##"<rect x="{left}" y="{by}" width="{w:.1}" height="{bar_h}" fill="{color}"/>"##,
                by = y + k as f64 * bar_h
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

fn load_section(md: &mut String, load: &Value) {
    let store = load["store"].as_str().unwrap_or("?");
    let _ = writeln!(
        md,
        "\n**{store}**: {} requests from {} clients ({} customers, {} hot products) in {:.1} s: **{:.0} requests/s**, p50 {:.2} ms, p99 {:.2} ms, error rate {:.3} %, orders {}, books {}.\n",
        load["requests"],
        load["clients"],
        load["customers"],
        load["hotProducts"],
        load["seconds"].as_f64().unwrap_or(0.0),
        load["requestsPerSecond"].as_f64().unwrap_or(0.0),
        load["p50Ms"].as_f64().unwrap_or(0.0),
        load["p99Ms"].as_f64().unwrap_or(0.0),
        load["errorRate"].as_f64().unwrap_or(0.0) * 100.0,
        load["orders"],
        if load["booksBalanced"] == true { "balanced" } else { "NOT balanced" },
    );
    md.push_str("| operation | requests | refused (documented 4xx) | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|\n");
    for op in load["operations"].as_array().into_iter().flatten() {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.2} | {:.2} |",
            op["operation"].as_str().unwrap_or("?"),
            op["requests"],
            op["refused"],
            op["p50Ms"].as_f64().unwrap_or(0.0),
            op["p99Ms"].as_f64().unwrap_or(0.0)
        );
    }
}

/// The whole of BENCHMARKS.md.
pub fn render(i: &Inputs, chart_path: &str) -> String {
    let mut md = String::new();
    md.push_str("# Benchmarks\n\n");
    md.push_str(
        "Generated by `scripts/benchmarks.sh` (how it measures: docs/PERFORMANCE.md); do not edit by hand.\n\n",
    );
    let machine = i.bench.as_ref().map(|b| &b["machine"]);
    let _ = writeln!(
        md,
        "- commit `{}`, {}\n- machine: {} × {} ({}, Linux {})\n- profile of the measured binaries: `{}`\n",
        i.commit,
        i.date,
        machine.map_or("?".to_owned(), |m| m["cpus"].to_string()),
        machine.and_then(|m| m["cpu"].as_str()).unwrap_or("?"),
        machine.and_then(|m| m["arch"].as_str()).unwrap_or("?"),
        machine.and_then(|m| m["kernel"].as_str()).unwrap_or("?"),
        i.profile.as_deref().or_else(|| i.bench.as_ref().and_then(|b| b["profile"].as_str())).unwrap_or("?"),
    );
    md.push_str("Absolute times hold for this machine only; the ratios to a bare `lambda_runtime` binary built in the same run and profile are the point.\n");

    let mut warm: BTreeMap<String, f64> = BTreeMap::new();
    let mut logs: BTreeMap<String, f64> = BTreeMap::new();
    if let Some(b) = &i.bench {
        let only = rows(b, "binary-only");
        let stack = rows(b, "ministack");
        for r in &stack {
            if let Some(w) = r.warm_ms {
                warm.insert(r.name.clone(), w);
            }
        }
        if let Some(dir) = &i.logs {
            logs = log_bytes(dir, b);
        }
        md.push_str("\n## Targets\n\n| target | measured (worst function) | met |\n|---|---|---|\n");
        let target = |md: &mut String, what: &str, w: Option<(f64, String)>, limit: f64, unit: &str| {
            let (text, met) = match w {
                Some((v, name)) => (format!("{v:.2}{unit} ({name})"), if v <= limit { "yes" } else { "no" }),
                None => ("not measured".to_owned(), "–"),
            };
            let _ = writeln!(md, "| {what} | {text} | {met} |");
        };
        target(&mut md, "init ≤ 1.5 × bare, binary only", worst(&only, |r| r.init_x), INIT_TARGET, "×");
        target(&mut md, "idle RSS ≤ 2 × bare", worst(&only, |r| r.rss_x), RSS_TARGET, "×");
        target(&mut md, "zip ≤ 2.5 MB", worst(&only, |r| Some(r.zip_mib)), ZIP_TARGET_MB, " MiB");
        // The floor of this ratio is the runtime's own first invocation, which the bare binary shows.
        let bare_first = stack.iter().find(|r| r.name == "bare-lambda").and_then(Row::first_over_warm);
        let first_what = match bare_first {
            Some(b) => format!("first invocation ≤ 1.2 × warm, against ministack (the bare binary's own: {b:.2}×)"),
            None => "first invocation ≤ 1.2 × warm, against ministack".to_owned(),
        };
        target(&mut md, &first_what, worst(&stack, Row::first_over_warm), FIRST_WARM_TARGET, "×");
        let _ = writeln!(
            md,
            "| release `sam build` ≤ 5 min (`scripts/sam-build.sh --release`, cold) | {} |",
            match i.sam_build_s {
                Some(s) => format!("{s:.0} s | {}", if s <= SAM_BUILD_TARGET_S { "yes" } else { "no" }),
                None => "not timed in this run | –".to_owned(),
            }
        );
        if let Some(r) = &i.requests {
            let s = &r["createOrderSaga"]["dynamodb"];
            let _ = writeln!(
                md,
                "| createOrder and each step ≤ 1 read + 1 write request | saga: {} reads + {} writes over {} operations | {} |",
                s["reads"],
                s["writes"],
                r["createOrderSaga"]["steps"].as_array().map_or(0, Vec::len),
                if s["reads"].as_u64() <= Some(5) && s["writes"].as_u64() <= Some(5) { "yes" } else { "no" }
            );
        }
        if let Some(notes) = &i.targets_notes {
            md.push('\n');
            md.push_str(notes.trim_end());
            md.push('\n');
        }
        for (title, rows) in
            [("Binary only (AWS out of reach)", &only), ("Against ministack (each event does its work)", &stack)]
        {
            let _ = writeln!(md, "\n## Cold start and invocations: {title}\n");
            md.push_str("| function | init ms | ×bare | RSS MiB | ×bare | zip MiB | first ms | warm ms | first/warm |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for r in rows.iter() {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {:.2} | {} | {} | {} |",
                    if r.name == "bare-lambda" { format!("**{}**", r.name) } else { r.name.clone() },
                    num(r.init_ms, 1),
                    num(r.init_x, 2),
                    num(r.rss_mib, 1),
                    num(r.rss_x, 2),
                    r.zip_mib,
                    num(r.first_ms, 2),
                    num(r.warm_ms, 2),
                    num(r.first_over_warm(), 2),
                );
            }
        }
        let _ = writeln!(md, "\n![init and RSS per function against the bare binary]({chart_path})\n");
    }

    if let Some(r) = &i.requests {
        md.push_str("\n## Requests per operation\n\nCounted on the wire by an SDK interceptor in the events replay (`tests/events_replay.rs`, which fails when an operation makes more requests than its table says), first delivery, after the cold start.\n\n");
        md.push_str("| operation | DynamoDB reads | writes | items read | items written | PutEvents | entries |\n|---|---:|---:|---:|---:|---:|---:|\n");
        for (op, c) in r["operations"].as_object().into_iter().flatten() {
            let _ = writeln!(
                md,
                "| {op} | {} | {} | {} | {} | {} | {} |",
                c["reads"], c["writes"], c["readItems"], c["writeItems"], c["putEvents"], c["entries"]
            );
        }
        let s = &r["createOrderSaga"];
        let _ = writeln!(
            md,
            "\nThe createOrder saga ({}): **{} read and {} write requests** ({} items read, {} written), {} events.",
            s["steps"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" → "))
                .unwrap_or_default(),
            s["dynamodb"]["reads"],
            s["dynamodb"]["writes"],
            s["dynamodb"]["readItems"],
            s["dynamodb"]["writeItems"],
            s["events"]
        );
        md.push_str("\n## Cost per 1,000 orders on AWS\n\n");
        md.push_str("The createOrder saga on its happy path, one line per order: one HTTP request, four steps and five relay invocations (one per event; at volume the relay batches, so this is an upper bound), each billed at its measured warm duration against ministack rounded up to the millisecond at 128 MB arm64 (on AWS a DynamoDB call takes longer than on a local ministack, so the duration line is a floor); DynamoDB from the counted items: a strongly consistent read is 1 RRU per item up to 4 KB, a transactional write 2 WRU per item up to 1 KB (every item taken as up to 1 KB), plus a standard write per indexed item (the order in both orders indexes three times, the product in the catalogue index once); log bytes per invocation measured from the functions' output plus 400 bytes of Lambda's own lines. Free tiers not deducted.\n\n");
        let costs = cost_per_1000_orders(&r["createOrderSaga"], &warm, &logs);
        md.push_str("| item | quantity | USD |\n|---|---:|---:|\n");
        for c in &costs {
            let _ = writeln!(md, "| {} | {:.1} {} | {:.5} |", c.what, c.quantity, c.unit, c.usd);
        }
        let _ = writeln!(md, "| **total** | | **{:.4}** |", costs.iter().map(|c| c.usd).sum::<f64>());
        md.push_str("\n| price | USD | per | source (us-east-1, read 2026-12-03) |\n|---|---:|---|---|\n");
        for p in PRICES {
            let _ = writeln!(md, "| {} | {} | {} | {} |", p.what, p.usd, p.per, p.source);
        }
    }

    if !i.loads.is_empty() {
        md.push_str("\n## Throughput under load\n\n`load` (crates/load) drives the runner over HTTP: many customers, a few hot products with 40 units each, a mix of browse, order, get, history and cancel; afterwards the books are checked (no order PENDING; reserved stock and credit equal what the APPROVED orders hold).\n");
        for l in &i.loads {
            load_section(&mut md, l);
        }
    }
    if let Some(flash) = &i.flash {
        crate::flash::section(&mut md, flash, &i.flash_chart);
    }
    if let Some(b) = &i.builds {
        md.push_str("\n## Release build\n\n");
        md.push_str(b.trim_end());
        md.push('\n');
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_cost_model_adds_up_from_the_counts() {
        let saga = json!({"steps": ["create-order.json", "reserve-stock.json"], "events": 2,
                          "dynamodb": {"readItems": 10, "writeItems": 10}});
        let warm = BTreeMap::from([
            ("create-order".to_owned(), 1.2),
            ("reserve-stock".to_owned(), 2.0),
            ("outbox-relay".to_owned(), 0.4),
        ]);
        let costs = cost_per_1000_orders(&saga, &warm, &BTreeMap::new());
        let by = |w: &str| costs.iter().find(|c| c.what == w).cloned().unwrap();
        assert_eq!(by("Lambda requests").quantity, 4000.0, "2 steps + 2 relays per order");
        // 2 ms + 2 ms + 1 ms + 1 ms at 0.125 GB, per order.
        assert!((by("Lambda duration").quantity - 0.75).abs() < 1e-9);
        assert_eq!(by("DynamoDB reads").quantity, 10_000.0);
        assert_eq!(by("DynamoDB writes").quantity, (20.0 + 7.0) * 1000.0);
        assert!((by("EventBridge").usd - 0.002).abs() < 1e-12);
        assert!((by("CloudWatch Logs").quantity - 1.6).abs() < 1e-9, "4 invocations × 400 bytes × 1000");
    }

    #[test]
    fn the_chart_draws_a_bar_pair_per_function_and_the_targets() {
        let row = |n: &str, i, r| Row {
            name: n.to_owned(),
            init_ms: None,
            rss_mib: None,
            zip_mib: 1.0,
            first_ms: None,
            warm_ms: None,
            init_x: Some(i),
            rss_x: Some(r),
        };
        let svg = chart(&[row("bare-lambda", 1.0, 1.0), row("a", 2.0, 2.5), row("b", 3.0, 2.6)]);
        assert_eq!(svg.matches("<rect").count(), 4);
        assert_eq!(svg.matches("stroke-dasharray").count(), 2);
        assert!(svg.contains(">a</text>") && !svg.contains(">bare-lambda</text>"));
    }

    #[test]
    fn targets_name_the_worst_function() {
        let bench = json!({"modes": [{"mode": "binary-only", "binaries": [
            {"name": "bare-lambda", "median": {"init_ms": 2.0}, "ratio_to_bare": {"init": 1.0}, "sizes": {"zip_bytes": 1}},
            {"name": "x", "median": {"init_ms": 3.0}, "ratio_to_bare": {"init": 1.5}, "sizes": {"zip_bytes": 1}},
            {"name": "y", "median": {"init_ms": 5.0}, "ratio_to_bare": {"init": 2.5}, "sizes": {"zip_bytes": 1}}]}]});
        let r = rows(&bench, "binary-only");
        assert_eq!(worst(&r, |r| r.init_x), Some((2.5, "y".to_owned())));
        let md = render(&Inputs { bench: Some(bench), ..Inputs::default() }, "chart.svg");
        assert!(md.contains("| init ≤ 1.5 × bare, binary only | 2.50× (y) | no |"), "{md}");
        assert!(md.contains("(`scripts/sam-build.sh --release`, cold) | not timed in this run | – |"), "{md}");
    }

    #[test]
    fn the_release_build_target_holds_to_five_minutes() {
        let bench = json!({"modes": [{"mode": "binary-only", "binaries": []}]});
        let row =
            |s: f64| render(&Inputs { bench: Some(bench.clone()), sam_build_s: Some(s), ..Inputs::default() }, "x");
        assert!(row(145.0).contains("(`scripts/sam-build.sh --release`, cold) | 145 s | yes |"));
        assert!(row(301.0).contains("(`scripts/sam-build.sh --release`, cold) | 301 s | no |"));
    }

    #[test]
    fn the_notes_on_unmet_targets_follow_the_table() {
        let bench = json!({"modes": [{"mode": "binary-only", "binaries": []}]});
        let notes = Some("Why: the warm-up.\n".to_owned());
        let md = render(&Inputs { bench: Some(bench), targets_notes: notes, ..Inputs::default() }, "x");
        let (table, rest) = md.split_once("Why: the warm-up.").expect("the notes are in the report");
        assert!(table.contains("## Targets") && rest.contains("## Cold start"), "{md}");
    }
}
