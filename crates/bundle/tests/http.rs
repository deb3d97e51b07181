//! The HTTP functions, wired by `wire` over in-memory stores: status codes, problem+json, headers.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use app::access::Caller;
use app::memory::{InMemoryCustomerRepository, InMemoryOrderRepository, InMemoryProductRepository, MemoryOutbox};
use app::SystemEnvironment;
use bundle::manifest::{Auth, Trigger};
use bundle::{wire, Config, Function, Handler, Stores};
use handlers::claims::{claims_of, with_claims, EMAIL_CLAIM, EMAIL_VERIFIED_CLAIM};
use lambda_http::{Body, Request, RequestExt};
use serde_json::{json, Value};

/// Every HTTP function of the bundle and the orders replica's steps, on one set of in-memory
/// stores.
struct HttpApp {
    handlers: BTreeMap<Function, Handler>,
    outboxes: [Arc<dyn MemoryOutbox>; 2],
}

fn app() -> HttpApp {
    let env = SystemEnvironment::shared();
    let products = Arc::new(InMemoryProductRepository::default());
    let customers = Arc::new(InMemoryCustomerRepository::default());
    let stores = Stores {
        orders: Arc::new(InMemoryOrderRepository::default()),
        products: products.clone(),
        customers: customers.clone(),
    };
    let settings = |name: &str| {
        Some(match name {
            "WAREHOUSE_REGION" => "OH".to_owned(),
            "WAREHOUSE_COUNTRY" => "US".to_owned(),
            "DEFAULT_CREDIT_LIMIT" => "50000 USD".to_owned(),
            table => table.to_lowercase(),
        })
    };
    let served = Function::ALL.into_iter().filter(|f| {
        matches!(f.trigger(), Trigger::Http { .. })
            || matches!(f, Function::ReplicateCatalogue | Function::ReplicateCustomers)
    });
    let handlers = served
        .map(|f| (f, wire(f, &Config::from_lookup(f, settings).unwrap(), &stores, env.clone()).unwrap()))
        .collect();
    HttpApp { handlers, outboxes: [products, customers] }
}

impl HttpApp {
    async fn dispatch(&self, function: &str, req: Request) -> Option<lambda_http::Response<Body>> {
        match self.handlers.get(&Function::from_name(function)?)? {
            Handler::Http(h) => Some(h(req).await),
            _ => None,
        }
    }

    /// Delivers what the products and customers contexts published to the orders replica, as
    /// the bus would: after it, what they created can be ordered.
    async fn replicate(&self) {
        for outbox in &self.outboxes {
            for r in outbox.unpublished() {
                let detail = serde_json::from_str(&r.detail).unwrap();
                let ev = app::bus::decode(&r.source, &r.detail_type, &detail).unwrap();
                for f in [Function::ReplicateCatalogue, Function::ReplicateCustomers] {
                    if let Some(Handler::Step(step)) = self.handlers.get(&f) {
                        let _ = step(ev.clone()).await;
                    }
                }
                outbox.mark_published(&[r.event_id]);
            }
        }
    }
}

struct Call<'a> {
    function: &'a str,
    method: &'a str,
    path: &'a str,
    id: Option<&'a str>,
    query: &'a [(&'a str, &'a str)],
    headers: &'a [(&'a str, &'a str)],
    body: Option<String>,
    caller: Option<Caller>,
    /// The email the caller's token carries, and whether their identity provider verified it.
    email: Option<(String, bool)>,
}

