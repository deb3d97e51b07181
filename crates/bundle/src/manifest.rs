//! The bundle's manifest: every function declared once, in [`functions!`] below: its name, what
//! triggers it (route and OpenAPI operation, rules, stream, schedule) with its retry settings,
//! the environment variables it reads and the AWS actions it calls. Everything else derives from
//! it: `wire` builds its handler, its main runs it, the local runner serves its routes, the
//! OpenAPI document describes its operation, and `sam-template generate` writes its resources in
//! template.yaml (function, log group, queues, alarms, rules, routes).

use domain::Context;
use handlers::dto::BodyType;
use handlers::problem::ProblemKind;
use handlers::views::ViewType;

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
    /// The tables whose outbox streams the relay (and its redrive) publish: the name each stream
    /// record's source ARN carries, and so the one context its records may speak for. Names only:
    /// the relay has no permission on the tables themselves.
    pub const CUSTOMERS_OUTBOX: &str = "CUSTOMERS_OUTBOX";
    pub const PRODUCTS_OUTBOX: &str = "PRODUCTS_OUTBOX";
    pub const ORDERS_OUTBOX: &str = "ORDERS_OUTBOX";
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

    /// The environment variable that names the table to the relay, as the table whose outbox
    /// stream it publishes (see [`vars::CUSTOMERS_OUTBOX`]).
    pub fn outbox_var(self) -> &'static str {
        match self {
            Table::Customers => vars::CUSTOMERS_OUTBOX,
            Table::Products => vars::PRODUCTS_OUTBOX,
            Table::Orders => vars::ORDERS_OUTBOX,
        }
    }

    /// The bounded context whose table it is.
    pub fn context(self) -> Context {
        match self {
            Table::Customers => Context::Customers,
            Table::Products => Context::Products,
            Table::Orders => Context::Orders,
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

/// The OpenAPI operation of a route, beyond its method, path and auth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Doc {
    pub tag: &'static str,
    pub body: Option<BodyType>,
    /// The success status and what it answers.
    pub ok: (u16, ViewType),
    /// The POST honours an `Idempotency-Key`.
    pub idempotent: bool,
    /// Query parameters `limit` and `cursor`.
    pub paged: bool,
    /// Query parameter `status` (order history).
    pub status_filter: bool,
    /// The write honours an `If-Match` naming the `ETag` a read answered: a stale one is a 412.
    pub if_match: bool,
    /// The problems of this route's own, besides those every route of its shape answers (a body,
    /// an id, paging, an idempotency key, a token: see `openapi::problems`).
    pub problems: &'static [ProblemKind],
}

/// A route that answers `ok` with `view`, under `tag`, and nothing more.
const fn answers(tag: &'static str, ok: u16, view: ViewType) -> Doc {
    Doc {
        tag,
        body: None,
        ok: (ok, view),
        idempotent: false,
        paged: false,
        status_filter: false,
        if_match: false,
        problems: &[],
    }
}

/// How a step's events reach it: the rule puts each in the step's own queue (retrying for
/// `rule_max_age_seconds` while SQS refuses), and the queue hands it to the function in batches
/// of `batch_size`. An event the function fails on comes back after `visibility_seconds`, up to
/// `max_receives` times, then moves to the step's dead-letter queue. So an event waits out an
/// outage of its context of up to `max_receives × visibility_seconds` and is then applied on its
/// merits, with no human step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub rule_attempts: u32,
    pub rule_max_age_seconds: u32,
    pub batch_size: u32,
    pub visibility_seconds: u32,
    pub max_receives: u32,
}

impl Delivery {
    /// The longest outage of its context every event waits out: from its first receive to its
    /// last (an event that arrives during the outage waits out more).
    pub const fn outage_seconds(self) -> u32 {
        self.visibility_seconds * (self.max_receives - 1)
    }

    /// The longest an event can be in flight before it is settled or dead-lettered: the rule's
    /// retries, then every receive with its visibility timeout.
    pub const fn window_seconds(self) -> u32 {
        self.rule_max_age_seconds + self.visibility_seconds * self.max_receives
    }
}

/// A saga step's: a minute of rule retries, then 76 receives a minute apart (SQS's visibility
/// timeout, six times the function's 10 s timeout as AWS advises): an outage of up to 75 minutes
/// is waited out.
pub const STEP_DELIVERY: Delivery =
    Delivery { rule_attempts: 20, rule_max_age_seconds: 60, batch_size: 10, visibility_seconds: 60, max_receives: 76 };

