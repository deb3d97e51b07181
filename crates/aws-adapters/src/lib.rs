//! The AWS side of the application's ports: DynamoDB repositories for the three bounded contexts
//! and the EventBridge publisher the outbox relay sends through.
//!
//! Everything that knows a table layout, an SDK error shape or an EventBridge limit lives here and
//! nowhere else, so the application layer (`app`) stays the same in Lambda and in memory. The
//! repositories keep exactly the semantics of `app::memory` (the shared contract suite runs
//! against both):
//!
//! - one table per context, single-table style inside it: generic `PK`/`SK` string keys with typed
//!   prefixes, aggregates stored whole (serde_dynamo) in a `data` map next to their `version` and
//!   the top-level attributes the indexes need ([`schema`] has the full layout);
//! - a `commit` is exactly one `TransactWriteItems`: every aggregate write conditional on its
//!   version, the outbox records, the applied-event marker and the idempotency record, so state and
//!   the events it emits land together or not at all. A cancelled transaction is mapped back to
//!   the item that failed, by position in `CancellationReasons`;
//! - outbox, applied-event and idempotency items expire through DynamoDB TTL (`expiresAt`).

// Nothing that comes from outside (requests, events, stored items, SDK answers) may panic.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod config;
mod customers;
mod items;
mod orders;
mod outbox;
mod products;
mod publisher;
pub mod schema;
mod stream;
mod table;
mod transaction;

pub use config::{
    https_client, lambda_sdk_config, lambda_sdk_config_from, load_sdk_config, local_sdk_config, open_bus, open_table,
    Clients, LOCAL_REGION, WARM_UP_KEY,
};
pub use customers::DynamoCustomerRepository;
pub use orders::DynamoOrderRepository;
pub use outbox::{outbox_record_from_image, scan_outbox};
pub use products::DynamoProductRepository;
pub use publisher::{EventBridgePublisher, RetryPolicy};
pub use schema::{create_tables, SetupError, TableNames};
pub use stream::{compare_sequence_numbers, table_stream, DynamoOutboxStream, StreamBatchInfo};