impl<'a> Call<'a> {
    fn new(function: &'a str, method: &'a str, path: &'a str) -> Self {
        Call {
            function,
            method,
            path,
            id: None,
            query: &[],
            headers: &[("content-type", "application/json")],
            body: None,
            caller: None,
            email: None,
        }
    }
    /// As `caller`, whose token the authorizer verified (no caller: no claims at all), with the
    /// verified address of their own, [`own_email`].
    fn by(mut self, caller: Caller) -> Self {
        self.caller = Some(caller);
        self.email = Some((own_email(&caller), true));
        self
    }
    /// The caller's token carries `email` (verified or not) instead of their own address.
    fn token_email(mut self, email: &str, verified: bool) -> Self {
        self.email = Some((email.to_owned(), verified));
        self
    }
    /// The caller's token carries no email at all.
    fn no_token_email(mut self) -> Self {
        self.email = None;
        self
    }
    fn id(mut self, id: &'a str) -> Self {
        self.id = Some(id);
        self
    }
    fn json(mut self, v: Value) -> Self {
        self.body = Some(v.to_string());
        self
    }
    fn raw(mut self, s: &str) -> Self {
        self.body = Some(s.to_owned());
        self
    }
    fn headers(mut self, h: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = h;
        self
    }
    fn query(mut self, q: &'a [(&'a str, &'a str)]) -> Self {
        self.query = q;
        self
    }
    async fn send(self, app: &HttpApp) -> (u16, HashMap<String, String>, Value) {
        let mut b = lambda_http::http::Request::builder().method(self.method).uri(self.path);
        for (k, v) in self.headers {
            b = b.header(*k, *v);
        }
        let mut req: Request = b.body(self.body.map_or(Body::Empty, Body::from)).unwrap();
        if let Some(c) = self.caller {
            let mut claims = claims_of(&c);
            if let Some((email, verified)) = self.email {
                claims.insert(EMAIL_CLAIM.to_owned(), email);
                claims.insert(EMAIL_VERIFIED_CLAIM.to_owned(), verified.to_string());
            }
            req = with_claims(req, claims);
        }
        if let Some(id) = self.id {
            req = req.with_path_parameters(HashMap::from([("id".to_owned(), id.to_owned())]));
        }
        let q: HashMap<String, String> = self.query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        req = req.with_query_string_parameters(q);
        let resp = app.dispatch(self.function, req).await.expect("an HTTP function");
        let headers =
            resp.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned())).collect();
        let body = serde_json::from_slice(resp.body().as_ref()).unwrap_or(Value::Null);
        (resp.status().as_u16(), headers, body)
    }
}

fn address() -> Value {
    json!({"street": "9 Elm St", "city": "Dayton", "region": "OH", "postalCode": "45402", "country": "US"})
}

fn customer_body() -> Value {
    json!({"name": "Ada", "address": address()})
}

/// The address a caller's identity provider verified for them, as their token carries it.
fn own_email(caller: &Caller) -> String {
    format!("{}@example.com", caller.subject())
}

fn newcomer() -> Caller {
    Caller::new(uuid::Uuid::new_v4(), false)
}

fn admin() -> Caller {
    Caller::new(uuid::Uuid::new_v4(), true)
}

/// The caller who is customer `id`.
fn as_customer(id: &str) -> Caller {
    Caller::customer(id.parse().unwrap())
}

fn product_body() -> Value {
    json!({"name": "Lamp", "price": {"amount": 2500, "currency": "USD"}, "weightGrams": 800,
           "dimensionsCm": {"length": 20, "width": 20, "height": 30}, "stock": 10})
}

async fn setup(app: &HttpApp) -> (String, String) {
    let (s, _, c) =
        Call::new("create-customer", "POST", "/customers").by(newcomer()).json(customer_body()).send(app).await;
    assert_eq!(s, 201, "{c}");
    let (s, _, p) = Call::new("create-product", "POST", "/products").by(admin()).json(product_body()).send(app).await;
    assert_eq!(s, 201, "{p}");
    app.replicate().await;
    (c["id"].as_str().unwrap().to_owned(), p["id"].as_str().unwrap().to_owned())
}

fn order_body(customer: &str, product: &str, qty: i64) -> Value {
    json!({"customerId": customer, "lines": [{"productId": product, "quantity": qty}],
           "shippingAddress": address(), "shippingSpeed": "standard"})
}

fn assert_problem(status: u16, body: &Value, want_status: u16, kind: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["type"], format!("https://shop-saga.dev/problems/{kind}"), "{body}");
    assert_eq!(body["status"], want_status);
    assert!(body["title"].is_string() && body["detail"].is_string());
}

