//! A model of DynamoDB's throughput limits, for the in-memory adapters: ministack does not
//! enforce them, so a flash sale on it can never show the ceiling one hot item puts on the saga.
//!
//! What it models, and where each figure comes from:
//! - **Per item**: about 1,000 write units and 3,000 read units a second. DynamoDB states the
//!   limit per partition, and a partition never holds less than one partition key; every item
//!   of this system's tables has a partition key of its own (`PRODUCT#id`, `ORDER#id`, ...), so
//!   per item is per partition key here, and the limit no adaptive capacity can lift.
//! - **Units**: a write of an item up to 1 KB is one write unit, twice that inside a transaction;
//!   a strongly consistent read up to 4 KB is one read unit, an eventually consistent one half
//!   a unit ([`Consistency`]: each read says which it is, as the DynamoDB adapter asks for it,
//!   from the one declaration of [`crate::ports::reads`]). Items here are well under both (the
//!   in-memory tables do not serialise them, so sizes are not measured: every item is one unit).
//! - **Buckets**: each item has a token bucket per kind, refilled at the limit per second and
//!   holding at most [`BURST`] of it: DynamoDB documents no burst above a partition's limit (the
//!   300 seconds of burst capacity are a table's, below that limit), so a rate above the limit
//!   is throttled within a tenth of a second.
//! - **Throttling**, as DynamoDB answers it and as the SDK reacts: a read over the limit is a
//!   `ProvisionedThroughputExceededException` (`ThrottlingException` on demand), which the SDK
//!   retries in standard mode, [`SdkRetry::STANDARD`]; a transaction with an item over the limit
//!   is cancelled (`TransactionCanceledException`, reason `ThrottlingError`), which the SDK does
//!   not retry and the DynamoDB adapter reports as [`StoreError::Unavailable`]. Both end, here as
//!   there, in [`StoreError::Unavailable`], so the application reacts identically: a step fails
//!   and its queue hands the event back, an HTTP call answers 503.
//! - A throttled request consumes nothing; a transaction whose condition then fails still
//!   consumes its units (DynamoDB bills a failed conditional write).
//!
//! Time is a [`SimClock`]: virtual, advanced by whoever drives the model (and by the SDK's
//! backoffs, which take no real time), so a run is deterministic and as fast as the machine.
//! Off unless an adapter is built with a model ([`crate::memory`]'s `with_capacity`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::ports::{Consistency, Item, StoreError};

/// DynamoDB's throughput per item (per partition key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub write_units_per_second: u32,
    pub read_units_per_second: u32,
}

impl Limits {
    /// "A single partition can support a maximum of 3,000 read capacity units (RCUs) or 1,000
    /// write capacity units (WCUs)" (Amazon DynamoDB Developer Guide, "Best practices for
    /// designing and using partition keys effectively"), on-demand tables included.
    pub const DYNAMODB: Limits = Limits { write_units_per_second: 1_000, read_units_per_second: 3_000 };
}

/// The most a bucket holds: a tenth of a second at the limit.
pub const BURST: Duration = Duration::from_millis(100);

/// Write units of one item written inside a `TransactWriteItems` (twice a plain write).
pub const TRANSACTION_WRITE_UNITS: u32 = 2;
/// Read units of one strongly consistent read of an item up to 4 KB.
pub const CONSISTENT_READ_UNITS: f64 = 1.0;
/// Read units of one eventually consistent read of an item up to 4 KB: half a strong one.
pub const EVENTUAL_READ_UNITS: f64 = 0.5;

/// The read units one read of an item of up to 4 KB takes at `consistency`.
pub fn read_units(consistency: Consistency) -> f64 {
    match consistency {
        Consistency::Strong => CONSISTENT_READ_UNITS,
        Consistency::Eventual => EVENTUAL_READ_UNITS,
    }
}

