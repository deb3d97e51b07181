//! docs/CAPACITY.md's computed section: DynamoDB units per order by step and item, and the rate
//! at which each shared item binds, rendered from a run of the bundle's own handlers on the
//! capacity model and compared with the committed document. `UPDATE_CAPACITY=1` rewrites it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use app::capacity::{self, Limits, Units};
use bundle::Function;
use local_runner::rules::RuleTable;
use sam_template::Template;
use simulation::flash::{run, FlashSale};

const BEGIN: &str = "<!-- computed by crates/simulation/tests/capacity_doc.rs: UPDATE_CAPACITY=1 to rewrite -->";
const END: &str = "<!-- end of computed section -->";

fn rules() -> RuleTable {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    RuleTable::from_template(&Template::load(&path).expect("the template")).expect("its rules")
}

/// The items one order shares with every other order of the same product or buyer: the ones a
/// flash sale makes hot. Every other item (the order, its reservations, the ledger records) is
/// the order's own.
const SHARED: [(&str, &str); 3] = [
    ("product (with stock shard 0)", "per stock shard of the product (each read reads all K)"),
    ("catalogue entry (orders' replica of a product)", "per product"),
    ("customer (its credit)", "per buyer"),
];

/// Whether a step's row belongs to the approved order's path (not the refusal's).
fn approved_path(what: &str) -> bool {
    !what.contains("Failed") && !what.contains("Rejected") && !what.contains("release")
}

async fn render() -> String {
    // Two orders, stock for one: the first is approved, the second refused out of stock.
    let sale = FlashSale { orders: 2, rate: 1, shards: 1, buyers: 1, seed: 1 };
    let r = run(sale, &rules()).await.expect("the sale runs");
    r.balanced().expect("the books balance");
    let mut md = String::new();
    md.push_str("| what | item | read units | write units |\n|---|---|---:|---:|\n");
    let mut per_order: BTreeMap<&str, Units> = BTreeMap::new();
    let mut total = Units::default();
    for ((what, kind), u) in &r.by_step {
        // Both orders were created; everything else ran once for the order it names.
        let creates = if what == "POST /orders" { 2 } else { 1 };
        let u = Units { read: u.read / creates as f64, write: u.write / creates };
        let shown = if creates == 2 { format!("{what} (each)") } else { what.clone() };
        let _ = writeln!(md, "| {shown} | {kind} | {} | {} |", u.read, u.write);
        if approved_path(what) {
            let p = per_order.entry(kind).or_default();
            p.read += u.read;
            p.write += u.write;
            total.read += u.read;
            total.write += u.write;
        }
    }
    let _ = writeln!(
        md,
        "\nAn approved order takes **{} read units and {} write units** in all (the rows above without \
         `Failed`, `Rejected` or a release).\n",
        total.read, total.write
    );
    md.push_str("| shared item | read units per approved order | write units per approved order | binds at (orders/s) |\n|---|---:|---:|---:|\n");
    let Limits { write_units_per_second: w, read_units_per_second: rd } = Limits::DYNAMODB;
    for (kind, per) in SHARED {
        let u = per_order.get(kind).copied().unwrap_or_default();
        let by = |limit: u32, units: f64| if units == 0.0 { f64::INFINITY } else { f64::from(limit) / units };
        let binds = by(rd, u.read).min(by(w, u.write as f64));
        let _ = writeln!(md, "| {kind} | {} | {} | {binds:.0} {per} |", u.read, u.write);
    }
    // Per table: the function that took the units writes its own context's table.
    let mut per_table: BTreeMap<String, Units> = BTreeMap::new();
    for ((what, _), u) in r.by_step.iter().filter(|((what, _), _)| approved_path(what)) {
        let creates = if what == "POST /orders" { 2 } else { 1 };
        let f = if what == "POST /orders" {
            Some(Function::CreateOrder)
        } else {
            Function::ALL.into_iter().find(|f| what.starts_with(&format!("{f} ")))
        };
        let table = f.and_then(Function::warm_up_table).map_or("?".to_owned(), |t| format!("{t:?}").to_lowercase());
        let p = per_table.entry(table).or_default();
        p.read += u.read / creates as f64;
        p.write += u.write / creates;
    }
    md.push_str("\n| table | read units per approved order | write units per approved order | orders/s at the on-demand table quota (40,000 units a second each way) |\n|---|---:|---:|---:|\n");
    for (table, u) in &per_table {
        let binds = (40_000.0 / u.read.max(1.0)).min(40_000.0 / u.write.max(1) as f64);
        let _ = writeln!(md, "| {table} | {} | {} | {binds:.0} |", u.read, u.write);
    }
    // Rule invocations: every event of the approved order, to every target its rules name.
    let approved_events = ["OrderCreated", "StockReserved", "OrderPriced", "CreditReserved", "OrderApproved"];
    md.push_str("\n| event of an approved order | steps its rules invoke |\n|---|---:|\n");
    let mut invocations = 0;
    for e in approved_events {
        // Two orders were created; the rest happened once, for the approved order.
        let n = r.deliveries.get(e).copied().unwrap_or(0) / if e == "OrderCreated" { 2 } else { 1 };
        invocations += n;
        let _ = writeln!(md, "| {e} | {n} |");
    }
    let _ = writeln!(md, "| **all** | **{invocations}** |");
    let _ = writeln!(
        md,
        "\nLimits: {w} write units and {rd} read units a second per item; {} write units per item in a \
         transaction, {} read unit per strongly consistent read and {} per eventually consistent one; \
         every item here is under 1 KB.",
        capacity::TRANSACTION_WRITE_UNITS,
        capacity::CONSISTENT_READ_UNITS,
        capacity::EVENTUAL_READ_UNITS
    );
    md
}

#[tokio::test]
async fn the_capacity_document_states_what_the_code_does() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/CAPACITY.md");
    let doc = std::fs::read_to_string(&path).expect("docs/CAPACITY.md");
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else { panic!("docs/CAPACITY.md lacks the markers") };
    let computed = render().await;
    let current = &doc[b + BEGIN.len()..e];
    let want = format!("\n{computed}");
    if std::env::var_os("UPDATE_CAPACITY").is_some() {
        let updated = format!("{}{BEGIN}{want}{}", &doc[..b], &doc[e..]);
        std::fs::write(&path, updated).expect("rewriting docs/CAPACITY.md");
        return;
    }
    assert_eq!(
        current, want,
        "docs/CAPACITY.md's computed section is stale: UPDATE_CAPACITY=1 cargo test -p simulation --test capacity_doc"
    );
}
