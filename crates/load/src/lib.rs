//! The shop as a client meets it over HTTP at any URL: a deployed stack's API (API Gateway behind
//! HTTPS, or ministack's emulation of it) or the local runner. What `smoke`, `load --url` and
//! `flash-sale --url` share: the HTTP client, where tokens come from, and the calls they make.
//!
//! Tokens come from a command ([`Tokens::Command`]): it is run by `sh -c` with the user's email and,
//! for an administrator, the word `admin` appended as arguments, and prints an access token, bare
//! or as JSON with an `accessToken` field. So the Cognito recipe of the end-to-end harness
//! (`python tests/e2e/ministack.py token STACK EMAIL [admin]`) plugs in as it is, and so does any
//! script around `aws cognito-idp admin-initiate-auth`. Offline ([`Tokens::Runner`]), the runner's
//! development identity provider mints them (`POST /_local/token`).

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Where the commands send their requests, and how they get tokens (`--url`, `--token-cmd`,
/// `--local`), as every binary of this crate spells it.
#[derive(clap::Args, Debug, Clone)]
pub struct Target {
    /// The API's base URL: a deployed stack's `ApiUrl` output (e.g.
    /// https://abc123.execute-api.eu-west-1.amazonaws.com), or the runner's.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// A shell command printing an access token for a user; run with the user's email and, for an
    /// administrator, `admin` appended as arguments. Its output: the token, or JSON with
    /// `accessToken`.
    #[arg(long, value_name = "CMD", conflicts_with = "local")]
    pub token_cmd: Option<String>,
    /// The URL is the local runner's (http://127.0.0.1:3000 unless --url says otherwise): tokens
    /// from its development identity provider (POST /_local/token).
    #[arg(long)]
    pub local: bool,
}

impl Target {
    /// The shop this target names, or `None` when no URL and no `--local` were given (the
    /// in-process mode of `load` and `flash-sale`).
    pub fn shop(&self) -> Result<Option<Shop>, Error> {
        let url = match (&self.url, self.local) {
            (Some(url), _) => url.clone(),
            (None, true) => "http://127.0.0.1:3000".to_owned(),
            (None, false) => return Ok(None),
        };
        let tokens = match (&self.token_cmd, self.local) {
            (Some(cmd), _) => Tokens::Command(cmd.clone()),
            (None, true) => Tokens::Runner,
            (None, false) => return Err("--url needs --token-cmd CMD (or --local for the runner)".into()),
        };
        Shop::new(&url, tokens).map(Some)
    }
}

/// Where access tokens come from.
#[derive(Debug, Clone)]
pub enum Tokens {
    /// A shell command, given the email and `admin` (for an administrator) as arguments.
    Command(String),
    /// The runner's development identity provider, `POST /_local/token`.
    Runner,
}

/// One answer: status and JSON body (`null` when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// The answer if its status is `want`, else an error naming what was being done.
    pub fn expect(self, want: u16, doing: &str) -> Result<Answer, Error> {
        if self.status == want {
            Ok(self)
        } else {
            Err(format!("{doing}: {} {}", self.status, self.body).into())
        }
    }

    /// The body's `id`.
    pub fn id(&self) -> Result<String, Error> {
        self.body["id"].as_str().map(str::to_owned).ok_or_else(|| format!("no id in {}", self.body).into())
    }
}

/// The shop's API at a base URL, with a connection pool (HTTP/1.1 keep-alive, HTTPS by the
/// machine's trust store) and a way to get tokens. Clones share the pool.
#[derive(Clone)]
pub struct Shop(std::sync::Arc<Inner>);

struct Inner {
    base: String,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    tokens: Tokens,
}

