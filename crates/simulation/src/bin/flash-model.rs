//! `cargo run -p simulation --release --bin flash-model -- [--shards 1,2,4,8,16] [--rate 5000]
//! [--seconds 10] [--json PATH]`: the modelled flash sale (`simulation::flash`) at each K, on
//! DynamoDB's per-item limits and a virtual clock. Prints a Markdown table; `--json` writes the
//! reports for BENCHMARKS.md's generator. Exits 1 if any run's books do not balance.

use std::process::ExitCode;

use clap::Parser;
use serde_json::json;
use simulation::flash::{run, FlashSale};

/// Runs the modelled flash sale at each K: throughput against the number of stock shards.
#[derive(Parser)]
#[command(
    name = "flash-model",
    after_help = "Examples:\n  cargo run -p simulation --release --bin flash-model -- --shards 1,2,4,8,16\n  \
                  cargo run -p simulation --bin flash-model -- --shards 1 --rate 1000 --seconds 2 --json .scratch/flash.json"
)]
struct Args {
    /// Stock shard items of the hot product, one run each.
    #[arg(long, value_name = "K,...", value_delimiter = ',', default_value = "1")]
    shards: Vec<u32>,
    /// Orders offered per second.
    #[arg(long, default_value_t = 5_000)]
    rate: u32,
    /// Seconds of orders offered (stock for half of them).
    #[arg(long, default_value_t = 10)]
    seconds: u32,
    /// Distinct buyers.
    #[arg(long, default_value_t = 500)]
    buyers: usize,
    #[arg(long, default_value_t = 25)]
    seed: u64,
    /// Write the reports as JSON to PATH.
    #[arg(long, value_name = "PATH")]
    json: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let a = Args::parse();
    let (rules, runtime) = match simulation::rules_and_runtime() {
        Ok(both) => both,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let orders = a.rate as usize * a.seconds as usize;
    println!("modelled flash sale: {orders} orders at {}/s for one product, stock for half", a.rate);
    println!("| K | peak holds/s | kept up | sold out at | orders created/s | settled at | approved | out of stock | oversold | TIMED_OUT | throttled creates | failed receives (most of one event) | dead letters | write units/order |");
    println!("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut rows = vec![];
    let mut failed = false;
    for k in a.shards {
        let sale = FlashSale { orders, rate: a.rate, shards: k, buyers: a.buyers, seed: a.seed };
        let r = match runtime.block_on(run(sale, &rules)) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("K = {k}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let balanced = r.balanced();
        println!(
            "| {k} | {} | {} | {:.1} s | {:.0} | {:.1} s | {} | {} | {} | {} | {} | {} ({}) | {} | {:.1} |",
            r.peak_holds_per_second,
            if r.kept_up() { "yes" } else { "no" },
            r.last_held.as_secs_f64(),
            r.creates_per_second(),
            r.settled.as_secs_f64(),
            r.approved,
            r.out_of_stock,
            (r.held as usize).saturating_sub(r.sale.stock()),
            r.timed_out,
            r.creates_throttled,
            r.failed_receives,
            r.most_receives,
            r.dead_lettered,
            r.usage.write_units as f64 / orders as f64,
        );
        if let Err(e) = &balanced {
            eprintln!("{e}");
            failed = true;
        }
        rows.push(json!({
            "shards": k, "orders": orders, "rate": a.rate, "stock": r.sale.stock(),
            "peakHoldsPerSecond": r.peak_holds_per_second, "keptUp": r.kept_up(), "createsPerSecond": r.creates_per_second(),
            "lastHeldSeconds": r.last_held.as_secs_f64(), "lastCreatedSeconds": r.last_created.as_secs_f64(),
            "settledSeconds": r.settled.as_secs_f64(), "approved": r.approved, "outOfStock": r.out_of_stock,
            "held": r.held, "timedOut": r.timed_out, "pending": r.pending, "createsThrottled": r.creates_throttled,
            "failedReceives": r.failed_receives, "mostReceives": r.most_receives, "deadLettered": r.dead_lettered,
            "readUnits": r.usage.read_units, "writeUnits": r.usage.write_units,
            "productWriteUnits": r.usage.product_write_units, "throttledRequests": r.usage.throttled_requests,
            "balanced": balanced.is_ok(),
        }));
    }
    if let Some(path) = a.json {
        let doc = json!({"maxReceives": bundle::manifest::STEP_DELIVERY.max_receives, "runs": rows});
        if let Err(e) = std::fs::write(&path, format!("{doc:#}\n")) {
            eprintln!("writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
