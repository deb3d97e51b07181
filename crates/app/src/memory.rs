//! In-memory adapters: the same contract as the DynamoDB ones (version checks, all-or-nothing
//! commits, applied markers, idempotency records, pagination), for the offline runner, the
//! simulation and fast tests. The contract suite runs against both.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    CreditReservation, Customer, CustomerId, EventId, Order, OrderId, OrderStatus, Product, ProductId, StockReservation,
};

use crate::page::{composite_key, order_position, product_position, Page, PageRequest, Position};
use crate::ports::{
    AppliedEvent, Commit, CustomerRepository, CustomerWrite, Duplicate, EventLedger, HistoryQuery, IdempotencyKey,
    IdempotencyRecord, OrderRepository, OrderWrite, OutboxRecord, ProductRepository, ProductWrite, StoreError,
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
    outbox: Vec<OutboxRecord>,
}

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

    fn apply<W>(&mut self, c: Commit<W>) {
        if let Some(a) = c.applied {
            self.applied.insert((a.consumer, a.event_id));
        }
        if let Some(r) = c.idempotency {
            self.idempotency.insert((r.scope.clone(), r.key.clone()), r);
        }
        self.outbox.extend(c.events);
    }
}

fn check_version<K: std::hash::Hash + Eq, T>(
    map: &HashMap<K, Versioned<T>>,
    key: &K,
    expected: u64,
    item: impl FnOnce() -> String,
) -> Result<(), StoreError> {
    let current = map.get(key).map_or(0, |v| v.version);
    if current == expected {
        Ok(())
    } else {
        Err(StoreError::Conflict { item: item() })
    }
}

fn bump<K: std::hash::Hash + Eq, T>(map: &mut HashMap<K, Versioned<T>>, key: K, value: T, expected: u64) {
    map.insert(key, Versioned { value, version: expected + 1 });
}

/// A table in memory: its state and ledger behind one lock, so a commit is atomic.
struct Table<S> {
    inner: Mutex<(S, Ledger)>,
    hook: Mutex<Option<CommitHook>>,
}

impl<S: Default> Default for Table<S> {
    fn default() -> Self {
        Table { inner: Mutex::new((S::default(), Ledger::default())), hook: Mutex::new(None) }
    }
}

impl<S> Table<S> {
    fn lock(&self) -> MutexGuard<'_, (S, Ledger)> {
        // A panic while holding the lock cannot leave half a commit: commits validate first
        // and only then mutate, so the data behind a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn committed(&self) {
        let hook = self.hook.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(h) = hook {
            h();
        }
    }

    fn is_applied(&self, a: &AppliedEvent) -> bool {
        self.lock().1.applied.contains(&(a.consumer, a.event_id))
    }

    fn idempotency(&self, scope: &str, key: &IdempotencyKey) -> Option<IdempotencyRecord> {
        self.lock().1.idempotency.get(&(scope.to_owned(), key.as_str().to_owned())).cloned()
    }
}

/// Reading and acknowledging the outbox of an in-memory table (the runner's relay).
pub trait MemoryOutbox: Send + Sync {
    /// Records not yet published, in commit order.
    fn unpublished(&self) -> Vec<OutboxRecord>;
    fn mark_published(&self, ids: &[EventId]);
    /// Runs `hook` after every successful commit.
    fn on_commit(&self, hook: CommitHook);
}

impl<S: Send> MemoryOutbox for Table<S> {
    fn unpublished(&self) -> Vec<OutboxRecord> {
        self.lock().1.outbox.clone()
    }
    fn mark_published(&self, ids: &[EventId]) {
        let ids: HashSet<_> = ids.iter().collect();
        self.lock().1.outbox.retain(|r| !ids.contains(&r.event_id));
    }
    fn on_commit(&self, hook: CommitHook) {
        *self.hook.lock().unwrap_or_else(|p| p.into_inner()) = Some(hook);
    }
}