/// Hops on the saga's longest path to a decision: reserve-stock, price-order, reserve-credit,
/// then approve-order or reject-order.
pub const SAGA_HOPS: u32 = 4;
/// What the relay adds to a hop at worst: a minute from commit to bus.
pub const RELAY_SECONDS_PER_HOP: u32 = 60;

/// The least `PENDING_TIMEOUT_SECONDS` may be: every hop of the longest path at its whole
/// delivery window, so the sweeper never rejects an order one of whose steps is still waiting
/// out an outage of its context.
pub const fn min_pending_timeout_seconds() -> u32 {
    SAGA_HOPS * (STEP_DELIVERY.window_seconds() + RELAY_SECONDS_PER_HOP)
}

/// How a scheduled tick is retried before it is dead-lettered: by the schedule's rule, then by
/// Lambda's asynchronous invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub rule_attempts: u32,
    pub rule_max_age_seconds: u32,
    pub async_attempts: u32,
    pub async_max_age_seconds: u32,
}

/// A schedule's tick: redelivered within its minute, never retried by Lambda; the next tick
/// comes anyway.
pub const TICK_RETRY: Retry =
    Retry { rule_attempts: 2, rule_max_age_seconds: 60, async_attempts: 0, async_max_age_seconds: 60 };

/// What starts a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// An HttpApi route; `path` in the template's syntax (`/orders/{id}`).
    Http { method: &'static str, path: &'static str, auth: Auth, doc: Doc },
    /// Events on the bus matching one rule, named `rule` in the template, delivered through the
    /// step's own queue.
    Bus { rule: &'static str, consumes: &'static [Consumes], delivery: Delivery },
    /// The tables' streams, filtered to outbox inserts, in batches of `batch_size` (one PutEvents
    /// call); a failing batch is bisected and retried `attempts` times within `max_age_seconds`,
    /// then its stream range goes to the relay's failure queue.
    OutboxStream { batch_size: u32, attempts: u32, max_age_seconds: u32 },
    /// The relay's failure queue: pointers to the stream ranges it gave up on, retried every
    /// `retry_every_seconds`, `attempts` times, then dead-lettered.
    RelayFailures { batch_size: u32, retry_every_seconds: u32, attempts: u32 },
    /// A schedule (`rate(...)`), with a longer timeout than the default.
    Schedule { rate: &'static str, retry: Retry, timeout_seconds: u32 },
    /// The stack's Cognito user pool, before it issues a user's tokens (its pre token generation
    /// trigger, event version 2: ID and access tokens), synchronously: what the function answers
    /// is what the tokens carry, and a failure fails the sign-in.
    TokenGeneration,
}

const fn http(method: &'static str, path: &'static str, auth: Auth, doc: Doc) -> Trigger {
    Trigger::Http { method, path, auth, doc }
}

use vars::*;
use Auth::{Public, Token};
use ProblemKind as P;
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

/// Rejections after which stock was held (and so is released), and after which credit was.
const STOCK_HELD: AnythingBut = AnythingBut { field: "reason", values: &["OUT_OF_STOCK", "UNKNOWN_PRODUCT"] };
const CREDIT_HELD: AnythingBut = AnythingBut {
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

/// What the bundle declares of one function. Invariant: `env` lists every variable its wiring
/// reads, `permissions` every action its code calls (stream-reading permissions of the relay
/// come with its event source). Every function with a table may `GetItem` on it: the cold start
/// opens the connection with one such read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Its folder under functions/, its binary and, in PascalCase, its template resources.
    pub name: &'static str,
    /// What it does: the route's OpenAPI summary, the function's description in the template.
    pub summary: &'static str,
    pub trigger: Trigger,
    pub env: &'static [&'static str],
    /// The partition-key prefixes (`CUSTOMER` for `CUSTOMER#<id>`) of every item it reads or
    /// writes on its table: the `dynamodb:LeadingKeys` condition of its table statements.
    pub keys: &'static [&'static str],
    pub permissions: &'static [Permission],
}

