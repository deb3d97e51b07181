//! Who may do what: every authorization rule of the API, in one place.
//!
//! The caller is who the token says (the authorizer checked it at the edge); a customer is bound
//! to the token's subject, so "the caller's customer" is the customer whose id is the subject.
//! Rules:
//! - a caller registers, reads, changes and orders for their own customer only; an admin may read
//!   and change any customer and see and cancel any order;
//! - what a caller may not see is answered exactly as if it did not exist (404, no oracle);
//! - credit limits and the catalogue are admin operations (403 for anyone else);
//! - an order is placed for the caller's own customer: naming another is a 403, admins included
//!   (an admin places orders as a customer, with their own credit).

use domain::{CustomerId, OrderId};
use uuid::Uuid;

use crate::error::AppError;
use crate::ports::Item;

/// The group whose members are admins.
pub const ADMIN_GROUP: &str = "admin";

/// The authenticated caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    subject: Uuid,
    admin: bool,
}

impl Caller {
    pub fn new(subject: Uuid, admin: bool) -> Caller {
        Caller { subject, admin }
    }

    /// A customer's own caller, without admin rights.
    pub fn customer(id: CustomerId) -> Caller {
        Caller { subject: id.as_uuid(), admin: false }
    }

    /// The token's subject.
    pub fn subject(&self) -> Uuid {
        self.subject
    }

    /// The customer the caller is (or registers as).
    pub fn customer_id(&self) -> CustomerId {
        CustomerId::from_uuid(self.subject)
    }

    pub fn is_admin(&self) -> bool {
        self.admin
    }

    fn owns(&self, customer: CustomerId) -> bool {
        self.customer_id() == customer
    }
}

/// What a request asks to do, with the owner of what it touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// POST /customers: always the caller's own customer.
    RegisterSelf,
    /// GET /customers/{id}, GET /me.
    ReadCustomer(CustomerId),
    /// PATCH /customers/{id}.
    UpdateCustomer(CustomerId),
    /// PUT /customers/{id}/credit-limit.
    ChangeCreditLimit,
    /// GET /customers/{id}/orders.
    ReadHistory(CustomerId),
    /// POST /orders, for this customer.
    PlaceOrder(CustomerId),
    /// GET /orders/{id}, of this owner.
    ReadOrder { id: OrderId, owner: CustomerId },
    /// POST /orders/{id}/cancel, of this owner.
    CancelOrder { id: OrderId, owner: CustomerId },
    /// POST /products, PATCH /products/{id}, restock, discontinue.
    WriteCatalogue,
    /// GET /orders: every customer's orders.
    ListAllOrders,
}

/// Why a forbidden action is refused, for the 403's detail.
pub const ADMINS_ONLY: &str = "only an admin may do this";
pub const NOT_YOUR_CUSTOMER: &str = "an order is placed for the caller's own customer only";

/// Decides whether `caller` may do `action`: `Ok`, `Forbidden` (403) or `NotFound` (404, the
/// answer for what the caller may not know exists).
pub fn authorize(caller: &Caller, action: Action) -> Result<(), AppError> {
    let hidden = |item: Item| if caller.admin { Ok(()) } else { Err(AppError::NotFound(item)) };
    match action {
        Action::RegisterSelf => Ok(()),
        Action::ReadCustomer(id) | Action::UpdateCustomer(id) | Action::ReadHistory(id) => {
            if caller.owns(id) {
                Ok(())
            } else {
                hidden(Item::Customer(id))
            }
        }
        Action::ReadOrder { id, owner } | Action::CancelOrder { id, owner } => {
            if caller.owns(owner) {
                Ok(())
            } else {
                hidden(Item::Order(id))
            }
        }
        Action::PlaceOrder(customer) => {
            if caller.owns(customer) {
                Ok(())
            } else {
                Err(AppError::Forbidden(NOT_YOUR_CUSTOMER))
            }
        }
        Action::ChangeCreditLimit | Action::WriteCatalogue | Action::ListAllOrders => {
            if caller.admin {
                Ok(())
            } else {
                Err(AppError::Forbidden(ADMINS_ONLY))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Who {
        Owner,
        Other,
        Admin,
        /// An admin acting on their own customer.
        AdminOwner,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Answer {
        Allowed,
        Hidden,
        Forbidden,
    }

    fn answer(r: Result<(), AppError>) -> Answer {
        match r {
            Ok(()) => Answer::Allowed,
            Err(AppError::NotFound(_)) => Answer::Hidden,
            Err(AppError::Forbidden(_)) => Answer::Forbidden,
            Err(e) => panic!("authorize answers only allowed, hidden or forbidden, not {e:?}"),
        }
    }

    /// The authorization table: route × caller → answer. Every row is one route's rule for the
    /// owner of the resource, another customer, an admin, and an admin who is the owner.
    #[test]
    fn the_authorization_table() {
        use Answer::{Allowed as A, Forbidden as F, Hidden as H};
        let owner = CustomerId::from_uuid(Uuid::from_u128(1));
        let other = Caller::new(Uuid::from_u128(2), false);
        let admin = Caller::new(Uuid::from_u128(3), true);
        let admin_owner = Caller::new(owner.as_uuid(), true);
        let order = OrderId::from_uuid(Uuid::from_u128(9));
        let table: [(&str, Action, [Answer; 4]); 9] = [
            ("POST /customers", Action::RegisterSelf, [A, A, A, A]),
            ("GET /customers/{id}", Action::ReadCustomer(owner), [A, H, A, A]),
            ("PATCH /customers/{id}", Action::UpdateCustomer(owner), [A, H, A, A]),
            ("PUT /customers/{id}/credit-limit", Action::ChangeCreditLimit, [F, F, A, A]),
            ("GET /customers/{id}/orders", Action::ReadHistory(owner), [A, H, A, A]),
            ("POST /orders", Action::PlaceOrder(owner), [A, F, F, A]),
            ("GET /orders/{id}", Action::ReadOrder { id: order, owner }, [A, H, A, A]),
            ("POST /orders/{id}/cancel", Action::CancelOrder { id: order, owner }, [A, H, A, A]),
            ("POST|PATCH /products…", Action::WriteCatalogue, [F, F, A, A]),
        ];
        for (route, action, expected) in table {
            for (who, want) in [Who::Owner, Who::Other, Who::Admin, Who::AdminOwner].into_iter().zip(expected) {
                let caller = match who {
                    Who::Owner => Caller::customer(owner),
                    Who::Other => other,
                    Who::Admin => admin,
                    Who::AdminOwner => admin_owner,
                };
                assert_eq!(answer(authorize(&caller, action)), want, "{route} by {who:?}");
            }
        }
    }

    #[test]
    fn what_is_hidden_is_answered_as_the_missing_item_it_names() {
        let owner = CustomerId::from_uuid(Uuid::from_u128(1));
        let order = OrderId::from_uuid(Uuid::from_u128(9));
        let other = Caller::new(Uuid::from_u128(2), false);
        assert!(matches!(
            authorize(&other, Action::ReadOrder { id: order, owner }),
            Err(AppError::NotFound(Item::Order(o))) if o == order
        ));
        assert!(matches!(
            authorize(&other, Action::ReadHistory(owner)),
            Err(AppError::NotFound(Item::Customer(c))) if c == owner
        ));
    }
}
