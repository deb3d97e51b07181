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
    #[error("the If-Match header must be the ETag a read of this product answered (one strong entity tag such as \"3\"), or *")]
    InvalidIfMatch,
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

/// Declares [`ProblemKind`]: every kind of problem the API answers, with its status, the last
/// segment of its `type` and its title, written once here. The status mapping below and the
/// OpenAPI document's responses both read this table.
macro_rules! problem_kinds {
    ($( $(#[$doc:meta])* $kind:ident = ($status:literal, $slug:literal, $title:literal), )*) => {
        /// A kind of problem: the `type`, status and title of an RFC 9457 answer.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ProblemKind { $( $(#[$doc])* $kind, )* }

        impl ProblemKind {
            pub const ALL: &'static [ProblemKind] = &[$(ProblemKind::$kind),*];

            /// The HTTP status it answers with.
            pub const fn status(self) -> u16 {
                match self { $(ProblemKind::$kind => $status,)* }
            }

            /// The stable last segment of its `type` (`<TYPE_BASE><slug>`).
            pub const fn slug(self) -> &'static str {
                match self { $(ProblemKind::$kind => $slug,)* }
            }

            pub const fn title(self) -> &'static str {
                match self { $(ProblemKind::$kind => $title,)* }
            }
        }
    };
}

problem_kinds! {
    MalformedJson = (400, "malformed-json", "Malformed JSON"),
    InvalidBody = (400, "invalid-body", "Invalid request body"),
    InvalidField = (400, "invalid-field", "Invalid field"),
    InvalidPathParameter = (400, "invalid-path-parameter", "Invalid path parameter"),
    InvalidQueryParameter = (400, "invalid-query-parameter", "Invalid query parameter"),
    InvalidCursor = (400, "invalid-cursor", "Invalid cursor"),
    InvalidIdempotencyKey = (400, "invalid-idempotency-key", "Invalid Idempotency-Key"),
    InvalidIfMatch = (400, "invalid-if-match", "Invalid If-Match"),
    Unauthenticated = (401, "unauthenticated", "Authentication required"),
    Forbidden = (403, "forbidden", "Forbidden"),
    NotFound = (404, "not-found", "Not found"),
    /// Answered by a router (the local runner's; API Gateway has its own), never by a route.
    RouteNotFound = (404, "route-not-found", "Route not found"),
    /// Answered by a router, never by a route.
    MethodNotAllowed = (405, "method-not-allowed", "Method not allowed"),
    Conflict = (409, "conflict", "Concurrent modification"),
    InvalidState = (409, "invalid-state", "Not allowed in this state"),
    Discontinued = (409, "discontinued", "Product discontinued"),
    AlreadyRegistered = (409, "already-registered", "Already registered"),
    /// The write named the revision it was made on (`If-Match`), and the resource has moved on
    /// since (RFC 9110 §13.1.1): someone else changed it. Nothing was written.
    PreconditionFailed = (412, "precondition-failed", "Precondition failed"),
    PayloadTooLarge = (413, "payload-too-large", "Payload too large"),
    UnsupportedMediaType = (415, "unsupported-media-type", "Unsupported media type"),
    CurrencyMismatch = (422, "currency-mismatch", "Currency mismatch"),
    AmountOutOfRange = (422, "amount-out-of-range", "Amount out of range"),
    ShippingUnavailable = (422, "shipping-unavailable", "Shipping speed not offered"),
    UnknownReference = (422, "unknown-reference", "Unknown reference"),
    IdempotencyKeyReused = (422, "idempotency-key-reused", "Idempotency-Key reused"),
    Internal = (500, "internal", "Internal error"),
    /// The route's store could not be reached: its context is down. Nothing was written; the
    /// answer says when to try again (`Retry-After`).
    ServiceUnavailable = (503, "service-unavailable", "Service unavailable"),
}

/// What a 503 asks the client to wait before it tries again, in seconds.
pub const RETRY_AFTER_SECONDS: u32 = 30;

