//! In-memory adapters: the same contract as the DynamoDB ones (version checks, all-or-nothing
//! commits, applied markers, idempotency records, pagination), for the offline runner, the
//! simulation and fast tests. The contract suite runs against both.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    CatalogueEntry, Context, CreditReservation, Customer, CustomerId, EventId, KnownCustomer, Order, OrderId,
    OrderStatus, Product, ProductId, StockReservation, StockShard,
};

use crate::capacity::{self, CapacityModel};
use crate::page::{composite_key, order_position, product_position, Page, PageRequest, Position};
use crate::ports::{
    reads, AppliedEvent, Commit, Consistency, CustomerRepository, CustomerWrite, Duplicate, EventLedger, HistoryQuery,
    IdempotencyKey, IdempotencyRecord, Item, OrderRepository, OrderWrite, OutboxRecord, OutboxStream, Overdue,
    Placement, ProductRepository, ProductWrite, StatusQuery, StoreError, StreamError, StreamRange, Transactional,
    Versioned,
};

/// Called after every successful commit (the runner wakes its outbox dispatcher with it).
pub type CommitHook = Arc<dyn Fn() + Send + Sync>;

/// What every table holds besides its aggregates.
#[derive(Default)]
struct Ledger {
    applied: HashSet<(&'static str, EventId)>,
    idempotency: HashMap<(String, String), IdempotencyRecord>,
    /// Outbox records not yet published, in commit order. Published ones are dropped at once
    /// (DynamoDB keeps them until their TTL; nothing reads them after publication either way),
    /// so a long-running offline runner does not grow with every event.
    /// By stream sequence number, so publishing one record costs a lookup, not a pass over all.
    outbox: BTreeMap<u64, OutboxRecord>,
    outbox_positions: HashMap<EventId, u64>,
    /// The table's change stream, as far as the relay reads it: every outbox record committed,
    /// with its sequence number, the oldest dropped past [`STREAM_RETENTION`] (DynamoDB keeps 24
    /// hours; a bound on records does the same job offline).
    stream: VecDeque<(u64, OutboxRecord)>,
    next_sequence: u64,
}

/// Outbox records an in-memory table's stream keeps.
pub const STREAM_RETENTION: usize = 100_000;

impl Ledger {
    fn check<W>(&self, c: &Commit<W>) -> Result<(), StoreError> {
        if let Some(a) = &c.applied {
            if self.applied.contains(&(a.consumer, a.event_id)) {
                return Err(StoreError::Duplicate(Duplicate::AppliedEvent));
            }
        }
        if let Some(r) = &c.idempotency {
            if self.idempotency.contains_key(&(r.scope.clone(), r.key.clone())) {
                return Err(StoreError::Duplicate(Duplicate::IdempotencyKey));
            }
        }
        Ok(())
    }

    fn apply(&mut self, events: Vec<OutboxRecord>, applied: Option<AppliedEvent>, idem: Option<IdempotencyRecord>) {
        if let Some(a) = applied {
            self.applied.insert((a.consumer, a.event_id));
        }
        if let Some(r) = idem {
            self.idempotency.insert((r.scope.clone(), r.key.clone()), r);
        }
        for e in events {
            self.next_sequence += 1;
            self.stream.push_back((self.next_sequence, e.clone()));
            self.outbox_positions.insert(e.event_id, self.next_sequence);
            self.outbox.insert(self.next_sequence, e);
        }
        while self.stream.len() > STREAM_RETENTION {
            self.stream.pop_front();
        }
    }

    /// The range of the stream the records `ids` occupy (what an event source that gave up on
    /// them writes to its on-failure queue), `None` if none is in the stream.
    fn stream_range(&self, stream: &str, ids: &[EventId]) -> Option<StreamRange> {
        let ids: HashSet<_> = ids.iter().collect();
        let mut seqs = self.stream.iter().filter(|(_, r)| ids.contains(&r.event_id)).map(|(s, _)| *s);
        let first = seqs.next()?;
        let last = seqs.next_back().unwrap_or(first);
        Some(StreamRange {
            stream: stream.to_owned(),
            shard: "shard-0".to_owned(),
            first: first.to_string(),
            last: last.to_string(),
        })
    }

