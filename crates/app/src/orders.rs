//! Orders: placing, reading, cancelling, the order-side steps of the saga, and the sweeper.

use std::sync::Arc;

use chrono::Duration;
use std::collections::BTreeMap;

use domain::saga::{approve_order, price_order, reject_for_credit, reject_for_stock, sweep_order, Skip, Step};
use domain::{
    CatalogueEntry, CustomerId, DomainEvent, EventEnvelope, KnownCustomer, Money, Order, OrderId, OrderStatus,
    ProductId, ShippingCostService, ShippingQuote,
};

use crate::access::{authorize, Action, Caller};
use crate::commands::{PlaceOrder, QuoteShipping};
use crate::env::SharedEnv;
use crate::error::{AppError, StepError};
use crate::idempotency::{self, Created, Prior};
use crate::page::{self, Listing, PageRequest, PageSize};
use crate::ports::{
    Commit, HistoryQuery, IdempotencyKey, Item, OrderRepository, OrderWrite, Overdue, StatusQuery, StoreError,
    Versioned,
};
use crate::step::{self, Attempt, Consumer, StepOutcome};

const SCOPE: &str = "orders";

/// Reading and cancelling orders.
#[derive(Clone)]
pub struct OrderService {
    repo: Arc<dyn OrderRepository>,
    env: SharedEnv,
}

