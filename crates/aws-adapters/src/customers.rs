//! The customers table: customers and one credit reservation item per order. A customer's email
//! is the one their identity provider verified; the table claims no uniqueness for it (the
//! provider owns that), so no write here can be refused because of someone else's address.

use app::ports::{reads, Commit, CustomerRepository, CustomerWrite, Item, StoreError, Transactional, Versioned};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use chrono::Utc;
use domain::{CreditReservation, Customer, CustomerId, OrderId};

use crate::items::{aggregate_item, decode_versioned, IndexAttrs, Key};
use crate::table::{event_ledger, DynamoTable};
use crate::transaction::Transaction;

/// [`CustomerRepository`] on DynamoDB.
#[derive(Clone)]
pub struct DynamoCustomerRepository {
    table: DynamoTable,
}

impl DynamoCustomerRepository {
    pub fn new(client: Client, table_name: impl Into<String>) -> Self {
        DynamoCustomerRepository { table: DynamoTable::new(client, table_name.into()) }
    }
}

event_ledger!(DynamoCustomerRepository);

#[async_trait]
impl CustomerRepository for DynamoCustomerRepository {
    async fn get(&self, id: CustomerId) -> Result<Option<Versioned<Customer>>, StoreError> {
        self.table.get_versioned(&Key::of(Item::Customer(id))).await
    }

    async fn reservation(&self, order_id: OrderId) -> Result<Option<Versioned<CreditReservation>>, StoreError> {
        self.table.get_versioned(&Key::of(Item::CreditReservation(order_id))).await
    }

    async fn customer_and_reservation(
        &self,
        id: CustomerId,
        order_id: OrderId,
    ) -> Result<(Option<Versioned<Customer>>, Option<Versioned<CreditReservation>>), StoreError> {
        let (customer_key, reservation_key) = (Key::of(Item::Customer(id)), Key::of(Item::CreditReservation(order_id)));
        let mut found =
            self.table.get_keyed(vec![customer_key.clone(), reservation_key.clone()], reads::STRONG).await?;
        let customer = found.remove(&customer_key.pk).map(decode_versioned).transpose()?;
        let reservation = found.remove(&reservation_key.pk).map(decode_versioned).transpose()?;
        Ok((customer, reservation))
    }
}

#[async_trait]
impl Transactional<CustomerWrite> for DynamoCustomerRepository {
    async fn commit(&self, commit: Commit<CustomerWrite>) -> Result<(), StoreError> {
        let mut tx = Transaction::default();
        for w in &commit.writes {
            match w {
                CustomerWrite::Customer { customer, expected_version } => {
                    let key = Key::of(Item::Customer(customer.id()));
                    let item = aggregate_item(&key, "CUSTOMER", expected_version + 1, IndexAttrs::default(), customer)?;
                    tx.put_versioned(w.item(), item, *expected_version)?;
                }
                CustomerWrite::Reservation { reservation, expected_version } => {
                    let key = Key::of(Item::CreditReservation(reservation.order_id));
                    let item =
                        aggregate_item(&key, "CREDIT", expected_version + 1, IndexAttrs::default(), reservation)?;
                    tx.put_versioned(w.item(), item, *expected_version)?;
                }
                CustomerWrite::Hold { hold, .. } => {
                    let (counter, bound) = (["data", "reserved", "amount"], ["data", "creditLimit", "amount"]);
                    tx.hold(w.item(), &counter, &bound, *hold)?
                }
            }
        }
        tx.ledger(&commit, Utc::now())?;
        self.table.commit(tx).await
    }
}
