//! The products table: the catalogue and stock, and one reservation item per order.

use std::collections::BTreeSet;

use app::page::{composite_key, product_position, Page, PageRequest, Position};
use app::ports::{Commit, Item, ProductRepository, ProductWrite, StoreError, Transactional, Versioned};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use chrono::Utc;
use domain::{OrderId, Product, ProductId, StockReservation};

use crate::items::{aggregate_item, decode_versioned, Attrs, IndexAttrs, Key};
use crate::schema::{CATALOGUE_INDEX, CATALOGUE_PARTITION, GSI1PK, GSI1SK};
use crate::table::{event_ledger, Bound, DynamoTable, IndexQuery};
use crate::transaction::Transaction;

/// [`ProductRepository`] on DynamoDB. Invariant: every product item carries `GSI1PK` =
/// `CATALOGUE` and `GSI1SK` = its catalogue position (name, then id), rewritten with each put, so
/// the `Catalogue` index is always in name order; reservations are items of their own
/// (`RESERVATION#<orderId>`), versioned like aggregates.
#[derive(Clone)]
pub struct DynamoProductRepository {
    table: DynamoTable,
}

impl DynamoProductRepository {
    pub fn new(client: Client, table_name: impl Into<String>) -> Self {
        DynamoProductRepository { table: DynamoTable::new(client, table_name.into()) }
    }
}

event_ledger!(DynamoProductRepository);

fn product_item(p: &Product, version: u64) -> Result<Attrs, StoreError> {
    let index = IndexAttrs {
        gsi1pk: Some(CATALOGUE_PARTITION.to_owned()),
        gsi1sk: Some(composite_key(&product_position(p))),
        ..IndexAttrs::default()
    };
    aggregate_item(&Key::of(Item::Product(p.id())), "PRODUCT", version, index, p)
}

#[async_trait]
impl ProductRepository for DynamoProductRepository {
    async fn get(&self, id: ProductId) -> Result<Option<Versioned<Product>>, StoreError> {
        self.table.get_versioned(&Key::of(Item::Product(id))).await
    }

    async fn get_many(&self, ids: &[ProductId]) -> Result<Vec<Versioned<Product>>, StoreError> {
        let unique: BTreeSet<ProductId> = ids.iter().copied().collect();
        let items = self.table.get_many(unique.into_iter().map(|id| Key::of(Item::Product(id))).collect()).await?;
        items.into_iter().map(decode_versioned).collect()
    }

    async fn list(&self, page: &PageRequest) -> Result<Page<Product>, StoreError> {
        let size = page.size.get();
        let query = IndexQuery {
            index: CATALOGUE_INDEX,
            hash: (GSI1PK, CATALOGUE_PARTITION.to_owned()),
            range: page.after.as_ref().map(|p| (GSI1SK, Bound::Above, composite_key(p))),
            forward: true,
            status: None,
        };
        let mut products: Vec<Versioned<Product>> = self.table.query(&query, size + 1, |_| true).await?;
        let more = products.len() > size;
        products.truncate(size);
        let items: Vec<Product> = products.into_iter().map(|p| p.value).collect();
        let next: Option<Position> = if more { items.last().map(product_position) } else { None };
        Ok(Page { items, next })
    }

    async fn reservation(&self, order_id: OrderId) -> Result<Option<Versioned<StockReservation>>, StoreError> {
        self.table.get_versioned(&Key::of(Item::StockReservation(order_id))).await
    }

    async fn reservation_and_products(
        &self,
        order_id: OrderId,
        ids: &[ProductId],
    ) -> Result<(Option<Versioned<StockReservation>>, Vec<Versioned<Product>>), StoreError> {
        let reservation_key = Key::of(Item::StockReservation(order_id));
        let product_keys: Vec<Key> = ids.iter().map(|id| Key::of(Item::Product(*id))).collect();
        let mut keys = vec![reservation_key.clone()];
        keys.extend(product_keys.iter().cloned());
        let mut found = self.table.get_keyed(keys).await?;
        let reservation = found.remove(&reservation_key.pk).map(decode_versioned).transpose()?;
        let products =
            product_keys.iter().filter_map(|k| found.remove(&k.pk)).map(decode_versioned).collect::<Result<_, _>>()?;
        Ok((reservation, products))
    }
}

#[async_trait]
impl Transactional<ProductWrite> for DynamoProductRepository {
    async fn commit(&self, commit: Commit<ProductWrite>) -> Result<(), StoreError> {
        let mut tx = Transaction::default();
        for w in &commit.writes {
            match w {
                ProductWrite::Product { product, expected_version } => {
                    let item = product_item(product, expected_version + 1)?;
                    tx.put_versioned(w.item(), item, *expected_version)?;
                }
                ProductWrite::Reservation { reservation, expected_version } => {
                    let key = Key::of(Item::StockReservation(reservation.order_id));
                    let item =
                        aggregate_item(&key, "RESERVATION", expected_version + 1, IndexAttrs::default(), reservation)?;
                    tx.put_versioned(w.item(), item, *expected_version)?;
                }
                ProductWrite::Hold { hold, .. } => {
                    tx.hold(w.item(), &["data", "reserved"], &["data", "onHand"], *hold)?
                }
            }
        }
        tx.ledger(&commit, Utc::now())?;
        self.table.commit(tx).await
    }
}
