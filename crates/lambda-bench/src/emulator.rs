//! A Lambda Runtime API of our own, on 127.0.0.1: enough of it for one function process.
//!
//! `GET /2018-06-01/runtime/invocation/next` is a long poll that hands out the next queued event
//! with the headers Lambda sends; `POST …/invocation/{id}/response` and `…/{id}/error` complete
//! that invocation; `POST /2018-06-01/runtime/init/error` records a failed cold start. The
//! emulator stamps the moments the bench measures where they happen: the first poll (the end of
//! the cold start), the hand-out of each event and the arrival of its answer.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

const PREFIX: &str = "/2018-06-01/runtime";
/// Lambda's limit on a response payload (6 MB), and so on what the emulator reads.
const MAX_BODY: usize = 6 * 1024 * 1024;
/// The deadline each invocation is handed: far enough away never to cut a measurement short.
const DEADLINE: Duration = Duration::from_secs(300);

/// How an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `POST …/{id}/response`.
    Response,
    /// `POST …/{id}/error`.
    Error,
}

/// One invocation as the emulator saw it.
#[derive(Debug, Clone)]
pub struct Completion {
    /// When the event went out in the answer to `GET …/next`.
    pub handed_out: Instant,
    /// When the function's answer (response or error) had fully arrived.
    pub answered: Instant,
    pub outcome: Outcome,
    pub body: Bytes,
}

impl Completion {
    pub fn elapsed(&self) -> Duration {
        self.answered.saturating_duration_since(self.handed_out)
    }
}

struct Queued {
    id: String,
    event: Bytes,
    done: oneshot::Sender<Completion>,
}

struct InFlight {
    handed_out: Instant,
    done: oneshot::Sender<Completion>,
}

struct State {
    function_arn: String,
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    in_flight: Mutex<HashMap<String, InFlight>>,
    first_poll: watch::Sender<Option<Instant>>,
    init_error: watch::Sender<Option<String>>,
}

/// A running emulator; it stops (and drops every connection) when dropped.
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<State>,
    queue: mpsc::UnboundedSender<Queued>,
    next_id: AtomicU64,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Emulator {
    /// Listens on 127.0.0.1 on a free port, for a function called `function_name`.
    pub async fn start(function_name: &str) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{function_name}"),
            queue: tokio::sync::Mutex::new(rx),
            in_flight: Mutex::new(HashMap::new()),
            first_poll: watch::channel(None).0,
            init_error: watch::channel(None).0,
        });
        let server = tokio::spawn(accept(listener, state.clone()));
        Ok(Emulator { addr, state, queue: tx, next_id: AtomicU64::new(1), server })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API`: `127.0.0.1:PORT`.
    pub fn runtime_api(&self) -> String {
        self.addr.to_string()
    }

    /// Becomes `Some(when)` at the first `GET …/next`.
    pub fn first_poll(&self) -> watch::Receiver<Option<Instant>> {
        self.state.first_poll.subscribe()
    }

    /// Becomes `Some(body)` when the function reports a failed cold start.
    pub fn init_error(&self) -> watch::Receiver<Option<String>> {
        self.state.init_error.subscribe()
    }

    /// Queues `event` for the next `GET …/next`; the receiver gets the invocation once answered.
    pub fn invoke(&self, event: Bytes) -> oneshot::Receiver<Completion> {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let id = format!("{:08x}-0000-4000-8000-{n:012x}", self.addr.port());
        let (done, rx) = oneshot::channel();
        // The receiving end lives in `state`, which outlives every sender: this cannot fail.
        let _ = self.queue.send(Queued { id, event, done });
        rx
    }
}

async fn accept(listener: TcpListener, state: Arc<State>) {
    // Connection tasks live in the set, so aborting this task ends them too.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let state = state.clone();
                connections.spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), req));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

fn reply(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let arrived = Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let Some(route) = path.strip_prefix(PREFIX) else {
        return Ok(reply(StatusCode::NOT_FOUND, r#"{"errorType":"NotFound"}"#));
    };
    match (method, route) {
        (Method::GET, "/invocation/next") => {
            state.first_poll.send_if_modified(|first| first.is_none() && first.replace(arrived).is_none());
            Ok(next(&state).await)
        }
        (Method::POST, "/init/error") => {
            let body = read_body(req).await;
            state.init_error.send_replace(Some(String::from_utf8_lossy(&body).into_owned()));
            Ok(reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#))
        }
        (Method::POST, route) => {
            let Some((id, outcome)) = route.strip_prefix("/invocation/").and_then(|rest| {
                if let Some(id) = rest.strip_suffix("/response") {
                    Some((id.to_owned(), Outcome::Response))
                } else {
                    rest.strip_suffix("/error").map(|id| (id.to_owned(), Outcome::Error))
                }
            }) else {
                return Ok(reply(StatusCode::NOT_FOUND, r#"{"errorType":"NotFound"}"#));
            };
            let body = read_body(req).await;
            let answered = Instant::now();
            let Some(flight) = state.in_flight.lock().ok().and_then(|mut m| m.remove(&id)) else {
                return Ok(reply(StatusCode::BAD_REQUEST, r#"{"errorType":"InvalidRequestID"}"#));
            };
            let _ = flight.done.send(Completion { handed_out: flight.handed_out, answered, outcome, body });
            Ok(reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#))
        }
        _ => Ok(reply(StatusCode::NOT_FOUND, r#"{"errorType":"NotFound"}"#)),
    }
}

async fn read_body(req: Request<Incoming>) -> Bytes {
    match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => Bytes::new(),
    }
}

/// The long poll: waits for the next queued event and hands it out with Lambda's headers.
async fn next(state: &State) -> Response<Full<Bytes>> {
    let queued = state.queue.lock().await.recv().await;
    let Some(Queued { id, event, done }) = queued else {
        return reply(StatusCode::INTERNAL_SERVER_ERROR, r#"{"errorType":"ShuttingDown"}"#);
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let deadline_ms = (now + DEADLINE).as_millis();
    let trace = format!(
        "Root=1-{:08x}-{:024x};Parent={:016x};Sampled=0",
        now.as_secs(),
        now.as_nanos() & ((1 << 96) - 1),
        now.subsec_nanos()
    );
    let mut response = Response::new(Full::new(event));
    let headers = response.headers_mut();
    let pairs = [
        ("lambda-runtime-aws-request-id", id.clone()),
        ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
        ("lambda-runtime-invoked-function-arn", state.function_arn.clone()),
        ("lambda-runtime-trace-id", trace),
        ("content-type", "application/json".to_owned()),
    ];
    for (name, value) in pairs {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    let handed_out = Instant::now();
    if let Ok(mut m) = state.in_flight.lock() {
        m.insert(id, InFlight { handed_out, done });
    }
    response
}
