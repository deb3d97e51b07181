//! The seeded fault-injection simulation. `SIM_SCHEDULES` (default 2000) and `SIM_SEED` (the
//! first seed, default 0) widen or replay it; a failure prints the seed that reproduces it:
//! `SIM_SEED=<seed> SIM_SCHEDULES=1 cargo test -p system-tests --test simulation`.

use local_runner::rules::RuleTable;
use simulation::{run_many, Faults};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::test(flavor = "current_thread")]
async fn the_saga_keeps_its_invariants_under_duplicates_reordering_drops_relay_crashes_and_give_ups_and_a_changing_catalogue(
) {
    let rules = RuleTable::from_template(&system_tests::template()).expect("the template's rules parse");
    let first = env_u64("SIM_SEED", 0);
    let count = env_u64("SIM_SCHEDULES", 2_000);
    match run_many(first, count, &rules, Faults::default()).await {
        Ok(stats) => {
            println!("{count} schedules from seed {first}: {stats:?}");
            assert!(stats.approved > 0 && stats.rejected > 0 && stats.cancelled > 0, "every outcome occurs: {stats:?}");
            assert!(
                stats.duplicates > 0 && stats.drops > 0 && stats.relay_crashes > 0 && stats.relay_give_ups > 0,
                "every fault occurs: {stats:?}"
            );
            assert!(stats.redriven > 0, "the redrive published what the relay gave up on: {stats:?}");
            assert!(stats.hot_schedules > 0, "flash sales on one or two products: {stats:?}");
            assert!(
                stats.restocks > 0 && stats.reprices > 0 && stats.discontinued > 0 && stats.limit_changes > 0,
                "the catalogue and the accounts change: {stats:?}"
            );
        }
        Err((seed, broken)) => {
            panic!("seed {seed} breaks an invariant: {broken}\nreplay: SIM_SEED={seed} SIM_SCHEDULES=1 cargo test -p system-tests --test simulation")
        }
    }
}
