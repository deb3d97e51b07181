//! RFC 9457 problem details: the one place where errors become HTTP statuses and `type`s.
//! A 500 says "internal error" and nothing else; the cause goes to the log.

use app::AppError;
use domain::DomainError;
use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

/// Where the problem types live. Each kind has a stable `type` `<BASE><kind>`.
pub const TYPE_BASE: &str = "https://shop-saga.dev/problems/";

/// An error at the HTTP edge: either the request itself is unusable, or the use case refused.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    #[error("the request body exceeds {max} bytes")]
    PayloadTooLarge { max: usize },
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(#[source] serde_json::Error),
    #[error("the request body does not have the expected shape: {0}")]
    InvalidBody(#[source] serde_json::Error),
    #[error("path parameter {0} must be a UUID")]
    InvalidPathId(&'static str),
    #[error("query parameter {param}: {reason}")]
    InvalidQuery { param: &'static str, reason: &'static str },
    #[error("the Idempotency-Key header must be 1 to 128 printable ASCII characters")]
    InvalidIdempotencyKey,
    #[error("no route for {method} {path}")]
    RouteNotFound { method: String, path: String },
    #[error("method {0} is not allowed here")]
    MethodNotAllowed(String),
    /// No verified caller: no or a bad token at the edge, or (behind API Gateway) a route that
    /// reached its function without the authorizer's claims, which is a misconfiguration.
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::App(AppError::Domain(e))
    }
}

/// An RFC 9457 problem, as every error answers (`application/problem+json`).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProblemBody {
    r#type: String,
    title: &'static str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
}

/// One row of the problem catalogue.
struct Kind {
    status: u16,
    kind: &'static str,
    title: &'static str,
}

const fn kind(status: u16, kind: &'static str, title: &'static str) -> Kind {
    Kind { status, kind, title }
}

fn classify(e: &ApiError) -> (Kind, Option<&'static str>) {
    use ApiError as A;
    match e {
        A::UnsupportedMediaType => (kind(415, "unsupported-media-type", "Unsupported media type"), None),
        A::PayloadTooLarge { .. } => (kind(413, "payload-too-large", "Payload too large"), None),
        A::MalformedJson(_) => (kind(400, "malformed-json", "Malformed JSON"), None),
        A::InvalidBody(_) => (kind(400, "invalid-body", "Invalid request body"), None),
        A::InvalidPathId(p) => (kind(400, "invalid-path-parameter", "Invalid path parameter"), Some(*p)),
        A::InvalidQuery { param, .. } => {
            (kind(400, "invalid-query-parameter", "Invalid query parameter"), Some(*param))
        }
        A::InvalidIdempotencyKey => (kind(400, "invalid-idempotency-key", "Invalid Idempotency-Key"), None),
        A::RouteNotFound { .. } => (kind(404, "route-not-found", "Route not found"), None),
        A::MethodNotAllowed(_) => (kind(405, "method-not-allowed", "Method not allowed"), None),
        A::Unauthenticated(_) => (kind(401, "unauthenticated", "Authentication required"), None),
        A::App(app) => match app {
            AppError::Domain(d) => match d {
                DomainError::Invalid { field, .. } => (kind(400, "invalid-field", "Invalid field"), Some(*field)),
                DomainError::LineCount { .. } | DomainError::DuplicateLine(_) => {
                    (kind(400, "invalid-field", "Invalid field"), Some("lines"))
                }
                DomainError::CurrencyMismatch { .. } => (kind(422, "currency-mismatch", "Currency mismatch"), None),
                DomainError::Overflow | DomainError::StockCeiling { .. } => {
                    (kind(422, "amount-out-of-range", "Amount out of range"), None)
                }
                DomainError::ShippingUnavailable { .. } => {
                    (kind(422, "shipping-unavailable", "Shipping speed not offered"), Some("shippingSpeed"))
                }
                DomainError::InvalidTransition { .. } => {
                    (kind(409, "invalid-state", "Not allowed in this state"), None)
                }
                DomainError::NotInCatalogue(_) => (kind(422, "unknown-reference", "Unknown reference"), None),
                DomainError::Discontinued => (kind(409, "discontinued", "Product discontinued"), None),
                DomainError::AlreadyPriced | DomainError::NotPriced | DomainError::ReservationMismatch => {
                    (kind(409, "invalid-state", "Not allowed in this state"), None)
                }
            },
            AppError::NotFound(_) => (kind(404, "not-found", "Not found"), None),
            AppError::UnknownReference { .. } => (kind(422, "unknown-reference", "Unknown reference"), None),
            AppError::EmailTaken => (kind(409, "email-taken", "Email already registered"), Some("email")),
            AppError::AlreadyRegistered => (kind(409, "already-registered", "Already registered"), None),
            AppError::Forbidden(_) => (kind(403, "forbidden", "Forbidden"), None),
            AppError::Conflict => (kind(409, "conflict", "Concurrent modification"), None),
            AppError::IdempotencyKeyReused => (kind(422, "idempotency-key-reused", "Idempotency-Key reused"), None),
            AppError::InvalidCursor => (kind(400, "invalid-cursor", "Invalid cursor"), Some("cursor")),
            AppError::Store(_) | AppError::Serialization(_) => (kind(500, "internal", "Internal error"), None),
        },
    }
}

