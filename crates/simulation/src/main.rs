//! `cargo run -p simulation --release -- --schedules 100000 [--seed N]`: the fault-injection
//! simulation at any length. CI runs 2,000 schedules through `tests/simulation.rs`; a failure
//! prints its seed, which replays here with `--seed N --schedules 1`.

use std::process::ExitCode;

use clap::Parser;
use simulation::{run_many, Faults};

/// Runs seeded schedules of the saga under injected faults and checks its invariants after each.
#[derive(Parser)]
#[command(
    name = "simulate",
    after_help = "Examples:\n  cargo run -p simulation --release -- --schedules 100000\n  \
                  cargo run -p simulation --release -- --outages --schedules 20000    # a context down in each\n  \
                  cargo run -p simulation --release -- --capacity --schedules 20000    # DynamoDB's limits, scaled\n  \
                  cargo run -p simulation -- --seed 1234 --schedules 1    # replay the seed a failure printed"
)]
struct Args {
    /// How many schedules to run.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    schedules: u64,
    /// The seed of the first schedule; each next schedule takes the next seed.
    #[arg(long, value_name = "FIRST", default_value_t = 0)]
    seed: u64,
    /// Take a context down for a window in every schedule (the outage fault class).
    #[arg(long)]
    outages: bool,
    /// Stores that enforce DynamoDB's per-item limits, scaled down to the schedules' size
    /// (`simulation::SCALED_LIMITS`)
    #[arg(long)]
    capacity: bool,
}

fn main() -> ExitCode {
    let Args { schedules, seed, outages, capacity } = Args::parse();
    let faults = Faults { capacity, ..if outages { Faults::with_outages() } else { Faults::default() } };
    let (rules, runtime) = match simulation::rules_and_runtime() {
        Ok(both) => both,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let started = std::time::Instant::now();
    match runtime.block_on(run_many(seed, schedules, &rules, faults)) {
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