    fn read_stream(&self, range: &StreamRange) -> Result<Vec<OutboxRecord>, StreamError> {
        let number = |s: &str| s.parse::<u64>().map_err(|_| StreamError::Invalid(format!("sequence number {s:?}")));
        let (first, last) = (number(&range.first)?, number(&range.last)?);
        let oldest = self.stream.front().map_or(self.next_sequence + 1, |(s, _)| *s);
        if first < oldest {
            return Err(StreamError::Trimmed(format!("{} from {first}", range.stream)));
        }
        Ok(self.stream.iter().filter(|(s, _)| (first..=last).contains(s)).map(|(_, r)| r.clone()).collect())
    }
}

/// How the writes of one context land in its in-memory state. The table checks every write's
/// version and applies the ledger; the state only says what a write is about and stores it.
trait TableState<W>: Send {
    /// The item `w` writes, and the version it expects there (0: absent; `None`: a hold, which
    /// is conditional on the item's invariant instead, checked by `unique`).
    fn guard(w: &W) -> (Item, Option<u64>);
    /// A uniqueness `w` would break besides its version (a customer's email), or the invariant a
    /// hold would break ([`StoreError::Refused`]).
    fn unique(&self, _w: &W) -> Result<(), StoreError> {
        Ok(())
    }
    /// Stores what `w` writes; `false` for a write that only checks.
    fn store(&mut self, w: W) -> bool;
}

/// A table's state, the version of every stored item, and its ledger.
#[derive(Default)]
struct Inner<S> {
    state: S,
    versions: HashMap<Item, u64>,
    ledger: Ledger,
}

impl<S> Inner<S> {
    /// `value` at the version stored for `item`.
    fn versioned<T: Clone>(&self, item: Item, value: Option<&T>) -> Option<Versioned<T>> {
        value.map(|v| Versioned { value: v.clone(), version: self.versions.get(&item).copied().unwrap_or(0) })
    }
}

/// A table in memory: its state and ledger behind one lock, so a commit is atomic; with a
/// capacity model, DynamoDB's throughput limits too (off by default).
struct MemoryTable<S> {
    inner: Mutex<Inner<S>>,
    hook: Mutex<Option<CommitHook>>,
    capacity: Option<Arc<CapacityModel>>,
}

impl<S: Default> Default for MemoryTable<S> {
    fn default() -> Self {
        MemoryTable { inner: Mutex::new(Inner::default()), hook: Mutex::new(None), capacity: None }
    }
}

impl<S: Default> MemoryTable<S> {
    fn with_capacity(model: Arc<CapacityModel>) -> Self {
        MemoryTable { capacity: Some(model), ..Self::default() }
    }
}

impl<S> MemoryTable<S> {
    fn lock(&self) -> MutexGuard<'_, Inner<S>> {
        // A panic while holding the lock cannot leave half a commit: commits validate first
        // and only then mutate, so the data behind a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A read of `items` at `consistency`, as the capacity model (if any) allows and charges it.
    /// Memory itself is always current: an eventually consistent read here is never stale, so
    /// only the model sees the difference.
    fn read(&self, items: &[Item], consistency: Consistency) -> Result<(), StoreError> {
        self.capacity.as_ref().map_or(Ok(()), |m| m.read(items, consistency))
    }

    /// All of `c` or nothing: every version and uniqueness is checked before anything changes.
    /// The capacity model (if any) is asked first: DynamoDB throttles before it evaluates a
    /// condition, and bills a transaction whose condition fails.
    fn commit<W>(&self, c: Commit<W>) -> Result<(), StoreError>
    where
        S: TableState<W>,
    {
        if let Some(m) = &self.capacity {
            let mut items: Vec<Item> = vec![];
            for w in &c.writes {
                let item = S::guard(w).0;
                if !items.contains(&item) {
                    items.push(item);
                }
            }
            let mut ledger = vec![capacity::OUTBOX_RECORD; c.events.len()];
            ledger.extend(c.applied.as_ref().map(|_| capacity::APPLIED_MARKER));
            ledger.extend(c.idempotency.as_ref().map(|_| capacity::IDEMPOTENCY_RECORD));
            m.transact(&items, &ledger)?;
        }
        {
            let mut inner = self.lock();
            for w in &c.writes {
                let (item, expected) = S::guard(w);
                let stored = inner.versions.get(&item).copied().unwrap_or(0);
                if expected.is_some_and(|e| e != stored) {
                    return Err(StoreError::Conflict { item });
                }
                inner.state.unique(w)?;
            }
            inner.ledger.check(&c)?;
            let Commit { writes, events, applied, idempotency } = c;
            let events = events.iter().map(OutboxRecord::of).collect::<Result<Vec<_>, _>>()?;
            for w in writes {
                let (item, expected) = S::guard(&w);
                let stored = inner.versions.get(&item).copied().unwrap_or(0);
                if inner.state.store(w) {
                    inner.versions.insert(item, expected.unwrap_or(stored) + 1);
                }
            }
            inner.ledger.apply(events, applied, idempotency);
        }
        let hook = self.hook.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(h) = hook {
            h();
        }
        Ok(())
    }

