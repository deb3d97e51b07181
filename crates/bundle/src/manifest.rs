//! The bundle's manifest: every function as a variant of [`Function`], with what triggers it,
//! which environment variables it reads and which AWS actions it calls. `wire` builds its
//! handler from it, its main runs it, the local runner serves its routes, and the template drift
//! tests hold template.yaml to it.

use domain::Context;

/// The environment variables the functions read.
pub mod vars {
    pub const CUSTOMERS_TABLE: &str = "CUSTOMERS_TABLE";
    pub const PRODUCTS_TABLE: &str = "PRODUCTS_TABLE";
    pub const ORDERS_TABLE: &str = "ORDERS_TABLE";
    pub const EVENT_BUS_NAME: &str = "EVENT_BUS_NAME";
    pub const PENDING_TIMEOUT_SECONDS: &str = "PENDING_TIMEOUT_SECONDS";
    pub const WAREHOUSE_REGION: &str = "WAREHOUSE_REGION";
    pub const WAREHOUSE_COUNTRY: &str = "WAREHOUSE_COUNTRY";
    pub const DEFAULT_CREDIT_LIMIT: &str = "DEFAULT_CREDIT_LIMIT";
}

/// The three tables, one per bounded context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Customers,
    Products,
    Orders,
}

impl Table {
    pub const ALL: [Table; 3] = [Table::Customers, Table::Products, Table::Orders];

    /// The environment variable that names the table.
    pub fn var(self) -> &'static str {
        match self {
            Table::Customers => vars::CUSTOMERS_TABLE,
            Table::Products => vars::PRODUCTS_TABLE,
            Table::Orders => vars::ORDERS_TABLE,
        }
    }
}

/// What an IAM statement is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    Table(Table),
    Index(Table, &'static str),
    /// The table's DynamoDB stream.
    Stream(Table),
    Bus,
}

/// One IAM action on one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Permission {
    pub action: &'static str,
    pub resource: Resource,
}

const fn on(action: &'static str, resource: Resource) -> Permission {
    Permission { action, resource }
}

/// A rule's content filter on `detail.data.<field>`: anything but these values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnythingBut {
    pub field: &'static str,
    pub values: &'static [&'static str],
}

/// One kind of event a step consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consumes {
    pub source: Context,
    pub detail_type: &'static str,
    pub filter: Option<AnythingBut>,
}

const fn from(source: Context, detail_type: &'static str) -> Consumes {
    Consumes { source, detail_type, filter: None }
}

/// Who may call an HTTP route at the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Anyone, without a token: the catalogue reads and the shipping quote.
    Public,
    /// A caller with a valid token (the JWT authorizer); what they may do is `app::access`'s
    /// decision.
    Token,
}

/// What starts a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// An HttpApi route; `path` in the template's syntax (`/orders/{id}`).
    Http { method: &'static str, path: &'static str, auth: Auth },
    /// Events on the bus matching one rule per entry.
    Bus(&'static [Consumes]),
    /// The tables' streams, filtered to outbox records.
    OutboxStream,
    /// The relay's on-failure queue: pointers to the stream ranges it gave up on.
    RelayFailures,
    /// A schedule.
    Schedule,
}

use vars::*;
use Resource::{Bus, Index, Stream, Table as T};
use Table::{Customers, Orders, Products};

const GET: &str = "dynamodb:GetItem";
/// The partition key the cold start's warm-up read asks for.
pub use aws_adapters::WARM_UP_KEY;
const BATCH_GET: &str = "dynamodb:BatchGetItem";
const QUERY: &str = "dynamodb:Query";
const CONDITION_CHECK: &str = "dynamodb:ConditionCheckItem";
const PUT: &str = "dynamodb:PutItem";
/// A stock or credit hold: an `Update` in the step's transaction, conditional on the invariant.
const UPDATE: &str = "dynamodb:UpdateItem";
const PUT_EVENTS: &str = "events:PutEvents";
/// The cold start's warm-up of a publisher's EventBridge connection (see `warm_up_bus`).
const DESCRIBE_BUS: &str = "events:DescribeEventBus";
const SHARD_ITERATOR: &str = "dynamodb:GetShardIterator";
const GET_RECORDS: &str = "dynamodb:GetRecords";

