//! The runner's development identity provider, and the JWT check API Gateway's authorizer makes.
//!
//! Offline there is no Cognito, so the runner is its own issuer: an RSA key pair generated at
//! start (once per process), its public half at `GET /.well-known/jwks.json`, and tokens minted on
//! request at `POST /_local/token` (routes of the runner only, never of the template). Requests
//! to routes behind the authorizer are checked as the HttpApi JWT authorizer checks them: a
//! bearer token in `Authorization`, RS256 only, a `kid` found in the key set, the signature, the
//! issuer, the audience (`aud`, or `client_id` as in Cognito access tokens), `exp` and `nbf`. The
//! verified claims reach the handler where API Gateway puts them,
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
        }
    }
}

pub use handlers::claims::{with_claims, Claims};
use handlers::claims::{EMAIL_CLAIM, EMAIL_VERIFIED_CLAIM};

/// The claims API Gateway passes for `caller`'s token from this provider: `sub`, the admin group
/// for an admin, and their verified email (for requests built in process: the simulation, the
/// benches).
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
    /// like an access token of the stack's user pool (with `aud` as well as `client_id`, and the
    /// verified email its pre token generation trigger adds).
    pub fn claims(subject: Uuid, groups: &[String], now: DateTime<Utc>) -> Value {
        let mut c = json!({
            "sub": subject.to_string(),
            EMAIL_CLAIM: Self::email_of(subject),
            EMAIL_VERIFIED_CLAIM: true,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "client_id": AUDIENCE,
            "token_use": "access",
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
        v.validate_aud = false; // `aud` or `client_id`: checked below, as API Gateway does
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
        let audience_ok = match claims.get("aud") {
            Some(Value::String(a)) => a == AUDIENCE,
            Some(Value::Array(a)) => a.iter().any(|a| a.as_str() == Some(AUDIENCE)),
            _ => false,
        } || claims.get("client_id").and_then(Value::as_str) == Some(AUDIENCE);
        if !audience_ok {
            return Err(Rejection::Audience);
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

/// What `POST /_local/token` accepts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub sub: Uuid,
    #[serde(default)]
    pub groups: Vec<String>,
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
        assert_eq!(idp.verify(Some(&t)).unwrap()["sub"], sub.to_string(), "the Bearer prefix is optional");
        assert_eq!(idp.jwks().keys.len(), 1);
        assert_eq!(idp.jwks().keys[0].common.key_id.as_deref(), Some(idp.kid()));
    }
}
