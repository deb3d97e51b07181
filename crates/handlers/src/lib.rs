//! What the Lambda functions and the local runner share: the manifest of functions, typed
//! configuration, the HTTP handlers with their one problem+json mapping, the event handlers and
//! logging. A function's main picks its pieces from here and stays a few lines long.

// Nothing that comes from outside (requests, events, stored items, SDK answers) may panic.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod bootstrap;
pub mod config;
pub mod dto;
pub mod events;
pub mod http;
pub mod manifest;
pub mod problem;
pub mod telemetry;
