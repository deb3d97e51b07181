//! The offline runner: the whole system in one process on 127.0.0.1, with nothing to install.
//!
//! It serves every route of template.yaml with the very handlers the Lambda binaries run,
//! keeps state in memory, publishes each outbox record after its commit, and routes it to the
//! saga steps by evaluating the template's EventBridge rules. A rule with a pattern operator it
//! does not implement stops it at start, naming the rule.
//!
//! This crate holds the runner: the server ([`server`], the `shop-local`
//! binary) and its development identity provider ([`identity`]), the system they serve
//! ([`LocalSystem`]: the functions wired on memory or DynamoDB, routed by the template's routes and
//! rules, with a relay and a sweeper), the sample data ([`seed`], [`fixtures`]), and [`local_aws`],
//! which provisions the stack at a local endpoint for one Lambda binary. The tools that drive the system are crates of
//! their own that depend on this library: `simulation` (fault injection), `load` (the HTTP load
//! test and the flash sale) and `saga-bench` (a saga's cost in memory).

// Nothing that comes from outside (requests, events, stored items, SDK answers) may panic.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod fixtures;
pub mod functions;
pub mod identity;
pub mod local_aws;
pub mod routes;
pub mod rules;
pub mod seed;
pub mod server;
pub mod system;

pub use system::{LocalSystem, RunnerError};

/// Human-readable logs for the local runner (`RUST_LOG` sets the level; `info` by default).
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_target(false)
        .try_init();
}