macro_rules! ledger_and_outbox {
    ($repo:ident) => {
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
    orders: HashMap<OrderId, Versioned<Order>>,
}

/// The orders table in memory.
#[derive(Default)]
pub struct InMemoryOrderRepository(Table<OrdersState>);

ledger_and_outbox!(InMemoryOrderRepository);

#[async_trait]
impl OrderRepository for InMemoryOrderRepository {
    async fn get(&self, id: OrderId) -> Result<Option<Versioned<Order>>, StoreError> {
        Ok(self.0.lock().0.orders.get(&id).cloned())
    }

    async fn history(&self, q: &HistoryQuery) -> Result<Page<Order>, StoreError> {
        let rows = self
            .0
            .lock()
            .0
            .orders
            .values()
            .filter(|o| o.value.customer_id() == q.customer_id)
            .filter(|o| q.status.is_none_or(|s| o.value.status() == s))
            .map(|o| (composite_key(&order_position(&o.value)), o.value.clone()))
            .collect();
        Ok(page_of(rows, true, &q.page, order_position))
    }

    async fn pending_before(&self, cutoff: DateTime<Utc>, limit: usize) -> Result<Vec<Versioned<Order>>, StoreError> {
        let mut v: Vec<_> = self
            .0
            .lock()
            .0
            .orders
            .values()
            .filter(|o| o.value.status() == OrderStatus::Pending && o.value.created_at() < cutoff)
            .cloned()
            .collect();
        v.sort_by_key(|o| (o.value.created_at(), o.value.id()));
        v.truncate(limit);
        Ok(v)
    }

    async fn commit(&self, c: Commit<OrderWrite>) -> Result<(), StoreError> {
        {
            let mut guard = self.0.lock();
            let (state, ledger) = &mut *guard;
            for w in &c.writes {
                match w {
                    OrderWrite::Put { order, expected_version } => {
                        check_version(&state.orders, &order.id(), *expected_version, || {
                            format!("ORDER#{}", order.id())
                        })?
                    }
                    OrderWrite::Check { id, version } => {
                        check_version(&state.orders, id, *version, || format!("ORDER#{id}"))?
                    }
                }
            }
            ledger.check(&c)?;
            for w in &c.writes {
                if let OrderWrite::Put { order, expected_version } = w {
                    bump(&mut state.orders, order.id(), order.clone(), *expected_version);
                }
            }
            ledger.apply(c);
        }
        self.0.committed();
        Ok(())
    }
}

// ---------------------------------------------------------------- products

#[derive(Default)]
struct ProductsState {
    products: HashMap<ProductId, Versioned<Product>>,
    reservations: HashMap<OrderId, Versioned<StockReservation>>,
}

/// The products table in memory.
#[derive(Default)]
pub struct InMemoryProductRepository(Table<ProductsState>);

ledger_and_outbox!(InMemoryProductRepository);

#[async_trait]
impl ProductRepository for InMemoryProductRepository {
    async fn get(&self, id: ProductId) -> Result<Option<Versioned<Product>>, StoreError> {
        Ok(self.0.lock().0.products.get(&id).cloned())
    }

    async fn get_many(&self, ids: &[ProductId]) -> Result<Vec<Versioned<Product>>, StoreError> {
        let g = self.0.lock();
        let unique: BTreeMap<_, _> =
            ids.iter().filter_map(|id| g.0.products.get(id).map(|p| (*id, p.clone()))).collect();
        Ok(unique.into_values().collect())
    }

    async fn list(&self, page: &PageRequest) -> Result<Page<Product>, StoreError> {
        let rows = self
            .0
            .lock()
            .0
            .products
            .values()
            .map(|p| (composite_key(&product_position(&p.value)), p.value.clone()))
            .collect();
        Ok(page_of(rows, false, page, product_position))
    }

    async fn reservation(&self, order_id: OrderId) -> Result<Option<Versioned<StockReservation>>, StoreError> {
        Ok(self.0.lock().0.reservations.get(&order_id).cloned())
    }

    async fn commit(&self, c: Commit<ProductWrite>) -> Result<(), StoreError> {
        {
            let mut guard = self.0.lock();
            let (state, ledger) = &mut *guard;
            for w in &c.writes {
                match w {
                    ProductWrite::Product { product, expected_version } => {
                        check_version(&state.products, &product.id(), *expected_version, || {
                            format!("PRODUCT#{}", product.id())
                        })?
                    }
                    ProductWrite::Reservation { reservation, expected_version } => {
                        check_version(&state.reservations, &reservation.order_id, *expected_version, || {
                            format!("RESERVATION#{}", reservation.order_id)
                        })?
                    }
                }
            }
            ledger.check(&c)?;
            for w in &c.writes {
                match w {
                    ProductWrite::Product { product, expected_version } => {
                        bump(&mut state.products, product.id(), product.clone(), *expected_version)
                    }
                    ProductWrite::Reservation { reservation, expected_version } => {
                        bump(&mut state.reservations, reservation.order_id, reservation.clone(), *expected_version)
                    }
                }
            }
            ledger.apply(c);
        }
        self.0.committed();
        Ok(())
    }
}

// ---------------------------------------------------------------- customers

#[derive(Default)]
struct CustomersState {
    customers: HashMap<CustomerId, Versioned<Customer>>,
    reservations: HashMap<OrderId, Versioned<CreditReservation>>,
    emails: HashMap<String, CustomerId>,
}

/// The customers table in memory.
#[derive(Default)]
pub struct InMemoryCustomerRepository(Table<CustomersState>);

ledger_and_outbox!(InMemoryCustomerRepository);

#[async_trait]
impl CustomerRepository for InMemoryCustomerRepository {
    async fn get(&self, id: CustomerId) -> Result<Option<Versioned<Customer>>, StoreError> {
        Ok(self.0.lock().0.customers.get(&id).cloned())
    }

    async fn reservation(&self, order_id: OrderId) -> Result<Option<Versioned<CreditReservation>>, StoreError> {
        Ok(self.0.lock().0.reservations.get(&order_id).cloned())
    }

    async fn commit(&self, c: Commit<CustomerWrite>) -> Result<(), StoreError> {
        {
            let mut guard = self.0.lock();
            let (state, ledger) = &mut *guard;
            for w in &c.writes {
                match w {
                    CustomerWrite::Customer { customer, expected_version } => {
                        check_version(&state.customers, &customer.id(), *expected_version, || {
                            format!("CUSTOMER#{}", customer.id())
                        })?;
                        if *expected_version == 0 && state.emails.contains_key(customer.email().as_str()) {
                            return Err(StoreError::Duplicate(Duplicate::Email));
                        }
                    }
                    CustomerWrite::Reservation { reservation, expected_version } => {
                        check_version(&state.reservations, &reservation.order_id, *expected_version, || {
                            format!("CREDIT#{}", reservation.order_id)
                        })?
                    }
                }
            }
            ledger.check(&c)?;
            for w in &c.writes {
                match w {
                    CustomerWrite::Customer { customer, expected_version } => {
                        if *expected_version == 0 {
                            state.emails.insert(customer.email().as_str().to_owned(), customer.id());
                        }
                        bump(&mut state.customers, customer.id(), customer.clone(), *expected_version)
                    }
                    CustomerWrite::Reservation { reservation, expected_version } => {
                        bump(&mut state.reservations, reservation.order_id, *reservation, *expected_version)
                    }
                }
            }
            ledger.apply(c);
        }
        self.0.committed();
        Ok(())
    }
}
