//! `cargo run -p local-runner --release --bin simulate -- --schedules 100000 [--seed N]`: the
//! fault-injection simulation at any length. CI runs 2,000 schedules through
//! `tests/simulation.rs`; a failure prints its seed, which replays here with `--seed N
//! --schedules 1`.

use std::process::ExitCode;

use local_runner::rules::RuleTable;
use local_runner::sim::{run_many, Faults};
use sam_template::Template;

fn main() -> ExitCode {
    let mut schedules = 10_000u64;
    let mut seed = 0u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = args.next().and_then(|v| v.parse().ok());
        match (a.as_str(), value) {
            ("--schedules", Some(v)) => schedules = v,
            ("--seed", Some(v)) => seed = v,
            _ => {
                eprintln!("usage: simulate [--schedules N] [--seed FIRST]");
                return ExitCode::from(2);
            }
        }
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    let rules = match Template::load(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| RuleTable::from_template(&t).map_err(|e| e.to_string()))
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot read the rules: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let started = std::time::Instant::now();
    match runtime.block_on(run_many(seed, schedules, &rules, Faults::default())) {
        Ok(stats) => {
            println!("{schedules} schedules from seed {seed} in {:.1?}: {stats:?}", started.elapsed());
            ExitCode::SUCCESS
        }
        Err((bad, broken)) => {
            eprintln!("seed {bad} breaks an invariant: {broken}\nreplay: cargo run -p local-runner --bin simulate -- --seed {bad} --schedules 1");
            ExitCode::FAILURE
        }
    }
}