#[tokio::test]
async fn creating_a_customer_answers_201_with_a_location() {
    let app = app();
    let me = newcomer();
    let (s, h, c) = Call::new("create-customer", "POST", "/customers")
        .by(me)
        .token_email("Ada@Example.com", true)
        .json(customer_body())
        .send(&app)
        .await;
    assert_eq!(s, 201);
    assert_eq!(c["id"], me.subject().to_string(), "the customer is the token's subject");
    assert_eq!(h["location"], format!("/customers/{}", c["id"].as_str().unwrap()));
    assert_eq!(c["email"], "ada@example.com", "the token's verified address");
    assert_eq!(c["availableCredit"], json!({"amount": 50000, "currency": "USD"}), "the configured default");
    let (s, _, got) =
        Call::new("get-customer", "GET", "/customers/x").by(me).id(c["id"].as_str().unwrap()).send(&app).await;
    assert_eq!((s, &got), (200, &c));
    let (s, _, mine) = Call::new("get-me", "GET", "/me").by(me).send(&app).await;
    assert_eq!((s, &mine), (200, &c));
    let (s, _, b) = Call::new("create-customer", "POST", "/customers").by(me).json(customer_body()).send(&app).await;
    assert_problem(s, &b, 409, "already-registered");
    let with_limit =
        json!({"name": "Ada", "address": address(), "creditLimit": {"amount": 9_999_999, "currency": "USD"}});
    let (s, _, b) = Call::new("create-customer", "POST", "/customers").by(newcomer()).json(with_limit).send(&app).await;
    assert_problem(s, &b, 400, "invalid-body");
    assert!(b["detail"].as_str().unwrap().contains("creditLimit"), "{b}");
}

/// Issue 22: `POST /customers` took the email from the body and claimed it as unique, so a caller
/// could register a victim's address first and lock them out, and probe any address through
/// `409 email-taken` without ever registering. The email is now the token's verified one: a body
/// naming one is refused, the victim registers all the same, and a 409 answers only the caller's
/// own earlier registration.
#[tokio::test]
async fn no_caller_can_register_or_probe_another_persons_email() {
    let app = app();
    let (mallory, victim) = (newcomer(), newcomer());
    let squat = json!({"name": "Mallory", "email": own_email(&victim), "address": address()});
    let (s, _, b) = Call::new("create-customer", "POST", "/customers").by(mallory).json(squat).send(&app).await;
    assert_problem(s, &b, 400, "invalid-body");
    let (s, _, _) = Call::new("get-me", "GET", "/me").by(mallory).send(&app).await;
    assert_eq!(s, 404, "nothing was registered");

    // A token whose address the identity provider did not verify, or that has none, registers
    // nobody; one that names the victim's address but is not verified cannot take it either.
    for call in [
        Call::new("create-customer", "POST", "/customers").by(mallory).token_email(&own_email(&victim), false),
        Call::new("create-customer", "POST", "/customers").by(mallory).no_token_email(),
    ] {
        let (s, _, b) = call.json(customer_body()).send(&app).await;
        assert_problem(s, &b, 403, "forbidden");
    }

    let (s, _, m) =
        Call::new("create-customer", "POST", "/customers").by(mallory).json(customer_body()).send(&app).await;
    assert_eq!((s, m["email"].as_str()), (201, Some(own_email(&mallory).as_str())), "{m}");
    let (s, _, v) =
        Call::new("create-customer", "POST", "/customers").by(victim).json(customer_body()).send(&app).await;
    assert_eq!((s, v["email"].as_str()), (201, Some(own_email(&victim).as_str())), "the victim is not locked out: {v}");

    // Even an address that moved from one account to another (the identity provider verified it
    // for both, one after the other) is no reason to refuse: the email claims no uniqueness.
    let heir = newcomer();
    let (s, _, h) = Call::new("create-customer", "POST", "/customers")
        .by(heir)
        .token_email(&own_email(&victim), true)
        .json(customer_body())
        .send(&app)
        .await;
    assert_eq!(s, 201, "{h}");
    let (s, _, b) =
        Call::new("create-customer", "POST", "/customers").by(mallory).json(customer_body()).send(&app).await;
    assert_problem(s, &b, 409, "already-registered");
}