/// One page of a listing under `scope`: the client's cursor read back for that scope only, the
/// next one written for it.
async fn listing<F, Fut>(scope: &str, size: PageSize, cursor: Option<&str>, read: F) -> Result<Listing<Order>, AppError>
where
    F: FnOnce(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<page::Page<Order>, StoreError>>,
{
    let after = cursor.map(|c| page::decode_cursor(scope, c)).transpose().map_err(|_| AppError::InvalidCursor)?;
    let p = read(PageRequest { size, after }).await?;
    let next_cursor = p.next.map(|n| page::encode_cursor(scope, &n)).transpose().map_err(AppError::Serialization)?;
    Ok(Listing { items: p.items, next_cursor })
}

impl OrderService {
    pub fn new(repo: Arc<dyn OrderRepository>, env: SharedEnv) -> Self {
        OrderService { repo, env }
    }

    /// The order, to its customer or an admin; anyone else is told it does not exist.
    pub async fn get(&self, caller: &Caller, id: OrderId) -> Result<Order, AppError> {
        let o = self.repo.get(id).await?.ok_or(AppError::NotFound(Item::Order(id)))?;
        authorize(caller, Action::ReadOrder { id, owner: o.value.customer_id() })?;
        Ok(o.value)
    }

    fn history_scope(customer: CustomerId, status: Option<OrderStatus>) -> String {
        format!("history:{customer}:{}", status.map_or("*", OrderStatus::as_str))
    }

    /// A customer's orders, newest first. A cursor is only valid for the query that issued it.
    pub async fn history(
        &self,
        caller: &Caller,
        customer_id: CustomerId,
        status: Option<OrderStatus>,
        size: PageSize,
        cursor: Option<&str>,
    ) -> Result<Listing<Order>, AppError> {
        authorize(caller, Action::ReadHistory(customer_id))?;
        listing(&Self::history_scope(customer_id, status), size, cursor, |page| async move {
            self.repo.history(&HistoryQuery { customer_id, status, page }).await
        })
        .await
    }

    /// Every customer's orders of one status, oldest first: the operator's view, admins only. A
    /// cursor is only valid for the status that issued it.
    pub async fn by_status(
        &self,
        caller: &Caller,
        status: OrderStatus,
        size: PageSize,
        cursor: Option<&str>,
    ) -> Result<Listing<Order>, AppError> {
        authorize(caller, Action::ListAllOrders)?;
        listing(&format!("status:{}", status.as_str()), size, cursor, |page| async move {
            self.repo.by_status(&StatusQuery { status, page }).await
        })
        .await
    }

    /// APPROVED → CANCELLED (stock and credit are then released by the saga); cancelling a
    /// cancelled order answers it as it is; PENDING and REJECTED are refused.
    pub async fn cancel(&self, caller: &Caller, id: OrderId) -> Result<Order, AppError> {
        let Versioned { value: mut order, version } =
            self.repo.get(id).await?.ok_or(AppError::NotFound(Item::Order(id)))?;
        authorize(caller, Action::CancelOrder { id, owner: order.customer_id() })?;
        let Some(event) = order.cancel(self.env.now())? else {
            return Ok(order);
        };
        let envelope = EventEnvelope::new(DomainEvent::OrderCancelled(event), self.env.as_ref());
        let write = OrderWrite::Put { order: order.clone(), expected_version: version };
        self.repo.commit(Commit::new(vec![write], &[envelope])).await?;
        crate::measure::order_cancelled();
        Ok(order)
    }
}

/// Placing orders: checks what the request names against the orders context's own replica of
/// the catalogue and the customers, then stores the order PENDING at the replica's prices with
/// its OrderCreated event (and the idempotency record) in one transaction. It reads and writes
/// the orders table only.
#[derive(Clone)]
pub struct OrderPlacement {
    repo: Arc<dyn OrderRepository>,
    shipping: ShippingCostService,
    env: SharedEnv,
}

impl OrderPlacement {
    pub fn new(repo: Arc<dyn OrderRepository>, shipping: ShippingCostService, env: SharedEnv) -> Self {
        OrderPlacement { repo, shipping, env }
    }

    /// Places an order for the caller's customer (a `customerId` in the request must be theirs).
    pub async fn place(
        &self,
        caller: &Caller,
        cmd: PlaceOrder,
        key: Option<&IdempotencyKey>,
    ) -> Result<Created<Order>, AppError> {
        let customer_id = cmd.customer_id.unwrap_or_else(|| caller.customer_id());
        authorize(caller, Action::PlaceOrder(customer_id))?;
        let scope = idempotency::scope(SCOPE, caller);
        let fp = idempotency::fingerprint(&cmd)?;
        // One read for all of it: the key's record, the customer and the lines' replica entries.
        let ids: Vec<ProductId> = cmd.lines.iter().map(|l| l.product_id).collect();
        let read = self.repo.placement(key.map(|k| (scope.as_str(), k)), customer_id, &ids).await?;
        if let Some(k) = key {
            if let Prior::Replay(resource) = idempotency::judge(read.prior, &scope, k, &fp)? {
                return Ok(Created { resource, replayed: true });
            }
        }
        self.shipping.check_offered(&cmd.shipping_address, cmd.shipping_speed)?;
        let prices = Self::check_references(customer_id, &ids, read.customer.is_some(), read.catalogue)?;
        let id = OrderId::from_uuid(self.env.new_uuid());
        let (order, event) = Order::place_at(
            id,
            customer_id,
            cmd.lines,
            &prices,
            cmd.shipping_address,
            cmd.shipping_speed,
            self.env.now(),
        )?;
        let envelope = EventEnvelope::new(DomainEvent::OrderCreated(event), self.env.as_ref());
        let trace_id = envelope.metadata.trace.as_ref().and_then(|t| t.root()).unwrap_or_default().to_owned();
        let record = idempotency::record(&scope, key, &fp, id.as_uuid(), &order)?;
        let write = OrderWrite::Put { order: order.clone(), expected_version: 0 };
        let committed = self.repo.commit(Commit::new(vec![write], &[envelope]).answering(record)).await;
        if committed.is_ok() {
            crate::measure::order_created();
            // The saga's first line: the ids every later step's lines carry (no personal data).
            tracing::info!(correlation_id = %order.id(), trace_id, "order placed");
        }
        idempotency::settle(self.repo.as_ref(), &scope, key, &fp, committed, order, AppError::from).await
    }

    /// The catalogue prices of the lines, when the replica knows the customer and sells every
    /// product. Anything it does not know is a client error, answered at once: the replica lags
    /// the catalogue by the time an event takes to arrive, so a product added a moment ago may be
    /// refused like an unknown one, with the same 422 (the client retries; nothing is written).
    fn check_references(
        customer_id: CustomerId,
        ids: &[ProductId],
        customer_known: bool,
        catalogue: Vec<Versioned<CatalogueEntry>>,
    ) -> Result<BTreeMap<ProductId, Money>, AppError> {
        if !customer_known {
            return Err(AppError::UnknownReference(Item::Customer(customer_id)));
        }
        let sold: BTreeMap<ProductId, Money> =
            catalogue.into_iter().filter(|e| e.value.sold).map(|e| (e.value.product_id, e.value.price)).collect();
        if let Some(missing) = ids.iter().find(|id| !sold.contains_key(id)) {
            return Err(AppError::UnknownReference(Item::Product(*missing)));
        }
        Ok(sold)
    }
}

/// The orders context's replica of the catalogue and the customers: idempotent consumers of the
/// products' and customers' events, writing only the orders table.
#[derive(Clone)]
pub struct ReplicaService {
    repo: Arc<dyn OrderRepository>,
    env: SharedEnv,
}

impl ReplicaService {
    pub fn new(repo: Arc<dyn OrderRepository>, env: SharedEnv) -> Self {
        ReplicaService { repo, env }
    }

    /// ProductAdded | ProductUpdated | ProductDiscontinued → the product's catalogue entry, as the
    /// event lists it, unless the entry already reflects that revision or a later one (a
    /// redelivered or overtaken event changes nothing).
    pub async fn replicate_product(&self, consumer: Consumer, ev: &EventEnvelope) -> Result<StepOutcome, StepError> {
        let listed = match &ev.event {
            DomainEvent::ProductAdded(e) => CatalogueEntry::from(e),
            DomainEvent::ProductUpdated(e) => e.listing.clone(),
            DomainEvent::ProductDiscontinued(e) => e.listing.clone(),
            _ => return Err(consumer.unroutable(ev)),
        };
        step::run(self.repo.as_ref(), consumer, ev, &self.env, || async {
            let known = self.repo.catalogue(&[listed.product_id]).await?;
            let decision = match known.first() {
                Some(entry) if entry.value.revision >= listed.revision => Step::Skip(Skip::AlreadyDone),
                entry => Step::Apply {
                    state: vec![OrderWrite::Catalogue {
                        entry: listed.clone(),
                        expected_version: entry.map_or(0, |e| e.version),
                    }],
                    events: vec![],
                },
            };
            Ok(Attempt::unguarded(decision))
        })
        .await
    }

    /// CustomerRegistered → the customer is known to orders.
    pub async fn replicate_customer(&self, consumer: Consumer, ev: &EventEnvelope) -> Result<StepOutcome, StepError> {
        let DomainEvent::CustomerRegistered(registered) = &ev.event else { return Err(consumer.unroutable(ev)) };
        step::run(self.repo.as_ref(), consumer, ev, &self.env, || async {
            let decision = match self.repo.known_customer(registered.customer_id).await? {
                Some(_) => Step::Skip(Skip::AlreadyDone),
                None => Step::Apply {
                    state: vec![OrderWrite::Customer {
                        customer: KnownCustomer::from(registered),
                        expected_version: 0,
                    }],
                    events: vec![],
                },
            };
            Ok(Attempt::unguarded(decision))
        })
        .await
    }
}

/// What shipping would cost: pure domain, no storage.
pub fn quote_shipping(shipping: &ShippingCostService, cmd: &QuoteShipping) -> Result<ShippingQuote, AppError> {
    Ok(shipping.quote(&cmd.destination, cmd.speed, &cmd.items, cmd.subtotal)?)
}

/// The order-side steps of the saga: price, approve, reject. Only the pricing step needs the
/// shipping tariff, so only its function is configured with the warehouse.
#[derive(Clone)]
pub struct OrderSaga {
    repo: Arc<dyn OrderRepository>,
    shipping: Option<ShippingCostService>,
    env: SharedEnv,
}

impl OrderSaga {
    /// Approving and rejecting.
    pub fn new(repo: Arc<dyn OrderRepository>, env: SharedEnv) -> Self {
        OrderSaga { repo, shipping: None, env }
    }

    /// Pricing too.
    pub fn with_pricing(repo: Arc<dyn OrderRepository>, shipping: ShippingCostService, env: SharedEnv) -> Self {
        OrderSaga { repo, shipping: Some(shipping), env }
    }

    /// StockReserved → OrderPriced (or OrderRejected when it cannot be priced; or a
    /// StockReleaseRequested compensation when the order is already over).
    pub async fn price(&self, consumer: Consumer, ev: &EventEnvelope) -> Result<StepOutcome, StepError> {
        let (DomainEvent::StockReserved(e), Some(shipping)) = (&ev.event, &self.shipping) else {
            return Err(consumer.unroutable(ev));
        };
        self.run(consumer, ev, e.order_id, |o, now| price_order(o, e, shipping, now)).await
    }

    /// CreditReserved → OrderApproved (or a CreditReleaseRequested compensation).
    pub async fn approve(&self, consumer: Consumer, ev: &EventEnvelope) -> Result<StepOutcome, StepError> {
        let DomainEvent::CreditReserved(e) = &ev.event else { return Err(consumer.unroutable(ev)) };
        self.run(consumer, ev, e.order_id, |o, now| approve_order(o, e, now)).await
    }

    /// StockReservationFailed | CreditReservationFailed → OrderRejected.
    pub async fn reject(&self, consumer: Consumer, ev: &EventEnvelope) -> Result<StepOutcome, StepError> {
        match &ev.event {
            DomainEvent::StockReservationFailed(e) => {
                self.run(consumer, ev, e.order_id, |o, now| reject_for_stock(o, e, now)).await
            }
            DomainEvent::CreditReservationFailed(e) => {
                self.run(consumer, ev, e.order_id, |o, now| reject_for_credit(o, e, now)).await
            }
            _ => Err(consumer.unroutable(ev)),
        }
    }

    async fn run(
        &self,
        consumer: Consumer,
        ev: &EventEnvelope,
        order_id: OrderId,
        decide: impl Fn(&Order, chrono::DateTime<chrono::Utc>) -> Step<Order>,
    ) -> Result<StepOutcome, StepError> {
        // When the order was created, for the saga's duration (immutable: the first read wins).
        let created = std::sync::OnceLock::new();
        let outcome = step::run(self.repo.as_ref(), consumer, ev, &self.env, || async {
            // The order is written before its first event is published, so a missing order is a
            // replication lag or a foreign event: retry, and let the DLQ catch the latter.
            let Versioned { value: order, version } =
                self.repo.get(order_id).await?.ok_or(StepError::Missing(Item::Order(order_id)))?;
            let _ = created.set(order.created_at());
            let decision = decide(&order, self.env.now())
                .map(|state| vec![OrderWrite::Put { order: state, expected_version: version }]);
            Ok(Attempt { decision, guard: vec![OrderWrite::Check { id: order_id, version }] })
        })
        .await?;
        let ended = matches!(&outcome, StepOutcome::Applied { emitted }
            if emitted.iter().any(|e| *e == "OrderApproved" || *e == "OrderRejected"));
        if let (true, Some(at)) = (ended, created.get()) {
            crate::measure::saga_ended(*at, self.env.now());
        }
        Ok(outcome)
    }
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub examined: usize,
    pub rejected: usize,
    /// Items of the PENDING index that did not decode: each logged at ERROR and skipped.
    pub unreadable: usize,
}

/// Rejects orders left PENDING past the timeout, so no saga stays open forever. The rejection
/// event triggers the same compensations as any other rejection.
#[derive(Clone)]
pub struct Sweeper {
    repo: Arc<dyn OrderRepository>,
    timeout: Duration,
    env: SharedEnv,
}

impl Sweeper {
    /// Orders examined per run at most; the schedule runs again soon enough for the rest.
    pub const BATCH: usize = 100;

    pub fn new(repo: Arc<dyn OrderRepository>, timeout: Duration, env: SharedEnv) -> Self {
        Sweeper { repo, timeout, env }
    }

    pub async fn sweep(&self) -> Result<SweepReport, StoreError> {
        let now = self.env.now();
        let Overdue { orders: stuck, unreadable } = self.repo.pending_before(now - self.timeout, Self::BATCH).await?;
        for e in &unreadable {
            // One bad item must not hold up every other order's rejection; the operator is told.
            tracing::error!(error = %e, cause = ?std::error::Error::source(e), "sweep skipped an unreadable PENDING item");
        }
        let mut report = SweepReport { examined: stuck.len(), rejected: 0, unreadable: unreadable.len() };
        for Versioned { value: order, version } in stuck {
            let Step::Apply { state, events } = sweep_order(&order, now, self.timeout) else { continue };
            let envelopes: Vec<EventEnvelope> =
                events.into_iter().map(|e| EventEnvelope::new(e, self.env.as_ref())).collect();
            match self
                .repo
                .commit(Commit::new(vec![OrderWrite::Put { order: state, expected_version: version }], &envelopes))
                .await
            {
                Ok(()) => {
                    report.rejected += 1;
                    crate::measure::rejected(domain::RejectionReason::TimedOut);
                    crate::measure::saga_ended(order.created_at(), now);
                }
                // The saga moved the order meanwhile: it is not stuck.
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }
}