    fn is_applied(&self, a: &AppliedEvent) -> bool {
        self.lock().ledger.applied.contains(&(a.consumer, a.event_id))
    }

    fn idempotency(&self, scope: &str, key: &IdempotencyKey) -> Option<IdempotencyRecord> {
        self.lock().ledger.idempotency.get(&(scope.to_owned(), key.as_str().to_owned())).cloned()
    }
}

/// Reading and acknowledging the outbox of an in-memory table (the runner's relay).
pub trait MemoryOutbox: Send + Sync {
    /// Records not yet published, in commit order.
    fn unpublished(&self) -> Vec<OutboxRecord>;
    fn mark_published(&self, ids: &[EventId]);
    /// Runs `hook` after every successful commit.
    fn on_commit(&self, hook: CommitHook);
    /// The name of the table's stream, as a [`StreamRange`] names it.
    fn stream_name(&self) -> &'static str;
    /// The context whose table this is: the one source its outbox records may name.
    fn context(&self) -> Context;
    /// The stream range the records `ids` occupy, as a stream's event source reports a batch it
    /// gave up on.
    fn stream_range(&self, ids: &[EventId]) -> Option<StreamRange>;
    /// The outbox records of `range`, in stream order.
    fn read_stream(&self, range: &StreamRange) -> Result<Vec<OutboxRecord>, StreamError>;
}

/// The streams of in-memory tables, each range read from the table it names.
pub struct MemoryStreams(pub Vec<Arc<dyn MemoryOutbox>>);

impl MemoryStreams {
    /// Each stream's context, for the relay's check of what its records may name.
    pub fn sources(&self) -> crate::relay::StreamSources {
        crate::relay::StreamSources::new(self.0.iter().map(|t| (t.stream_name().to_owned(), t.context())))
    }
}

#[async_trait]
impl OutboxStream for MemoryStreams {
    async fn outbox_records(&self, range: &StreamRange) -> Result<Vec<OutboxRecord>, StreamError> {
        let table = self.0.iter().find(|t| t.stream_name() == range.stream);
        table.ok_or_else(|| StreamError::Invalid(format!("no stream {}", range.stream)))?.read_stream(range)
    }
}

impl<S: Send> MemoryTable<S> {
    fn unpublished(&self) -> Vec<OutboxRecord> {
        self.lock().ledger.outbox.values().cloned().collect()
    }
    fn mark_published(&self, ids: &[EventId]) {
        let ledger = &mut self.lock().ledger;
        for id in ids {
            if let Some(seq) = ledger.outbox_positions.remove(id) {
                ledger.outbox.remove(&seq);
            }
        }
    }
    fn on_commit(&self, hook: CommitHook) {
        *self.hook.lock().unwrap_or_else(|p| p.into_inner()) = Some(hook);
    }
}

macro_rules! ledger_and_outbox {
    ($repo:ident, $write:ty, $stream:literal, $context:expr) => {
        #[async_trait]
        impl Transactional<$write> for $repo {
            async fn commit(&self, c: Commit<$write>) -> Result<(), StoreError> {
                self.0.commit(c)
            }
        }

        #[async_trait]
        impl EventLedger for $repo {
            async fn is_applied(&self, a: &AppliedEvent) -> Result<bool, StoreError> {
                Ok(self.0.is_applied(a))
            }
            async fn idempotency(
                &self,
                scope: &str,
                key: &IdempotencyKey,
            ) -> Result<Option<IdempotencyRecord>, StoreError> {
                Ok(self.0.idempotency(scope, key))
            }
        }

        impl $repo {
            /// The table with DynamoDB's throughput limits modelled by `model`.
            pub fn with_capacity(model: Arc<CapacityModel>) -> Self {
                $repo(MemoryTable::with_capacity(model))
            }
        }

        impl MemoryOutbox for $repo {
            fn unpublished(&self) -> Vec<OutboxRecord> {
                self.0.unpublished()
            }
            fn mark_published(&self, ids: &[EventId]) {
                self.0.mark_published(ids)
            }
            fn on_commit(&self, hook: CommitHook) {
                self.0.on_commit(hook)
            }
            fn stream_name(&self) -> &'static str {
                $stream
            }
            fn context(&self) -> Context {
                $context
            }
            fn stream_range(&self, ids: &[EventId]) -> Option<StreamRange> {
                self.0.lock().ledger.stream_range($stream, ids)
            }
            fn read_stream(&self, range: &StreamRange) -> Result<Vec<OutboxRecord>, StreamError> {
                self.0.lock().ledger.read_stream(range)
            }
        }
    };
}