/// TransactWriteItems has no IAM action of its own: each item is authorised as the single-item
/// call it stands for, so a Put needs PutItem. Our commits put, except a compensation that emits
/// without a state change: it guards on the order's version with a ConditionCheck, which needs
/// ConditionCheckItem (price-order and approve-order only); and a stock or credit hold, an Update
/// conditional on the invariant, which needs UpdateItem (the four reservation steps).
const fn writes(t: Table) -> Permission {
    on(PUT, T(t))
}

const REJECTIONS_WITHOUT_STOCK: AnythingBut =
    AnythingBut { field: "reason", values: &["OUT_OF_STOCK", "UNKNOWN_PRODUCT"] };
const REJECTIONS_WITHOUT_CREDIT: AnythingBut = AnythingBut {
    field: "reason",
    values: &["OUT_OF_STOCK", "UNKNOWN_PRODUCT", "PRICING_FAILED", "CREDIT_LIMIT_EXCEEDED", "UNKNOWN_CUSTOMER"],
};

const CUSTOMER_WRITE: [Permission; 2] = [writes(Customers), on(GET, T(Customers))];
const PRODUCT_WRITE: [Permission; 2] = [writes(Products), on(GET, T(Products))];
const PRODUCT_STEP: [Permission; 4] =
    [writes(Products), on(GET, T(Products)), on(BATCH_GET, T(Products)), on(UPDATE, T(Products))];
const CUSTOMER_STEP: [Permission; 4] =
    [writes(Customers), on(GET, T(Customers)), on(BATCH_GET, T(Customers)), on(UPDATE, T(Customers))];
const ORDER_WRITE: [Permission; 2] = [writes(Orders), on(GET, T(Orders))];
/// Order steps that may answer with a compensation request (see `writes`).
const ORDER_COMPENSATING: [Permission; 3] = [ORDER_WRITE[0], ORDER_WRITE[1], on(CONDITION_CHECK, T(Orders))];

/// One Lambda function of the bundle: the composition root's unit. Its name is its folder under
/// functions/, its binary's name and its key in template.yaml (`<Name>Function` by convention of
/// the template), and is written here and nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    CreateCustomer,
    GetCustomer,
    GetMe,
    FindOrderHistory,
    CreateProduct,
    GetProduct,
    ListProducts,
    CreateOrder,
    GetOrder,
    GetOrderTimeline,
    CancelOrder,
    QuoteShipping,
    UpdateProduct,
    RestockProduct,
    DiscontinueProduct,
    UpdateCustomer,
    ChangeCreditLimit,
    ReserveStock,
    PriceOrder,
    ReserveCredit,
    ApproveOrder,
    RejectOrder,
    ReleaseStock,
    ReleaseCredit,
    ReplicateCatalogue,
    ReplicateCustomers,
    OutboxRelay,
    RedriveOutbox,
    SweepOrders,
}

/// What the bundle declares of one function. Invariant: `env` lists every variable its wiring
/// reads, `permissions` every action its code calls (stream-reading permissions of the relay
/// come with its event source). Every function with a table may `GetItem` on it: the cold start
/// opens the connection with one such read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub name: &'static str,
    pub trigger: Trigger,
    pub env: &'static [&'static str],
    /// The partition-key prefixes (`CUSTOMER` for `CUSTOMER#<id>`) of every item it reads or
    /// writes on its table: the `dynamodb:LeadingKeys` condition of its table statements.
    pub keys: &'static [&'static str],
    pub permissions: &'static [Permission],
}

