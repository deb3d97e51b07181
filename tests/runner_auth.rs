//! The hostile-token corpus: requests an attacker would try against the runner, whose front door
//! checks tokens as API Gateway's JWT authorizer does. Every one is refused with its 401, 403 or
//! 404 problem+json, and nothing is written: the stores and the published events are unchanged.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use local_runner::identity::{DevIdentityProvider, AUDIENCE, ISSUER};
use serde_json::{json, Value};
use system_tests::{Api, Running};
use uuid::Uuid;

struct Case {
    name: String,
    method: &'static str,
    path: String,
    authorization: Option<String>,
    body: Option<Value>,
    status: u16,
    kind: &'static str,
}

fn case(
    name: impl Into<String>,
    method: &'static str,
    path: impl Into<String>,
    authorization: Option<String>,
    body: Option<Value>,
    status: u16,
    kind: &'static str,
) -> Case {
    Case { name: name.into(), method, path: path.into(), authorization, body, status, kind }
}

fn b64(v: &Value) -> String {
    B64.encode(v.to_string())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Valid claims for `sub`, shaped as a Cognito access token's (`client_id`, no `aud`), to be
/// spoiled one way or another.
fn claims(sub: &str) -> Value {
    json!({"sub": sub, "iss": ISSUER, "client_id": AUDIENCE, "token_use": "access",
           "iat": now(), "nbf": now(), "exp": now() + 600})
}

fn rs256(kid: Option<&str>) -> Header {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = kid.map(str::to_owned);
    h
}

struct Attack<'a> {
    idp: &'a DevIdentityProvider,
    kid: String,
}

impl Attack<'_> {
    /// A token signed by the runner's own key, with `claims` as given.
    fn signed(&self, claims: &Value) -> String {
        self.idp.sign(&rs256(Some(&self.kid)), claims).expect("signed")
    }
    fn bearer(t: &str) -> Option<String> {
        Some(format!("Bearer {t}"))
    }
}