/// The kind of problem an error is, and the field it names.
pub fn classify(e: &ApiError) -> (ProblemKind, Option<&'static str>) {
    use ApiError as A;
    use ProblemKind as K;
    match e {
        A::UnsupportedMediaType => (K::UnsupportedMediaType, None),
        A::PayloadTooLarge { .. } => (K::PayloadTooLarge, None),
        A::MalformedJson(_) => (K::MalformedJson, None),
        A::InvalidBody(_) => (K::InvalidBody, None),
        A::InvalidPathId(p) => (K::InvalidPathParameter, Some(*p)),
        A::InvalidQuery { param, .. } => (K::InvalidQueryParameter, Some(*param)),
        A::InvalidIdempotencyKey => (K::InvalidIdempotencyKey, None),
        A::InvalidIfMatch => (K::InvalidIfMatch, None),
        A::RouteNotFound { .. } => (K::RouteNotFound, None),
        A::MethodNotAllowed(_) => (K::MethodNotAllowed, None),
        A::Unauthenticated(_) => (K::Unauthenticated, None),
        A::App(app) => match app {
            AppError::Domain(d) => match d {
                DomainError::Invalid { field, .. } => (K::InvalidField, Some(*field)),
                DomainError::LineCount { .. } | DomainError::DuplicateLine(_) => (K::InvalidField, Some("lines")),
                DomainError::CurrencyMismatch { .. } => (K::CurrencyMismatch, None),
                DomainError::Overflow | DomainError::StockCeiling { .. } => (K::AmountOutOfRange, None),
                DomainError::ShippingUnavailable { .. } => (K::ShippingUnavailable, Some("shippingSpeed")),
                DomainError::InvalidTransition { .. }
                | DomainError::AlreadyPriced
                | DomainError::NotPriced
                | DomainError::ReservationMismatch => (K::InvalidState, None),
                DomainError::NotInCatalogue(_) => (K::UnknownReference, None),
                DomainError::Discontinued => (K::Discontinued, None),
            },
            AppError::NotFound(_) => (K::NotFound, None),
            AppError::UnknownReference { .. } => (K::UnknownReference, None),
            AppError::AlreadyRegistered => (K::AlreadyRegistered, None),
            AppError::Forbidden(_) => (K::Forbidden, None),
            AppError::Conflict => (K::Conflict, None),
            AppError::PreconditionFailed { .. } => (K::PreconditionFailed, None),
            AppError::IdempotencyKeyReused => (K::IdempotencyKeyReused, None),
            AppError::InvalidCursor => (K::InvalidCursor, Some("cursor")),
            AppError::Store(app::ports::StoreError::Unavailable(_)) => (K::ServiceUnavailable, None),
            AppError::Store(_) | AppError::Serialization(_) => (K::Internal, None),
        },
    }
}

/// Renders an error as `application/problem+json`. Server errors are logged with their cause and
/// answered without it.
pub fn problem_response(e: &ApiError, instance: &str) -> Response<Body> {
    let (k, field) = classify(e);
    let status = k.status();
    let detail = if k == ProblemKind::ServiceUnavailable {
        tracing::error!(error = %e, cause = ?std::error::Error::source(e), "request refused: the store is unavailable");
        format!("The service is unavailable for a moment; nothing was changed. Try again in {RETRY_AFTER_SECONDS} s.")
    } else if status >= 500 {
        tracing::error!(error = %e, cause = ?std::error::Error::source(e), "request failed");
        "The request could not be completed. It has been logged.".to_owned()
    } else {
        e.to_string()
    };
    let body = ProblemBody { r#type: format!("{TYPE_BASE}{}", k.slug()), title: k.title(), status, detail, field };
    // A struct of strings and numbers always serializes; should it not, the answer is still a
    // problem document rather than an empty body.
    let text = serde_json::to_string(&body).unwrap_or_else(|_| UNSERIALIZABLE.to_owned());
    let mut r = Response::new(Body::from(text));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    if k == ProblemKind::ServiceUnavailable {
        r.headers_mut().insert("retry-after", HeaderValue::from(RETRY_AFTER_SECONDS));
    }
    if status == 401 {
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
        let inner = app::ports::StoreError::Corrupt {
            key: "CUSTOMER#secret-table".into(),
            source: "dynamodb at 10.0.0.7 answered garbage".into(),
        };
        let r = problem_response(&ApiError::App(AppError::Store(inner)), "/orders");
        assert_eq!(r.status(), 500);
        let text = String::from_utf8_lossy(r.body().as_ref()).to_string();
        assert!(!text.contains("secret") && !text.contains("10.0.0.7") && !text.contains("dynamodb"), "{text}");
        assert_eq!(body(&r)["type"], "https://shop-saga.dev/problems/internal");
    }

    #[test]
    fn an_unreachable_store_is_a_503_with_retry_after_and_no_internals() {
        let down = app::ports::StoreError::Unavailable("connection refused: 127.0.0.1:9 customers".into());
        let r = problem_response(&ApiError::App(AppError::Store(down)), "/me");
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "30");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let text = String::from_utf8_lossy(r.body().as_ref()).to_string();
        assert!(!text.contains("127.0.0.1") && !text.contains("customers"), "{text}");
        assert_eq!(body(&r)["type"], "https://shop-saga.dev/problems/service-unavailable");
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
