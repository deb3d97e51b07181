//! The runner's development identity provider, and the JWT check API Gateway's authorizer makes.
//!
//! Offline there is no Cognito, so the runner is its own issuer: an RSA key pair generated at
//! start (once per process), its public half at `GET /.well-known/jwks.json`, and tokens minted on
//! request at `POST /_local/token` (routes of the runner only, never of the template). Requests
//! to routes behind the authorizer are checked as the HttpApi JWT authorizer checks them: a
//! bearer token in `Authorization`, RS256 only, a `kid` found in the key set, the signature, the
//! issuer, the audience (`aud` when the token has one, else `client_id`, as Cognito access tokens
//! carry it), `exp`, `nbf` and `iat` (not in the future); and, as the handlers check again,
//! `token_use: access` (an ID token names the app client as its audience too, so the audience
//! alone lets it through). The verified claims reach the handler where API Gateway puts them,
//! `requestContext.authorizer.jwt.claims`, flattened to strings the way it flattens them
//! ([`with_claims`]).
//!
//! Like the stack's user pool (through its pre token generation trigger), the runner's provider
//! puts the user's verified email in every access token: each subject has one address of its own,
//! [`DevIdentityProvider::email_of`], so offline too a caller registers only with theirs.

use std::sync::{Arc, OnceLock};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// The issuer the runner's tokens name (on AWS: the Cognito user pool's URL).
pub const ISSUER: &str = "http://127.0.0.1/shop-local/dev-idp";
/// The audience the runner's authorizer expects (on AWS: the user pool client's id).
pub const AUDIENCE: &str = "shop-local";
/// How long a minted token lives, like a Cognito access token by default.
pub const TOKEN_TTL: chrono::Duration = chrono::Duration::hours(1);

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("could not generate the development key pair")]
    KeyGeneration,
    #[error("could not sign a token: {0}")]
    Signing(#[source] jsonwebtoken::errors::Error),
}

/// Why a request is not authenticated: each is a 401, the message its detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    NoToken,
    Malformed,
    Algorithm,
    UnknownKey,
    Signature,
    Expired,
    NotYetValid,
    Issuer,
    Audience,
    IssuedInTheFuture,
    NotAnAccessToken,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.detail())
    }
}

impl Rejection {
    pub fn detail(self) -> &'static str {
        match self {
            Rejection::NoToken => "this route needs a bearer token (Authorization: Bearer <JWT>)",
            Rejection::Malformed => "the bearer token is not a well-formed JWT",
            Rejection::Algorithm => "the token's algorithm is not accepted (RS256 only)",
            Rejection::UnknownKey => "the token's key id is not in the issuer's key set",
            Rejection::Signature => "the token's signature does not verify",
            Rejection::Expired => "the token has expired",
            Rejection::NotYetValid => "the token is not valid yet",
            Rejection::Issuer => "the token was issued by another issuer",
            Rejection::Audience => "the token is for another audience",
            Rejection::IssuedInTheFuture => "the token's issue time is in the future",
            Rejection::NotAnAccessToken => "the bearer token must be an access token (token_use: access)",
        }
    }
}

pub use handlers::claims::{with_claims, Claims};
use handlers::claims::{ACCESS_TOKEN, EMAIL_CLAIM, EMAIL_VERIFIED_CLAIM, TOKEN_USE_CLAIM};

/// A JSON request to a route as API Gateway hands it to the function, made by `caller` (their
/// claims, as [`claims_of`] gives them), with `{id}` bound when the route has it and an
/// `Idempotency-Key` when given: how in-process harnesses (the flash sales) call the handlers.
pub fn request_as(
    caller: &app::access::Caller,
    method: &str,
    path: &str,
    id: Option<String>,
    idempotency_key: Option<String>,
    body: &Value,
) -> lambda_http::Request {
    use lambda_http::RequestExt;
    let mut req =
        lambda_http::http::Request::builder().method(method).uri(path).header("content-type", "application/json");
    if let Some(k) = idempotency_key {
        req = req.header("idempotency-key", k);
    }
    let req = with_claims(req.body(lambda_http::Body::from(body.to_string())).unwrap_or_default(), claims_of(caller));
    match id {
        Some(id) => req.with_path_parameters(std::collections::HashMap::from([("id".to_owned(), id)])),
        None => req,
    }
}

