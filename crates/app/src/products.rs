//! Products: the catalogue, and the stock steps of the saga (reserve all lines or none; release).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use domain::saga::{release_order_stock, reserve_order_stock, Step, StockChange};
use domain::{DomainEvent, EventEnvelope, OrderId, Product, ProductId, StockReservation, StockShard};

use crate::access::{authorize, Action, Caller};
use crate::commands::{AddProduct, Restock, UpdateProduct};
use crate::env::SharedEnv;
use crate::error::{AppError, StepError};
use crate::idempotency::{self, Created, Prior};
use crate::page::{self, Listing, PageRequest, PageSize};
use crate::ports::{
    reads, Commit, Consistency, IdempotencyKey, IdempotencyRecord, Item, ProductRepository, ProductWrite, StoreError,
    Versioned,
};
use crate::step::{self, Attempt, Consumer, StepOutcome};

const CATALOGUE_SCOPE: &str = "catalogue";

#[derive(Clone)]
pub struct ProductService {
    repo: Arc<dyn ProductRepository>,
    env: SharedEnv,
}

impl ProductService {
    pub fn new(repo: Arc<dyn ProductRepository>, env: SharedEnv) -> Self {
        ProductService { repo, env }
    }

    /// Adds a product to the catalogue; with an Idempotency-Key, a retry adds it once and answers
    /// as the first request did.
    pub async fn add(
        &self,
        caller: &Caller,
        cmd: AddProduct,
        key: Option<&IdempotencyKey>,
    ) -> Result<Created<Product>, AppError> {
        authorize(caller, Action::WriteCatalogue)?;
        let scope = idempotency::scope(CATALOGUE_SCOPE, caller);
        let fp = idempotency::fingerprint(&cmd)?;
        if let Prior::Replay(resource) = idempotency::check(self.repo.as_ref(), &scope, key, &fp).await? {
            return Ok(Created { resource, replayed: true });
        }
        let id = ProductId::from_uuid(self.env.new_uuid());
        let (product, event) =
            Product::add(id, cmd.name, cmd.price, cmd.weight, cmd.dimensions, cmd.stock, self.env.now());
        let envelope = EventEnvelope::new(DomainEvent::ProductAdded(event), self.env.as_ref());
        let record = idempotency::record(&scope, key, &fp, id.as_uuid(), &product)?;
        let write = ProductWrite::Product { product: product.clone(), expected_version: 0 };
        let committed = self.repo.commit(Commit::new(vec![write], &[envelope]).answering(record)).await;
        idempotency::settle(self.repo.as_ref(), &scope, key, &fp, committed, product, AppError::from).await
    }

