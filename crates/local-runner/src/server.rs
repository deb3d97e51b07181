//! The HTTP front door: API Gateway's job for the local runner. Resolves each request against
//! the template's routes and hands it, as the Lambda event the function would get, to the same
//! handler the function runs.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use bundle::manifest::{Auth, Trigger};
use bytes::Bytes;
use handlers::problem::{problem_response, ApiError};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::http::header::{AUTHORIZATION, CONTENT_TYPE};
use lambda_http::{Body, RequestExt};
use tokio::net::TcpListener;

use crate::identity;
use crate::routes::Resolution;
use crate::system::LocalSystem;

/// API Gateway's payload limit. Handlers apply their own, much smaller, limits.
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

fn to_hyper(resp: lambda_http::Response<Body>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = resp.into_parts();
    let bytes = Bytes::copy_from_slice(body.as_ref());
    hyper::Response::from_parts(parts, Full::new(bytes))
}

async fn handle(
    system: Arc<LocalSystem>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let bytes = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => return Ok(to_hyper(problem_response(&ApiError::PayloadTooLarge { max: MAX_REQUEST_BYTES }, &path))),
    };
    if let Some(r) = identity_route(&system, &parts, &path, &bytes) {
        return Ok(to_hyper(r));
    }
    let function = match system.routes.resolve(parts.method.as_str(), &path) {
        Resolution::Found { function, params } => (function, params),
        Resolution::MethodNotAllowed { allow } => {
            let mut r = to_hyper(problem_response(&ApiError::MethodNotAllowed(parts.method.to_string()), &path));
            if let Ok(v) = hyper::header::HeaderValue::from_str(&allow.join(", ")) {
                r.headers_mut().insert(hyper::header::ALLOW, v);
            }
            return Ok(r);
        }
        Resolution::NotFound => {
            if let Some(r) = site_route(&system, parts.method.as_str(), &path) {
                return Ok(r);
            }
            let e = ApiError::RouteNotFound { method: parts.method.to_string(), path: path.clone() };
            return Ok(to_hyper(problem_response(&e, &path)));
        }
    };
    let query: QueryMap = parts.uri.query().unwrap_or("").parse().unwrap_or_default();
    let body = if bytes.is_empty() { Body::Empty } else { Body::Binary(bytes.to_vec()) };
    // The JWT authorizer, for every route the manifest does not make public.
    let claims = match function.0.trigger() {
        Trigger::Http { auth: Auth::Public, .. } => None,
        _ => {
            let header = parts.headers.get(AUTHORIZATION).map(|v| v.to_str().unwrap_or("\u{fffd}"));
            match system.identity.verify(header) {
                Ok(claims) => Some(claims),
                Err(rejected) => {
                    tracing::info!(function = %function.0, %path, status = 401, reason = %rejected, "request");
                    return Ok(to_hyper(problem_response(&ApiError::Unauthenticated(rejected.detail()), &path)));
                }
            }
        }
    };
    let mut request = lambda_http::Request::from_parts(parts, body)
        .with_path_parameters(function.1)
        .with_query_string_parameters(query)
        .with_raw_http_path(path.clone());
    if let Some(claims) = claims {
        request = identity::with_claims(request, claims);
    }
    let started = std::time::Instant::now();
    let response = match system.functions.http(function.0, request).await {
        Some(r) => r,
        None => problem_response(&ApiError::RouteNotFound { method: "?".into(), path: path.clone() }, &path),
    };
    tracing::info!(function = %function.0, %path, status = response.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    Ok(to_hyper(response))
}

