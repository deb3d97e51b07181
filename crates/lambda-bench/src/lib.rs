//! The Lambda bench: every function binary of the bundle measured side by side with a bare
//! `lambda_runtime` binary built with the same profile (`bare-lambda`), each one started as
//! Lambda starts it, against a Runtime API emulator of our own ([`emulator`]).
//!
//! Per binary: the cold start (spawn to the first `GET /next`), the idle memory at that moment,
//! the stripped size and its deployment zip, and the first invocation of a fresh process against
//! the median warm one, with the function's own `events/<name>.json`: once with AWS out of reach
//! (the binary's own work) and, with `--ministack`, against the stack's tables and bus on a local
//! ministack, seeded by `local-aws`. `lambda-bench --help` for the options.
//!
//! Build every function and `bare-lambda` in one cargo invocation with the profile to measure
//! (only these packages: building local-runner alongside would turn on bundle's `openapi`
//! feature for the functions, which `sam build` does not), plus `local-aws` for `--ministack`:
//!
//! ```sh
//! cargo build --profile release -p lambda-bench $(for f in functions/*/; do printf -- '-p %s ' "$(basename "$f")"; done)
//! cargo build -p local-runner --bin local-aws
//! target/release/lambda-bench --profile release --out .scratch/bench.md            # binary only
//! scripts/with-ministack.sh target/release/lambda-bench --profile release --ministack --out .scratch/bench.md
//! ```
//!
//! `--short` (2 processes per binary, 2 warm invocations each, every function) proves the bench
//! works, e.g. in CI with `--profile dev`; it asserts nothing about the numbers.
//! `scripts/bench-profiles.sh` times cold release builds of the same packages for other LTO,
//! codegen-units and opt-level settings, each in its own target dir, for `--bin-dir`.

// Nothing that comes from outside (arguments, files, processes) may panic.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod benchmarks;
pub mod emulator;
pub mod flash;
pub mod harness;
pub mod process;
pub mod report;
pub mod sizes;
