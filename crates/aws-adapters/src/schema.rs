//! The table layout, and the code that creates it (for tests and the offline runner; the deployed
//! tables come from template.yaml and must match this).
//!
//! Three tables, one per bounded context, each single-table style with string keys `PK`/`SK`:
//!
//! | table | PK | SK | other attributes |
//! |---|---|---|---|
//! | customers | `CUSTOMER#<id>` | `CUSTOMER` | `entity`, `version`, `data` |
//! | customers | `CREDIT#<orderId>` | `CREDIT` | `entity`, `version`, `data` |
//! | products | `PRODUCT#<id>` | `PRODUCT` | `entity`, `version`, `data`, `GSI1PK`=`CATALOGUE`, `GSI1SK`=name#id |
//! | products | `RESERVATION#<orderId>` | `RESERVATION` | `entity`, `version`, `data` |
//! | orders | `ORDER#<id>` | `ORDER` | `entity`, `version`, `data`, `status`, `GSI1PK`=`CUSTOMER#<customerId>`, `GSI1SK`=createdAt#id, `GSI3PK`=`STATUS#<status>`, `GSI3SK`=createdAt#id, and only while PENDING `GSI2PK`=`PENDING`, `GSI2SK`=createdAt#id |
//! | orders | `CATALOGUE#<productId>` | `CATALOGUE` | `entity`, `version`, `data` (the orders replica of a product) |
//! | orders | `KNOWN_CUSTOMER#<customerId>` | `KNOWN_CUSTOMER` | `entity`, `version`, `data` (the orders replica of a customer) |
//! | all | `APPLIED#<consumer>#<eventId>` | `APPLIED` | `consumer`, `eventId`, `expiresAt` (7 days) |
//! | customers, orders | `IDEMPOTENCY#<scope>#<key>` | `IDEMPOTENCY` | `scope`, `key`, `fingerprint`, `resourceId`, `response` (JSON text), `expiresAt` (24 h) |
//! | all | `OUTBOX#<eventId>` | `OUTBOX` | `eventId`, `source`, `detailType`, `detail` (JSON text), `occurredAt` (RFC 3339), `expiresAt` (7 days) |
//!
//! Indexes (projection ALL): orders `ByCustomer` (`GSI1PK`, `GSI1SK`), `Pending` (`GSI2PK`,
//! `GSI2SK`, sparse: only PENDING orders carry its keys) and `ByStatus` (`GSI3PK`, `GSI3SK`: every
//! order under its status; one index partition per status takes every write of that status, about
//! a thousand a second); products `Catalogue` (`GSI1PK`,
//! `GSI1SK`). Every table: on-demand billing, a stream with NEW_IMAGE (the outbox relay reads it),
//! TTL on `expiresAt`.

use std::time::Duration;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus, TimeToLiveSpecification,
    TimeToLiveStatus,
};
use aws_sdk_dynamodb::Client;

pub(crate) const PK: &str = "PK";
pub(crate) const SK: &str = "SK";
pub(crate) const GSI1PK: &str = "GSI1PK";
pub(crate) const GSI1SK: &str = "GSI1SK";
pub(crate) const GSI2PK: &str = "GSI2PK";
pub(crate) const GSI2SK: &str = "GSI2SK";
pub(crate) const GSI3PK: &str = "GSI3PK";
pub(crate) const GSI3SK: &str = "GSI3SK";
/// The TTL attribute: epoch seconds after which DynamoDB may delete the item.
pub const EXPIRES_AT: &str = "expiresAt";

/// Orders of one customer, by creation time then id.
pub const BY_CUSTOMER_INDEX: &str = "ByCustomer";
/// PENDING orders only (sparse), by creation time then id.
pub const PENDING_INDEX: &str = "Pending";
/// Every order under its status, by creation time then id.
pub const BY_STATUS_INDEX: &str = "ByStatus";
/// Every product, by name then id.
pub const CATALOGUE_INDEX: &str = "Catalogue";

/// `GSI1PK` of every product: the catalogue is one index partition.
pub(crate) const CATALOGUE_PARTITION: &str = "CATALOGUE";
/// `GSI2PK` of every PENDING order.
pub(crate) const PENDING_PARTITION: &str = "PENDING";

/// The three table names of one deployment. Invariant: three distinct names, each holding only
/// the items of its own context (the repositories never write across tables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    pub customers: String,
    pub products: String,
    pub orders: String,
}

impl TableNames {
    /// `<prefix>customers`, `<prefix>products`, `<prefix>orders`.
    pub fn with_prefix(prefix: &str) -> Self {
        TableNames {
            customers: format!("{prefix}customers"),
            products: format!("{prefix}products"),
            orders: format!("{prefix}orders"),
        }
    }
}