/// The storefront (crates/storefront): its files, `/config.json` (same-origin API, the
/// development identity provider) and `/_local/identities` (whom "sign in as" offers), for GET
/// and HEAD on paths that are not API routes. Each answer carries the page's security headers.
fn site_route(system: &LocalSystem, method: &str, path: &str) -> Option<hyper::Response<Full<Bytes>>> {
    if method != "GET" && method != "HEAD" {
        return None;
    }
    let (body, content_type): (Bytes, &str) = match path {
        CONFIG_PATH => (Bytes::from_static(storefront::local_config().as_bytes()), "application/json"),
        IDENTITIES_PATH => {
            let customers = system.sign_in_as.get().map(Vec::as_slice).unwrap_or_default();
            let list: Vec<_> =
                customers.iter().map(|(name, sub)| serde_json::json!({ "name": name, "sub": sub })).collect();
            (Bytes::from(serde_json::json!({ "customers": list }).to_string()), "application/json")
        }
        _ => {
            let (bytes, content_type) = storefront::asset(path)?;
            (Bytes::from_static(bytes), content_type)
        }
    };
    let body = if method == "HEAD" { Bytes::new() } else { body };
    let mut r = hyper::Response::new(Full::new(body));
    let headers = r.headers_mut();
    let csp = storefront::content_security_policy("");
    for (name, value) in [
        ("content-type", content_type),
        ("content-security-policy", csp.as_str()),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        // The files change with the binary, and are small: revalidate every time.
        ("cache-control", "no-cache"),
    ] {
        if let Ok(v) = hyper::header::HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    }
    Some(r)
}

/// The runner's own routes (never in the template): the OpenAPI document, and the development
/// identity provider's key set and a token for any subject, so that requests can be made as any
/// customer or as an admin.
fn identity_route(
    system: &LocalSystem,
    request: &hyper::http::request::Parts,
    path: &str,
    body: &[u8],
) -> Option<lambda_http::Response<Body>> {
    match (request.method.as_str(), path) {
        ("GET", JWKS_PATH) => Some(json_response(200, &serde_json::to_value(system.identity.jwks()).ok()?)),
        // The API's OpenAPI document, as generated from the code (docs/openapi.json).
        ("GET", OPENAPI_PATH) => Some(json_response(200, &bundle::openapi::document())),
        ("POST", TOKEN_PATH) => Some(match token_request(request, body) {
            Ok(r) => match system.identity.token(r.sub, &r.groups) {
                Ok(t) => json_response(200, &serde_json::json!({ "accessToken": t, "tokenType": "Bearer" })),
                Err(e) => problem_response(
                    &ApiError::App(app::AppError::Store(app::ports::StoreError::Unavailable(e.into()))),
                    path,
                ),
            },
            Err(e) => problem_response(&e, path),
        }),
        _ => None,
    }
}

/// A token request, if it may be answered: addressed to the loopback by name (`Host`, and the
/// target's authority if it has one: no DNS rebinding from a web page), JSON (a page cannot send
/// that cross-origin without a CORS preflight, which the runner never grants), of the right shape.
fn token_request(request: &hyper::http::request::Parts, body: &[u8]) -> Result<identity::TokenRequest, ApiError> {
    let mut hosts = request.headers.get_all(hyper::header::HOST).iter();
    let host_ok = match (hosts.next(), hosts.next()) {
        (Some(host), None) => host.to_str().is_ok_and(identity::is_loopback_authority),
        _ => false,
    };
    let target_ok = request.uri.authority().is_none_or(|a| identity::is_loopback_authority(a.as_str()));
    if !(host_ok && target_ok) {
        return Err(ApiError::App(app::AppError::Forbidden(
            "development tokens are minted only for requests to 127.0.0.1, localhost or [::1]",
        )));
    }
    if !handlers::http::is_json(&request.headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    serde_json::from_slice::<identity::TokenRequest>(body).map_err(ApiError::InvalidBody)
}

fn json_response(status: u16, body: &serde_json::Value) -> lambda_http::Response<Body> {
    let mut r = lambda_http::Response::new(Body::from(body.to_string()));
    *r.status_mut() = lambda_http::http::StatusCode::from_u16(status).unwrap_or_default();
    r.headers_mut().insert(CONTENT_TYPE, lambda_http::http::HeaderValue::from_static("application/json"));
    r
}

/// Where the runner serves the API's OpenAPI document.
pub const OPENAPI_PATH: &str = "/openapi.json";
/// Where the runner serves its public key set.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// The storefront's configuration, as the runner serves it.
pub const CONFIG_PATH: &str = "/config.json";
/// The customers the storefront offers to sign in as (runner only).
pub const IDENTITIES_PATH: &str = "/_local/identities";
/// Where the runner mints tokens: `{"sub": "<uuid>", "groups": ["admin"]}` → `{"accessToken"}`.
pub const TOKEN_PATH: &str = "/_local/token";

/// Serves until `shutdown` resolves; connections in flight finish on their own.
pub async fn serve(
    listener: TcpListener,
    system: Arc<LocalSystem>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
        };
        let system = system.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(system.clone(), req));
            if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}