fn page_of<T: Clone>(
    mut rows: Vec<(String, T)>,
    descending: bool,
    page: &PageRequest,
    position: impl Fn(&T) -> Position,
) -> Page<T> {
    rows.sort_by(|a, b| if descending { b.0.cmp(&a.0) } else { a.0.cmp(&b.0) });
    let after = page.after.as_ref().map(composite_key);
    let items: Vec<T> = rows
        .into_iter()
        .filter(|(k, _)| match &after {
            None => true,
            Some(a) if descending => k < a,
            Some(a) => k > a,
        })
        .take(page.size.get() + 1)
        .map(|(_, v)| v)
        .collect();
    let more = items.len() > page.size.get();
    let items: Vec<T> = items.into_iter().take(page.size.get()).collect();
    let next = if more { items.last().map(&position) } else { None };
    Page { items, next }
}

// ---------------------------------------------------------------- orders

#[derive(Default)]
struct OrdersState {
    orders: HashMap<OrderId, Order>,
    catalogue: HashMap<ProductId, CatalogueEntry>,
    customers: HashMap<CustomerId, KnownCustomer>,
}

impl TableState<OrderWrite> for OrdersState {
    fn guard(w: &OrderWrite) -> (Item, Option<u64>) {
        match w {
            OrderWrite::Put { expected_version, .. }
            | OrderWrite::Catalogue { expected_version, .. }
            | OrderWrite::Customer { expected_version, .. } => (w.item(), Some(*expected_version)),
            OrderWrite::Check { version, .. } => (w.item(), Some(*version)),
        }
    }
    fn store(&mut self, w: OrderWrite) -> bool {
        match w {
            OrderWrite::Put { order, .. } => {
                self.orders.insert(order.id(), order);
                true
            }
            OrderWrite::Catalogue { entry, .. } => {
                self.catalogue.insert(entry.product_id, entry);
                true
            }
            OrderWrite::Customer { customer, .. } => {
                self.customers.insert(customer.customer_id, customer);
                true
            }
            OrderWrite::Check { .. } => false,
        }
    }
}

/// The orders table in memory.
#[derive(Default)]
pub struct InMemoryOrderRepository(MemoryTable<OrdersState>);

ledger_and_outbox!(InMemoryOrderRepository, OrderWrite, "orders", Context::Orders);

impl InMemoryOrderRepository {
    /// A page of the orders `keep` accepts, by creation time then id.
    fn orders_page(&self, keep: impl Fn(&Order) -> bool, newest_first: bool, page: &PageRequest) -> Page<Order> {
        let inner = self.0.lock();
        let rows =
            inner.state.orders.values().filter(|o| keep(o)).map(|o| (composite_key(&order_position(o)), o.clone()));
        page_of(rows.collect(), newest_first, page, order_position)
    }
}

#[async_trait]
impl OrderRepository for InMemoryOrderRepository {
    async fn get(&self, id: OrderId) -> Result<Option<Versioned<Order>>, StoreError> {
        self.0.read(&[Item::Order(id)], reads::STRONG)?;
        let inner = self.0.lock();
        Ok(inner.versioned(Item::Order(id), inner.state.orders.get(&id)))
    }

