//! The translation layer: HTTP requests into commands and views into responses (with the one
//! problem+json mapping), bus events into envelopes, step outcomes into reports. It depends on
//! the application layer and the Lambda event types only: no AWS SDK, no storage, no wiring
//! (that is the `bundle` crate's job).

// Nothing that comes from outside (requests, events, stored items, SDK answers) may panic.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod claims;
pub mod dto;
pub mod events;
pub mod http;
pub mod problem;
pub mod views;
