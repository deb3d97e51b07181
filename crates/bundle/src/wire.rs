//! `wire`: the one place that decides which service, store and setting each function runs on.
//! Lambda's cold start, the local runner, the simulation, the handler tests and the event replays
//! all build their handlers here, so adding a function is one [`Function`] variant, one arm below,
//! one main and its template resource.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use app::access::Caller;
use app::customers::CustomerService;
use app::orders::{OrderPlacement, OrderSaga, OrderService, ReplicaService, Sweeper};
use app::ports::{CustomerRepository, EventPublisher, OrderRepository, OutboxStream, ProductRepository};
use app::products::ProductService;
use app::relay::{OutboxRelay, Redrive};
use app::step::{Consumer, StepOutcome};
use app::{SharedEnv, StepError};
use domain::EventEnvelope;
use handlers::claims::caller;
use handlers::http::{finish, Reply};
use lambda_http::{Body, Request, RequestExt, Response};

use crate::config::{Config, ConfigError};
use crate::manifest::{Auth, Function};

/// A boxed future that owns what it needs, so a handler can be shared by many invocations.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// An HTTP function: request in, response out (errors are already problem+json responses).
pub type HttpHandler = Arc<dyn Fn(Request) -> BoxFuture<Response<Body>> + Send + Sync>;

/// A saga step: one decoded event in, what the step did out.
pub type StepHandler = Arc<dyn Fn(EventEnvelope) -> BoxFuture<Result<StepOutcome, StepError>> + Send + Sync>;

/// What a function runs, by kind of trigger.
#[derive(Clone)]
pub enum Handler {
    Http(HttpHandler),
    Step(StepHandler),
    Relay(OutboxRelay),
    Redrive(Redrive),
    Sweep(Sweeper),
    /// The user pool's pre token generation trigger: a pure function of its event.
    TokenClaims,
}

/// Why a function could not be wired.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The resources at hand have no event publisher (the local runner relays on its own).
    #[error("{0} needs an event publisher, and none is configured")]
    NoPublisher(Function),
    /// The resources at hand cannot read the tables' streams back (the local runner's relay
    /// never gives up, so it has nothing to redrive).
    #[error("{0} needs to read the tables' streams, and no reader is configured")]
    NoStream(Function),
    /// A wire arm built another edge than the route's declared auth: a bug, caught at start.
    #[error("{function} is declared {declared:?} in the manifest, and wired as {built:?}")]
    Edge { function: Function, declared: Option<Auth>, built: Auth },
}

/// The stores and the bus a function may be wired to. Each is asked for only by the functions
/// that use it, so a Lambda function builds the clients of its own tables and nothing else.
pub trait Resources {
    fn orders(&self) -> Result<Arc<dyn OrderRepository>, WireError>;
    fn products(&self) -> Result<Arc<dyn ProductRepository>, WireError>;
    fn customers(&self) -> Result<Arc<dyn CustomerRepository>, WireError>;
    fn publisher(&self) -> Result<Arc<dyn EventPublisher>, WireError>;
    fn outbox_stream(&self) -> Result<Arc<dyn OutboxStream>, WireError>;
}

/// Three repositories shared by every function of a process (the local runner, the simulation,
/// tests), with no publisher: such a process delivers events itself.
#[derive(Clone)]
pub struct Stores {
    pub orders: Arc<dyn OrderRepository>,
    pub products: Arc<dyn ProductRepository>,
    pub customers: Arc<dyn CustomerRepository>,
}

impl Resources for Stores {
    fn orders(&self) -> Result<Arc<dyn OrderRepository>, WireError> {
        Ok(self.orders.clone())
    }
    fn products(&self) -> Result<Arc<dyn ProductRepository>, WireError> {
        Ok(self.products.clone())
    }
    fn customers(&self) -> Result<Arc<dyn CustomerRepository>, WireError> {
        Ok(self.customers.clone())
    }
    fn publisher(&self) -> Result<Arc<dyn EventPublisher>, WireError> {
        Err(WireError::NoPublisher(Function::OutboxRelay))
    }
    fn outbox_stream(&self) -> Result<Arc<dyn OutboxStream>, WireError> {
        Err(WireError::NoStream(Function::RedriveOutbox))
    }
}