#[tokio::test]
async fn an_order_is_created_pending_and_readable() {
    let app = app();
    let (c, p) = setup(&app).await;
    let (s, h, o) =
        Call::new("create-order", "POST", "/orders").by(as_customer(&c)).json(order_body(&c, &p, 2)).send(&app).await;
    assert_eq!(s, 201, "{o}");
    assert_eq!(o["state"], "PENDING");
    assert!(h["location"].starts_with("/orders/"));
    let (s, _, got) =
        Call::new("get-order", "GET", "/orders/x").by(as_customer(&c)).id(o["id"].as_str().unwrap()).send(&app).await;
    assert_eq!((s, got["state"].clone()), (200, json!("PENDING")));
    let (s, _, page) =
        Call::new("find-order-history", "GET", "/customers/x/orders").by(as_customer(&c)).id(&c).send(&app).await;
    assert_eq!((s, page["items"].as_array().map(Vec::len)), (200, Some(1)));
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_order_and_a_different_body_is_refused() {
    let app = app();
    let (c, p) = setup(&app).await;
    let key = [("content-type", "application/json"), ("idempotency-key", "k-1")];
    let first = Call::new("create-order", "POST", "/orders")
        .by(as_customer(&c))
        .headers(&key)
        .json(order_body(&c, &p, 1))
        .send(&app)
        .await;
    let again = Call::new("create-order", "POST", "/orders")
        .by(as_customer(&c))
        .headers(&key)
        .json(order_body(&c, &p, 1))
        .send(&app)
        .await;
    assert_eq!(first.0, 201);
    assert_eq!(again.0, 201);
    assert_eq!(first.2, again.2);
    assert_eq!(again.1.get("idempotent-replayed").map(String::as_str), Some("true"));
    let (s, _, b) = Call::new("create-order", "POST", "/orders")
        .by(as_customer(&c))
        .headers(&key)
        .json(order_body(&c, &p, 2))
        .send(&app)
        .await;
    assert_problem(s, &b, 422, "idempotency-key-reused");
    let bad_key = [("content-type", "application/json"), ("idempotency-key", "has space")];
    let (s, _, b) = Call::new("create-order", "POST", "/orders")
        .by(as_customer(&c))
        .headers(&bad_key)
        .json(order_body(&c, &p, 1))
        .send(&app)
        .await;
    assert_problem(s, &b, 400, "invalid-idempotency-key");
}

#[tokio::test]
async fn bad_input_is_a_problem_json_4xx() {
    let app = app();
    let (c, p) = setup(&app).await;
    let mut bad_name = customer_body();
    bad_name["name"] = json!("   ");
    let (s, _, b) = Call::new("create-customer", "POST", "/customers").by(newcomer()).json(bad_name).send(&app).await;
    assert_problem(s, &b, 400, "invalid-field");
    assert_eq!(b["field"], "name");

    let (s, _, b) =
        Call::new("create-customer", "POST", "/customers").by(newcomer()).raw("{\"name\":").send(&app).await;
    assert_problem(s, &b, 400, "malformed-json");

    let (s, _, b) = Call::new("create-product", "POST", "/products").by(admin())
        .json(json!({"name": "Lamp", "price": {"amount": "5", "currency": "USD"}, "weightGrams": 1, "dimensionsCm": {"length": 1, "width": 1, "height": 1}, "stock": 1}))
        .send(&app)
        .await;
    assert_problem(s, &b, 400, "invalid-body");

    let text = [("content-type", "text/plain")];
    let (s, _, b) = Call::new("create-order", "POST", "/orders")
        .by(as_customer(&c))
        .headers(&text)
        .json(order_body(&c, &p, 1))
        .send(&app)
        .await;
    assert_problem(s, &b, 415, "unsupported-media-type");

    let huge = json!({"name": "x".repeat(20_000)});
    let (s, _, b) = Call::new("create-product", "POST", "/products").by(admin()).json(huge).send(&app).await;
    assert_problem(s, &b, 413, "payload-too-large");

    let (s, _, b) =
        Call::new("create-order", "POST", "/orders").by(as_customer(&c)).json(order_body(&c, &p, 0)).send(&app).await;
    assert_problem(s, &b, 400, "invalid-field");
    assert_eq!(b["field"], "quantity");

    let ghost = "00000000-0000-4000-8000-000000000001";
    let (s, _, b) = Call::new("create-order", "POST", "/orders")
        .by(as_customer(&c))
        .json(order_body(&c, ghost, 1))
        .send(&app)
        .await;
    assert_problem(s, &b, 422, "unknown-reference");

    let (s, _, b) = Call::new("get-order", "GET", "/orders/x").by(as_customer(&c)).id("not-a-uuid").send(&app).await;
    assert_problem(s, &b, 400, "invalid-path-parameter");

    let (s, _, b) = Call::new("get-order", "GET", "/orders/x").by(as_customer(&c)).id(ghost).send(&app).await;
    assert_problem(s, &b, 404, "not-found");

    let (s, _, b) = Call::new("find-order-history", "GET", "/customers/x/orders")
        .by(as_customer(&c))
        .id(&c)
        .query(&[("cursor", "abc")])
        .send(&app)
        .await;
    assert_problem(s, &b, 400, "invalid-cursor");

    let (s, _, b) = Call::new("find-order-history", "GET", "/customers/x/orders")
        .by(as_customer(&c))
        .id(&c)
        .query(&[("limit", "0")])
        .send(&app)
        .await;
    assert_problem(s, &b, 400, "invalid-query-parameter");

    let mut abroad = order_body(&c, &p, 1);
    abroad["shippingAddress"]["country"] = json!("CA");
    abroad["shippingSpeed"] = json!("overnight");
    let (s, _, b) = Call::new("create-order", "POST", "/orders").by(as_customer(&c)).json(abroad).send(&app).await;
    assert_problem(s, &b, 422, "shipping-unavailable");
}

#[tokio::test]
async fn cancelling_a_pending_order_is_a_conflict() {
    let app = app();
    let (c, p) = setup(&app).await;
    let (_, _, o) =
        Call::new("create-order", "POST", "/orders").by(as_customer(&c)).json(order_body(&c, &p, 1)).send(&app).await;
    let (s, _, b) = Call::new("cancel-order", "POST", "/orders/x/cancel")
        .by(as_customer(&c))
        .id(o["id"].as_str().unwrap())
        .send(&app)
        .await;
    assert_problem(s, &b, 409, "invalid-state");
}

#[tokio::test]
async fn a_shipping_quote_follows_the_tariff() {
    let app = app();
    let body = json!({"destination": address(), "shippingSpeed": "express",
                      "items": [{"weightGrams": 1500, "dimensionsCm": {"length": 10, "width": 10, "height": 10}, "quantity": 1}],
                      "subtotal": {"amount": 5000, "currency": "USD"}});
    let (s, _, q) = Call::new("quote-shipping", "POST", "/shipping/quote").json(body).send(&app).await;
    assert_eq!(s, 200, "{q}");
    assert_eq!(q["zone"], "local");
    assert_eq!(q["cost"], json!({"amount": 999 + 2 * 150, "currency": "USD"}));
}

/// The authorization rules through the real handlers: who gets what on whose resources, and that
/// a refused request writes nothing.
#[tokio::test]
async fn a_customer_sees_and_spends_only_their_own_account() {
    let app = app();
    let (a, p) = setup(&app).await;
    let mallory = newcomer();
    let (s, _, m) =
        Call::new("create-customer", "POST", "/customers").by(mallory).json(customer_body()).send(&app).await;
    assert_eq!(s, 201, "{m}");
    app.replicate().await;
    let (s, _, order) =
        Call::new("create-order", "POST", "/orders").by(as_customer(&a)).json(order_body(&a, &p, 1)).send(&app).await;
    assert_eq!(s, 201, "{order}");
    let oid = order["id"].as_str().unwrap().to_owned();

    // Mallory on Ada's resources: 404 as for nothing, 403 for spending Ada's credit.
    let ghost = "00000000-0000-4000-8000-0000000000aa";
    for (f, method, id) in [
        ("get-customer", "GET", a.as_str()),
        ("find-order-history", "GET", a.as_str()),
        ("get-order", "GET", oid.as_str()),
        ("cancel-order", "POST", oid.as_str()),
        ("get-order", "GET", ghost),
    ] {
        let (s, _, b) = Call::new(f, method, "/x").by(mallory).id(id).send(&app).await;
        assert_problem(s, &b, 404, "not-found");
    }
    let (s, _, b) = Call::new("update-customer", "PATCH", "/x")
        .by(mallory)
        .id(&a)
        .json(json!({"name": "Mallory"}))
        .send(&app)
        .await;
    assert_problem(s, &b, 404, "not-found");
    let (s, _, b) =
        Call::new("create-order", "POST", "/orders").by(mallory).json(order_body(&a, &p, 1)).send(&app).await;
    assert_problem(s, &b, 403, "forbidden");
    // Without a customerId, the order is the caller's own.
    let mut own = order_body(&a, &p, 1);
    own.as_object_mut().unwrap().remove("customerId");
    let (s, _, b) = Call::new("create-order", "POST", "/orders").by(mallory).json(own).send(&app).await;
    assert_eq!((s, b["customerId"].as_str()), (201, m["id"].as_str()), "{b}");
    // Credit limits and the catalogue are an admin's.
    let limit = json!({"creditLimit": {"amount": 10_000_000, "currency": "USD"}});
    let (s, _, b) = Call::new("change-credit-limit", "PUT", "/x")
        .by(mallory)
        .id(m["id"].as_str().unwrap())
        .json(limit.clone())
        .send(&app)
        .await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, _, b) = Call::new("create-product", "POST", "/products").by(mallory).json(product_body()).send(&app).await;
    assert_problem(s, &b, 403, "forbidden");
    for (f, method, body) in [
        ("update-product", "PATCH", json!({"price": {"amount": 0, "currency": "USD"}})),
        ("restock-product", "POST", json!({"quantity": 5})),
        ("discontinue-product", "POST", Value::Null),
    ] {
        let (s, _, b) = Call::new(f, method, "/x").by(mallory).id(&p).json(body).send(&app).await;
        assert_problem(s, &b, 403, "forbidden");
    }
    let (s, _, b) = Call::new("change-credit-limit", "PUT", "/x")
        .by(admin())
        .id(m["id"].as_str().unwrap())
        .json(limit)
        .send(&app)
        .await;
    assert_eq!((s, &b["creditLimit"]["amount"]), (200, &json!(10_000_000)), "{b}");

    // Ada's things are as they were; an admin sees them.
    let (s, _, got) = Call::new("get-order", "GET", "/x").by(admin()).id(&oid).send(&app).await;
    assert_eq!((s, &got), (200, &order));
    let (_, _, ada) = Call::new("get-customer", "GET", "/x").by(as_customer(&a)).id(&a).send(&app).await;
    assert_eq!(ada["name"], "Ada");
    let (_, _, product) = Call::new("get-product", "GET", "/x").id(&p).send(&app).await;
    assert_eq!((product["stock"].as_i64(), &product["price"]["amount"]), (Some(10), &json!(2500)));
}

