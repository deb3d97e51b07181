//! What the workspace-level tests share: the template, a runner started inside the test on
//! 127.0.0.1:0 with an HTTP client, and the way to the test ministack.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::SystemEnvironment;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use local_runner::{server, LocalSystem};
use sam_template::Template;
use serde_json::{json, Value};
use tokio::sync::watch;

pub mod http_collection;
pub mod iam;
pub mod ministack;

pub fn template() -> Template {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    Template::load(path).expect("template.yaml at the workspace root")
}

/// A runner serving on a free port; stops when dropped. Talk to it through its [`Api`].
pub struct Running {
    pub api: Api,
    pub system: Arc<LocalSystem>,
    stop: watch::Sender<bool>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl std::ops::Deref for Running {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

/// Signs in a new user: `(email, admin)` → an access token.
pub type SignIn = Arc<dyn Fn(&str, bool) -> String + Send + Sync>;

/// Where an [`Api`] gets its bearer tokens: the runner's development identity provider (`POST
/// /_local/token`), or any other issuer (the e2e harness signs users in to ministack's Cognito).
#[derive(Clone)]
pub enum Issuer {
    Runner,
    /// `(email, admin)` → an access token for a new user with that email, in `admin` if asked.
    Other(SignIn),
}

/// An HTTP client for the shop's API at `base` (the runner, or the API deployed to ministack),
/// signed in as someone: by default an admin (who may read everything and write the catalogue);
/// [`Api::as_customer`] speaks as a customer it registered, [`Api::send_anonymous`] as nobody.
/// An order is always placed with the token of the customer it names.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    issuer: Issuer,
    /// The token requests carry; `None`: the admin's, fetched on first use.
    token: Option<String>,
    admin: Arc<tokio::sync::OnceCell<String>>,
    /// Customer id → that customer's token, for the customers this client registered.
    customers: Arc<Mutex<HashMap<String, String>>>,
}

pub struct Reply {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

pub async fn start_with(system: LocalSystem) -> Running {
    let system = Arc::new(system);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let base = format!("http://{}", listener.local_addr().expect("local addr"));
    let (stop, rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    tokio::spawn(server::serve(listener, system.clone(), stopped(rx.clone())));
    tokio::spawn(system.clone().run_background(Duration::from_secs(3600), stopped(rx)));
    Running { api: Api::new(base), system, stop }
}

pub async fn start() -> Running {
    start_with(LocalSystem::in_memory(&template(), SystemEnvironment::shared()).expect("the system builds")).await
}

impl Api {
    /// A client whose tokens come from the runner at `base`.
    pub fn new(base: impl Into<String>) -> Api {
        Api::with_issuer(base, Issuer::Runner)
    }

    pub fn with_issuer(base: impl Into<String>, issuer: Issuer) -> Api {
        Api {
            base: base.into(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            issuer,
            token: None,
            admin: Arc::new(tokio::sync::OnceCell::new()),
            customers: Arc::default(),
        }
    }

    /// A token from the runner's development identity provider.
    pub async fn runner_token(&self, sub: uuid::Uuid, groups: &[&str]) -> String {
        let r = self
            .send_anonymous(
                "POST",
                "/_local/token",
                &[("content-type", "application/json")],
                Some(json!({"sub": sub, "groups": groups}).to_string().into_bytes()),
            )
            .await;
        assert_eq!(r.status, 200, "POST /_local/token: {}", r.body);
        r.body["accessToken"].as_str().expect("an accessToken").to_owned()
    }

    /// A token for a new user (`email`), an admin if asked.
    pub async fn new_token(&self, email: &str, admin: bool) -> String {
        match &self.issuer {
            Issuer::Runner => self.runner_token(uuid::Uuid::new_v4(), if admin { &["admin"] } else { &[] }).await,
            Issuer::Other(issue) => issue(email, admin),
        }
    }

    async fn admin_token(&self) -> String {
        self.admin.get_or_init(|| self.new_token("admin@example.com", true)).await.clone()
    }

    /// This client, speaking with `token`.
    pub fn with_token(&self, token: impl Into<String>) -> Api {
        Api { token: Some(token.into()), ..self.clone() }
    }

    /// This client, speaking as `customer` (one it registered with [`Api::customer`]).
    pub fn as_customer(&self, customer: &str) -> Api {
        let token = self.customers.lock().expect("tokens").get(customer).cloned();
        self.with_token(token.unwrap_or_else(|| panic!("customer {customer} was not registered through this client")))
    }

    async fn bearer(&self) -> String {
        match &self.token {
            Some(t) => format!("Bearer {t}"),
            None => format!("Bearer {}", self.admin_token().await),
        }
    }

    /// A request as this client's caller (unless `headers` carry their own `authorization`).
    pub async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<Vec<u8>>) -> Reply {
        if headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("authorization")) {
            return self.send_anonymous(method, path, headers, body).await;
        }
        let bearer = self.bearer().await;
        let mut with_auth: Vec<(&str, &str)> = headers.to_vec();
        with_auth.push(("authorization", &bearer));
        self.send_anonymous(method, path, &with_auth, body).await
    }

    /// A request with exactly `headers`: no token unless they carry one.
    pub async fn send_anonymous(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut b = hyper::Request::builder().method(method).uri(format!("{}{}", self.base, path));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(Full::new(Bytes::from(body.unwrap_or_default()))).expect("a request");
        let resp = self.client.request(req).await.expect("the runner answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let raw = resp.into_body().collect().await.expect("a body").to_bytes().to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply { status, headers, body, raw }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send("POST", path, &[("content-type", "application/json")], Some(body.to_string().into_bytes())).await
    }

    /// A JSON request with any method (PUT, PATCH...).
    pub async fn send_json(&self, method: &str, path: &str, body: Value) -> Reply {
        self.send(method, path, &[("content-type", "application/json")], Some(body.to_string().into_bytes())).await
    }

    pub async fn post_keyed(&self, path: &str, key: &str, body: Value) -> Reply {
        let headers = [("content-type", "application/json"), ("idempotency-key", key)];
        self.send("POST", path, &headers, Some(body.to_string().into_bytes())).await
    }

    /// Registers a new user as a customer (their token's subject is its id, their token's verified
    /// email its email: `email` with an issuer that takes it, the runner's own address for the
    /// subject otherwise) and has the admin set its credit limit to `limit`; later requests naming
    /// it use its token.
    pub async fn customer(&self, email: &str, limit: i64) -> String {
        let me = self.with_token(self.new_token(email, false).await);
        let r = me.post("/customers", json!({"name": "Test Customer", "address": address()})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.body["id"].as_str().expect("an id").to_owned();
        let limit = json!({"creditLimit": {"amount": limit, "currency": "USD"}});
        let r = self.send_json("PUT", &format!("/customers/{id}/credit-limit"), limit).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let token = me.token.clone().expect("a token");
        self.customers.lock().expect("tokens").insert(id.clone(), token);
        id
    }

    pub async fn product(&self, name: &str, price: i64, stock: i64) -> String {
        let r = self
            .post(
                "/products",
                json!({"name": name, "price": {"amount": price, "currency": "USD"}, "weightGrams": 500,
                       "dimensionsCm": {"length": 10, "width": 10, "height": 10}, "stock": stock}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().expect("an id").to_owned()
    }

    pub async fn order(&self, customer: &str, lines: &[(&str, i64)]) -> Reply {
        self.order_keyed(None, order_body(customer, lines)).await
    }

    /// POST /orders as a client places an order for a customer or product added a moment ago:
    /// the orders context's replica learns of them from their events, so until it has, the answer
    /// is a 422 `unknown-reference` (nothing written), which is retried for up to 20 s.
    pub async fn order_keyed(&self, key: Option<&str>, body: Value) -> Reply {
        let until = Instant::now() + Duration::from_secs(20);
        let buyer = match body["customerId"].as_str() {
            Some(c) if self.token.is_none() => self.as_customer(c),
            _ => self.clone(),
        };
        loop {
            let r = match key {
                Some(k) => buyer.post_keyed("/orders", k, body.clone()).await,
                None => buyer.post("/orders", body.clone()).await,
            };
            let lagging = r.status == 422 && r.body["type"].as_str().is_some_and(|t| t.ends_with("/unknown-reference"));
            if !lagging || Instant::now() > until {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls the order until it leaves PENDING, for at most `limit`.
    pub async fn settled(&self, id: &str, limit: Duration) -> Value {
        let until = Instant::now() + limit;
        loop {
            let o = self.get(&format!("/orders/{id}")).await.body;
            if o["state"] != "PENDING" || Instant::now() > until {
                return o;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Polls until `check` holds on GET `path`, for at most 5 s.
    pub async fn eventually(&self, path: &str, check: impl Fn(&Value) -> bool) -> Value {
        self.eventually_within(path, Duration::from_secs(5), check).await
    }

    /// Polls until `check` holds on GET `path`, for at most `limit`.
    pub async fn eventually_within(&self, path: &str, limit: Duration, check: impl Fn(&Value) -> bool) -> Value {
        let until = Instant::now() + limit;
        loop {
            let v = self.get(path).await.body;
            if check(&v) || Instant::now() > until {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

pub fn address() -> Value {
    json!({"street": "9 Elm St", "city": "Dayton", "region": "OH", "postalCode": "45402", "country": "US"})
}

pub fn order_body(customer: &str, lines: &[(&str, i64)]) -> Value {
    let lines: Vec<Value> = lines.iter().map(|(p, q)| json!({"productId": p, "quantity": q})).collect();
    json!({"customerId": customer, "lines": lines, "shippingAddress": address(), "shippingSpeed": "standard"})
}

/// The repository's root.
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs the ministack harness (tests/e2e/ministack.py) with the ministack venv's python; its
/// stdout is JSON.
pub fn harness(args: &[&str]) -> Value {
    let python = root().join(".venv/ministack/bin/python");
    let out = std::process::Command::new(&python)
        .arg(root().join("tests/e2e/ministack.py"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e} (scripts/with-ministack.sh installs it)", python.display()));
    assert!(
        out.status.success(),
        "tests/e2e/ministack.py {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the harness prints JSON")
}

/// Deploys the SAM build to ministack as a new stack and answers a client of its API, whose
/// tokens are real access tokens of the stack's Cognito user pool, and the stack's name.
pub fn deployed_api(prefix: &str) -> (Api, String, Value) {
    assert!(
        root().join(".aws-sam/build/template.yaml").exists(),
        ".aws-sam/build is missing: run scripts/sam-build.sh (./scripts/test.sh runs it before the tests)"
    );
    let stack = format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let deployed = harness(&["deploy", &stack]);
    let signed_in = stack.clone();
    let issuer = Issuer::Other(Arc::new(move |email: &str, admin: bool| {
        let t = harness(&["token", &signed_in, email, if admin { "admin" } else { "no" }]);
        t["accessToken"].as_str().expect("an access token").to_owned()
    }));
    let api = Api::with_issuer(deployed["apiUrl"].as_str().expect("apiUrl"), issuer);
    (api, stack, deployed)
}
