//! The Lambda bench: every function binary of the bundle measured side by side with a bare
//! `lambda_runtime` binary built with the same profile (`bare-lambda`), each one started as
//! Lambda starts it, against a Runtime API emulator of our own ([`emulator`]).
//!
//! Per binary: the cold start (spawn to the first `GET /next`), the idle memory at that moment,
//! the stripped size and its deployment zip, and the first invocation of a fresh process against
//! the median warm one, with the function's own `events/<name>.json`: once with AWS out of reach
//! (the binary's own work) and, with `--ministack`, against the stack's tables and bus on a local
//! ministack, seeded by `local-aws`. `lambda-bench --help` for the options.

// Nothing that comes from outside (arguments, files, processes) may panic.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod emulator;
pub mod harness;
pub mod process;
pub mod report;
pub mod sizes;
