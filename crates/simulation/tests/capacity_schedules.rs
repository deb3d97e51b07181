//! The fault-injection simulation with DynamoDB's per-item limits switched on
//! (`Faults::with_capacity`): flash-sale schedules throttle their hot items, the throttled steps
//! wait out their queues, and every invariant still holds. `SIM_CAPACITY_SCHEDULES` (default
//! 300) widens it; a failure prints the seed that replays it.

use local_runner::rules::RuleTable;
use sam_template::Template;
use simulation::{run_many, Faults};

#[tokio::test(flavor = "current_thread")]
async fn with_dynamodbs_limits_the_throttled_steps_wait_and_every_invariant_holds() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    let rules = RuleTable::from_template(&Template::load(&path).expect("the template")).expect("its rules");
    let count = std::env::var("SIM_CAPACITY_SCHEDULES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    match run_many(0, count, &rules, Faults::with_capacity()).await {
        Ok(stats) => {
            assert!(stats.throttled_receives > 0, "a hot item throttled somewhere: {stats:?}");
            assert!(stats.approved > 0 && stats.rejected > 0, "orders settle both ways: {stats:?}");
        }
        Err((seed, broken)) => panic!("seed {seed} breaks an invariant with the limits on: {broken}"),
    }
}