fn corpus(r: &Running, a: &Attacker) -> Vec<Case> {
    let idp = r.system.identity.as_ref();
    let atk = Attack { idp, kid: idp.kid().to_owned() };
    let bearer = Attack::bearer;
    let valid_a = atk.signed(&claims(&a.a));
    let (_h, payload, sig) = {
        let mut parts = valid_a.split('.');
        (
            parts.next().unwrap_or("").to_owned(),
            parts.next().unwrap_or("").to_owned(),
            parts.next().unwrap_or("").to_owned(),
        )
    };
    let head = |h: Value| b64(&h);
    let order = system_tests::order_body(&a.b, &[(&a.product, 1)]);
    let mut out = vec![];

    // ---- Authentication: every one a 401 on a guarded route ----------------------------------
    let me = "/me";
    let unauth = |name: &str, authorization: Option<String>| {
        case(format!("401: {name}"), "GET", me, authorization, None, 401, "unauthenticated")
    };
    out.push(unauth("no Authorization header", None));
    out.push(unauth("an empty Authorization header", Some(String::new())));
    out.push(unauth("Bearer and nothing", Some("Bearer ".into())));
    out.push(unauth("Basic credentials", Some("Basic dXNlcjpwYXNz".into())));
    out.push(unauth("not a JWT", bearer("hello")));
    out.push(unauth("two segments", bearer(&format!("{}.{payload}", head(json!({"alg": "RS256"}))))));
    out.push(unauth("four segments", bearer(&format!("{valid_a}.extra"))));
    out.push(unauth("bad base64", bearer("!!!.###.$$$")));
    out.push(unauth("a header that is not JSON", bearer(&format!("{}.{payload}.{sig}", B64.encode("not json")))));
    for alg in ["none", "None", "NONE", "nOnE"] {
        let t = format!("{}.{payload}.", head(json!({"alg": alg, "typ": "JWT", "kid": atk.kid})));
        out.push(unauth(&format!("alg: {alg}, no signature"), bearer(&t)));
    }
    let jwks = serde_json::to_vec(idp.jwks()).expect("jwks");
    let hs = |secret: &[u8]| {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(atk.kid.clone());
        let key = EncodingKey::from_secret(secret).expect("an HMAC key");
        jsonwebtoken::encode(&h, &claims(&a.a), &key).expect("hs256")
    };
    out.push(unauth("HS256 signed with the public key set (algorithm confusion)", bearer(&hs(&jwks))));
    let n = idp.jwks().keys[0].to_owned();
    let n = serde_json::to_value(n).expect("jwk")["n"].as_str().unwrap_or("").to_owned();
    out.push(unauth("HS256 signed with the public modulus", bearer(&hs(n.as_bytes()))));
    let mut rs512 = Header::new(Algorithm::RS512);
    rs512.kid = Some(atk.kid.clone());
    out.push(unauth("RS512, not the accepted RS256", bearer(&idp.sign(&rs512, &claims(&a.a)).expect("rs512"))));
    out.push(unauth("an unknown kid", bearer(&idp.sign(&rs256(Some("someone-elses-key")), &claims(&a.a)).expect("t"))));
    out.push(unauth("no kid", bearer(&idp.sign(&rs256(None), &claims(&a.a)).expect("t"))));
    let foreign = DevIdentityProvider::generate().expect("another key");
    let forged = foreign.sign(&rs256(Some(&atk.kid)), &claims(&a.a)).expect("t");
    out.push(unauth("signed by another key under our kid", bearer(&forged)));
    let mut admin_claims = claims(&a.a);
    admin_claims["cognito:groups"] = json!(["admin"]);
    let forged_admin = foreign.sign(&rs256(Some(&atk.kid)), &admin_claims).expect("t");
    out.push(case(
        "401: an admin token from another key",
        "POST",
        "/products",
        bearer(&forged_admin),
        Some(a.product_body.clone()),
        401,
        "unauthenticated",
    ));
    let tampered = format!("{}.{}.{sig}", valid_a.split('.').next().unwrap_or(""), b64(&claims(&a.b)));
    out.push(unauth("payload swapped for customer B's", bearer(&tampered)));
    let tampered_admin = format!("{}.{}.{sig}", valid_a.split('.').next().unwrap_or(""), b64(&admin_claims));
    out.push(case(
        "401: payload tampered into an admin",
        "POST",
        "/products",
        bearer(&tampered_admin),
        Some(a.product_body.clone()),
        401,
        "unauthenticated",
    ));
    let mut flipped = valid_a.clone().into_bytes();
    let last = flipped.len() - 2;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    out.push(unauth("a flipped signature byte", bearer(&String::from_utf8(flipped).expect("ascii"))));
    out.push(unauth("no signature", bearer(&format!("{}.{payload}.", valid_a.split('.').next().unwrap_or("")))));
    let spoil = |f: &dyn Fn(&mut Value)| {
        let mut c = claims(&a.a);
        f(&mut c);
        atk.signed(&c)
    };
    out.push(unauth("expired", bearer(&spoil(&|c| c["exp"] = json!(now() - 600)))));
    out.push(unauth("expired a second ago", bearer(&spoil(&|c| c["exp"] = json!(now() - 1)))));
    out.push(unauth("not valid yet", bearer(&spoil(&|c| c["nbf"] = json!(now() + 600)))));
    out.push(unauth("no expiry", bearer(&spoil(&|c| drop(c.as_object_mut().map(|o| o.remove("exp")))))));
    out.push(unauth("another issuer", bearer(&spoil(&|c| c["iss"] = json!("https://evil.example.com")))));
    out.push(unauth("no issuer", bearer(&spoil(&|c| drop(c.as_object_mut().map(|o| o.remove("iss")))))));
    out.push(unauth(
        "another audience",
        bearer(&spoil(&|c| {
            c["aud"] = json!("another-app");
            c["client_id"] = json!("another-app");
        })),
    ));
    out.push(unauth(
        "no audience",
        bearer(&spoil(&|c| {
            c.as_object_mut().map(|o| (o.remove("aud"), o.remove("client_id")));
        })),
    ));
    out.push(unauth(
        "another aud, our client_id (aud is read first, as API Gateway reads it)",
        bearer(&spoil(&|c| c["aud"] = json!("another-app"))),
    ));
    out.push(unauth("an aud list without us, our client_id", bearer(&spoil(&|c| c["aud"] = json!(["another-app"])))));
    out.push(unauth("an empty aud list, our client_id", bearer(&spoil(&|c| c["aud"] = json!([])))));
    out.push(unauth("issued in the future", bearer(&spoil(&|c| c["iat"] = json!(now() + 600)))));
    out.push(unauth("an issue time that is not a number", bearer(&spoil(&|c| c["iat"] = json!("yesterday")))));
    // An ID token: `aud` is the app client, so the audience check alone lets it through.
    let id_token = |c: &mut Value| {
        c["token_use"] = json!("id");
        c["aud"] = json!(AUDIENCE);
        c.as_object_mut().map(|o| o.remove("client_id"));
    };
    out.push(unauth("an ID token (token_use: id)", bearer(&spoil(&id_token))));
    let mut admin_id_token = admin_claims.clone();
    id_token(&mut admin_id_token);
    out.push(case(
        "401: an admin's ID token",
        "POST",
        "/products",
        bearer(&atk.signed(&admin_id_token)),
        Some(a.product_body.clone()),
        401,
        "unauthenticated",
    ));
    out.push(unauth("no token_use", bearer(&spoil(&|c| drop(c.as_object_mut().map(|o| o.remove("token_use")))))));
    out.push(unauth("token_use: Access", bearer(&spoil(&|c| c["token_use"] = json!("Access")))));
    out.push(unauth("a subject that is not a UUID", bearer(&spoil(&|c| c["sub"] = json!("admin")))));
    out.push(unauth("no subject", bearer(&spoil(&|c| drop(c.as_object_mut().map(|o| o.remove("sub")))))));
    out.push(case(
        "401: the token in the query string",
        "GET",
        format!("/me?access_token={valid_a}"),
        None,
        None,
        401,
        "unauthenticated",
    ));
    out.push(case(
        "401: cancel without a token",
        "POST",
        format!("/orders/{}/cancel", a.b_order),
        None,
        None,
        401,
        "unauthenticated",
    ));
    out.push(case("401: order without a token", "POST", "/orders", None, Some(order.clone()), 401, "unauthenticated"));

    // ---- Authorization: customer A's valid token on B's things, and on admin operations --------
    let ta = bearer(&valid_a);
    let hidden = |name: &str, method: &'static str, path: String, body: Option<Value>| {
        case(format!("404: A {name}"), method, path, ta.clone(), body, 404, "not-found")
    };
    out.push(hidden("reads B's customer", "GET", format!("/customers/{}", a.b), None));
    out.push(hidden("renames B", "PATCH", format!("/customers/{}", a.b), Some(json!({"name": "Mallory"}))));
    out.push(hidden("reads B's order history", "GET", format!("/customers/{}/orders", a.b), None));
    out.push(hidden("reads B's order", "GET", format!("/orders/{}", a.b_order), None));
    out.push(hidden("cancels B's order", "POST", format!("/orders/{}/cancel", a.b_order), None));
    let forbidden = |name: &str, method: &'static str, path: String, body: Option<Value>| {
        case(format!("403: A {name}"), method, path, ta.clone(), body, 403, "forbidden")
    };
    out.push(forbidden("orders on B's credit", "POST", "/orders".into(), Some(order.clone())));
    out.push(forbidden(
        "raises their own credit limit",
        "PUT",
        format!("/customers/{}/credit-limit", a.a),
        Some(json!({"creditLimit": {"amount": 99_999_999, "currency": "USD"}})),
    ));
    out.push(forbidden("adds a product at price 0", "POST", "/products".into(), Some(a.product_body.clone())));
    out.push(forbidden(
        "reprices a product to 0",
        "PATCH",
        format!("/products/{}", a.product),
        Some(json!({"price": {"amount": 0, "currency": "USD"}})),
    ));
    out.push(forbidden(
        "restocks",
        "POST",
        format!("/products/{}/restock", a.product),
        Some(json!({"quantity": 1000})),
    ));
    out.push(forbidden("discontinues", "POST", format!("/products/{}/discontinue", a.product), None));
    let stranger = atk.signed(&claims(&Uuid::new_v4().to_string()));
    out.push(case("404: a signed-in stranger asks for /me", "GET", "/me", bearer(&stranger), None, 404, "not-found"));
    out.push(case(
        "404: a stranger reads B",
        "GET",
        format!("/customers/{}", a.b),
        bearer(&stranger),
        None,
        404,
        "not-found",
    ));
    out
}