/// What wiring a function makes of its handler: the [`Handler`] itself ([`AsHandler`]), or, on
/// Lambda, the runtime loop that serves it. Each arm of [`wire_with`] calls one method, so a
/// binary that wires one function links one kind of loop.
pub trait Build {
    type Output;
    fn http(self, handler: HttpHandler) -> Self::Output;
    fn step(self, handler: StepHandler) -> Self::Output;
    fn relay(self, relay: OutboxRelay) -> Self::Output;
    fn redrive(self, redrive: Redrive) -> Self::Output;
    fn sweep(self, sweeper: Sweeper) -> Self::Output;
    fn token_claims(self) -> Self::Output;
}

/// Builds the [`Handler`] (the local runner, the simulation, the tests).
pub struct AsHandler;

impl Build for AsHandler {
    type Output = Handler;
    fn http(self, handler: HttpHandler) -> Handler {
        Handler::Http(handler)
    }
    fn step(self, handler: StepHandler) -> Handler {
        Handler::Step(handler)
    }
    fn relay(self, relay: OutboxRelay) -> Handler {
        Handler::Relay(relay)
    }
    fn redrive(self, redrive: Redrive) -> Handler {
        Handler::Redrive(redrive)
    }
    fn sweep(self, sweeper: Sweeper) -> Handler {
        Handler::Sweep(sweeper)
    }
    fn token_claims(self) -> Handler {
        Handler::TokenClaims
    }
}

/// The HTTP edge of a public route: the handler's reply, errors as problem+json.
fn public<B, S, F, Fut>(build: B, function: Function, service: S, handle: F) -> Result<B::Output, WireError>
where
    B: Build,
    S: Clone + Send + Sync + 'static,
    F: Fn(S, Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    edge(function, Auth::Public)?;
    Ok(build.http(Arc::new(move |req| {
        let instance = req.raw_http_path().to_owned();
        let reply = handle(service.clone(), req);
        Box::pin(async move { finish(&instance, reply.await) })
    })))
}

/// The HTTP edge of a route behind the authorizer: the verified caller is read from the token's
/// claims before the handler runs (none is a 401), and errors become problem+json.
fn authed<B, S, F, Fut>(build: B, function: Function, service: S, handle: F) -> Result<B::Output, WireError>
where
    B: Build,
    S: Clone + Send + Sync + 'static,
    F: Fn(S, Caller, Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    edge(function, Auth::Token)?;
    Ok(build.http(Arc::new(move |req| {
        let instance = req.raw_http_path().to_owned();
        let reply = caller(&req).map(|who| handle(service.clone(), who, req));
        Box::pin(async move {
            let reply = match reply {
                Ok(reply) => reply.await,
                Err(e) => Err(e),
            };
            finish(&instance, reply)
        })
    })))
}

/// The edge a wire arm builds must be the one the manifest declares for the route.
fn edge(function: Function, built: Auth) -> Result<(), WireError> {
    match function.auth() {
        Some(declared) if declared == built => Ok(()),
        declared => Err(WireError::Edge { function, declared, built }),
    }
}

fn step<B, S, F, Fut>(build: B, service: S, run: F) -> B::Output
where
    B: Build,
    S: Clone + Send + Sync + 'static,
    F: Fn(S, EventEnvelope) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<StepOutcome, StepError>> + Send + 'static,
{
    build.step(Arc::new(move |ev| Box::pin(run(service.clone(), ev))))
}

/// Builds the handler of `function` from its configuration and the resources at hand.
pub fn wire<R: Resources + ?Sized>(
    function: Function,
    config: &Config,
    res: &R,
    env: SharedEnv,
) -> Result<Handler, WireError> {
    wire_with(function, config, res, env, AsHandler)
}