/// A route behind the authorizer that gets no claims (a deployment without the authorizer) is a
/// 401, never a 500 and never an anonymous success; the public routes need none.
#[tokio::test]
async fn without_claims_every_guarded_route_is_401_and_the_public_ones_answer() {
    let app = app();
    for f in Function::ALL {
        let Trigger::Http { method, path, auth, .. } = f.trigger() else { continue };
        let id = "00000000-0000-4000-8000-000000000001";
        let (s, h, b) = Call::new(f.name(), method, path).id(id).json(json!({})).send(&app).await;
        match auth {
            Auth::Token => {
                assert_problem(s, &b, 401, "unauthenticated");
                assert_eq!(h.get("www-authenticate").map(String::as_str), Some("Bearer"), "{f}");
            }
            Auth::Public => assert_ne!(s, 401, "{f} is public"),
        }
    }
}

/// A product's answers carry its revision as a strong `ETag`; a write with that `If-Match`
/// lands and answers the next one; the same `If-Match` again is a 412 that writes nothing;
/// a malformed one is a 400; no `If-Match` (or an empty one) writes as before.
#[tokio::test]
async fn a_write_on_a_stale_etag_is_412_and_changes_nothing() {
    let app = app();
    let (_, p) = setup(&app).await;
    let (s, h, _) = Call::new("get-product", "GET", "/x").id(&p).send(&app).await;
    assert_eq!((s, h.get("etag").map(String::as_str)), (200, Some("\"1\"")));
    let reprice = |amount: i64| json!({"price": {"amount": amount, "currency": "USD"}});
    let patch = |tag: &str, amount: i64| {
        let (app, p, tag) = (&app, &p, tag.to_owned());
        async move {
            let headers = [("content-type", "application/json"), ("if-match", tag.as_str())];
            Call::new("update-product", "PATCH", "/x")
                .by(admin())
                .id(p)
                .headers(&headers)
                .json(reprice(amount))
                .send(app)
                .await
        }
    };
    let (s, h, b) = patch("\"1\"", 2600).await;
    assert_eq!((s, h.get("etag").map(String::as_str), &b["price"]["amount"]), (200, Some("\"2\""), &json!(2600)));

    let (s, _, b) = patch("\"1\"", 2700).await;
    assert_problem(s, &b, 412, "precondition-failed");
    let detail = b["detail"].as_str().unwrap();
    assert!(detail.contains("someone else changed") && detail.contains("nothing was written"), "{detail}");
    for (f, body) in [("restock-product", json!({"quantity": 5})), ("discontinue-product", Value::Null)] {
        let headers = &[("content-type", "application/json"), ("if-match", "\"1\"")];
        let (s, _, b) = Call::new(f, "POST", "/x").by(admin()).id(&p).headers(headers).json(body).send(&app).await;
        assert_problem(s, &b, 412, "precondition-failed");
    }
    for bad in ["1", "W/\"2\"", "\"2\", \"3\"", "\"two\"", "\"\"", "\"02\"", "\"12345678901\""] {
        let (s, _, b) = patch(bad, 2800).await;
        assert_problem(s, &b, 400, "invalid-if-match");
    }
    let (_, h, got) = Call::new("get-product", "GET", "/x").id(&p).send(&app).await;
    assert_eq!(
        (h.get("etag").map(String::as_str), &got["price"]["amount"], &got["stock"]),
        (Some("\"2\""), &json!(2600), &json!(10))
    );
    assert_eq!(got["discontinued"], false, "nothing the refused writes asked for was written");

    let (s, h, b) = patch("*", 2900).await;
    assert_eq!((s, h.get("etag").map(String::as_str), &b["price"]["amount"]), (200, Some("\"3\""), &json!(2900)));
    let (s, h, b) = Call::new("update-product", "PATCH", "/x").by(admin()).id(&p).json(reprice(3000)).send(&app).await;
    assert_eq!((s, h.get("etag").map(String::as_str), &b["price"]["amount"]), (200, Some("\"4\""), &json!(3000)));
    let (s, h, b) = patch("", 3100).await;
    assert_eq!((s, h.get("etag").map(String::as_str), &b["price"]["amount"]), (200, Some("\"5\""), &json!(3100)));
}
