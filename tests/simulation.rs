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
            assert!(stats.sharded > 0 && stats.reshards > 0, "sharded stock, and K changed under load: {stats:?}");
        }
        Err((seed, broken)) => {
            panic!("seed {seed} breaks an invariant: {broken}\nreplay: SIM_SEED={seed} SIM_SCHEDULES=1 cargo test -p system-tests --test simulation")
        }
    }
}

/// A context down for a window while orders flow: within the 75 minutes its steps' queues wait,
/// every order settles on its merits with nothing dead-lettered or timed out (checked inside each
/// schedule); past them, the runbook's redrive brings the dead letters back. `SIM_OUTAGE_SCHEDULES`
/// (default 400) widens it.
#[tokio::test(flavor = "current_thread")]
async fn with_a_context_down_for_a_window_every_order_settles_on_its_merits() {
    let rules = RuleTable::from_template(&system_tests::template()).expect("the template's rules parse");
    let first = env_u64("SIM_SEED", 0);
    let count = env_u64("SIM_OUTAGE_SCHEDULES", 400);
    match run_many(first, count, &rules, Faults::with_outages()).await {
        Ok(stats) => {
            println!("{count} schedules with an outage from seed {first}: {stats:?}");
            assert_eq!(stats.outages as u64, count, "every schedule had a context down: {stats:?}");
            assert!(stats.failed_receives > 0 && stats.dead_lettered > 0, "outages within and past the window: {stats:?}");
            assert!(stats.approved > 0 && stats.rejected > 0, "orders still settle both ways: {stats:?}");
        }
        Err((seed, broken)) => panic!(
            "seed {seed} breaks an invariant with an outage: {broken}\nreplay: SIM_SEED={seed} SIM_OUTAGE_SCHEDULES=1 cargo test -p system-tests --test simulation with_a_context_down"
        ),
    }
}