impl Function {
    pub const ALL: [Function; 29] = [
        Function::CreateCustomer,
        Function::GetCustomer,
        Function::GetMe,
        Function::FindOrderHistory,
        Function::CreateProduct,
        Function::GetProduct,
        Function::ListProducts,
        Function::CreateOrder,
        Function::GetOrder,
        Function::GetOrderTimeline,
        Function::CancelOrder,
        Function::QuoteShipping,
        Function::UpdateProduct,
        Function::RestockProduct,
        Function::DiscontinueProduct,
        Function::UpdateCustomer,
        Function::ChangeCreditLimit,
        Function::ReserveStock,
        Function::PriceOrder,
        Function::ReserveCredit,
        Function::ApproveOrder,
        Function::RejectOrder,
        Function::ReleaseStock,
        Function::ReleaseCredit,
        Function::ReplicateCatalogue,
        Function::ReplicateCustomers,
        Function::OutboxRelay,
        Function::RedriveOutbox,
        Function::SweepOrders,
    ];

    /// The function's name, binary and folder.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn trigger(self) -> Trigger {
        self.spec().trigger
    }

    /// The environment variables it reads.
    pub fn env(self) -> &'static [&'static str] {
        self.spec().env
    }

    /// The IAM actions it calls, on which resources.
    pub fn permissions(self) -> &'static [Permission] {
        self.spec().permissions
    }

    /// The function named `name`.
    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The `dynamodb:LeadingKeys` values its table statements allow: each prefix as `P#*`, and
    /// the cold start's warm-up key (a read of an item that never exists).
    pub fn leading_keys(self) -> Vec<String> {
        let mut keys: Vec<String> = self.spec().keys.iter().map(|k| format!("{k}#*")).collect();
        if self.warm_up_table().is_some() {
            keys.push(WARM_UP_KEY.to_owned());
        }
        keys
    }

    /// Whether the cold start opens the EventBridge connection (a `DescribeEventBus` of its bus):
    /// the functions that publish, so their first invocation does not pay for DNS, TCP and TLS.
    pub fn warm_up_bus(self) -> bool {
        self.permissions().iter().any(|p| p.action == DESCRIBE_BUS)
    }

    /// The table the cold start opens its connection to: the first it may `GetItem` on.
    pub fn warm_up_table(self) -> Option<Table> {
        self.permissions().iter().find_map(|p| match p.resource {
            Resource::Table(t) if p.action == GET => Some(t),
            _ => None,
        })
    }

    pub fn spec(self) -> Spec {
        match self {
            Function::CreateCustomer => {
                const {
                    Spec {
                        name: "create-customer",
                        trigger: Trigger::Http { method: "POST", path: "/customers", auth: Auth::Token },
                        env: &[CUSTOMERS_TABLE, DEFAULT_CREDIT_LIMIT],
                        keys: &["CUSTOMER", "EMAIL", "IDEMPOTENCY", "OUTBOX"],
                        permissions: &CUSTOMER_WRITE,
                    }
                }
            }
            Function::GetCustomer => {
                const {
                    Spec {
                        name: "get-customer",
                        trigger: Trigger::Http { method: "GET", path: "/customers/{id}", auth: Auth::Token },
                        env: &[CUSTOMERS_TABLE],
                        keys: &["CUSTOMER"],
                        permissions: &[on(GET, T(Customers))],
                    }
                }
            }
            Function::GetMe => {
                const {
                    Spec {
                        name: "get-me",
                        trigger: Trigger::Http { method: "GET", path: "/me", auth: Auth::Token },
                        env: &[CUSTOMERS_TABLE],
                        keys: &["CUSTOMER"],
                        permissions: &[on(GET, T(Customers))],
                    }
                }
            }
            Function::FindOrderHistory => {
                const {
                    Spec {
                        name: "find-order-history",
                        trigger: Trigger::Http { method: "GET", path: "/customers/{id}/orders", auth: Auth::Token },
                        env: &[ORDERS_TABLE],
                        keys: &[],
                        permissions: &[on(QUERY, Index(Orders, "ByCustomer")), on(GET, T(Orders))],
                    }
                }
            }
            Function::CreateProduct => {
                const {
                    Spec {
                        name: "create-product",
                        trigger: Trigger::Http { method: "POST", path: "/products", auth: Auth::Token },
                        env: &[PRODUCTS_TABLE],
                        keys: &["PRODUCT", "IDEMPOTENCY", "OUTBOX"],
                        permissions: &[writes(Products), on(GET, T(Products))],
                    }
                }
            }
            Function::GetProduct => {
                const {
                    Spec {
                        name: "get-product",
                        trigger: Trigger::Http { method: "GET", path: "/products/{id}", auth: Auth::Public },
                        env: &[PRODUCTS_TABLE],
                        keys: &["PRODUCT"],
                        permissions: &[on(GET, T(Products))],
                    }
                }
            }
            Function::ListProducts => {
                const {
                    Spec {
                        name: "list-products",
                        trigger: Trigger::Http { method: "GET", path: "/products", auth: Auth::Public },
                        env: &[PRODUCTS_TABLE],
                        keys: &[],
                        permissions: &[on(QUERY, Index(Products, "Catalogue")), on(GET, T(Products))],
                    }
                }
            }
            Function::CreateOrder => {
                const {
                    Spec {
                        name: "create-order",
                        trigger: Trigger::Http { method: "POST", path: "/orders", auth: Auth::Token },
                        env: &[ORDERS_TABLE, WAREHOUSE_REGION, WAREHOUSE_COUNTRY],
                        keys: &["ORDER", "CATALOGUE", "KNOWN_CUSTOMER", "IDEMPOTENCY", "OUTBOX"],
                        permissions: &[writes(Orders), on(GET, T(Orders)), on(BATCH_GET, T(Orders))],
                    }
                }
            }
            Function::GetOrder => {
                const {
                    Spec {
                        name: "get-order",
                        trigger: Trigger::Http { method: "GET", path: "/orders/{id}", auth: Auth::Token },
                        env: &[ORDERS_TABLE],
                        keys: &["ORDER"],
                        permissions: &[on(GET, T(Orders))],
                    }
                }
            }
            Function::GetOrderTimeline => {
                const {
                    Spec {
                        name: "get-order-timeline",
                        trigger: Trigger::Http { method: "GET", path: "/orders/{id}/timeline", auth: Auth::Token },
                        env: &[ORDERS_TABLE],
                        keys: &["ORDER"],
                        permissions: &[on(GET, T(Orders))],
                    }
                }
            }
            Function::CancelOrder => {
                const {
                    Spec {
                        name: "cancel-order",
                        trigger: Trigger::Http { method: "POST", path: "/orders/{id}/cancel", auth: Auth::Token },
                        env: &[ORDERS_TABLE],
                        keys: &["ORDER", "OUTBOX"],
                        permissions: &ORDER_WRITE,
                    }
                }
            }
            Function::QuoteShipping => {
                const {
                    Spec {
                        name: "quote-shipping",
                        trigger: Trigger::Http { method: "POST", path: "/shipping/quote", auth: Auth::Public },
                        env: &[WAREHOUSE_REGION, WAREHOUSE_COUNTRY],
                        keys: &[],
                        permissions: &[],
                    }
                }
            }
            Function::UpdateProduct => {
                const {
                    Spec {
                        name: "update-product",
                        trigger: Trigger::Http { method: "PATCH", path: "/products/{id}", auth: Auth::Token },
                        env: &[PRODUCTS_TABLE],
                        keys: &["PRODUCT", "OUTBOX"],
                        permissions: &PRODUCT_WRITE,
                    }
                }
            }
            Function::RestockProduct => {
                const {
                    Spec {
                        name: "restock-product",
                        trigger: Trigger::Http { method: "POST", path: "/products/{id}/restock", auth: Auth::Token },
                        env: &[PRODUCTS_TABLE],
                        keys: &["PRODUCT", "IDEMPOTENCY", "OUTBOX"],
                        permissions: &PRODUCT_WRITE,
                    }
                }
            }
            Function::DiscontinueProduct => {
                const {
                    Spec {
                        name: "discontinue-product",
                        trigger: Trigger::Http {
                            method: "POST",
                            path: "/products/{id}/discontinue",
                            auth: Auth::Token,
                        },
                        env: &[PRODUCTS_TABLE],
                        keys: &["PRODUCT", "OUTBOX"],
                        permissions: &PRODUCT_WRITE,
                    }
                }
            }
            Function::UpdateCustomer => {
                const {
                    Spec {
                        name: "update-customer",
                        trigger: Trigger::Http { method: "PATCH", path: "/customers/{id}", auth: Auth::Token },
                        env: &[CUSTOMERS_TABLE],
                        keys: &["CUSTOMER", "OUTBOX"],
                        permissions: &CUSTOMER_WRITE,
                    }
                }
            }
            Function::ChangeCreditLimit => {
                const {
                    Spec {
                        name: "change-credit-limit",
                        trigger: Trigger::Http {
                            method: "PUT",
                            path: "/customers/{id}/credit-limit",
                            auth: Auth::Token,
                        },
                        env: &[CUSTOMERS_TABLE],
                        keys: &["CUSTOMER", "OUTBOX"],
                        permissions: &CUSTOMER_WRITE,
                    }
                }
            }
            Function::ReserveStock => {
                const {
                    Spec {
                        name: "reserve-stock",
                        trigger: Trigger::Bus(&[from(Context::Orders, "OrderCreated")]),
                        env: &[PRODUCTS_TABLE],
                        keys: &["PRODUCT", "RESERVATION", "APPLIED", "OUTBOX"],
                        permissions: &PRODUCT_STEP,
                    }
                }
            }
            Function::PriceOrder => {
                const {
                    Spec {
                        name: "price-order",
                        trigger: Trigger::Bus(&[from(Context::Products, "StockReserved")]),
                        env: &[ORDERS_TABLE, WAREHOUSE_REGION, WAREHOUSE_COUNTRY],
                        keys: &["ORDER", "APPLIED", "OUTBOX"],
                        permissions: &ORDER_COMPENSATING,
                    }
                }
            }
            Function::ReserveCredit => {
                const {
                    Spec {
                        name: "reserve-credit",
                        trigger: Trigger::Bus(&[from(Context::Orders, "OrderPriced")]),
                        env: &[CUSTOMERS_TABLE],
                        keys: &["CUSTOMER", "CREDIT", "APPLIED", "OUTBOX"],
                        permissions: &CUSTOMER_STEP,
                    }
                }
            }
            Function::ApproveOrder => {
                const {
                    Spec {
                        name: "approve-order",
                        trigger: Trigger::Bus(&[from(Context::Customers, "CreditReserved")]),
                        env: &[ORDERS_TABLE],
                        keys: &["ORDER", "APPLIED", "OUTBOX"],
                        permissions: &ORDER_COMPENSATING,
                    }
                }
            }
            Function::RejectOrder => {
                const {
                    Spec {
                        name: "reject-order",
                        trigger: Trigger::Bus(&[
                            from(Context::Products, "StockReservationFailed"),
                            from(Context::Customers, "CreditReservationFailed"),
                        ]),
                        env: &[ORDERS_TABLE],
                        keys: &["ORDER", "APPLIED", "OUTBOX"],
                        permissions: &ORDER_WRITE,
                    }
                }
            }
            Function::ReleaseStock => {
                const {
                    Spec {
                        name: "release-stock",
                        trigger: Trigger::Bus(&[
                            Consumes {
                                source: Context::Orders,
                                detail_type: "OrderRejected",
                                filter: Some(REJECTIONS_WITHOUT_STOCK),
                            },
                            from(Context::Orders, "OrderCancelled"),
                            from(Context::Orders, "StockReleaseRequested"),
                        ]),
                        env: &[PRODUCTS_TABLE],
                        keys: &["PRODUCT", "RESERVATION", "APPLIED", "OUTBOX"],
                        permissions: &PRODUCT_STEP,
                    }
                }
            }
            Function::ReleaseCredit => {
                const {
                    Spec {
                        name: "release-credit",
                        trigger: Trigger::Bus(&[
                            Consumes {
                                source: Context::Orders,
                                detail_type: "OrderRejected",
                                filter: Some(REJECTIONS_WITHOUT_CREDIT),
                            },
                            from(Context::Orders, "OrderCancelled"),
                            from(Context::Orders, "CreditReleaseRequested"),
                        ]),
                        env: &[CUSTOMERS_TABLE],
                        keys: &["CUSTOMER", "CREDIT", "APPLIED", "OUTBOX"],
                        permissions: &CUSTOMER_STEP,
                    }
                }
            }
            Function::ReplicateCatalogue => {
                const {
                    Spec {
                        name: "replicate-catalogue",
                        trigger: Trigger::Bus(&[
                            from(Context::Products, "ProductAdded"),
                            from(Context::Products, "ProductUpdated"),
                            from(Context::Products, "ProductDiscontinued"),
                        ]),
                        env: &[ORDERS_TABLE],
                        keys: &["CATALOGUE", "APPLIED"],
                        permissions: &[writes(Orders), on(GET, T(Orders)), on(BATCH_GET, T(Orders))],
                    }
                }
            }
            Function::ReplicateCustomers => {
                const {
                    Spec {
                        name: "replicate-customers",
                        trigger: Trigger::Bus(&[from(Context::Customers, "CustomerRegistered")]),
                        env: &[ORDERS_TABLE],
                        keys: &["KNOWN_CUSTOMER", "APPLIED"],
                        permissions: &ORDER_WRITE,
                    }
                }
            }
            Function::OutboxRelay => {
                const {
                    Spec {
                        name: "outbox-relay",
                        trigger: Trigger::OutboxStream,
                        env: &[EVENT_BUS_NAME],
                        keys: &[],
                        permissions: &[on(PUT_EVENTS, Bus), on(DESCRIBE_BUS, Bus)],
                    }
                }
            }
            Function::RedriveOutbox => {
                const {
                    Spec {
                        name: "redrive-outbox",
                        trigger: Trigger::RelayFailures,
                        env: &[EVENT_BUS_NAME],
                        keys: &[],
                        permissions: &[
                            on(SHARD_ITERATOR, Stream(Customers)),
                            on(SHARD_ITERATOR, Stream(Products)),
                            on(SHARD_ITERATOR, Stream(Orders)),
                            on(GET_RECORDS, Stream(Customers)),
                            on(GET_RECORDS, Stream(Products)),
                            on(GET_RECORDS, Stream(Orders)),
                            on(PUT_EVENTS, Bus),
                            on(DESCRIBE_BUS, Bus),
                        ],
                    }
                }
            }
            Function::SweepOrders => {
                const {
                    Spec {
                        name: "sweep-orders",
                        trigger: Trigger::Schedule,
                        env: &[ORDERS_TABLE, PENDING_TIMEOUT_SECONDS],
                        keys: &["ORDER", "OUTBOX"],
                        permissions: &[writes(Orders), on(QUERY, Index(Orders, "Pending")), on(GET, T(Orders))],
                    }
                }
            }
        }
    }
}