/// Why the tables could not be created.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("DynamoDB refused {action} on table {table}")]
    Sdk {
        action: &'static str,
        table: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("table {table} is not ACTIVE after {waited:?}")]
    NotActive { table: String, waited: Duration },
}

struct IndexSpec {
    name: &'static str,
    hash: &'static str,
    range: &'static str,
}

const CUSTOMER_INDEXES: &[IndexSpec] = &[];
const PRODUCT_INDEXES: &[IndexSpec] = &[IndexSpec { name: CATALOGUE_INDEX, hash: GSI1PK, range: GSI1SK }];
const ORDER_INDEXES: &[IndexSpec] = &[
    IndexSpec { name: BY_CUSTOMER_INDEX, hash: GSI1PK, range: GSI1SK },
    IndexSpec { name: PENDING_INDEX, hash: GSI2PK, range: GSI2SK },
    IndexSpec { name: BY_STATUS_INDEX, hash: GSI3PK, range: GSI3SK },
];

/// How long [`create_tables`] waits for a table and its indexes to become ACTIVE.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

/// Creates the three tables with the layout of this module's doc, waits until they and their
/// indexes are ACTIVE, and enables TTL on `expiresAt`. A table that already exists is left as it
/// is (only waited for, and given TTL if it lacks it), so a runner can call this on every start.
pub async fn create_tables(client: &Client, names: &TableNames) -> Result<(), SetupError> {
    tokio::try_join!(
        create_table(client, &names.customers, CUSTOMER_INDEXES),
        create_table(client, &names.products, PRODUCT_INDEXES),
        create_table(client, &names.orders, ORDER_INDEXES),
    )?;
    Ok(())
}

fn sdk_error<'a, E>(action: &'static str, table: &'a str) -> impl FnOnce(E) -> SetupError + 'a
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |e| SetupError::Sdk { action, table: table.to_owned(), source: Box::new(e) }
}

fn key_element(name: &str, key_type: KeyType, table: &str) -> Result<KeySchemaElement, SetupError> {
    KeySchemaElement::builder().attribute_name(name).key_type(key_type).build().map_err(sdk_error("CreateTable", table))
}

fn string_attribute(name: &str, table: &str) -> Result<AttributeDefinition, SetupError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(sdk_error("CreateTable", table))
}

async fn create_table(client: &Client, table: &str, indexes: &[IndexSpec]) -> Result<(), SetupError> {
    let mut attributes = vec![PK, SK];
    for i in indexes {
        for a in [i.hash, i.range] {
            if !attributes.contains(&a) {
                attributes.push(a);
            }
        }
    }
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element(PK, KeyType::Hash, table)?)
        .key_schema(key_element(SK, KeyType::Range, table)?)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .map_err(sdk_error("CreateTable", table))?,
        );
    for a in attributes {
        request = request.attribute_definitions(string_attribute(a, table)?);
    }
    for i in indexes {
        let index = GlobalSecondaryIndex::builder()
            .index_name(i.name)
            .key_schema(key_element(i.hash, KeyType::Hash, table)?)
            .key_schema(key_element(i.range, KeyType::Range, table)?)
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .map_err(sdk_error("CreateTable", table))?;
        request = request.global_secondary_indexes(index);
    }
    match request.send().await {
        Ok(_) => {}
        Err(SdkError::ServiceError(e)) if e.err().is_resource_in_use_exception() => {
            tracing::info!(table, "table exists already, keeping it");
        }
        Err(e) => return Err(sdk_error("CreateTable", table)(e)),
    }
    wait_until_active(client, table).await?;
    enable_ttl(client, table).await
}

async fn wait_until_active(client: &Client, table: &str) -> Result<(), SetupError> {
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(50);
    loop {
        let described =
            client.describe_table().table_name(table).send().await.map_err(sdk_error("DescribeTable", table))?;
        let ready = described.table().is_some_and(|t| {
            t.table_status() == Some(&TableStatus::Active)
                && t.global_secondary_indexes().iter().all(|i| i.index_status() == Some(&IndexStatus::Active))
        });
        if ready {
            return Ok(());
        }
        if started.elapsed() > ACTIVE_TIMEOUT {
            return Err(SetupError::NotActive { table: table.to_owned(), waited: started.elapsed() });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

async fn enable_ttl(client: &Client, table: &str) -> Result<(), SetupError> {
    let current = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(sdk_error("DescribeTimeToLive", table))?;
    let on = current.time_to_live_description().is_some_and(|d| {
        matches!(d.time_to_live_status(), Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling))
            && d.attribute_name() == Some(EXPIRES_AT)
    });
    if on {
        return Ok(());
    }
    let spec = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(EXPIRES_AT)
        .build()
        .map_err(sdk_error("UpdateTimeToLive", table))?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(spec)
        .send()
        .await
        .map_err(sdk_error("UpdateTimeToLive", table))?;
    Ok(())
}