/// The AWS SDK for Rust's retries of a throttled request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdkRetry {
    /// Attempts, the first included.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl SdkRetry {
    /// `RetryConfig::standard()` (aws-smithy-types): 3 attempts; before retry `n` (1-based) a
    /// wait drawn uniformly from 0 to `initial_backoff × 2^(n-1)` ("the first retry will occur
    /// after 0 to 1 seconds, the second after 0 to 2 seconds"), capped at `max_backoff`, 20 s.
    pub const STANDARD: SdkRetry =
        SdkRetry { max_attempts: 3, initial_backoff: Duration::from_secs(1), max_backoff: Duration::from_secs(20) };

    /// The wait before retry `retry` (1 for the first retry), `unit` in [0, 1) being the jitter.
    pub fn backoff(&self, retry: u32, unit: f64) -> Duration {
        let ceiling = self.initial_backoff.saturating_mul(1 << retry.saturating_sub(1).min(20)).min(self.max_backoff);
        ceiling.mul_f64(unit.clamp(0.0, 1.0))
    }
}

/// Virtual time, shared by the model and whoever drives it. Starts at zero.
#[derive(Debug, Clone, Default)]
pub struct SimClock(Arc<AtomicU64>);

impl SimClock {
    pub fn now(&self) -> Duration {
        Duration::from_micros(self.0.load(Ordering::SeqCst))
    }
    /// Moves the clock to `t` (a driver running the next thing that happens).
    pub fn set(&self, t: Duration) {
        self.0.store(u64::try_from(t.as_micros()).unwrap_or(u64::MAX), Ordering::SeqCst);
    }
    pub fn advance(&self, d: Duration) {
        self.0.fetch_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX), Ordering::SeqCst);
    }
}

/// A request DynamoDB refused for its rate: what [`StoreError::Unavailable`] carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: the request rate for {item} is too high (attempts: {attempts})")]
pub struct Throttled {
    /// DynamoDB's error code: `ProvisionedThroughputExceededException` for a read, or
    /// `TransactionCanceledException` (reason `ThrottlingError`) for a transaction.
    pub code: &'static str,
    pub item: Item,
    pub attempts: u32,
}

/// What the model counted, for reports.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// Halves included: an eventually consistent read takes half a unit.
    pub read_units: f64,
    pub write_units: u64,
    /// Requests answered with a throttle, each attempt counted.
    pub throttled_attempts: u64,
    /// Requests that still failed after the SDK's retries (or at once: transactions).
    pub throttled_requests: u64,
    /// Write units taken from the product items and their stock shards (the hot items of a
    /// flash sale).
    pub product_write_units: u64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Duration,
}

impl Bucket {
    fn capacity(limit: u32) -> f64 {
        f64::from(limit) * BURST.as_secs_f64()
    }
    fn full(limit: u32, at: Duration) -> Self {
        Bucket { tokens: Self::capacity(limit), at }
    }
    /// Refills for the time since the last look (never backwards), at most [`BURST`]'s worth.
    fn refill(&mut self, limit: u32, now: Duration) {
        if now > self.at {
            let added = (now - self.at).as_secs_f64() * f64::from(limit);
            self.tokens = (self.tokens + added).min(Self::capacity(limit));
            self.at = now;
        }
    }
}

#[derive(Default)]
struct State {
    reads: HashMap<Item, Bucket>,
    writes: HashMap<Item, Bucket>,
    rng: u64,
    usage: Usage,
    by_kind: BTreeMap<&'static str, Units>,
}

/// Read and write units taken, of one kind of item.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Units {
    /// Halves included: an eventually consistent read takes half a unit.
    pub read: f64,
    pub write: u64,
}

/// The kind of an item, as docs/CAPACITY.md names it.
pub fn kind(item: &Item) -> &'static str {
    match item {
        Item::Order(_) => "order",
        Item::CatalogueEntry(_) => "catalogue entry (orders' replica of a product)",
        Item::KnownCustomer(_) => "known customer (orders' replica of a customer)",
        Item::Product(_) => "product (with stock shard 0)",
        Item::StockShard(..) => "stock shard 1..K",
        Item::StockReservation(_) => "stock reservation",
        Item::Customer(_) => "customer (its credit)",
        Item::CreditReservation(_) => "credit reservation",
    }
}