impl std::fmt::Display for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_and_routes_are_unique() {
        let names: BTreeSet<_> = Function::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names.len(), Function::ALL.len());
        assert!(Function::ALL.iter().all(|f| Function::from_name(f.name()) == Some(*f)));
        let routes: BTreeSet<_> = Function::ALL
            .iter()
            .filter_map(|f| match f.trigger() {
                Trigger::Http { method, path, .. } => Some((method, path)),
                _ => None,
            })
            .collect();
        assert_eq!(routes.len(), 17);
    }

    #[test]
    fn every_consumed_event_is_one_the_domain_emits_from_that_source() {
        for f in Function::ALL {
            if let Trigger::Bus(consumes) = f.trigger() {
                for c in consumes {
                    assert!(
                        domain::DomainEvent::TYPES.contains(&(c.detail_type, c.source)),
                        "{} consumes {} from {:?}",
                        f,
                        c.detail_type,
                        c.source
                    );
                }
            }
        }
    }

    #[test]
    fn every_table_variable_a_function_reads_comes_with_a_permission_on_that_table() {
        for f in Function::ALL {
            for t in Table::ALL {
                let reads_var = f.env().contains(&t.var());
                let has_perm = f
                    .permissions()
                    .iter()
                    .any(|p| matches!(p.resource, Resource::Table(x) | Resource::Index(x, _) if x == t));
                assert_eq!(reads_var, has_perm, "{f} and table {t:?}");
            }
        }
    }
}