/// Declares every function once, one entry each: `Variant("name", "summary") trigger, env [...],
/// keys [...], may [...];` It makes the [`Function`] enum, [`Function::ALL`], [`Function::spec`]
/// and [`Function::sample_event`] (its `events/<name>.json`, compiled in, so a function without a
/// sample event does not build). A function's `wire` arm is a match arm on [`Function`], so a
/// function without one does not build either.
macro_rules! functions {
    ($( $variant:ident($name:literal, $summary:literal) $trigger:expr, env $env:expr, keys $keys:expr, may $may:expr; )*) => {
        /// One Lambda function of the bundle: the composition root's unit. Its name is its folder
        /// under functions/, its binary's name and its key in template.yaml, and is written in
        /// its declaration and nowhere else.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Function { $($variant,)* }

        impl Function {
            /// How many functions the bundle has.
            pub const COUNT: usize = [$($name),*].len();
            /// Every function, in declaration order (the template's order).
            pub const ALL: [Function; Function::COUNT] = [$(Function::$variant),*];

            pub fn spec(self) -> Spec {
                match self {
                    $(Function::$variant => const {
                        Spec { name: $name, summary: $summary, trigger: $trigger, env: $env, keys: $keys, permissions: $may }
                    },)*
                }
            }

            /// Its sample event, `events/<name>.json`: what its trigger sends it.
            pub fn sample_event(self) -> &'static str {
                match self {
                    $(Function::$variant => include_str!(concat!("../../../events/", $name, ".json")),)*
                }
            }
        }
    };
}

const fn rejected(held: AnythingBut) -> Consumes {
    Consumes { source: Context::Orders, detail_type: "OrderRejected", filter: Some(held) }
}