/// The claims API Gateway passes for `caller`'s access token from this provider: `sub`,
/// `token_use`, the admin group for an admin, and their verified email (for requests built in
/// process: the simulation, the benches).
pub fn claims_of(caller: &app::access::Caller) -> Claims {
    let mut c = handlers::claims::claims_of(caller);
    c.insert(EMAIL_CLAIM.to_owned(), DevIdentityProvider::email_of(caller.subject()));
    c.insert(EMAIL_VERIFIED_CLAIM.to_owned(), "true".to_owned());
    c
}

/// The runner's issuer: one key pair, its key set, and the authorizer's check.
pub struct DevIdentityProvider {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwks: JwkSet,
}

impl std::fmt::Debug for DevIdentityProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIdentityProvider").field("kid", &self.kid).finish_non_exhaustive()
    }
}

fn pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).filter_map(|c| std::str::from_utf8(c).ok()).collect();
    format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"))
}

impl DevIdentityProvider {
    /// A new issuer with a fresh RSA-2048 key pair.
    pub fn generate() -> Result<DevIdentityProvider, IdentityError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| IdentityError::KeyGeneration)?;
        let pkcs8 =
            AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).map_err(|_| IdentityError::KeyGeneration)?;
        let encoding =
            EncodingKey::from_rsa_pem(pem(pkcs8.as_ref()).as_bytes()).map_err(|_| IdentityError::KeyGeneration)?;
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256).map_err(|_| IdentityError::KeyGeneration)?;
        let kid = format!("dev-{}", Uuid::new_v4().simple());
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
        let decoding = DecodingKey::from_jwk(&jwk).map_err(|_| IdentityError::KeyGeneration)?;
        Ok(DevIdentityProvider { kid, encoding, decoding, jwks: JwkSet { keys: vec![jwk] } })
    }

    /// The process's issuer, generated on first use (an RSA key takes a moment to make; tests
    /// start many runners in one process).
    pub fn shared() -> Result<Arc<DevIdentityProvider>, IdentityError> {
        static SHARED: OnceLock<Arc<DevIdentityProvider>> = OnceLock::new();
        if let Some(p) = SHARED.get() {
            return Ok(p.clone());
        }
        let made = Arc::new(DevIdentityProvider::generate()?);
        Ok(SHARED.get_or_init(|| made).clone())
    }

    /// The public key set, as `GET /.well-known/jwks.json` serves it.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs `claims` as they are (tests use it to forge what a bad issuer would send).
    pub fn sign(&self, header: &Header, claims: &Value) -> Result<String, IdentityError> {
        jsonwebtoken::encode(header, claims, &self.encoding).map_err(IdentityError::Signing)
    }

    /// The email address this provider has verified for `subject`: one per subject, its own.
    pub fn email_of(subject: Uuid) -> String {
        format!("{subject}@users.example.com")
    }

    /// The claims of an access token for `subject`, valid from `now` for [`TOKEN_TTL`], shaped
    /// like a Cognito access token's: `client_id` and no `aud`, `token_use: access`, and the
    /// verified email the stack's pre token generation trigger adds.
    pub fn claims(subject: Uuid, groups: &[String], now: DateTime<Utc>) -> Value {
        let mut c = json!({
            "sub": subject.to_string(),
            EMAIL_CLAIM: Self::email_of(subject),
            EMAIL_VERIFIED_CLAIM: true,
            "iss": ISSUER,
            "client_id": AUDIENCE,
            TOKEN_USE_CLAIM: ACCESS_TOKEN,
            "iat": now.timestamp(),
            "nbf": now.timestamp(),
            "exp": (now + TOKEN_TTL).timestamp(),
        });
        if !groups.is_empty() {
            c["cognito:groups"] = json!(groups);
        }
        c
    }

    /// An RS256 access token for `subject`, in `groups`, signed with this issuer's key.
    pub fn token(&self, subject: Uuid, groups: &[String]) -> Result<String, IdentityError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        self.sign(&header, &Self::claims(subject, groups, Utc::now()))
    }

    /// The authorizer's check of an `Authorization` header value.
    pub fn verify(&self, authorization: Option<&str>) -> Result<Claims, Rejection> {
        let raw = authorization.map(str::trim).filter(|v| !v.is_empty()).ok_or(Rejection::NoToken)?;
        let token = match raw.split_once(' ') {
            Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
            Some(_) => return Err(Rejection::Malformed),
            None => raw,
        };
        let header = jsonwebtoken::decode_header(token).map_err(|_| Rejection::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(Rejection::Algorithm);
        }
        if header.kid.as_deref() != Some(self.kid.as_str()) {
            return Err(Rejection::UnknownKey);
        }
        let mut v = Validation::new(Algorithm::RS256);
        v.leeway = 0;
        v.validate_nbf = true;
        v.validate_aud = false; // `aud`, else `client_id`: checked below, as API Gateway does
        v.set_issuer(&[ISSUER]);
        v.set_required_spec_claims(&["exp", "iss", "sub"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &self.decoding, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::InvalidSignature | K::InvalidRsaKey(_) | K::InvalidKeyFormat => Rejection::Signature,
                K::ExpiredSignature => Rejection::Expired,
                K::ImmatureSignature => Rejection::NotYetValid,
                K::InvalidIssuer => Rejection::Issuer,
                K::InvalidAlgorithm => Rejection::Algorithm,
                _ => Rejection::Malformed,
            }
        })?;
        let claims = data.claims;
        // API Gateway reads `client_id` only when the token has no `aud`: a token for another
        // audience does not pass on the strength of its `client_id`.
        let audience_ok = match claims.get("aud") {
            Some(Value::String(a)) => a == AUDIENCE,
            Some(Value::Array(a)) => a.iter().any(|a| a.as_str() == Some(AUDIENCE)),
            Some(_) => false,
            None => claims.get("client_id").and_then(Value::as_str) == Some(AUDIENCE),
        };
        if !audience_ok {
            return Err(Rejection::Audience);
        }
        match claims.get("iat").map(Value::as_f64) {
            None => {}
            Some(Some(iat)) if iat <= Utc::now().timestamp() as f64 => {}
            Some(Some(_)) => return Err(Rejection::IssuedInTheFuture),
            Some(None) => return Err(Rejection::Malformed),
        }
        if claims.get(TOKEN_USE_CLAIM).and_then(Value::as_str) != Some(ACCESS_TOKEN) {
            return Err(Rejection::NotAnAccessToken);
        }
        Ok(claims.into_iter().map(|(k, v)| (k, flatten(&v))).collect())
    }
}

