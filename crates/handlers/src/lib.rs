//! The translation layer: HTTP requests into commands and views into responses (with the one
//! problem+json mapping), bus events into envelopes, step outcomes into reports. It depends on
//! the application layer and the Lambda event types only: no AWS SDK, no storage, no wiring
//! (that is the `bundle` crate's job).

// Nothing that comes from outside (requests, events, stored items, SDK answers) may panic.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

/// Declares an enum that names body types of the API for the manifest, with each one's JSON
/// Schema under the `openapi` feature (the Lambda binaries build no schema).
macro_rules! schema_names {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),* }

        #[cfg(feature = "openapi")]
        impl $name {
            pub fn schema(self, g: &mut schemars::SchemaGenerator) -> schemars::Schema {
                match self { $($name::$variant => g.subschema_for::<$ty>()),* }
            }
        }
    };
}

pub mod claims;
pub mod dto;
pub mod events;
pub mod http;
pub mod problem;
pub mod token_claims;
pub mod views;