/// The kinds of the items a commit writes besides its aggregates: each of its own, never hot.
pub const OUTBOX_RECORD: &str = "outbox record";
pub const APPLIED_MARKER: &str = "applied marker";
pub const IDEMPOTENCY_RECORD: &str = "idempotency record";

impl State {
    /// The next jitter in [0, 1), from a splitmix64 sequence of the seed.
    fn unit(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Which bucket a request draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
}

/// The limits of one DynamoDB account's tables, on a virtual clock, deterministic from a seed.
pub struct CapacityModel {
    limits: Limits,
    retry: SdkRetry,
    clock: SimClock,
    state: Mutex<State>,
    /// Off: every request passes uncounted (an auditor's reads, which the system never makes).
    enabled: AtomicBool,
}

impl CapacityModel {
    pub fn new(limits: Limits, retry: SdkRetry, clock: SimClock, seed: u64) -> Self {
        CapacityModel {
            limits,
            retry,
            clock,
            state: Mutex::new(State { rng: seed, ..State::default() }),
            enabled: AtomicBool::new(true),
        }
    }

    /// Turns the model on or off; off, requests pass and nothing is counted.
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::SeqCst);
    }

    /// DynamoDB's limits and the SDK's standard retries.
    pub fn dynamodb(clock: SimClock, seed: u64) -> Arc<Self> {
        Arc::new(Self::new(Limits::DYNAMODB, SdkRetry::STANDARD, clock, seed))
    }

    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    pub fn usage(&self) -> Usage {
        self.lock().usage
    }

    /// The units taken so far, by kind of item.
    pub fn by_kind(&self) -> BTreeMap<&'static str, Units> {
        self.lock().by_kind.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a set of counters, consistent after any panic.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes `units` from each item's bucket of `kind`, all or none; the first item that has
    /// too few, when it is refused.
    fn take(&self, kind: Kind, items: &[(Item, f64)]) -> Result<(), Item> {
        if !self.enabled.load(Ordering::SeqCst) {
            return Ok(());
        }
        let now = self.clock.now();
        let limit = match kind {
            Kind::Read => self.limits.read_units_per_second,
            Kind::Write => self.limits.write_units_per_second,
        };
        let mut state = self.lock();
        let buckets = match kind {
            Kind::Read => &mut state.reads,
            Kind::Write => &mut state.writes,
        };
        // One item named twice in a request draws twice.
        let mut wanted: Vec<(Item, f64)> = vec![];
        for (item, units) in items {
            match wanted.iter_mut().find(|(i, _)| i == item) {
                Some((_, u)) => *u += units,
                None => wanted.push((*item, *units)),
            }
        }
        for (item, units) in &wanted {
            let b = buckets.entry(*item).or_insert_with(|| Bucket::full(limit, now));
            b.refill(limit, now);
            if b.tokens < *units {
                return Err(*item);
            }
        }
        for (item, units) in &wanted {
            if let Some(b) = buckets.get_mut(item) {
                b.tokens -= units;
            }
        }
        for (item, units) in &wanted {
            let by = state.by_kind.entry(self::kind(item)).or_default();
            match kind {
                Kind::Read => by.read += units,
                // Write units are whole: 2 per item of a transaction.
                Kind::Write => by.write += *units as u64,
            }
        }
        let total: f64 = wanted.iter().map(|(_, u)| u).sum();
        match kind {
            Kind::Read => state.usage.read_units += total,
            Kind::Write => {
                let hot = wanted.iter().filter(|(i, _)| matches!(i, Item::Product(_) | Item::StockShard(..)));
                state.usage.write_units += total as u64;
                state.usage.product_write_units += hot.map(|(_, u)| *u as u64).sum::<u64>();
            }
        }
        Ok(())
    }

    /// A read of `items` (a `GetItem` or `BatchGetItem`) at `consistency`, retried by the SDK
    /// while throttled: each backoff advances the clock. `Err` once the attempts are spent.
    pub fn read(&self, items: &[Item], consistency: Consistency) -> Result<(), StoreError> {
        let wanted: Vec<(Item, f64)> = items.iter().map(|i| (*i, read_units(consistency))).collect();
        let mut attempt = 1;
        loop {
            let Err(item) = self.take(Kind::Read, &wanted) else {
                return Ok(());
            };
            let mut state = self.lock();
            state.usage.throttled_attempts += 1;
            if attempt >= self.retry.max_attempts {
                state.usage.throttled_requests += 1;
                let code = "ProvisionedThroughputExceededException";
                return Err(StoreError::Unavailable(Box::new(Throttled { code, item, attempts: attempt })));
            }
            let wait = self.retry.backoff(attempt, state.unit());
            drop(state);
            self.clock.advance(wait);
            attempt += 1;
        }
    }

    /// A `TransactWriteItems` over `items` (each item once), plus `ledger` items of their own
    /// (named by kind: [`OUTBOX_RECORD`], [`APPLIED_MARKER`], [`IDEMPOTENCY_RECORD`]), which no
    /// other request writes and so never meet a limit. A throttled item cancels it at once: the
    /// SDK does not retry a cancellation.
    pub fn transact(&self, items: &[Item], ledger: &[&'static str]) -> Result<(), StoreError> {
        let wanted: Vec<(Item, f64)> = items.iter().map(|i| (*i, f64::from(TRANSACTION_WRITE_UNITS))).collect();
        match self.take(Kind::Write, &wanted) {
            Ok(()) if !self.enabled.load(Ordering::SeqCst) => Ok(()),
            Ok(()) => {
                let mut state = self.lock();
                state.usage.write_units += ledger.len() as u64 * u64::from(TRANSACTION_WRITE_UNITS);
                for k in ledger {
                    state.by_kind.entry(k).or_default().write += u64::from(TRANSACTION_WRITE_UNITS);
                }
                Ok(())
            }
            Err(item) => {
                let mut state = self.lock();
                state.usage.throttled_attempts += 1;
                state.usage.throttled_requests += 1;
                let code = "TransactionCanceledException";
                Err(StoreError::Unavailable(Box::new(Throttled { code, item, attempts: 1 })))
            }
        }
    }
}