    /// Loads the product, lets `change` decide, and commits the product with the events it
    /// returned (and the idempotency record `answering` makes of the result), conditional on the
    /// version it was read at, and every stock shard past 0 whose units moved, conditional on
    /// what it held when read. Returns the product as changed and how the commit went (a
    /// concurrent change is a conflict: 409); no event means nothing to write.
    ///
    /// A concurrent write (a stock hold of the saga, another change) sends it back to read and
    /// decide again, a few times, before the conflict is answered.
    ///
    /// With `expected` (the client's `If-Match`), the product read must be at that catalogue
    /// revision, or nothing is written (412). The check needs no write of its own: the commit is
    /// conditional on the version the product was read at, so a change landing after the read
    /// fails the commit, and the next attempt reads the newer revision and refuses.
    async fn change(
        &self,
        id: ProductId,
        expected: Option<u64>,
        change: impl Fn(&mut Product) -> Result<Vec<DomainEvent>, AppError>,
        answering: impl Fn(&Product) -> Result<Option<IdempotencyRecord>, AppError>,
    ) -> Result<(Product, Result<(), StoreError>), AppError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let Versioned { value: mut product, version } =
                self.repo.get(id).await?.ok_or(AppError::NotFound(Item::Product(id)))?;
            if let Some(expected) = expected.filter(|r| *r != u64::from(product.revision())) {
                return Err(AppError::PreconditionFailed {
                    item: Item::Product(id),
                    expected,
                    current: product.revision(),
                });
            }
            let before = product.stock_shards();
            let events = change(&mut product)?;
            if events.is_empty() {
                return Ok((product, Ok(())));
            }
            let envelopes: Vec<EventEnvelope> =
                events.into_iter().map(|e| EventEnvelope::new(e, self.env.as_ref())).collect();
            let record = answering(&product)?;
            let mut writes = vec![ProductWrite::Product { product: product.clone(), expected_version: version }];
            writes.extend(shard_writes(id, &before, &product.stock_shards()));
            let committed = self.repo.commit(Commit::new(writes, &envelopes).answering(record)).await;
            if matches!(committed, Err(StoreError::Conflict { .. })) && attempts < crate::step::HTTP_ATTEMPTS {
                continue;
            }
            return Ok((product, committed));
        }
    }

    /// PATCH: a new name and/or price, and/or the number of stock shards. Orders already placed
    /// keep their price; units held stay held (see [`domain::stock`]). With `expected`, only if
    /// the product is still at that catalogue revision (see [`Self::change`]).
    pub async fn update(
        &self,
        caller: &Caller,
        id: ProductId,
        cmd: UpdateProduct,
        expected: Option<u64>,
    ) -> Result<Product, AppError> {
        authorize(caller, Action::WriteCatalogue)?;
        let update = |p: &mut Product| {
            let listed = p.update(cmd.name.clone(), cmd.price).map(DomainEvent::ProductUpdated);
            let resharded = cmd.shards.and_then(|k| p.reshard(k)).map(DomainEvent::StockResharded);
            Ok(listed.into_iter().chain(resharded).collect())
        };
        let (product, committed) = self.change(id, expected, update, |_| Ok(None)).await?;
        committed?;
        Ok(product)
    }

    /// Adds stock; with an Idempotency-Key, a retried request adds once and answers as the first.
    /// With `expected`, only if the product is still at that catalogue revision.
    pub async fn restock(
        &self,
        caller: &Caller,
        id: ProductId,
        cmd: Restock,
        key: Option<&IdempotencyKey>,
        expected: Option<u64>,
    ) -> Result<Created<Product>, AppError> {
        authorize(caller, Action::WriteCatalogue)?;
        let scope = idempotency::scope(&format!("restock:{id}"), caller);
        let fp = idempotency::fingerprint(&cmd)?;
        if let Prior::Replay(resource) = idempotency::check(self.repo.as_ref(), &scope, key, &fp).await? {
            return Ok(Created { resource, replayed: true });
        }
        let restock = |p: &mut Product| Ok(vec![DomainEvent::StockAdded(p.restock(cmd.quantity)?)]);
        let record = |p: &Product| idempotency::record(&scope, key, &fp, id.as_uuid(), p);
        let (product, committed) = self.change(id, expected, restock, record).await?;
        idempotency::settle(self.repo.as_ref(), &scope, key, &fp, committed, product, AppError::from).await
    }

    /// No new orders from now on; reservations already made are kept. Discontinuing twice
    /// changes nothing. With `expected`, only if the product is still at that catalogue revision.
    pub async fn discontinue(
        &self,
        caller: &Caller,
        id: ProductId,
        expected: Option<u64>,
    ) -> Result<Product, AppError> {
        authorize(caller, Action::WriteCatalogue)?;
        let now = self.env.now();
        let discontinue =
            |p: &mut Product| Ok(p.discontinue(now).map(DomainEvent::ProductDiscontinued).into_iter().collect());
        let (product, committed) = self.change(id, expected, discontinue, |_| Ok(None)).await?;
        committed?;
        Ok(product)
    }

    pub async fn get(&self, id: ProductId) -> Result<Product, AppError> {
        let p = self.repo.get(id).await?.ok_or(AppError::NotFound(Item::Product(id)))?;
        Ok(p.value)
    }

    /// The catalogue by name; `cursor` is what the previous page returned.
    pub async fn list(&self, size: PageSize, cursor: Option<&str>) -> Result<Listing<Product>, AppError> {
        let after =
            cursor.map(|c| page::decode_cursor(CATALOGUE_SCOPE, c)).transpose().map_err(|_| AppError::InvalidCursor)?;
        let p = self.repo.list(&PageRequest { size, after }).await?;
        let next_cursor =
            p.next.map(|n| page::encode_cursor(CATALOGUE_SCOPE, &n)).transpose().map_err(AppError::Serialization)?;
        Ok(Listing { items: p.items, next_cursor })
    }

    /// One attempt of a stock step for `order_id`: the reservation record and the products of
    /// `ids` (or, with `None`, of the reservation's lines), and the domain's decision on them.
    async fn attempt(
        &self,
        order_id: OrderId,
        ids: Option<&[ProductId]>,
        consistency: Consistency,
        decide: impl FnOnce(&BTreeMap<ProductId, Product>, Option<&StockReservation>) -> Step<StockChange>,
    ) -> Result<Attempt<ProductWrite>, StepError> {
        // With the ids known (a reservation, or a release whose event names the order's products),
        // one read of the record and the products; otherwise (an event from before releases named
        // them) the record first, then its products.
        let (existing, loaded) = match ids {
            Some(ids) => {
                let (existing, mut loaded) = self.repo.reservation_and_products(order_id, ids, consistency).await?;
                let unread: Vec<ProductId> = existing
                    .iter()
                    .flat_map(|r| r.value.lines.iter().map(|l| l.product_id))
                    .filter(|id| !ids.contains(id))
                    .collect();
                if !unread.is_empty() {
                    loaded.extend(self.repo.get_many(&unread).await?);
                }
                (existing, loaded)
            }
            None => {
                let existing = self.repo.reservation(order_id).await?;
                let ids: Vec<ProductId> =
                    existing.iter().flat_map(|r| r.value.lines.iter().map(|l| l.product_id)).collect();
                let loaded = self.repo.get_many(&ids).await?;
                (existing, loaded)
            }
        };
        let products: BTreeMap<ProductId, Product> = loaded.into_iter().map(|p| (p.value.id(), p.value)).collect();
        let reservation_version = existing.as_ref().map_or(0, |r| r.version);
        let decision = decide(&products, existing.as_ref().map(|r| &r.value)).map(|change| {
            let mut w = vec![ProductWrite::Reservation {
                reservation: change.reservation,
                expected_version: reservation_version,
            }];
            // Each product's counter moves by a hold on the invariant, not a versioned put: the
            // reservations of one hot product do not conflict with each other.
            // One hold per shard that moved: a hot product's reservations meet only when they
            // land on the same shard.
            for product in change.products {
                let holds = products.get(&product.id()).map(|before| product.hold_since(before)).unwrap_or_default();
                for (shard, hold) in holds {
                    w.push(ProductWrite::Hold { product_id: product.id(), shard, hold });
                }
            }
            w
        });
        Ok(Attempt::unguarded(decision))
    }

    /// OrderCreated → StockReserved | StockReservationFailed.
    pub async fn reserve_stock(&self, consumer: Consumer, ev: &EventEnvelope) -> Result<StepOutcome, StepError> {
        let DomainEvent::OrderCreated(created) = &ev.event else {
            return Err(consumer.unroutable(ev));
        };
        let ids: Vec<ProductId> = created.lines.iter().map(|l| l.product_id).collect();
        let decide = |products: &BTreeMap<ProductId, Product>, existing: Option<&StockReservation>| {
            reserve_order_stock(created, ev.metadata.occurred_at, products, existing, shard_start(ev))
        };
        // The first look is eventually consistent (half the read units of the hot items): each
        // hold is conditional on its shard's invariant, so a stale view can at worst see a hold
        // refused. Every later attempt (after a refused hold or a conflict) reads strongly, and
        // so does a refusal of the order before it is committed: a stale read that missed a
        // restock or a release must not refuse an order the stock can serve.
        let again = AtomicBool::new(false);
        step::run(self.repo.as_ref(), consumer, ev, &self.env, || async {
            if !again.swap(true, Ordering::Relaxed) {
                let first = self.attempt(created.order_id, Some(&ids), reads::STOCK_FIRST, decide).await?;
                if !refuses(&first) {
                    return Ok(first);
                }
            }
            self.attempt(created.order_id, Some(&ids), reads::STOCK_AGAIN, decide).await
        })
        .await
    }

    /// OrderRejected | OrderCancelled | StockReleaseRequested → StockReleased (or a tombstone).
    pub async fn release_stock(&self, consumer: Consumer, ev: &EventEnvelope) -> Result<StepOutcome, StepError> {
        let (order_id, product_ids) = match &ev.event {
            DomainEvent::OrderRejected(e) => (e.order_id, &e.product_ids),
            DomainEvent::OrderCancelled(e) => (e.order_id, &e.product_ids),
            DomainEvent::StockReleaseRequested(e) => (e.order_id, &e.product_ids),
            _ => return Err(consumer.unroutable(ev)),
        };
        let ids = (!product_ids.is_empty()).then_some(product_ids.as_slice());
        step::run(self.repo.as_ref(), consumer, ev, &self.env, || {
            self.attempt(order_id, ids, reads::STRONG, |products, existing| {
                release_order_stock(order_id, products, existing)
            })
        })
        .await
    }
}