/// A claim as an HttpApi JWT authorizer hands it to the function: strings as they are, arrays
/// as `[a b]`, anything else as its JSON text.
fn flatten(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(flatten).collect();
            format!("[{}]", parts.join(" "))
        }
        other => other.to_string(),
    }
}

/// What `POST /_local/token` accepts: a subject, and groups named as Cognito names them (1 to 128
/// characters, no whitespace), so that a token's groups flatten exactly as API Gateway flattens
/// them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub sub: Uuid,
    #[serde(default, deserialize_with = "group_names")]
    pub groups: Vec<String>,
}

fn group_names<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let groups = Vec::<String>::deserialize(d)?;
    match groups.iter().find(|g| g.is_empty() || g.chars().count() > 128 || g.contains(char::is_whitespace)) {
        Some(bad) => Err(serde::de::Error::custom(format!(
            "group {bad:?}: a Cognito group name has 1 to 128 characters and no whitespace"
        ))),
        None => Ok(groups),
    }
}

/// Whether a `Host` header (or a request target's authority) names this machine's loopback:
/// `127.0.0.1`, `localhost` or `[::1]`, with any port. `POST /_local/token` answers only such
/// requests: a web page that rebinds its own DNS name to 127.0.0.1 still sends its own name as
/// the `Host`, so it cannot mint tokens from the browser of whoever runs the runner.
pub fn is_loopback_authority(value: &str) -> bool {
    let (host, port) = match value.strip_prefix("[::1]") {
        Some(port) => ("[::1]", port),
        None => value.split_at(value.find(':').unwrap_or(value.len())),
    };
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok());
    (host == "127.0.0.1" || host == "[::1]" || host.eq_ignore_ascii_case("localhost")) && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_token_verifies_and_its_claims_arrive_flattened() {
        let idp = DevIdentityProvider::shared().unwrap();
        let sub = Uuid::new_v4();
        let t = idp.token(sub, &["admin".to_owned(), "ops".to_owned()]).unwrap();
        let claims = idp.verify(Some(&format!("Bearer {t}"))).unwrap();
        assert_eq!(claims["sub"], sub.to_string());
        assert_eq!(claims["cognito:groups"], "[admin ops]");
        assert_eq!(claims["email"], DevIdentityProvider::email_of(sub));
        assert_eq!(claims["email_verified"], "true", "a verified address, flattened as API Gateway does");
        assert_eq!((claims["token_use"].as_str(), claims["client_id"].as_str()), ("access", AUDIENCE));
        assert!(!claims.contains_key("aud"), "a Cognito access token has client_id and no aud");
        assert_eq!(idp.verify(Some(&t)).unwrap()["sub"], sub.to_string(), "the Bearer prefix is optional");
        assert_eq!(idp.jwks().keys.len(), 1);
        assert_eq!(idp.jwks().keys[0].common.key_id.as_deref(), Some(idp.kid()));
    }

    #[test]
    fn the_authorizer_reads_aud_before_client_id_and_takes_access_tokens_issued_in_the_past() {
        let idp = DevIdentityProvider::shared().unwrap();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(idp.kid().to_owned());
        let now = Utc::now();
        let check = |spoil: &dyn Fn(&mut Value)| {
            let mut c = DevIdentityProvider::claims(Uuid::new_v4(), &[], now);
            spoil(&mut c);
            idp.verify(Some(&idp.sign(&header, &c).unwrap())).map(|_| ())
        };
        assert_eq!(check(&|_| {}), Ok(()), "a Cognito access token: client_id, no aud");
        assert_eq!(check(&|c| c["aud"] = json!(AUDIENCE)), Ok(()));
        assert_eq!(check(&|c| c["aud"] = json!(["other", AUDIENCE])), Ok(()));
        assert_eq!(check(&|c| c["aud"] = json!("other")), Err(Rejection::Audience), "aud wins over client_id");
        assert_eq!(check(&|c| c["aud"] = json!([])), Err(Rejection::Audience));
        assert_eq!(
            check(&|c| c["iat"] = json!((now + chrono::Duration::seconds(60)).timestamp())),
            Err(Rejection::IssuedInTheFuture)
        );
        assert_eq!(check(&|c| c["iat"] = json!("now")), Err(Rejection::Malformed));
        assert_eq!(check(&|c| drop(c.as_object_mut().map(|o| o.remove("iat")))), Ok(()), "iat is optional, as on AWS");
        assert_eq!(check(&|c| c["token_use"] = json!("id")), Err(Rejection::NotAnAccessToken));
        assert_eq!(
            check(&|c| drop(c.as_object_mut().map(|o| o.remove("token_use")))),
            Err(Rejection::NotAnAccessToken)
        );
    }

    #[test]
    fn only_the_loopback_by_name_is_a_local_host() {
        for local in ["127.0.0.1", "127.0.0.1:3000", "localhost", "LocalHost:8080", "[::1]", "[::1]:3000"] {
            assert!(is_loopback_authority(local), "{local}");
        }
        for foreign in [
            "",
            "evil.example",
            "evil.example:3000",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "127.0.0.2",
            "0.0.0.0:3000",
            "[::2]:3000",
            "user@127.0.0.1",
            "evil.example@127.0.0.1:3000",
            "127.0.0.1:port",
            "127.0.0.1:+80",
            "127.0.0.1:",
            "127.0.0.1:99999",
            "[::1]evil",
        ] {
            assert!(!is_loopback_authority(foreign), "{foreign}");
        }
    }

    #[test]
    fn a_token_request_names_its_groups_as_cognito_does() {
        let sub = Uuid::new_v4();
        let ok: TokenRequest = serde_json::from_value(json!({"sub": sub, "groups": ["admin", "ops,x"]})).unwrap();
        assert_eq!(ok.groups, ["admin", "ops,x"]);
        for bad in [json!(["ops admin"]), json!([""]), json!(["a\tb"]), json!(["x".repeat(129)])] {
            let refused = serde_json::from_value::<TokenRequest>(json!({"sub": sub, "groups": bad}));
            assert!(refused.is_err(), "{bad}");
        }
    }
}
