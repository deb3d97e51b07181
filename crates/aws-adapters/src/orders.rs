//! The orders table: orders, with the indexes behind a customer's history, the operator's view
//! by status and the sweeper.

use app::page::{composite_key, order_position, Page, PageRequest, Position};
use app::ports::{
    reads, Commit, HistoryQuery, IdempotencyKey, Item, OrderRepository, OrderWrite, Overdue, Placement, StatusQuery,
    StoreError, Transactional, Versioned,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::BTreeSet;

use domain::{CatalogueEntry, CustomerId, KnownCustomer, Order, OrderId, OrderStatus, ProductId};

use crate::items::{aggregate_item, decode_versioned, idempotency_record, Attrs, IndexAttrs, Key};
use crate::schema::{
    BY_CUSTOMER_INDEX, BY_STATUS_INDEX, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK, PENDING_INDEX,
    PENDING_PARTITION,
};
use crate::table::{event_ledger, Bound, DynamoTable, IndexQuery};
use crate::transaction::Transaction;

/// [`OrderRepository`] on DynamoDB. Invariant: every stored order carries `GSI1PK`/`GSI1SK` (its
/// customer's history), `GSI3PK`/`GSI3SK` (its status's partition of the operator's view) and,
/// exactly while it is PENDING, `GSI2PK`/`GSI2SK` (the sweeper's index);
/// each put replaces the whole item, so leaving PENDING removes it from that index.
#[derive(Clone)]
pub struct DynamoOrderRepository {
    table: DynamoTable,
}

impl DynamoOrderRepository {
    pub fn new(client: Client, table_name: impl Into<String>) -> Self {
        DynamoOrderRepository { table: DynamoTable::new(client, table_name.into()) }
    }
}

event_ledger!(DynamoOrderRepository);

impl DynamoOrderRepository {
    /// One page of orders from an index query: one more than the page is read, and whether it
    /// exists says whether a next page does.
    async fn orders_page(&self, query: &IndexQuery, page: &PageRequest) -> Result<Page<Order>, StoreError> {
        let size = page.size.get();
        let mut orders: Vec<Versioned<Order>> = self.table.query(query, size + 1, |_: &Versioned<Order>| true).await?;
        let more = orders.len() > size;
        orders.truncate(size);
        let items: Vec<Order> = orders.into_iter().map(|o| o.value).collect();
        let next: Option<Position> = if more { items.last().map(order_position) } else { None };
        Ok(Page { items, next })
    }
}

fn history_partition(customer: CustomerId) -> String {
    format!("CUSTOMER#{customer}")
}

fn status_partition(status: OrderStatus) -> String {
    format!("STATUS#{}", status.as_str())
}

/// The query of one page of an order index's `partition`: oldest first (`forward`) or newest
/// first, after the page's position.
fn index_page(
    index: &'static str,
    (hash, range): (&'static str, &'static str),
    partition: String,
    forward: bool,
    page: &PageRequest,
) -> IndexQuery {
    let bound = if forward { Bound::Above } else { Bound::Below };
    IndexQuery {
        index,
        hash: (hash, partition),
        range: page.after.as_ref().map(|p| (range, bound, composite_key(p))),
        forward,
        status: None,
    }
}

fn order_item(order: &Order, version: u64) -> Result<Attrs, StoreError> {
    let position = composite_key(&order_position(order));
    let pending = order.status() == OrderStatus::Pending;
    let index = IndexAttrs {
        gsi1pk: Some(history_partition(order.customer_id())),
        gsi1sk: Some(position.clone()),
        gsi2pk: pending.then_some(PENDING_PARTITION),
        gsi2sk: pending.then(|| position.clone()),
        gsi3pk: Some(status_partition(order.status())),
        gsi3sk: Some(position),
        status: Some(order.status().as_str()),
    };
    aggregate_item(&Key::of(Item::Order(order.id())), "ORDER", version, index, order)
}

/// The smallest sort key of the `Pending` index that is not before `cutoff`: positions are
/// truncated to microseconds, so round the cutoff up; the exact comparison happens on the order.
fn pending_bound(cutoff: DateTime<Utc>) -> String {
    let micros = cutoff.timestamp_micros();
    let exact = DateTime::from_timestamp_micros(micros).is_some_and(|t| t == cutoff);
    let ceiling = if exact { micros } else { micros.saturating_add(1) };
    let at = DateTime::from_timestamp_micros(ceiling).unwrap_or(cutoff);
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[async_trait]
impl OrderRepository for DynamoOrderRepository {
    async fn get(&self, id: OrderId) -> Result<Option<Versioned<Order>>, StoreError> {
        self.table.get_versioned(&Key::of(Item::Order(id))).await
    }

    async fn history(&self, q: &HistoryQuery) -> Result<Page<Order>, StoreError> {
        let mut query =
            index_page(BY_CUSTOMER_INDEX, (GSI1PK, GSI1SK), history_partition(q.customer_id), false, &q.page);
        query.status = q.status.map(OrderStatus::as_str);
        self.orders_page(&query, &q.page).await
    }

    async fn by_status(&self, q: &StatusQuery) -> Result<Page<Order>, StoreError> {
        let query = index_page(BY_STATUS_INDEX, (GSI3PK, GSI3SK), status_partition(q.status), true, &q.page);
        self.orders_page(&query, &q.page).await
    }

    async fn catalogue(&self, ids: &[ProductId]) -> Result<Vec<Versioned<CatalogueEntry>>, StoreError> {
        let unique: BTreeSet<ProductId> = ids.iter().copied().collect();
        let items = self
            .table
            .get_many(unique.into_iter().map(|id| Key::of(Item::CatalogueEntry(id))).collect(), reads::STRONG)
            .await?;
        items.into_iter().map(decode_versioned).collect()
    }

    async fn known_customer(&self, id: CustomerId) -> Result<Option<Versioned<KnownCustomer>>, StoreError> {
        self.table.get_versioned(&Key::of(Item::KnownCustomer(id))).await
    }

    async fn placement(
        &self,
        idempotency: Option<(&str, &IdempotencyKey)>,
        customer: CustomerId,
        ids: &[ProductId],
    ) -> Result<Placement, StoreError> {
        let record_key = idempotency.map(|(scope, key)| Key::idempotency(scope, key.as_str()));
        let customer_key = Key::of(Item::KnownCustomer(customer));
        let entry_keys: Vec<Key> = ids.iter().map(|id| Key::of(Item::CatalogueEntry(*id))).collect();
        let mut keys = vec![customer_key.clone()];
        keys.extend(record_key.clone());
        keys.extend(entry_keys.iter().cloned());
        let mut found = self.table.get_keyed(keys, reads::PLACEMENT).await?;
        let prior = record_key.and_then(|k| found.remove(&k.pk)).map(idempotency_record).transpose()?;
        let customer = found.remove(&customer_key.pk).map(decode_versioned).transpose()?;
        let catalogue =
            entry_keys.iter().filter_map(|k| found.remove(&k.pk)).map(decode_versioned).collect::<Result<_, _>>()?;
        Ok(Placement { prior, customer, catalogue })
    }

    async fn pending_before(&self, cutoff: DateTime<Utc>, limit: usize) -> Result<Overdue, StoreError> {
        let query = IndexQuery {
            index: PENDING_INDEX,
            hash: (GSI2PK, PENDING_PARTITION.to_owned()),
            range: Some((GSI2SK, Bound::Below, pending_bound(cutoff))),
            forward: true,
            status: None,
        };
        let mut unreadable = vec![];
        let keep = |o: &Versioned<Order>| o.value.status() == OrderStatus::Pending && o.value.created_at() < cutoff;
        let orders = self
            .table
            .query_reporting(&query, limit, keep, |e| {
                unreadable.push(e);
                Ok(())
            })
            .await?;
        Ok(Overdue { orders, unreadable })
    }
}

#[async_trait]
impl Transactional<OrderWrite> for DynamoOrderRepository {
    async fn commit(&self, commit: Commit<OrderWrite>) -> Result<(), StoreError> {
        let mut tx = Transaction::default();
        for w in &commit.writes {
            match w {
                OrderWrite::Put { order, expected_version } => {
                    let item = order_item(order, expected_version + 1)?;
                    tx.put_versioned(w.item(), item, *expected_version)?;
                }
                OrderWrite::Check { version, .. } => tx.check_version(w.item(), *version)?,
                OrderWrite::Catalogue { entry, expected_version } => {
                    let key = Key::of(w.item());
                    let item = aggregate_item(&key, "CATALOGUE", expected_version + 1, IndexAttrs::default(), entry)?;
                    tx.put_versioned(w.item(), item, *expected_version)?;
                }
                OrderWrite::Customer { customer, expected_version } => {
                    let key = Key::of(w.item());
                    let item =
                        aggregate_item(&key, "KNOWN_CUSTOMER", expected_version + 1, IndexAttrs::default(), customer)?;
                    tx.put_versioned(w.item(), item, *expected_version)?;
                }
            }
        }
        tx.ledger(&commit, Utc::now())?;
        self.table.commit(tx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pending_bound_rounds_a_cutoff_up_to_the_next_microsecond() {
        let exact = DateTime::from_timestamp(1_800_000_000, 5_000).unwrap();
        assert_eq!(pending_bound(exact), "2027-01-15T08:00:00.000005Z");
        let between = DateTime::from_timestamp(1_800_000_000, 5_001).unwrap();
        assert_eq!(pending_bound(between), "2027-01-15T08:00:00.000006Z");
    }
}
