//! `cargo run -p simulation --release -- --schedules 100000 [--seed N]`: the fault-injection
//! simulation at any length. CI runs 2,000 schedules through `tests/simulation.rs`; a failure
//! prints its seed, which replays here with `--seed N --schedules 1`.

use std::process::ExitCode;

use clap::Parser;
use local_runner::rules::RuleTable;
use sam_template::Template;
use simulation::{run_many, Faults};

/// Runs seeded schedules of the saga under injected faults and checks its invariants after each.
#[derive(Parser)]
#[command(
    name = "simulate",
    after_help = "Examples:\n  cargo run -p simulation --release -- --schedules 100000\n  \
                  cargo run -p simulation -- --seed 1234 --schedules 1    # replay the seed a failure printed"
)]
struct Args {
    /// How many schedules to run.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    schedules: u64,
    /// The seed of the first schedule; each next schedule takes the next seed.
    #[arg(long, value_name = "FIRST", default_value_t = 0)]
    seed: u64,
}

fn main() -> ExitCode {
    let Args { schedules, seed } = Args::parse();
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
            eprintln!("seed {bad} breaks an invariant: {broken}\nreplay: cargo run -p simulation -- --seed {bad} --schedules 1");
            ExitCode::FAILURE
        }
    }
}