impl fmt::Debug for CapacityModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CapacityModel").field("limits", &self.limits).field("retry", &self.retry).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ProductId;

    fn product(n: u128) -> Item {
        Item::Product(ProductId::from_uuid(uuid::Uuid::from_u128(n)))
    }

    fn model(seed: u64) -> Arc<CapacityModel> {
        CapacityModel::dynamodb(SimClock::default(), seed)
    }

    fn throttled(r: Result<(), StoreError>) -> Option<Throttled> {
        match r {
            Err(StoreError::Unavailable(e)) => e.downcast_ref::<Throttled>().cloned(),
            _ => None,
        }
    }

    /// Transactions of one item offered every `gap` for a second of virtual time: how many pass.
    fn per_second(m: &CapacityModel, item: Item, gap: Duration) -> usize {
        let start = m.clock().now();
        let mut ok = 0;
        while m.clock().now() < start + Duration::from_secs(1) {
            ok += usize::from(m.transact(&[item], &[OUTBOX_RECORD, APPLIED_MARKER, OUTBOX_RECORD]).is_ok());
            m.clock().advance(gap);
        }
        ok
    }

    #[test]
    fn a_transaction_costs_two_write_units_per_item_so_one_item_takes_500_a_second() {
        let m = model(1);
        // 2,000 offered in a second.
        let ok = per_second(&m, product(1), Duration::from_micros(500));
        assert!((500..=550).contains(&ok), "1,000 write units at 2 per transaction, a tenth of a second's burst: {ok}");
        let mut ok = ok;
        let t = loop {
            match throttled(m.transact(&[product(1)], &[OUTBOX_RECORD, APPLIED_MARKER, OUTBOX_RECORD])) {
                Some(t) => break t,
                None => ok += 1,
            }
        };
        assert_eq!((t.code, t.item, t.attempts), ("TransactionCanceledException", product(1), 1));
        assert_eq!(m.usage().product_write_units, 2 * ok as u64);
        assert_eq!(m.usage().write_units, 2 * 4 * ok as u64, "the ledger items are billed too");
        assert!(m.transact(&[product(2)], &[]).is_ok(), "another item has a budget of its own");
    }

    #[test]
    fn tokens_refill_at_the_limit_and_hold_at_most_a_tenth_of_a_second() {
        let m = model(1);
        while m.transact(&[product(1)], &[]).is_ok() {}
        m.clock().advance(Duration::from_millis(20));
        let ok = (0..100).filter(|_| m.transact(&[product(1)], &[]).is_ok()).count();
        assert_eq!(ok, 10, "20 ms refill 20 units: 10 transactions");
        m.clock().advance(Duration::from_secs(60));
        let ok = (0..1_000).filter(|_| m.transact(&[product(1)], &[]).is_ok()).count();
        assert_eq!(ok, 50, "a minute idle still holds only a tenth of a second of units");
    }

    #[test]
    fn a_throttled_transaction_takes_nothing_from_its_other_items() {
        let m = model(1);
        while m.transact(&[product(1)], &[]).is_ok() {}
        assert!(m.transact(&[product(2), product(1)], &[]).is_err());
        let ok = (0..600).filter(|_| m.transact(&[product(2)], &[]).is_ok()).count();
        assert_eq!(ok, 50, "the cancelled transaction drew nothing from product 2");
    }

    #[test]
    fn reads_take_3000_units_a_second_then_the_sdk_retries_with_backoff_before_failing() {
        let m = model(7);
        for _ in 0..300 {
            m.read(&[product(1)], Consistency::Strong).expect("within the limit");
        }
        assert_eq!(m.clock().now(), Duration::ZERO, "no retry, no time");
        // Over the limit: the SDK waits and tries again; by then the bucket has refilled.
        m.read(&[product(1)], Consistency::Strong).expect("a retry after the backoff succeeds");
        let waited = m.clock().now();
        assert!(waited > Duration::ZERO && waited < Duration::from_secs(1), "first backoff in [0, 1 s): {waited:?}");
        assert_eq!(m.usage().throttled_attempts, 1);
        assert_eq!(m.usage().throttled_requests, 0);
    }

    #[test]
    fn a_read_fails_once_the_sdk_spent_its_three_attempts() {
        // A limit of zero read units: nothing ever refills.
        let none = Limits { read_units_per_second: 0, write_units_per_second: 0 };
        let m = CapacityModel::new(none, SdkRetry::STANDARD, SimClock::default(), 3);
        let t = throttled(m.read(&[product(1)], Consistency::Strong)).expect("throttled");
        assert_eq!((t.code, t.attempts), ("ProvisionedThroughputExceededException", 3));
        let waited = m.clock().now();
        assert!(waited < Duration::from_secs(3), "two backoffs, within 1 s + 2 s: {waited:?}");
        assert_eq!((m.usage().throttled_attempts, m.usage().throttled_requests), (3, 1));
    }

    #[test]
    fn the_backoff_doubles_its_ceiling_up_to_twenty_seconds() {
        let r = SdkRetry::STANDARD;
        assert_eq!(r.backoff(1, 0.999_999).as_millis(), 999);
        assert_eq!(r.backoff(2, 0.5), Duration::from_secs(1));
        assert_eq!(r.backoff(3, 0.5), Duration::from_secs(2));
        assert_eq!(r.backoff(10, 1.0), Duration::from_secs(20));
        assert_eq!(r.backoff(1, 0.0), Duration::ZERO);
    }

    #[test]
    fn the_same_seed_waits_the_same_and_another_seed_does_not() {
        let waits = |seed| {
            let m = model(seed);
            while m.read(&[product(1)], Consistency::Strong).is_ok() && m.clock().now() < Duration::from_secs(30) {}
            (m.clock().now(), m.usage())
        };
        assert_eq!(waits(42), waits(42));
        assert_ne!(waits(42).0, waits(43).0);
    }

    /// The in-memory adapters charge each read at the consistency `ports::reads` declares for it
    /// (the one the DynamoDB adapter asks DynamoDB for): half a unit eventually consistent.
    #[tokio::test]
    async fn the_memory_adapters_charge_each_read_at_its_declared_consistency() {
        use crate::memory::{InMemoryOrderRepository, InMemoryProductRepository};
        use crate::ports::{reads, OrderRepository, ProductRepository};
        use domain::{CustomerId, OrderId};

        let uuid = |n| uuid::Uuid::from_u128(n);
        let m = model(1);
        let orders = InMemoryOrderRepository::with_capacity(m.clone());
        orders.placement(None, CustomerId::from_uuid(uuid(1)), &[ProductId::from_uuid(uuid(2))]).await.unwrap();
        assert_eq!(reads::PLACEMENT, Consistency::Eventual);
        assert_eq!(m.usage().read_units, 2.0 * EVENTUAL_READ_UNITS, "the customer's and the product's replicas");

        let m = model(1);
        let products = InMemoryProductRepository::with_capacity(m.clone());
        let (order, ids) = (OrderId::from_uuid(uuid(3)), [ProductId::from_uuid(uuid(4))]);
        products.reservation_and_products(order, &ids, reads::STOCK_FIRST).await.unwrap();
        assert_eq!(m.usage().read_units, 2.0 * read_units(reads::STOCK_FIRST), "the record and the product");
        products.reservation_and_products(order, &ids, reads::STOCK_AGAIN).await.unwrap();
        assert_eq!(m.usage().read_units, 2.0 * (EVENTUAL_READ_UNITS + CONSISTENT_READ_UNITS));
        let by = m.by_kind();
        assert_eq!(by["product (with stock shard 0)"].read, 1.5);
    }

    /// The in-memory adapter answers a throttle with the error the DynamoDB adapter gives
    /// (`StoreError::Unavailable`), and writes nothing.
    #[tokio::test]
    async fn the_memory_adapter_throttles_as_dynamodb_does_and_writes_nothing() {
        use crate::memory::InMemoryProductRepository;
        use crate::ports::{Commit, ProductRepository, ProductWrite, Transactional};
        use domain::{Currency, Dimensions, Money, Product, ProductName, StockLevel, Weight};

        let m = model(1);
        let repo = InMemoryProductRepository::with_capacity(m.clone());
        let add = |n: u128| {
            let id = ProductId::from_uuid(uuid::Uuid::from_u128(n));
            let (p, _) = Product::add(
                id,
                ProductName::parse("Widget").unwrap(),
                Money::new(250, Currency::USD).unwrap(),
                Weight::new(100).unwrap(),
                Dimensions::new(5, 5, 5).unwrap(),
                StockLevel::new(10).unwrap(),
                chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
            );
            Commit::new(vec![ProductWrite::Product { product: p, expected_version: 0 }], &[])
        };
        repo.commit(add(1)).await.unwrap();
        // Spend product 1's write units on other transactions of it.
        while m.transact(&[product(1)], &[]).is_ok() {}
        let err = repo.commit(add(2)).await.map(|_| ());
        assert!(err.is_ok(), "product 2 has its own budget");
        let mut again = add(1);
        if let ProductWrite::Product { expected_version, .. } = &mut again.writes[0] {
            *expected_version = 1;
        }
        let t = throttled(repo.commit(again).await).expect("throttled like DynamoDB");
        assert_eq!(t.code, "TransactionCanceledException");
        m.clock().advance(Duration::from_secs(1));
        let stored = repo.get(ProductId::from_uuid(uuid::Uuid::from_u128(1))).await.unwrap().unwrap();
        assert_eq!(stored.version, 1, "the throttled write changed nothing");
    }
}
