//! The production environment: the system clock and random UUIDs.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::Environment;
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
}

impl SystemEnvironment {
    pub fn shared() -> SharedEnv {
        Arc::new(SystemEnvironment)
    }
}
