//! The production environment: the system clock and random UUIDs.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::{Environment, TraceHeader};
use uuid::Uuid;

/// An environment shared by every service of a process.
pub type SharedEnv = Arc<dyn Environment + Send + Sync>;

/// Wall-clock time and version-4 UUIDs.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemEnvironment;

impl Environment for SystemEnvironment {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn new_uuid(&self) -> Uuid {
        Uuid::new_v4()
    }
    /// The X-Ray trace of the current invocation, which the Lambda runtime sets for each one.
    fn trace(&self) -> Option<TraceHeader> {
        std::env::var("_X_AMZN_TRACE_ID").ok().and_then(|t| TraceHeader::parse(&t))
    }
}

impl SystemEnvironment {
    pub fn shared() -> SharedEnv {
        Arc::new(SystemEnvironment)
    }
}
