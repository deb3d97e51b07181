//! The products table: the catalogue and stock, and one reservation item per order.

use std::collections::BTreeSet;

use app::page::{composite_key, product_position, Page, PageRequest, Position};
use app::ports::{
    reads, Commit, Consistency, Item, ProductRepository, ProductWrite, StoreError, Transactional, Versioned,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use chrono::Utc;
use domain::{OrderId, Product, ProductId, StockReservation, StockShard};

use crate::items::{aggregate_item, decode, decode_versioned, encode, Attrs, IndexAttrs, Key};
use crate::schema::{CATALOGUE_INDEX, CATALOGUE_PARTITION, GSI1PK, GSI1SK};
use crate::table::{event_ledger, Bound, DynamoTable, IndexQuery};
use crate::transaction::Transaction;

/// [`ProductRepository`] on DynamoDB. Invariant: every product item carries `GSI1PK` =
/// `CATALOGUE` and `GSI1SK` = its catalogue position (name, then id), rewritten with each put, so
/// the `Catalogue` index is always in name order; reservations are items of their own
/// (`RESERVATION#<orderId>`), versioned like aggregates. A product's item holds its stock shard 0
/// and, when K > 1, `shardCount` = K; shards 1..K are items `PRODUCT#<id>#STOCK#<n>` of their
/// own (see [`Item::StockShard`]), read back into the product with it. An ordinary product (K = 1)
/// is one item, read and written exactly as before shards existed.
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

/// The attribute of a product item's `data` that says how many stock shards it has (absent: 1).
const SHARD_COUNT: &str = "shardCount";

fn product_item(p: &Product, version: u64) -> Result<Attrs, StoreError> {
    let index = IndexAttrs {
        gsi1pk: Some(CATALOGUE_PARTITION.to_owned()),
        gsi1sk: Some(composite_key(&product_position(p))),
        ..IndexAttrs::default()
    };
    let key = Key::of(Item::Product(p.id()));
    let head = p
        .clone()
        .with_extra_shards(vec![])
        .map_err(|e| StoreError::Corrupt { key: key.pk.clone(), source: e.into() })?;
    let mut item = aggregate_item(&key, "PRODUCT", version, index, &head)?;
    if p.shard_count() > 1 {
        if let Some(AttributeValue::M(data)) = item.get_mut("data") {
            data.insert(SHARD_COUNT.to_owned(), AttributeValue::N(p.shard_count().to_string()));
        }
    }
    Ok(item)
}

/// How many stock shards the product item says it has.
fn shard_count(item: &Attrs) -> u32 {
    let Some(AttributeValue::M(data)) = item.get("data") else { return 1 };
    match data.get(SHARD_COUNT) {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(1),
        _ => 1,
    }
}

/// A stock shard item as read: only its data.
#[derive(serde::Deserialize)]
struct StoredShard {
    data: StockShard,
}

impl DynamoProductRepository {
    /// Decodes product items, reading the shard items of those with K > 1 in one more batch read
    /// (none when every product is an ordinary one).
    async fn assemble(
        &self,
        items: Vec<Attrs>,
        consistency: Consistency,
    ) -> Result<Vec<Versioned<Product>>, StoreError> {
        let heads = items
            .into_iter()
            .map(|item| {
                let k = shard_count(&item);
                decode_versioned::<Product>(item).map(|p| (p, k))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.with_shards(heads, consistency).await
    }

    /// Puts each product (as its item stores it, with K) back together with its shards 1..K.
    async fn with_shards(
        &self,
        heads: Vec<(Versioned<Product>, u32)>,
        consistency: Consistency,
    ) -> Result<Vec<Versioned<Product>>, StoreError> {
        let keys: Vec<Key> = heads
            .iter()
            .flat_map(|(p, k)| (1..*k).map(|n| Key::of(Item::StockShard(p.value.id(), n as u16))))
            .collect();
        let mut shards =
            if keys.is_empty() { Default::default() } else { self.table.get_keyed(keys, consistency).await? };
        heads
            .into_iter()
            .map(|(Versioned { value, version }, k)| {
                let id = value.id();
                let extra = (1..k)
                    .map(|n| match shards.remove(&Key::of(Item::StockShard(id, n as u16)).pk) {
                        Some(item) => decode::<StoredShard>(item).map(|s| s.data),
                        None => Ok(StockShard::default()),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let value = value
                    .with_extra_shards(extra)
                    .map_err(|e| StoreError::Corrupt { key: format!("product {id}"), source: e.into() })?;
                Ok(Versioned { value, version })
            })
            .collect()
    }
}

#[async_trait]
impl ProductRepository for DynamoProductRepository {
    async fn get(&self, id: ProductId) -> Result<Option<Versioned<Product>>, StoreError> {
        let item = self.table.get(&Key::of(Item::Product(id))).await?;
        Ok(self.assemble(item.into_iter().collect(), reads::STRONG).await?.pop())
    }

    async fn get_many(&self, ids: &[ProductId]) -> Result<Vec<Versioned<Product>>, StoreError> {
        let unique: BTreeSet<ProductId> = ids.iter().copied().collect();
        let keys = unique.into_iter().map(|id| Key::of(Item::Product(id))).collect();
        let items = self.table.get_many(keys, reads::STRONG).await?;
        self.assemble(items, reads::STRONG).await
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
        let mut rows: Vec<Versioned<serde_json::Value>> = self.table.query(&query, size + 1, |_| true).await?;
        let more = rows.len() > size;
        rows.truncate(size);
        let heads = rows
            .into_iter()
            .map(|Versioned { value, version }| {
                let k = value.get(SHARD_COUNT).and_then(serde_json::Value::as_u64).unwrap_or(1) as u32;
                let corrupt =
                    |e: serde_json::Error| StoreError::Corrupt { key: "a catalogue entry".into(), source: e.into() };
                let product: Product = serde_json::from_value(value).map_err(corrupt)?;
                Ok((Versioned { value: product, version }, k))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let products = self.with_shards(heads, reads::STRONG).await?;
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
        consistency: Consistency,
    ) -> Result<(Option<Versioned<StockReservation>>, Vec<Versioned<Product>>), StoreError> {
        let reservation_key = Key::of(Item::StockReservation(order_id));
        let product_keys: Vec<Key> = ids.iter().map(|id| Key::of(Item::Product(*id))).collect();
        let mut keys = vec![reservation_key.clone()];
        keys.extend(product_keys.iter().cloned());
        let mut found = self.table.get_keyed(keys, consistency).await?;
        let reservation = found.remove(&reservation_key.pk).map(decode_versioned).transpose()?;
        let items = product_keys.iter().filter_map(|k| found.remove(&k.pk)).collect();
        Ok((reservation, self.assemble(items, consistency).await?))
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
                ProductWrite::Shard { from, to, .. } => {
                    let key = Key::of(w.item());
                    let to = encode(&key, &serde_json::json!({"onHand": to.on_hand(), "reserved": to.reserved()}))
                        .map(AttributeValue::M)?;
                    let from = [("onHand", i64::from(from.on_hand())), ("reserved", i64::from(from.reserved()))];
                    tx.set_if(w.item(), "STOCK", &from, to)?
                }
            }
        }
        tx.ledger(&commit, Utc::now())?;
        self.table.commit(tx).await
    }
}
