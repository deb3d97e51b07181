//! The application layer: use cases written against ports, so the same code runs on DynamoDB in
//! Lambda and in memory in the offline runner and the simulation.
//!
//! Handlers translate requests and events into the commands here; services load aggregates,
//! ask the domain to decide, and commit what it decided in one transaction per use case.

// Nothing that comes from outside (requests, events, stored items, SDK answers) may panic.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod access;
pub mod bus;
pub mod capacity;
pub mod commands;
pub mod customers;
pub mod env;
pub mod error;
pub mod idempotency;
pub mod measure;
pub mod memory;
pub mod orders;
pub mod page;
pub mod ports;
pub mod products;
pub mod relay;
pub mod step;

#[cfg(feature = "contract")]
#[allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is the report
pub mod contract;

pub use env::{SharedEnv, SystemEnvironment};
pub use error::{AppError, StepError};