    async fn history(&self, q: &HistoryQuery) -> Result<Page<Order>, StoreError> {
        let of_query = |o: &Order| o.customer_id() == q.customer_id && q.status.is_none_or(|s| o.status() == s);
        Ok(self.orders_page(of_query, true, &q.page))
    }

    async fn by_status(&self, q: &StatusQuery) -> Result<Page<Order>, StoreError> {
        Ok(self.orders_page(|o| o.status() == q.status, false, &q.page))
    }

    async fn catalogue(&self, ids: &[ProductId]) -> Result<Vec<Versioned<CatalogueEntry>>, StoreError> {
        self.0.read(&ids.iter().map(|id| Item::CatalogueEntry(*id)).collect::<Vec<_>>(), reads::STRONG)?;
        let inner = self.0.lock();
        let unique: BTreeMap<_, _> = ids
            .iter()
            .filter_map(|id| {
                inner.versioned(Item::CatalogueEntry(*id), inner.state.catalogue.get(id)).map(|e| (*id, e))
            })
            .collect();
        Ok(unique.into_values().collect())
    }

    async fn known_customer(&self, id: CustomerId) -> Result<Option<Versioned<KnownCustomer>>, StoreError> {
        self.0.read(&[Item::KnownCustomer(id)], reads::STRONG)?;
        let inner = self.0.lock();
        Ok(inner.versioned(Item::KnownCustomer(id), inner.state.customers.get(&id)))
    }

    async fn placement(
        &self,
        idempotency: Option<(&str, &IdempotencyKey)>,
        customer: CustomerId,
        ids: &[ProductId],
    ) -> Result<Placement, StoreError> {
        // The ledger's records are not hot items and are not charged; the replicas are, at the
        // placement's consistency.
        let mut items = vec![Item::KnownCustomer(customer)];
        items.extend(ids.iter().map(|id| Item::CatalogueEntry(*id)));
        self.0.read(&items, reads::PLACEMENT)?;
        let prior = idempotency.and_then(|(scope, key)| self.0.idempotency(scope, key));
        let inner = self.0.lock();
        let customer = inner.versioned(Item::KnownCustomer(customer), inner.state.customers.get(&customer));
        let unique: BTreeMap<_, _> = ids
            .iter()
            .filter_map(|id| {
                inner.versioned(Item::CatalogueEntry(*id), inner.state.catalogue.get(id)).map(|e| (*id, e))
            })
            .collect();
        Ok(Placement { prior, customer, catalogue: unique.into_values().collect() })
    }

    async fn pending_before(&self, cutoff: DateTime<Utc>, limit: usize) -> Result<Overdue, StoreError> {
        let inner = self.0.lock();
        let mut v: Vec<_> = inner
            .state
            .orders
            .values()
            .filter(|o| o.status() == OrderStatus::Pending && o.created_at() < cutoff)
            .filter_map(|o| inner.versioned(Item::Order(o.id()), Some(o)))
            .collect();
        v.sort_by_key(|o| (o.value.created_at(), o.value.id()));
        v.truncate(limit);
        // Typed in memory: nothing here can fail to decode.
        Ok(Overdue { orders: v, unreadable: vec![] })
    }
}

// ---------------------------------------------------------------- products

/// As on DynamoDB, a product's item holds its catalogue entry, K and stock shard 0; shards
/// 1..K are items of their own (`shards`), so each is written, versioned and held alone.
#[derive(Default)]
struct ProductsState {
    /// Each product as last put; its shards past 0 are read from `shards`, not from here.
    products: HashMap<ProductId, Product>,
    shards: HashMap<(ProductId, u16), StockShard>,
    reservations: HashMap<OrderId, StockReservation>,
}

impl ProductsState {
    /// The product `id` with its stock shards put back together.
    fn product(&self, id: &ProductId) -> Result<Option<Product>, StoreError> {
        let Some(p) = self.products.get(id) else { return Ok(None) };
        let extra = (1..p.shard_count()).map(|n| self.shards.get(&(*id, n as u16)).copied().unwrap_or_default());
        let whole = p.clone().with_extra_shards(extra.collect());
        whole.map(Some).map_err(|e| StoreError::Corrupt { key: format!("product {id}"), source: e.into() })
    }