impl Shop {
    pub fn new(url: &str, tokens: Tokens) -> Result<Shop, Error> {
        let base = url.trim_end_matches('/').to_owned();
        base.parse::<hyper::Uri>().map_err(|e| format!("--url {url}: {e}"))?;
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| format!("the machine's trust store: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Shop(std::sync::Arc::new(Inner {
            base,
            client: Client::builder(TokioExecutor::new()).build(https),
            tokens,
        })))
    }

    pub fn base(&self) -> &str {
        &self.0.base
    }

    /// An access token for the user `email`, an administrator if `admin`.
    pub async fn token(&self, email: &str, admin: bool) -> Result<String, Error> {
        match &self.0.tokens {
            Tokens::Runner => {
                let groups: &[&str] = if admin { &["admin"] } else { &[] };
                let body = json!({"sub": uuid::Uuid::new_v4(), "groups": groups});
                let a =
                    self.call(None, "POST", "/_local/token", Some(&body)).await?.expect(200, "POST /_local/token")?;
                a.body["accessToken"].as_str().map(str::to_owned).ok_or_else(|| "no accessToken".into())
            }
            Tokens::Command(cmd) => {
                let (cmd, email) = (cmd.clone(), email.to_owned());
                tokio::task::spawn_blocking(move || token_from_command(&cmd, &email, admin)).await?
            }
        }
    }

    /// `method path` with `token` as the bearer (none: anonymous) and `body` as JSON.
    pub async fn call(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, Error> {
        let mut req = hyper::Request::builder().method(method).uri(format!("{}{path}", self.0.base));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req.body(Full::new(body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()))))?;
        let resp = self.0.client.request(req).await.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await?.to_bytes();
        Ok(Answer { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) })
    }

    /// Asks `path` (as `token`) until `done` holds of its 200 body, or `limit` has passed; the
    /// last body either way, and whether `done` held.
    pub async fn until(
        &self,
        token: &str,
        path: &str,
        limit: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Result<(Value, bool), Error> {
        let until = Instant::now() + limit;
        loop {
            let a = self.call(Some(token), "GET", path, None).await?.expect(200, &format!("GET {path}"))?;
            if done(&a.body) {
                return Ok((a.body, true));
            }
            if Instant::now() > until {
                return Ok((a.body, false));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// A new customer: a token for `email`, registered with `address()`, their credit limit set by
    /// the administrator. Their id (the token's subject) and token.
    pub async fn customer(&self, admin: &str, email: &str, name: &str, credit: i64) -> Result<(String, String), Error> {
        let token = self.token(email, false).await?;
        let body = json!({"name": name, "address": address()});
        let id = self
            .call(Some(&token), "POST", "/customers", Some(&body))
            .await?
            .expect(201, "registering a customer")?
            .id()?;
        let limit = json!({"creditLimit": {"amount": credit, "currency": "USD"}});
        self.call(Some(admin), "PUT", &format!("/customers/{id}/credit-limit"), Some(&limit))
            .await?
            .expect(200, "setting a credit limit")?;
        Ok((id, token))
    }

    /// A new product of `stock` units at `price` cents, added by the administrator; its id.
    pub async fn product(&self, admin: &str, name: &str, price: i64, stock: u64) -> Result<String, Error> {
        self.call(Some(admin), "POST", "/products", Some(&product_body(name, price, stock)))
            .await?
            .expect(201, "adding a product")?
            .id()
    }

    /// Places an order of `lines` for the caller, retrying the 422 that says the orders context
    /// does not know the product or the customer yet (its replica follows their events) for up to
    /// `limit`. The last answer.
    pub async fn order(&self, token: &str, lines: &[(&str, u32)], limit: Duration) -> Result<Answer, Error> {
        let until = Instant::now() + limit;
        let body = order_body(lines);
        loop {
            let a = self.call(Some(token), "POST", "/orders", Some(&body)).await?;
            if a.status != 422 || Instant::now() > until {
                return Ok(a);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// What a product holds for orders (units on hand less available), as the admin reads it.
    pub async fn units_held(&self, admin: &str, product: &str) -> Result<i64, Error> {
        let p = self
            .call(Some(admin), "GET", &format!("/products/{product}"), None)
            .await?
            .expect(200, "reading a product")?;
        Ok(p.body["stock"].as_i64().unwrap_or(0) - p.body["available"].as_i64().unwrap_or(0))
    }

    /// What a customer holds for orders (credit limit less available credit), as the admin reads it.
    pub async fn credit_held(&self, admin: &str, customer: &str) -> Result<i64, Error> {
        let c = self
            .call(Some(admin), "GET", &format!("/customers/{customer}"), None)
            .await?
            .expect(200, "reading a customer")?;
        Ok(c.body["creditLimit"]["amount"].as_i64().unwrap_or(0)
            - c.body["availableCredit"]["amount"].as_i64().unwrap_or(0))
    }
}

/// Runs the token command for one user and reads the token it prints.
fn token_from_command(cmd: &str, email: &str, admin: bool) -> Result<String, Error> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{cmd} \"$@\""))
        .arg("token-cmd")
        .arg(email)
        .args(admin.then_some("admin"))
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("--token-cmd: {e}"))?;
    if !out.status.success() {
        return Err(format!("--token-cmd for {email} failed: {}", out.status).into());
    }
    let text = String::from_utf8(out.stdout).map_err(|_| "--token-cmd printed something that is not text")?;
    token_in(&text).ok_or_else(|| format!("--token-cmd for {email} printed no token").into())
}

/// The token in a token command's output: JSON's `accessToken` (also as the Cognito API's
/// `AuthenticationResult.AccessToken`), or the whole output, trimmed, when it is one word.
pub fn token_in(output: &str) -> Option<String> {
    let text = output.trim();
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        let t = v["accessToken"].as_str().or(v["AuthenticationResult"]["AccessToken"].as_str()).or(v.as_str());
        return t.filter(|t| !t.is_empty()).map(str::to_owned);
    }
    (!text.is_empty() && !text.contains(char::is_whitespace)).then(|| text.to_owned())
}

pub fn address() -> Value {
    json!({"street": "1 Main St", "city": "Dayton", "region": "OH", "postalCode": "45402", "country": "US"})
}

pub fn product_body(name: &str, price: i64, stock: u64) -> Value {
    json!({"name": name, "price": {"amount": price, "currency": "USD"}, "weightGrams": 400,
           "dimensionsCm": {"length": 10, "width": 10, "height": 10}, "stock": stock})
}

pub fn order_body(lines: &[(&str, u32)]) -> Value {
    let lines: Vec<Value> = lines.iter().map(|(p, q)| json!({"productId": p, "quantity": q})).collect();
    json!({"lines": lines, "shippingAddress": address(), "shippingSpeed": "standard"})
}

#[cfg(test)]
mod tests {
    use super::token_in;

    #[test]
    fn a_token_command_may_print_the_token_or_json_naming_it() {
        assert_eq!(token_in("eyJ.a.b\n").as_deref(), Some("eyJ.a.b"));
        assert_eq!(token_in(r#"{"accessToken": "eyJ.c.d"}"#).as_deref(), Some("eyJ.c.d"));
        assert_eq!(token_in(r#"{"AuthenticationResult": {"AccessToken": "eyJ.e.f"}}"#).as_deref(), Some("eyJ.e.f"));
        assert_eq!(token_in(r#""eyJ.g.h""#).as_deref(), Some("eyJ.g.h"));
    }

    #[test]
    fn output_without_a_token_is_refused() {
        assert_eq!(token_in(""), None);
        assert_eq!(token_in("Traceback (most recent call last):\n  oops"), None);
        assert_eq!(token_in(r#"{"error": "no such user"}"#), None);
    }
}