/// Customers A (the attacker) and B (the victim, with an approved order), and a product.
struct Attacker {
    a: String,
    b: String,
    b_order: String,
    product: String,
    product_body: Value,
}

async fn snapshot(api: &Api, at: &Attacker) -> Vec<Value> {
    let mut out = vec![];
    for path in [
        "/products?limit=100".to_owned(),
        format!("/customers/{}", at.a),
        format!("/customers/{}", at.b),
        format!("/customers/{}/orders", at.a),
        format!("/customers/{}/orders", at.b),
        format!("/orders/{}", at.b_order),
    ] {
        let r = api.get(&path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        out.push(r.body);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hostile_token_corpus_is_refused_and_writes_nothing() {
    let r = system_tests::start().await;
    let a = r.customer("a@example.com", 100_000).await;
    let b = r.customer("b@example.com", 100_000).await;
    let product = r.product("Lamp", 1_000, 10).await;
    let placed = r.order(&b, &[(&product, 1)]).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let b_order = placed.body["id"].as_str().expect("id").to_owned();
    assert_eq!(r.settled(&b_order, Duration::from_secs(10)).await["state"], "APPROVED");
    let product_body = json!({"name": "Free Lunch", "price": {"amount": 0, "currency": "USD"}, "weightGrams": 1,
                              "dimensionsCm": {"length": 1, "width": 1, "height": 1}, "stock": 1_000_000});
    let at = Attacker { a, b, b_order, product, product_body };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = (snapshot(&r, &at).await, r.system.published());

    let corpus = corpus(&r, &at);
    assert!(corpus.len() >= 30, "the corpus has {} cases", corpus.len());
    let mut failures = vec![];
    for c in &corpus {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(auth) = &c.authorization {
            headers.push(("authorization", auth.as_str()));
        }
        let body = c.body.as_ref().map(|b| b.to_string().into_bytes());
        let reply = r.send_anonymous(c.method, &c.path, &headers, body).await;
        let ct = reply.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        let kind = format!("https://shop-saga.dev/problems/{}", c.kind);
        if reply.status != c.status || ct != "application/problem+json" || reply.body["type"] != kind.as_str() {
            failures.push(format!("{}: {} {} → {} {ct} {}", c.name, c.method, c.path, reply.status, reply.body));
        }
        if reply.status == 401 && reply.headers.get("www-authenticate").is_none() {
            failures.push(format!("{}: a 401 without WWW-Authenticate", c.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases were not refused as expected:\n{}",
        failures.len(),
        corpus.len(),
        failures.join("\n")
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = (snapshot(&r, &at).await, r.system.published());
    assert_eq!(after, before, "a refused request wrote something or published an event");
}

/// The development identity provider's own routes: its key set verifies its tokens, and it mints
/// only for a UUID subject, with that subject's own verified address (no request picks another).
#[tokio::test]
async fn the_dev_identity_provider_serves_its_key_set_and_mints_tokens() {
    let r = system_tests::start().await;
    let jwks = r.send_anonymous("GET", "/.well-known/jwks.json", &[], None).await;
    assert_eq!(jwks.status, 200);
    let key = &jwks.body["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str(), key["use"].as_str()),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    assert_eq!(key["kid"], r.system.identity.kid());
    let sub = Uuid::new_v4();
    let token = r.runner_token(sub, &["admin"]).await;
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.body.clone()).expect("a JWK set");
    let decoding = jsonwebtoken::DecodingKey::from_jwk(&set.keys[0]).expect("an RSA key");
    let mut v = jsonwebtoken::Validation::new(Algorithm::RS256);
    v.validate_aud = false; // a Cognito access token has no `aud`: its `client_id` is checked below
    v.set_issuer(&[ISSUER]);
    let data = jsonwebtoken::decode::<Value>(&token, &decoding, &v).expect("verifies against the served key set");
    assert_eq!(data.claims["sub"], sub.to_string());
    assert_eq!(
        (data.claims["client_id"].as_str(), data.claims["token_use"].as_str()),
        (Some(AUDIENCE), Some("access"))
    );
    assert!(data.claims.get("aud").is_none(), "shaped as a Cognito access token: {}", data.claims);
    assert_eq!(data.claims["cognito:groups"], json!(["admin"]));
    assert_eq!(data.claims["email"], local_runner::identity::DevIdentityProvider::email_of(sub));
    assert_eq!(data.claims["email_verified"], json!(true));
    let someone_elses = json!({"sub": sub, "email": "victim@example.com"});
    for bad in [
        json!({"sub": "admin"}),
        json!({}),
        json!({"sub": sub, "groups": "admin"}),
        json!({"sub": sub, "role": "x"}),
        someone_elses,
        json!({"sub": sub, "groups": ["ops admin"]}),
    ] {
        let r = r.send_anonymous("POST", "/_local/token", &[JSON], Some(bad.to_string().into_bytes())).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
}

const JSON: (&str, &str) = ("content-type", "application/json");

/// `POST /_local/token` mints only for a request addressed to the loopback by name, in JSON: a web
/// page that rebinds its DNS name to 127.0.0.1 sends its own name as the Host, and a form or a
/// `text/plain` post (what a page may send cross-origin without a preflight) is not JSON.
#[tokio::test]
async fn the_token_endpoint_answers_only_json_requests_addressed_to_the_loopback() {
    let r = system_tests::start().await;
    let port = r.base.rsplit(':').next().expect("a port").to_owned();
    let body = || Some(json!({"sub": Uuid::new_v4(), "groups": ["admin"]}).to_string().into_bytes());
    let mint = |headers: Vec<(String, String)>| {
        let r = &r;
        async move {
            let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            r.send_anonymous("POST", "/_local/token", &headers, body()).await
        }
    };
    let host = |h: &str| ("host".to_owned(), h.to_owned());
    let ct = |v: &str| ("content-type".to_owned(), v.to_owned());
    for local in [format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}"), "localhost".into()]
    {
        let reply = mint(vec![host(&local), ct("application/json")]).await;
        assert_eq!(reply.status, 200, "Host: {local}: {}", reply.body);
        assert!(reply.body["accessToken"].is_string(), "Host: {local}");
    }
    let reply = mint(vec![ct("application/json; charset=utf-8")]).await;
    assert_eq!(reply.status, 200, "with a charset: {}", reply.body);

    let mut refused = vec![];
    for foreign in [
        format!("rebound.attacker.example:{port}"),
        "rebound.attacker.example".to_owned(),
        format!("127.0.0.1.attacker.example:{port}"),
        format!("localhost.attacker.example:{port}"),
        format!("192.168.1.20:{port}"),
        format!("0.0.0.0:{port}"),
    ] {
        refused.push((
            format!("Host: {foreign}"),
            mint(vec![host(&foreign), ct("application/json")]).await,
            403,
            "forbidden",
        ));
    }
    let two_hosts = vec![host(&format!("127.0.0.1:{port}")), host("attacker.example"), ct("application/json")];
    refused.push(("two Host headers".to_owned(), mint(two_hosts).await, 403, "forbidden"));
    for media in
        ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp"]
    {
        refused.push((format!("Content-Type: {media}"), mint(vec![ct(media)]).await, 415, "unsupported-media-type"));
    }
    refused.push(("no Content-Type".to_owned(), mint(vec![]).await, 415, "unsupported-media-type"));
    for (name, reply, status, kind) in refused {
        assert_eq!(reply.status, status, "{name}: {}", reply.body);
        assert_eq!(reply.body["type"], format!("https://shop-saga.dev/problems/{kind}"), "{name}");
        assert!(reply.body.get("accessToken").is_none(), "{name}: minted a token");
    }
}