/// Whether `attempt` decided to refuse the order its stock.
fn refuses(attempt: &Attempt<ProductWrite>) -> bool {
    matches!(&attempt.decision, Step::Apply { events, .. }
        if events.iter().any(|e| matches!(e, DomainEvent::StockReservationFailed(_))))
}

/// Where a reservation starts looking for a shard with room: drawn from the event's id (a random
/// UUID), so concurrent orders for a hot product spread over its shards, and a redelivery of the
/// same event decides the same way.
fn shard_start(ev: &EventEnvelope) -> u32 {
    ev.id().as_uuid().as_u128() as u32
}

/// The writes that take shards 1.. of product `id` from `before` to `after` (shard 0 is in the
/// product's own item): each conditional on what the shard held, so a concurrent hold on it
/// sends the change back to read again. Shards a lower K no longer uses are left empty.
fn shard_writes(id: ProductId, before: &[StockShard], after: &[StockShard]) -> Vec<ProductWrite> {
    let at = |v: &[StockShard], n: usize| v.get(n).copied().unwrap_or_default();
    (1..before.len().max(after.len()))
        .filter(|n| at(before, *n) != at(after, *n))
        .map(|n| ProductWrite::Shard { product_id: id, shard: n as u16, from: at(before, n), to: at(after, n) })
        .collect()
}