functions! {
    CreateCustomer("create-customer", "Register the caller as a customer, with the email their token carries as verified")
        http("POST", "/customers", Token, Doc { body: Some(BodyType::CreateCustomer), idempotent: true,
            problems: &[P::Forbidden, P::AlreadyRegistered], ..answers("customers", 201, ViewType::Customer) }),
        env &[CUSTOMERS_TABLE, DEFAULT_CREDIT_LIMIT], keys &["CUSTOMER", "IDEMPOTENCY", "OUTBOX"], may &CUSTOMER_WRITE;
    GetCustomer("get-customer", "A customer (owner or admin)")
        http("GET", "/customers/{id}", Token, Doc { problems: &[P::NotFound], ..answers("customers", 200, ViewType::Customer) }),
        env &[CUSTOMERS_TABLE], keys &["CUSTOMER"], may &[on(GET, T(Customers))];
    GetMe("get-me", "The caller's customer")
        http("GET", "/me", Token, Doc { problems: &[P::NotFound], ..answers("customers", 200, ViewType::Customer) }),
        env &[CUSTOMERS_TABLE], keys &["CUSTOMER"], may &[on(GET, T(Customers))];
    FindOrderHistory("find-order-history", "A customer's orders, newest first")
        http("GET", "/customers/{id}/orders", Token,
            Doc { paged: true, status_filter: true, problems: &[P::NotFound], ..answers("orders", 200, ViewType::OrderPage) }),
        env &[ORDERS_TABLE], keys &[], may &[on(QUERY, Index(Orders, "ByCustomer")), on(GET, T(Orders))];
    CreateProduct("create-product", "Add a product to the catalogue (admin)")
        http("POST", "/products", Token, Doc { body: Some(BodyType::CreateProduct), idempotent: true,
            problems: &[P::Forbidden], ..answers("products", 201, ViewType::Product) }),
        env &[PRODUCTS_TABLE], keys &["PRODUCT", "IDEMPOTENCY", "OUTBOX"], may &PRODUCT_WRITE;
    GetProduct("get-product", "A product")
        http("GET", "/products/{id}", Public, Doc { problems: &[P::NotFound], ..answers("products", 200, ViewType::Product) }),
        env &[PRODUCTS_TABLE], keys &["PRODUCT"], may &[on(GET, T(Products))];
    ListProducts("list-products", "The catalogue, by name")
        http("GET", "/products", Public, Doc { paged: true, ..answers("products", 200, ViewType::ProductPage) }),
        env &[PRODUCTS_TABLE], keys &[], may &[on(QUERY, Index(Products, "Catalogue")), on(GET, T(Products))];
    CreateOrder("create-order", "Place an order (the createOrder saga starts)")
        http("POST", "/orders", Token, Doc { body: Some(BodyType::CreateOrder), idempotent: true,
            problems: &[P::Forbidden, P::UnknownReference, P::ShippingUnavailable, P::CurrencyMismatch, P::AmountOutOfRange],
            ..answers("orders", 201, ViewType::Order) }),
        env &[ORDERS_TABLE, WAREHOUSE_REGION, WAREHOUSE_COUNTRY],
        keys &["ORDER", "CATALOGUE", "KNOWN_CUSTOMER", "IDEMPOTENCY", "OUTBOX"],
        may &[writes(Orders), on(GET, T(Orders)), on(BATCH_GET, T(Orders))];
    ListOrders("list-orders", "Every customer's orders of one status (PENDING by default), oldest first (admin)")
        http("GET", "/orders", Token, Doc { paged: true, status_filter: true, problems: &[P::Forbidden],
            ..answers("orders", 200, ViewType::OrderPage) }),
        env &[ORDERS_TABLE], keys &[], may &[on(QUERY, Index(Orders, "ByStatus")), on(GET, T(Orders))];
    GetOrder("get-order", "An order (owner or admin)")
        http("GET", "/orders/{id}", Token, Doc { problems: &[P::NotFound], ..answers("orders", 200, ViewType::Order) }),
        env &[ORDERS_TABLE], keys &["ORDER"], may &[on(GET, T(Orders))];
    CancelOrder("cancel-order", "Cancel an approved order (stock and credit are released)")
        http("POST", "/orders/{id}/cancel", Token,
            Doc { problems: &[P::NotFound, P::Conflict, P::InvalidState], ..answers("orders", 200, ViewType::Order) }),
        env &[ORDERS_TABLE], keys &["ORDER", "OUTBOX"], may &ORDER_WRITE;
    GetOrderTimeline("get-order-timeline", "The steps an order went through")
        http("GET", "/orders/{id}/timeline", Token, Doc { problems: &[P::NotFound], ..answers("orders", 200, ViewType::Timeline) }),
        env &[ORDERS_TABLE], keys &["ORDER"], may &[on(GET, T(Orders))];
    QuoteShipping("quote-shipping", "Quote the shipping of some items")
        http("POST", "/shipping/quote", Public, Doc { body: Some(BodyType::Quote),
            problems: &[P::ShippingUnavailable, P::CurrencyMismatch, P::AmountOutOfRange], ..answers("shipping", 200, ViewType::Quote) }),
        env &[WAREHOUSE_REGION, WAREHOUSE_COUNTRY], keys &[], may &[];
    UpdateProduct("update-product", "Rename, reprice or re-shard the stock of a product (admin)")
        http("PATCH", "/products/{id}", Token, Doc { body: Some(BodyType::UpdateProduct), if_match: true,
            problems: &[P::Forbidden, P::NotFound, P::Conflict, P::CurrencyMismatch], ..answers("products", 200, ViewType::Product) }),
        env &[PRODUCTS_TABLE], keys &["PRODUCT", "OUTBOX"], may &PRODUCT_WRITE;
    RestockProduct("restock-product", "Add stock (admin)")
        http("POST", "/products/{id}/restock", Token, Doc { body: Some(BodyType::Restock), idempotent: true, if_match: true,
            problems: &[P::Forbidden, P::NotFound, P::Conflict, P::Discontinued, P::AmountOutOfRange],
            ..answers("products", 200, ViewType::Product) }),
        env &[PRODUCTS_TABLE], keys &["PRODUCT", "IDEMPOTENCY", "OUTBOX"], may &PRODUCT_WRITE;
    DiscontinueProduct("discontinue-product", "Stop selling a product (admin)")
        http("POST", "/products/{id}/discontinue", Token,
            Doc { if_match: true, problems: &[P::Forbidden, P::NotFound, P::Conflict], ..answers("products", 200, ViewType::Product) }),
        env &[PRODUCTS_TABLE], keys &["PRODUCT", "OUTBOX"], may &PRODUCT_WRITE;
    UpdateCustomer("update-customer", "Change a customer's name or address")
        http("PATCH", "/customers/{id}", Token, Doc { body: Some(BodyType::UpdateCustomer), problems: &[P::NotFound, P::Conflict],
            ..answers("customers", 200, ViewType::Customer) }),
        env &[CUSTOMERS_TABLE], keys &["CUSTOMER", "OUTBOX"], may &CUSTOMER_WRITE;
    ChangeCreditLimit("change-credit-limit", "Set a customer's credit limit (admin)")
        http("PUT", "/customers/{id}/credit-limit", Token, Doc { body: Some(BodyType::CreditLimit),
            problems: &[P::Forbidden, P::NotFound, P::Conflict, P::CurrencyMismatch], ..answers("customers", 200, ViewType::Customer) }),
        env &[CUSTOMERS_TABLE], keys &["CUSTOMER", "OUTBOX"], may &CUSTOMER_WRITE;
    ReserveStock("reserve-stock", "Saga: OrderCreated -> reserves every line's stock (StockReserved | StockReservationFailed).")
        Trigger::Bus { rule: "OrderCreated", consumes: &[from(Context::Orders, "OrderCreated")], delivery: STEP_DELIVERY },
        env &[PRODUCTS_TABLE], keys &["PRODUCT", "RESERVATION", "APPLIED", "OUTBOX"], may &PRODUCT_STEP;
    PriceOrder("price-order", "Saga: StockReserved -> prices lines and shipping (OrderPriced).")
        Trigger::Bus { rule: "StockReserved", consumes: &[from(Context::Products, "StockReserved")], delivery: STEP_DELIVERY },
        env &[ORDERS_TABLE, WAREHOUSE_REGION, WAREHOUSE_COUNTRY], keys &["ORDER", "APPLIED", "OUTBOX"], may &ORDER_COMPENSATING;
    ReserveCredit("reserve-credit", "Saga: OrderPriced -> holds the total against the credit limit (CreditReserved | CreditReservationFailed).")
        Trigger::Bus { rule: "OrderPriced", consumes: &[from(Context::Orders, "OrderPriced")], delivery: STEP_DELIVERY },
        env &[CUSTOMERS_TABLE], keys &["CUSTOMER", "CREDIT", "APPLIED", "OUTBOX"], may &CUSTOMER_STEP;
    ApproveOrder("approve-order", "Saga: CreditReserved -> approves the order (OrderApproved).")
        Trigger::Bus { rule: "CreditReserved", consumes: &[from(Context::Customers, "CreditReserved")], delivery: STEP_DELIVERY },
        env &[ORDERS_TABLE], keys &["ORDER", "APPLIED", "OUTBOX"], may &ORDER_COMPENSATING;
    RejectOrder("reject-order", "Saga: a failed stock or credit reservation -> rejects the order (OrderRejected).")
        Trigger::Bus { rule: "ReservationFailed", delivery: STEP_DELIVERY,
            consumes: &[from(Context::Products, "StockReservationFailed"), from(Context::Customers, "CreditReservationFailed")] },
        env &[ORDERS_TABLE], keys &["ORDER", "APPLIED", "OUTBOX"], may &ORDER_WRITE;
    ReleaseStock("release-stock", "Saga compensation: gives an order's stock back after a rejection that held stock, a cancellation or a release request.")
        Trigger::Bus { rule: "StockToRelease", delivery: STEP_DELIVERY, consumes: &[
            rejected(STOCK_HELD), from(Context::Orders, "OrderCancelled"), from(Context::Orders, "StockReleaseRequested")] },
        env &[PRODUCTS_TABLE], keys &["PRODUCT", "RESERVATION", "APPLIED", "OUTBOX"], may &PRODUCT_STEP;
    ReleaseCredit("release-credit", "Saga compensation: gives an order's credit back after a rejection that held credit, a cancellation or a release request.")
        Trigger::Bus { rule: "CreditToRelease", delivery: STEP_DELIVERY,
            consumes: &[rejected(CREDIT_HELD), from(Context::Orders, "OrderCancelled"), from(Context::Orders, "CreditReleaseRequested")] },
        env &[CUSTOMERS_TABLE], keys &["CUSTOMER", "CREDIT", "APPLIED", "OUTBOX"], may &CUSTOMER_STEP;
    ReplicateCatalogue("replicate-catalogue", "Replica: ProductAdded / ProductUpdated / ProductDiscontinued -> the catalogue entry orders checks and prices new orders against (orders table only).")
        Trigger::Bus { rule: "ProductAdded", delivery: STEP_DELIVERY, consumes: &[from(Context::Products, "ProductAdded"),
            from(Context::Products, "ProductUpdated"), from(Context::Products, "ProductDiscontinued")] },
        env &[ORDERS_TABLE], keys &["CATALOGUE", "APPLIED"], may &[writes(Orders), on(GET, T(Orders)), on(BATCH_GET, T(Orders))];
    ReplicateCustomers("replicate-customers", "Replica: CustomerRegistered -> the customer is known to orders (orders table only).")
        Trigger::Bus { rule: "CustomerRegistered", consumes: &[from(Context::Customers, "CustomerRegistered")], delivery: STEP_DELIVERY },
        env &[ORDERS_TABLE], keys &["KNOWN_CUSTOMER", "APPLIED"], may &ORDER_WRITE;
    OutboxRelay("outbox-relay", "Publishes the outbox records of the three tables' streams to the bus (PutEvents).")
        Trigger::OutboxStream { batch_size: 10, attempts: 10, max_age_seconds: 3600 },
        env &[EVENT_BUS_NAME, CUSTOMERS_OUTBOX, PRODUCTS_OUTBOX, ORDERS_OUTBOX], keys &[],
        may &[on(PUT_EVENTS, Bus), on(DESCRIBE_BUS, Bus)];
    // 92 tries 15 minutes apart: about 23 hours, which with the relay's hour of retries before it
    // is the stream's 24-hour retention.
    RedriveOutbox("redrive-outbox", "Republishes the stream ranges the outbox relay gave up on (its on-failure queue).")
        Trigger::RelayFailures { batch_size: 10, retry_every_seconds: 900, attempts: 92 },
        env &[EVENT_BUS_NAME, CUSTOMERS_OUTBOX, PRODUCTS_OUTBOX, ORDERS_OUTBOX], keys &[], may &[
            on(SHARD_ITERATOR, Stream(Customers)), on(SHARD_ITERATOR, Stream(Products)), on(SHARD_ITERATOR, Stream(Orders)),
            on(GET_RECORDS, Stream(Customers)), on(GET_RECORDS, Stream(Products)), on(GET_RECORDS, Stream(Orders)),
            on(PUT_EVENTS, Bus), on(DESCRIBE_BUS, Bus)];
    // Up to 100 conditional writes per run (Sweeper::BATCH): more than the default 10 s on a slow
    // day, and still well under the one-minute period.
    SweepOrders("sweep-orders", "Every minute: rejects orders PENDING longer than PendingTimeoutSeconds (OrderRejected TIMED_OUT).")
        Trigger::Schedule { rate: "rate(1 minute)", retry: TICK_RETRY, timeout_seconds: 30 },
        env &[ORDERS_TABLE, PENDING_TIMEOUT_SECONDS], keys &["ORDER", "OUTBOX"],
        may &[writes(Orders), on(QUERY, Index(Orders, "Pending")), on(GET, T(Orders))];
    // The user's verified email in their access token, which the API's authorizer passes on:
    // Cognito writes it only in ID tokens. No data, no AWS call.
    TokenClaims("token-claims", "Identity: puts the user's email, once the user pool verified it, in their access token (pre token generation, V2).")
        Trigger::TokenGeneration, env &[], keys &[], may &[];
}

impl Function {
    /// The function's name, binary and folder.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn trigger(self) -> Trigger {
        self.spec().trigger
    }

    /// Who may call its route: `None` when it has none.
    pub fn auth(self) -> Option<Auth> {
        match self.trigger() {
            Trigger::Http { auth, .. } => Some(auth),
            _ => None,
        }
    }

    /// The environment variables it reads.
    pub fn env(self) -> &'static [&'static str] {
        self.spec().env
    }

    /// The IAM actions it calls, on which resources.
    pub fn permissions(self) -> &'static [Permission] {
        self.spec().permissions
    }

    /// Whether it publishes to the bus (the bus policy lets only publishers put events).
    pub fn publishes(self) -> bool {
        self.permissions().iter().any(|p| p.action == PUT_EVENTS)
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
        let http = Function::ALL.iter().filter(|f| f.auth().is_some()).count();
        assert_eq!(routes.len(), http, "two functions declare the same route");
    }

    #[test]
    fn every_consumed_event_is_one_the_domain_emits_from_that_source() {
        for f in Function::ALL {
            if let Trigger::Bus { consumes, .. } = f.trigger() {
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
