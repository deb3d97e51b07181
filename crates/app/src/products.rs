//! Products: the catalogue, and the stock steps of the saga (reserve all lines or none; release).

use std::collections::BTreeMap;
use std::sync::Arc;

use domain::saga::{release_order_stock, reserve_order_stock, Step, StockChange};
use domain::{DomainEvent, EventEnvelope, OrderId, Product, ProductId};

use crate::commands::AddProduct;
use crate::env::SharedEnv;
use crate::error::{AppError, StepError};
use crate::idempotency::Created;
use crate::page::{self, PageRequest, PageSize};
use crate::ports::{AppliedEvent, Commit, ProductRepository, ProductWrite, Versioned};
use crate::step::{consumer, marker, plan, settle, unroutable, Attempts, StepOutcome};
use crate::views::{PageView, ProductView};

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

    pub async fn add(&self, cmd: AddProduct) -> Result<Created<ProductView>, AppError> {
        let id = ProductId::from_uuid(self.env.new_uuid());
        let (product, event) =
            Product::add(id, cmd.name, cmd.price, cmd.weight, cmd.dimensions, cmd.stock, self.env.now());
        let view = ProductView::from(&product);
        let envelope = EventEnvelope::new(DomainEvent::ProductAdded(event), self.env.as_ref());
        self.repo
            .commit(Commit::new(vec![ProductWrite::Product { product, expected_version: 0 }], &[envelope]))
            .await?;
        Ok(Created { view, replayed: false })
    }

    pub async fn get(&self, id: ProductId) -> Result<ProductView, AppError> {
        let p = self.repo.get(id).await?.ok_or(AppError::NotFound("product"))?;
        Ok(ProductView::from(&p.value))
    }

    /// The catalogue by name; `cursor` is what the previous page returned.
    pub async fn list(&self, size: PageSize, cursor: Option<&str>) -> Result<PageView<ProductView>, AppError> {
        let after =
            cursor.map(|c| page::decode_cursor(CATALOGUE_SCOPE, c)).transpose().map_err(|_| AppError::InvalidCursor)?;
        let p = self.repo.list(&PageRequest { size, after }).await?;
        Ok(PageView {
            items: p.items.iter().map(ProductView::from).collect(),
            next_cursor: p.next.map(|n| page::encode_cursor(CATALOGUE_SCOPE, &n)),
        })
    }

    async fn load(&self, ids: &[ProductId]) -> Result<BTreeMap<ProductId, Versioned<Product>>, StepError> {
        Ok(self.repo.get_many(ids).await?.into_iter().map(|p| (p.value.id(), p)).collect())
    }

    fn writes(
        change: StockChange,
        reservation_version: u64,
        loaded: &BTreeMap<ProductId, Versioned<Product>>,
    ) -> Vec<ProductWrite> {
        let mut w =
            vec![ProductWrite::Reservation { reservation: change.reservation, expected_version: reservation_version }];
        for product in change.products {
            let expected_version = loaded.get(&product.id()).map_or(0, |p| p.version);
            w.push(ProductWrite::Product { product, expected_version });
        }
        w
    }

    /// OrderCreated → StockReserved | StockReservationFailed.
    pub async fn reserve_stock(&self, ev: &EventEnvelope) -> Result<StepOutcome, StepError> {
        let DomainEvent::OrderCreated(created) = &ev.event else {
            return Err(unroutable(consumer::RESERVE_STOCK, ev));
        };
        let applied = marker(consumer::RESERVE_STOCK, ev);
        if self.repo.is_applied(&applied).await? {
            return Ok(StepOutcome::AlreadyApplied);
        }
        let ids: Vec<ProductId> = created.lines.iter().map(|l| l.product_id).collect();
        let mut attempts = Attempts::new(&self.env);
        loop {
            let existing = self.repo.reservation(created.order_id).await?;
            let loaded = self.load(&ids).await?;
            let products: BTreeMap<_, _> = loaded.iter().map(|(id, p)| (*id, p.value.clone())).collect();
            let step = reserve_order_stock(created, &products, existing.as_ref().map(|r| &r.value));
            if let Some(outcome) =
                self.commit_step(step, existing.map_or(0, |r| r.version), &loaded, ev, &applied).await?
            {
                return Ok(outcome);
            }
            attempts.backoff().await?;
        }
    }

    /// OrderRejected | OrderCancelled | StockReleaseRequested → StockReleased (or a tombstone).
    pub async fn release_stock(&self, ev: &EventEnvelope) -> Result<StepOutcome, StepError> {
        let order_id: OrderId = match &ev.event {
            DomainEvent::OrderRejected(e) => e.order_id,
            DomainEvent::OrderCancelled(e) => e.order_id,
            DomainEvent::StockReleaseRequested(e) => e.order_id,
            _ => return Err(unroutable(consumer::RELEASE_STOCK, ev)),
        };
        let applied = marker(consumer::RELEASE_STOCK, ev);
        if self.repo.is_applied(&applied).await? {
            return Ok(StepOutcome::AlreadyApplied);
        }
        let mut attempts = Attempts::new(&self.env);
        loop {
            let existing = self.repo.reservation(order_id).await?;
            let ids: Vec<ProductId> =
                existing.iter().flat_map(|r| r.value.lines.iter().map(|l| l.product_id)).collect();
            let loaded = self.load(&ids).await?;
            let products: BTreeMap<_, _> = loaded.iter().map(|(id, p)| (*id, p.value.clone())).collect();
            let step = release_order_stock(order_id, &products, existing.as_ref().map(|r| &r.value));
            if let Some(outcome) =
                self.commit_step(step, existing.map_or(0, |r| r.version), &loaded, ev, &applied).await?
            {
                return Ok(outcome);
            }
            attempts.backoff().await?;
        }
    }

    /// Commits a decided step; `None` means a version conflict: reload and decide again.
    async fn commit_step(
        &self,
        step: Step<StockChange>,
        reservation_version: u64,
        loaded: &BTreeMap<ProductId, Versioned<Product>>,
        ev: &EventEnvelope,
        applied: &AppliedEvent,
    ) -> Result<Option<StepOutcome>, StepError> {
        let writes = |change| Self::writes(change, reservation_version, loaded);
        match plan(step, writes, vec![], ev, applied, &self.env) {
            Ok((commit, emitted)) => settle(self.repo.commit(commit).await, emitted),
            Err(outcome) => Ok(Some(outcome)),
        }
    }
}