/// Wires `function` and makes of its handler what `build` makes. Inlined into each Lambda main,
/// where `function` is a constant, so a binary keeps only its own arm (and what it calls).
#[inline(always)]
pub fn wire_with<R: Resources + ?Sized, B: Build>(
    function: Function,
    config: &Config,
    res: &R,
    env: SharedEnv,
    build: B,
) -> Result<B::Output, WireError> {
    use handlers::http as h;
    use Function as F;
    let me = Consumer::new(function.name());
    let customers = || Ok::<_, WireError>(CustomerService::new(res.customers()?, env.clone()));
    let products = || Ok::<_, WireError>(ProductService::new(res.products()?, env.clone()));
    let orders = || Ok::<_, WireError>(OrderService::new(res.orders()?, env.clone()));
    let saga = || Ok::<_, WireError>(OrderSaga::new(res.orders()?, env.clone()));
    let replica = || Ok::<_, WireError>(ReplicaService::new(res.orders()?, env.clone()));
    // A route's arm: its service and its handler, behind the edge its declaration names.
    macro_rules! authed {
        ($service:expr, $handle:path) => {
            authed(build, function, $service, |s, who, r| async move { $handle(&s, who, r).await })?
        };
    }
    macro_rules! public {
        ($service:expr, $handle:path) => {
            public(build, function, $service, |s, r| async move { $handle(&s, r).await })?
        };
    }
    Ok(match function {
        F::CreateCustomer => {
            let registration = (customers()?, config.default_credit_limit()?);
            authed(build, function, registration, |(s, limit), who, r| async move {
                h::create_customer(&s, limit, who, r).await
            })?
        }
        F::GetCustomer => authed!(customers()?, h::get_customer),
        F::GetMe => authed!(customers()?, h::get_me),
        F::FindOrderHistory => authed!(orders()?, h::find_order_history),
        F::CreateProduct => authed!(products()?, h::create_product),
        F::GetProduct => public!(products()?, h::get_product),
        F::ListProducts => public!(products()?, h::list_products),
        F::CreateOrder => {
            let placement = OrderPlacement::new(res.orders()?, config.shipping()?, env.clone());
            authed!(placement, h::create_order)
        }
        F::GetOrder => authed!(orders()?, h::get_order),
        F::ListOrders => authed!(orders()?, h::list_orders),
        F::GetOrderTimeline => authed!(orders()?, h::get_order_timeline),
        F::CancelOrder => authed!(orders()?, h::cancel_order),
        F::QuoteShipping => public!(config.shipping()?, h::quote_shipping),
        F::UpdateProduct => authed!(products()?, h::update_product),
        F::RestockProduct => authed!(products()?, h::restock_product),
        F::DiscontinueProduct => authed!(products()?, h::discontinue_product),
        F::UpdateCustomer => authed!(customers()?, h::update_customer),
        F::ChangeCreditLimit => authed!(customers()?, h::change_credit_limit),
        F::ReserveStock => step(build, products()?, move |s, ev| async move { s.reserve_stock(me, &ev).await }),
        F::ReleaseStock => step(build, products()?, move |s, ev| async move { s.release_stock(me, &ev).await }),
        F::PriceOrder => {
            let pricing = OrderSaga::with_pricing(res.orders()?, config.shipping()?, env.clone());
            step(build, pricing, move |s, ev| async move { s.price(me, &ev).await })
        }
        F::ApproveOrder => step(build, saga()?, move |s, ev| async move { s.approve(me, &ev).await }),
        F::RejectOrder => step(build, saga()?, move |s, ev| async move { s.reject(me, &ev).await }),
        F::ReserveCredit => step(build, customers()?, move |s, ev| async move { s.reserve_credit(me, &ev).await }),
        F::ReleaseCredit => step(build, customers()?, move |s, ev| async move { s.release_credit(me, &ev).await }),
        F::ReplicateCatalogue => {
            step(build, replica()?, move |s, ev| async move { s.replicate_product(me, &ev).await })
        }
        F::ReplicateCustomers => {
            step(build, replica()?, move |s, ev| async move { s.replicate_customer(me, &ev).await })
        }
        F::OutboxRelay => {
            let publisher = res.publisher().map_err(|_| WireError::NoPublisher(function))?;
            build.relay(OutboxRelay::new(publisher, config.stream_sources()?, env))
        }
        F::RedriveOutbox => {
            let publisher = res.publisher().map_err(|_| WireError::NoPublisher(function))?;
            build.redrive(Redrive::new(res.outbox_stream()?, publisher, config.stream_sources()?, env))
        }
        F::SweepOrders => build.sweep(Sweeper::new(res.orders()?, config.pending_timeout()?, env)),
        F::TokenClaims => build.token_claims(),
    })
}