    fn shard(&self, id: ProductId, n: u16) -> Option<StockShard> {
        match n {
            0 => self.products.get(&id).and_then(|p| p.stock_shards().first().copied()),
            n => self.shards.get(&(id, n)).copied(),
        }
    }
}

impl TableState<ProductWrite> for ProductsState {
    fn guard(w: &ProductWrite) -> (Item, Option<u64>) {
        match w {
            ProductWrite::Product { expected_version, .. } | ProductWrite::Reservation { expected_version, .. } => {
                (w.item(), Some(*expected_version))
            }
            ProductWrite::Hold { .. } | ProductWrite::Shard { .. } => (w.item(), None),
        }
    }
    fn unique(&self, w: &ProductWrite) -> Result<(), StoreError> {
        match w {
            ProductWrite::Hold { product_id, shard, hold } => {
                let s = self.shard(*product_id, *shard).ok_or(StoreError::Refused { item: w.item() })?;
                s.apply_hold(*hold).map(|_| ()).map_err(|_| StoreError::Refused { item: w.item() })
            }
            ProductWrite::Shard { product_id, shard, from, .. } => {
                let stored = self.shards.get(&(*product_id, *shard)).copied().unwrap_or_default();
                if stored == *from {
                    Ok(())
                } else {
                    Err(StoreError::Conflict { item: w.item() })
                }
            }
            _ => Ok(()),
        }
    }
    fn store(&mut self, w: ProductWrite) -> bool {
        match w {
            ProductWrite::Product { product, .. } => {
                self.products.insert(product.id(), product);
            }
            ProductWrite::Reservation { reservation, .. } => {
                self.reservations.insert(reservation.order_id, reservation);
            }
            ProductWrite::Hold { product_id, shard: 0, hold } => {
                // Checked by `unique` under the same lock.
                if let Some(p) = self.products.get_mut(&product_id) {
                    let _ = p.apply_hold(0, hold);
                }
            }
            ProductWrite::Hold { product_id, shard, hold } => {
                if let Some(s) = self.shards.get_mut(&(product_id, shard)) {
                    *s = s.apply_hold(hold).unwrap_or(*s);
                }
            }
            ProductWrite::Shard { product_id, shard, to, .. } => {
                self.shards.insert((product_id, shard), to);
            }
        }
        true
    }
}

/// The products table in memory.
#[derive(Default)]
pub struct InMemoryProductRepository(MemoryTable<ProductsState>);

ledger_and_outbox!(InMemoryProductRepository, ProductWrite, "products", Context::Products);

impl InMemoryProductRepository {
    /// The items a read of the products `ids` reads: each product's item and its stock shards
    /// past 0 (what the capacity model charges; empty without one).
    fn items_of(&self, ids: &[ProductId]) -> Vec<Item> {
        if self.0.capacity.is_none() {
            return vec![];
        }
        let inner = self.0.lock();
        let shards = |id: &ProductId| inner.state.products.get(id).map_or(1, Product::shard_count);
        ids.iter()
            .flat_map(|id| {
                let extra = (1..shards(id)).map(|n| Item::StockShard(*id, u16::try_from(n).unwrap_or(u16::MAX)));
                std::iter::once(Item::Product(*id)).chain(extra)
            })
            .collect()
    }
}

/// The products among `ids` that exist, each once, with their stock shards.
fn products_of(inner: &Inner<ProductsState>, ids: &[ProductId]) -> Result<Vec<Versioned<Product>>, StoreError> {
    let mut unique = BTreeMap::new();
    for id in ids {
        if let Some(p) = inner.versioned(Item::Product(*id), inner.state.product(id)?.as_ref()) {
            unique.insert(*id, p);
        }
    }
    Ok(unique.into_values().collect())
}

#[async_trait]
impl ProductRepository for InMemoryProductRepository {
    async fn get(&self, id: ProductId) -> Result<Option<Versioned<Product>>, StoreError> {
        self.0.read(&self.items_of(&[id]), reads::STRONG)?;
        let inner = self.0.lock();
        Ok(inner.versioned(Item::Product(id), inner.state.product(&id)?.as_ref()))
    }

