//! The composition root of the bundle. Every Lambda function is a variant of [`Function`], which
//! knows its name, trigger, environment variables and IAM actions; [`wire`] turns a function, its
//! configuration and the stores at hand into its [`Handler`]; [`lambda::main`] is a function's
//! whole main on Lambda. The local runner, the simulation and the tests build their handlers with
//! the same `wire`, so nothing else decides which service a function runs.

// Nothing that comes from outside (requests, events, stored items, SDK answers) may panic.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod config;
pub mod lambda;
pub mod manifest;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod relay;
pub mod telemetry;
pub mod wire;

pub use config::{Config, ConfigError};
pub use manifest::Function;
pub use wire::{wire, wire_with, AsHandler, Build, Handler, Resources, Stores, WireError};
