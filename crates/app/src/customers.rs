//! Customers: registration, lookup, and the credit steps of the saga.

use std::sync::Arc;

use domain::saga::{release_order_credit, reserve_order_credit, CreditChange, Step};
use domain::{CreditReservation, Customer, CustomerId, DomainEvent, Email, EventEnvelope, Money, OrderId};

use crate::access::{authorize, Action, Caller};
use crate::commands::{ChangeCreditLimit, RegisterCustomer, UpdateCustomer};
use crate::env::SharedEnv;
use crate::error::{AppError, StepError};
use crate::idempotency::{self, Created, Prior};
use crate::ports::{Commit, CustomerRepository, CustomerWrite, IdempotencyKey, Item, StoreError, Versioned};
use crate::step::{self, Attempt, Consumer, StepOutcome};

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

    /// Registers the caller as a customer, bound to the token's subject, with `email`, the
    /// address their identity provider verified (the token's claim: no request can name another
    /// person's), and the configured credit limit. A second registration of the subject is
    /// refused (409), and nothing else is: the email claims no uniqueness here, the identity
    /// provider owns it (two subjects may carry one address over time, when it moves between
    /// accounts), so no caller can squat or probe anyone's address. A retry with the same
    /// Idempotency-Key answers as the first, even when the two raced.
    pub async fn register(
        &self,
        caller: &Caller,
        email: Email,
        cmd: RegisterCustomer,
        credit_limit: Money,
        key: Option<&IdempotencyKey>,
    ) -> Result<Created<Customer>, AppError> {
        authorize(caller, Action::RegisterSelf)?;
        let scope = idempotency::scope(SCOPE, caller);
        let fp = idempotency::fingerprint(&cmd)?;
        if let Prior::Replay(resource) = idempotency::check(self.repo.as_ref(), &scope, key, &fp).await? {
            return Ok(Created { resource, replayed: true });
        }
        let id = caller.customer_id();
        let (customer, event) = Customer::register(id, cmd.name, email, cmd.address, credit_limit, self.env.now());
        let envelope = EventEnvelope::new(DomainEvent::CustomerRegistered(event), self.env.as_ref());
        let record = idempotency::record(&scope, key, &fp, id.as_uuid(), &customer)?;
        let write = CustomerWrite::Customer { customer: customer.clone(), expected_version: 0 };
        let committed = self.repo.commit(Commit::new(vec![write], &[envelope]).answering(record)).await;
        // Refused on the customer's version: a subject that already has its customer is told so
        // (unless the key replays).
        let registered = match &committed {
            Err(StoreError::Conflict { .. }) => self.repo.get(id).await?.is_some(),
            _ => false,
        };
        idempotency::settle(self.repo.as_ref(), &scope, key, &fp, committed, customer, |e| {
            if registered {
                AppError::AlreadyRegistered
            } else {
                e.into()
            }
        })
        .await
    }

    /// Loads the customer, lets `change` decide, and commits the customer with the event it
    /// returned, conditional on the version it was read at. A concurrent write (a credit hold,
    /// another change) sends it back to read and decide again, a few times, then 409. No event:
    /// nothing to write, the customer as it is.
    async fn change(
        &self,
        id: CustomerId,
        change: impl Fn(&mut Customer) -> Result<Option<DomainEvent>, AppError>,
    ) -> Result<Customer, AppError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let Versioned { value: mut customer, version } =
                self.repo.get(id).await?.ok_or(AppError::NotFound(Item::Customer(id)))?;
            let Some(event) = change(&mut customer)? else { return Ok(customer) };
            let envelope = EventEnvelope::new(event, self.env.as_ref());
            let write = CustomerWrite::Customer { customer: customer.clone(), expected_version: version };
            match self.repo.commit(Commit::new(vec![write], &[envelope])).await {
                Err(StoreError::Conflict { .. }) if attempts < crate::step::HTTP_ATTEMPTS => continue,
                committed => committed?,
            }
            return Ok(customer);
        }
    }

    /// PUT the credit limit. Below what is reserved it holds nothing back, and blocks new
    /// reservations until enough is released.
    pub async fn change_credit_limit(
        &self,
        caller: &Caller,
        id: CustomerId,
        cmd: ChangeCreditLimit,
    ) -> Result<Customer, AppError> {
        authorize(caller, Action::ChangeCreditLimit)?;
        self.change(id, |c| Ok(c.change_credit_limit(cmd.credit_limit)?.map(DomainEvent::CreditLimitChanged))).await
    }

    /// PATCH the name and/or the default shipping address.
    pub async fn update(&self, caller: &Caller, id: CustomerId, cmd: UpdateCustomer) -> Result<Customer, AppError> {
        authorize(caller, Action::UpdateCustomer(id))?;
        self.change(id, |c| Ok(c.update(cmd.name.clone(), cmd.address.clone()).map(DomainEvent::CustomerUpdated))).await
    }

    /// The customer, to its owner or an admin; anyone else is told it does not exist.
    pub async fn get(&self, caller: &Caller, id: CustomerId) -> Result<Customer, AppError> {
        authorize(caller, Action::ReadCustomer(id))?;
        let c = self.repo.get(id).await?.ok_or(AppError::NotFound(Item::Customer(id)))?;
        Ok(c.value)
    }

    /// One attempt of a credit step: the customer and the order's reservation record, and the
    /// domain's decision on them.
    async fn attempt(
        &self,
        customer_id: CustomerId,
        order_id: OrderId,
        decide: impl FnOnce(Option<&Customer>, Option<&CreditReservation>) -> Step<CreditChange>,
    ) -> Result<Attempt<CustomerWrite>, StepError> {
        let (customer, existing) = self.repo.customer_and_reservation(customer_id, order_id).await?;
        let decision = decide(customer.as_ref().map(|c| &c.value), existing.as_ref().map(|r| &r.value)).map(|change| {
            let mut w = vec![CustomerWrite::Reservation {
                reservation: change.reservation,
                expected_version: existing.map_or(0, |r| r.version),
            }];
            // The counter moves by a hold on the invariant, not a versioned put: one customer's
            // concurrent orders do not conflict with each other.
            let before = customer.as_ref().map(|c| &c.value);
            if let Some(hold) = change.customer.zip(before).and_then(|(next, before)| next.hold_since(before)) {
                w.push(CustomerWrite::Hold { customer_id, hold });
            }
            w
        });
        Ok(Attempt::unguarded(decision))
    }

    /// OrderPriced → CreditReserved | CreditReservationFailed.
    pub async fn reserve_credit(&self, consumer: Consumer, ev: &EventEnvelope) -> Result<StepOutcome, StepError> {
        let DomainEvent::OrderPriced(priced) = &ev.event else {
            return Err(consumer.unroutable(ev));
        };
        step::run(self.repo.as_ref(), consumer, ev, &self.env, || {
            self.attempt(priced.customer_id, priced.order_id, |customer, existing| {
                reserve_order_credit(priced, customer, existing)
            })
        })
        .await
    }

    /// OrderRejected | OrderCancelled | CreditReleaseRequested → CreditReleased (or a tombstone).
    pub async fn release_credit(&self, consumer: Consumer, ev: &EventEnvelope) -> Result<StepOutcome, StepError> {
        let (order_id, customer_id) = match &ev.event {
            DomainEvent::OrderRejected(e) => (e.order_id, e.customer_id),
            DomainEvent::OrderCancelled(e) => (e.order_id, e.customer_id),
            DomainEvent::CreditReleaseRequested(e) => (e.order_id, e.customer_id),
            _ => return Err(consumer.unroutable(ev)),
        };
        step::run(self.repo.as_ref(), consumer, ev, &self.env, || {
            self.attempt(customer_id, order_id, |customer, existing| {
                release_order_credit(order_id, customer_id, customer, existing)
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use domain::{Address, Currency, CustomerName};
    use uuid::Uuid;

    use super::*;
    use crate::memory::{InMemoryCustomerRepository, MemoryOutbox};
    use crate::SystemEnvironment;

    /// Issue 22: `CustomerRegistered` carried the email onto the bus (and so into the outbox for 7
    /// days and dead-letter queues for 14), though its one consumer keeps the id. A registration
    /// now names the customer by id and says nothing personal.
    #[tokio::test]
    async fn a_registration_puts_no_personal_data_on_the_bus() {
        let repo = Arc::new(InMemoryCustomerRepository::default());
        let svc = CustomerService::new(repo.clone(), SystemEnvironment::shared());
        let caller = Caller::new(Uuid::new_v4(), false);
        let cmd = RegisterCustomer {
            name: CustomerName::parse("Ada Lovelace").unwrap(),
            address: Address::new("12 Analytical Way", "Columbus", "OH", "43004", "US").unwrap(),
        };
        let email = Email::parse("ada@example.com").unwrap();
        svc.register(&caller, email, cmd, Money::new(50_000, Currency::USD).unwrap(), None).await.unwrap();
        let records = repo.unpublished();
        assert_eq!(records.iter().map(|r| r.detail_type.as_str()).collect::<Vec<_>>(), ["CustomerRegistered"]);
        let detail = &records[0].detail;
        for personal in ["ada@example.com", "Ada Lovelace", "Analytical", "Columbus", "43004"] {
            assert!(!detail.contains(personal), "{personal} is on the bus: {detail}");
        }
        assert!(detail.contains(&caller.subject().to_string()), "the customer is named by id: {detail}");
    }
}
