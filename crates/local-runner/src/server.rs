//! The HTTP front door: API Gateway's job for the local runner. Resolves each request against
//! the template's routes and hands it, as the Lambda event the function would get, to the same
//! handler the function runs.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use handlers::problem::{problem_response, ApiError};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::{Body, RequestExt};
use tokio::net::TcpListener;

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
    let function = match system.routes.resolve(parts.method.as_str(), &path) {
        Resolution::Found { function, params } => (function, params),
        Resolution::MethodNotAllowed => {
            return Ok(to_hyper(problem_response(&ApiError::MethodNotAllowed(parts.method.to_string()), &path)))
        }
        Resolution::NotFound => {
            let e = ApiError::RouteNotFound { method: parts.method.to_string(), path: path.clone() };
            return Ok(to_hyper(problem_response(&e, &path)));
        }
    };
    let query: QueryMap = parts.uri.query().unwrap_or("").parse().unwrap_or_default();
    let body = if bytes.is_empty() { Body::Empty } else { Body::Binary(bytes.to_vec()) };
    let request = lambda_http::Request::from_parts(parts, body)
        .with_path_parameters(function.1)
        .with_query_string_parameters(query)
        .with_raw_http_path(path.clone());
    let started = std::time::Instant::now();
    let response = match system.functions.http(function.0, request).await {
        Some(r) => r,
        None => problem_response(&ApiError::RouteNotFound { method: "?".into(), path: path.clone() }, &path),
    };
    tracing::info!(function = %function.0, %path, status = response.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    Ok(to_hyper(response))
}

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
