//! Customers: registration, lookup, and the credit steps of the saga.

use std::sync::Arc;

use domain::saga::{release_order_credit, reserve_order_credit, CreditChange, Step};
use domain::{CreditReservation, Customer, CustomerId, DomainEvent, EventEnvelope};

use crate::commands::RegisterCustomer;
use crate::env::SharedEnv;
use crate::error::{AppError, StepError};
use crate::idempotency::{self, Created, Prior};
use crate::ports::{AppliedEvent, Commit, CustomerRepository, CustomerWrite, IdempotencyKey, Versioned};
use crate::step::{consumer, marker, plan, settle, unroutable, Attempts, StepOutcome};
use crate::views::CustomerView;

const SCOPE: &str = "customers";

#[derive(Clone)]
pub struct CustomerService {
    repo: Arc<dyn CustomerRepository>,
    env: SharedEnv,
}

impl CustomerService {
    pub fn new(repo: Arc<dyn CustomerRepository>, env: SharedEnv) -> Self {
        CustomerService { repo, env }
    }

    pub async fn register(
        &self,
        cmd: RegisterCustomer,
        key: Option<&IdempotencyKey>,
    ) -> Result<Created<CustomerView>, AppError> {
        let fp = idempotency::fingerprint(&cmd);
        if let Prior::Replay(view) = idempotency::check(self.repo.as_ref(), SCOPE, key, &fp).await? {
            return Ok(Created { view, replayed: true });
        }
        let id = CustomerId::from_uuid(self.env.new_uuid());
        let (customer, event) =
            Customer::register(id, cmd.name, cmd.email, cmd.address, cmd.credit_limit, self.env.now());
        let view = CustomerView::from(&customer);
        let envelope = EventEnvelope::new(DomainEvent::CustomerRegistered(event), self.env.as_ref());
        let commit = Commit::new(vec![CustomerWrite::Customer { customer, expected_version: 0 }], &[envelope])
            .answering(idempotency::record(SCOPE, key, &fp, id.as_uuid(), &view));
        let committed = self.repo.commit(commit).await;
        idempotency::settle(self.repo.as_ref(), SCOPE, key, &fp, committed, view).await
    }

    pub async fn get(&self, id: CustomerId) -> Result<CustomerView, AppError> {
        let c = self.repo.get(id).await?.ok_or(AppError::NotFound("customer"))?;
        Ok(CustomerView::from(&c.value))
    }

    /// OrderPriced → CreditReserved | CreditReservationFailed.
    pub async fn reserve_credit(&self, ev: &EventEnvelope) -> Result<StepOutcome, StepError> {
        let DomainEvent::OrderPriced(priced) = &ev.event else {
            return Err(unroutable(consumer::RESERVE_CREDIT, ev));
        };
        let applied = marker(consumer::RESERVE_CREDIT, ev);
        if self.repo.is_applied(&applied).await? {
            return Ok(StepOutcome::AlreadyApplied);
        }
        let mut attempts = Attempts::new(&self.env);
        loop {
            let customer = self.repo.get(priced.customer_id).await?;
            let existing = self.repo.reservation(priced.order_id).await?;
            let step =
                reserve_order_credit(priced, customer.as_ref().map(|c| &c.value), existing.as_ref().map(|r| &r.value));
            if let Some(outcome) = self.commit_step(step, existing, customer, ev, &applied).await? {
                return Ok(outcome);
            }
            attempts.backoff().await?;
        }
    }

    /// OrderRejected | OrderCancelled | CreditReleaseRequested → CreditReleased (or a tombstone).
    pub async fn release_credit(&self, ev: &EventEnvelope) -> Result<StepOutcome, StepError> {
        let (order_id, customer_id) = match &ev.event {
            DomainEvent::OrderRejected(e) => (e.order_id, e.customer_id),
            DomainEvent::OrderCancelled(e) => (e.order_id, e.customer_id),
            DomainEvent::CreditReleaseRequested(e) => (e.order_id, e.customer_id),
            _ => return Err(unroutable(consumer::RELEASE_CREDIT, ev)),
        };
        let applied = marker(consumer::RELEASE_CREDIT, ev);
        if self.repo.is_applied(&applied).await? {
            return Ok(StepOutcome::AlreadyApplied);
        }
        let mut attempts = Attempts::new(&self.env);
        loop {
            let customer = self.repo.get(customer_id).await?;
            let existing = self.repo.reservation(order_id).await?;
            let step = release_order_credit(
                order_id,
                customer_id,
                customer.as_ref().map(|c| &c.value),
                existing.as_ref().map(|r| &r.value),
            );
            if let Some(outcome) = self.commit_step(step, existing, customer, ev, &applied).await? {
                return Ok(outcome);
            }
            attempts.backoff().await?;
        }
    }

    /// Commits a decided step; `None` means a version conflict: reload and decide again.
    async fn commit_step(
        &self,
        step: Step<CreditChange>,
        reservation: Option<Versioned<CreditReservation>>,
        customer: Option<Versioned<Customer>>,
        ev: &EventEnvelope,
        applied: &AppliedEvent,
    ) -> Result<Option<StepOutcome>, StepError> {
        let writes = |change: CreditChange| {
            let mut w = vec![CustomerWrite::Reservation {
                reservation: change.reservation,
                expected_version: reservation.map_or(0, |r| r.version),
            }];
            if let Some(next) = change.customer {
                w.push(CustomerWrite::Customer { customer: next, expected_version: customer.map_or(0, |c| c.version) });
            }
            w
        };
        match plan(step, writes, vec![], ev, applied, &self.env) {
            Ok((commit, emitted)) => settle(self.repo.commit(commit).await, emitted),
            Err(outcome) => Ok(Some(outcome)),
        }
    }
}