    async fn get_many(&self, ids: &[ProductId]) -> Result<Vec<Versioned<Product>>, StoreError> {
        self.0.read(&self.items_of(ids), reads::STRONG)?;
        products_of(&self.0.lock(), ids)
    }

    async fn list(&self, page: &PageRequest) -> Result<Page<Product>, StoreError> {
        let inner = self.0.lock();
        let mut rows = vec![];
        for id in inner.state.products.keys() {
            if let Some(p) = inner.state.product(id)? {
                rows.push((composite_key(&product_position(&p)), p));
            }
        }
        Ok(page_of(rows, false, page, product_position))
    }

    async fn reservation(&self, order_id: OrderId) -> Result<Option<Versioned<StockReservation>>, StoreError> {
        self.0.read(&[Item::StockReservation(order_id)], reads::STRONG)?;
        let inner = self.0.lock();
        Ok(inner.versioned(Item::StockReservation(order_id), inner.state.reservations.get(&order_id)))
    }

    async fn reservation_and_products(
        &self,
        order_id: OrderId,
        ids: &[ProductId],
        consistency: Consistency,
    ) -> Result<(Option<Versioned<StockReservation>>, Vec<Versioned<Product>>), StoreError> {
        let mut items = vec![Item::StockReservation(order_id)];
        items.extend(self.items_of(ids));
        self.0.read(&items, consistency)?;
        let inner = self.0.lock();
        let reservation = inner.versioned(Item::StockReservation(order_id), inner.state.reservations.get(&order_id));
        Ok((reservation, products_of(&inner, ids)?))
    }
}

// ---------------------------------------------------------------- customers

#[derive(Default)]
struct CustomersState {
    customers: HashMap<CustomerId, Customer>,
    reservations: HashMap<OrderId, CreditReservation>,
}

impl TableState<CustomerWrite> for CustomersState {
    fn guard(w: &CustomerWrite) -> (Item, Option<u64>) {
        match w {
            CustomerWrite::Customer { expected_version, .. } | CustomerWrite::Reservation { expected_version, .. } => {
                (w.item(), Some(*expected_version))
            }
            CustomerWrite::Hold { .. } => (w.item(), None),
        }
    }
    fn unique(&self, w: &CustomerWrite) -> Result<(), StoreError> {
        match w {
            CustomerWrite::Hold { customer_id, hold } => {
                let mut c = self.customers.get(customer_id).cloned().ok_or(StoreError::Refused { item: w.item() })?;
                c.apply_hold(*hold).map_err(|_| StoreError::Refused { item: w.item() })
            }
            _ => Ok(()),
        }
    }
    fn store(&mut self, w: CustomerWrite) -> bool {
        match w {
            CustomerWrite::Customer { customer, .. } => {
                self.customers.insert(customer.id(), customer);
            }
            CustomerWrite::Reservation { reservation, .. } => {
                self.reservations.insert(reservation.order_id, reservation);
            }
            CustomerWrite::Hold { customer_id, hold } => {
                // Checked by `unique` under the same lock.
                if let Some(c) = self.customers.get_mut(&customer_id) {
                    let _ = c.apply_hold(hold);
                }
            }
        }
        true
    }
}

/// The customers table in memory.
#[derive(Default)]
pub struct InMemoryCustomerRepository(MemoryTable<CustomersState>);

ledger_and_outbox!(InMemoryCustomerRepository, CustomerWrite, "customers", Context::Customers);

#[async_trait]
impl CustomerRepository for InMemoryCustomerRepository {
    async fn get(&self, id: CustomerId) -> Result<Option<Versioned<Customer>>, StoreError> {
        self.0.read(&[Item::Customer(id)], reads::STRONG)?;
        let inner = self.0.lock();
        Ok(inner.versioned(Item::Customer(id), inner.state.customers.get(&id)))
    }

    async fn reservation(&self, order_id: OrderId) -> Result<Option<Versioned<CreditReservation>>, StoreError> {
        self.0.read(&[Item::CreditReservation(order_id)], reads::STRONG)?;
        let inner = self.0.lock();
        Ok(inner.versioned(Item::CreditReservation(order_id), inner.state.reservations.get(&order_id)))
    }
}