/// Renders an error as `application/problem+json`. Server errors are logged with their cause and
/// answered without it.
pub fn problem_response(e: &ApiError, instance: &str) -> Response<Body> {
    let (k, field) = classify(e);
    let detail = if k.status >= 500 {
        tracing::error!(error = %e, cause = ?std::error::Error::source(e), "request failed");
        "The request could not be completed. It has been logged.".to_owned()
    } else {
        e.to_string()
    };
    let body =
        ProblemBody { r#type: format!("{TYPE_BASE}{}", k.kind), title: k.title, status: k.status, detail, field };
    // A struct of strings and numbers always serializes; should it not, the answer is still a
    // problem document rather than an empty body.
    let text = serde_json::to_string(&body).unwrap_or_else(|_| UNSERIALIZABLE.to_owned());
    let mut r = Response::new(Body::from(text));
    *r.status_mut() = StatusCode::from_u16(k.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    if k.status == 401 {
        // RFC 6750: a bearer-token resource tells the client how to authenticate.
        r.headers_mut().insert("www-authenticate", HeaderValue::from_static("Bearer"));
    }
    if let Ok(v) = HeaderValue::from_str(instance) {
        if !instance.is_empty() {
            r.headers_mut().insert("content-location", v);
        }
    }
    r
}

/// The problem document of last resort.
const UNSERIALIZABLE: &str = r#"{"type":"https://shop-saga.dev/problems/internal","title":"Internal error","status":500,"detail":"The request could not be completed. It has been logged."}"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(r.body().as_ref()).unwrap()
    }

    #[test]
    fn a_server_error_says_nothing_about_internals() {
        let inner = app::ports::StoreError::Unavailable("dynamodb at 10.0.0.7 refused: secret-table".into());
        let r = problem_response(&ApiError::App(AppError::Store(inner)), "/orders");
        assert_eq!(r.status(), 500);
        let text = String::from_utf8_lossy(r.body().as_ref()).to_string();
        assert!(!text.contains("secret") && !text.contains("10.0.0.7") && !text.contains("dynamodb"), "{text}");
        assert_eq!(body(&r)["type"], "https://shop-saga.dev/problems/internal");
    }

    #[test]
    fn a_validation_error_names_the_field_with_a_stable_type() {
        let e: ApiError = DomainError::Invalid { field: "email", problem: domain::Problem::BadFormat }.into();
        let r = problem_response(&e, "/customers");
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let b = body(&r);
        assert_eq!(b["type"], "https://shop-saga.dev/problems/invalid-field");
        assert_eq!(b["field"], "email");
        assert_eq!(b["status"], 400);
        assert_eq!(b["detail"], "email has an invalid format");
    }
}
