//! One function process under the emulator: spawn, cold start, idle memory, a first and some warm
//! invocations, then killed by its PID.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::watch;

use crate::emulator::{Completion, Emulator, Outcome};

/// What to start, and how.
#[derive(Debug, Clone)]
pub struct Target {
    /// The function's name (`AWS_LAMBDA_FUNCTION_NAME`), or `bare-lambda`.
    pub name: String,
    pub binary: PathBuf,
    /// The whole environment of the process (nothing is inherited).
    pub env: Vec<(String, String)>,
    /// The event each invocation gets.
    pub event: Bytes,
}

/// One invocation, measured by the emulator.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub ms: f64,
    pub outcome: Outcome,
    /// What the function answered, shortened: `HTTP 200`, a step's report, an error type.
    pub answer: String,
}

/// One process, from spawn to kill.
#[derive(Debug, Clone)]
pub struct Run {
    /// Spawn to the first `GET …/next`.
    pub init_ms: f64,
    /// VmRSS once the process waits on its first `GET …/next`.
    pub rss_kib: u64,
    pub first: Invocation,
    pub warm: Vec<Invocation>,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// For the cold start, and for each invocation.
    pub timeout: Duration,
}

/// Kills the child by its PID (SIGKILL) and reaps it, however the measurement ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `target` against a fresh emulator, measures it, and kills it. Its stdout and stderr
/// are appended to `log`.
pub async fn run(target: &Target, warm: usize, limits: Limits, log: &Path) -> Result<Run, String> {
    let emulator = Emulator::start(&target.name).await.map_err(|e| format!("cannot start the emulator: {e}"))?;
    let out = File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("cannot open the log {}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| format!("cannot open the log {}: {e}", log.display()))?;
    let mut command = Command::new(&target.binary);
    command
        .env_clear()
        .envs(target.env.iter().map(|(k, v)| (k, v)))
        .env("AWS_LAMBDA_RUNTIME_API", emulator.runtime_api())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    if let Some(dir) = target.binary.parent() {
        command.current_dir(dir);
    }
    let mut first_poll = emulator.first_poll();
    let mut init_error = emulator.init_error();
    let spawned = Instant::now();
    let child = command.spawn().map_err(|e| format!("cannot start {}: {e}", target.binary.display()))?;
    let mut child = Killed(child);
    let pid = child.0.id();

    let polled =
        wait_for(&mut first_poll, &mut init_error, &mut child.0, limits.timeout, "its first GET /next").await?;
    let init_ms = ms(polled.saturating_duration_since(spawned));
    let rss_kib = vm_rss_kib(pid)?;

    let first = invoke(&emulator, target, &mut init_error, &mut child.0, limits).await?;
    let mut warms = Vec::with_capacity(warm);
    for _ in 0..warm {
        warms.push(invoke(&emulator, target, &mut init_error, &mut child.0, limits).await?);
    }
    drop(child);
    Ok(Run { init_ms, rss_kib, first, warm: warms })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Waits until `value` is set, failing when the process reports an init error, exits, or takes
/// longer than `timeout`.
async fn wait_for<T: Clone>(
    value: &mut watch::Receiver<Option<T>>,
    init_error: &mut watch::Receiver<Option<String>>,
    child: &mut Child,
    timeout: Duration,
    what: &str,
) -> Result<T, String> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    loop {
        if let Some(v) = value.borrow_and_update().clone() {
            return Ok(v);
        }
        if let Some(e) = init_error.borrow().clone() {
            return Err(format!("it reported an init error: {e}"));
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("it exited ({status}) before {what}"));
        }
        tokio::select! {
            changed = value.changed() => {
                if changed.is_err() && value.borrow().is_none() {
                    return Err(format!("the emulator lost track of {what}"));
                }
            }
            changed = init_error.changed() => {
                if changed.is_err() {
                    return Err("the emulator stopped".to_owned());
                }
            }
            _ = tick.tick() => {}
            _ = tokio::time::sleep_until(deadline) => return Err(format!("no {what} within {timeout:?}")),
        }
    }
}

async fn invoke(
    emulator: &Emulator,
    target: &Target,
    init_error: &mut watch::Receiver<Option<String>>,
    child: &mut Child,
    limits: Limits,
) -> Result<Invocation, String> {
    let (tx, mut rx) = watch::channel(None::<Completion>);
    let done = emulator.invoke(target.event.clone());
    let forward = tokio::spawn(async move {
        if let Ok(c) = done.await {
            let _ = tx.send(Some(c));
        }
    });
    let result = wait_for(&mut rx, init_error, child, limits.timeout, "an answer to its event").await;
    forward.abort();
    let c = result?;
    Ok(Invocation { ms: ms(c.elapsed()), outcome: c.outcome, answer: summarize(c.outcome, &c.body) })
}

/// A short account of an answer: the status of an HTTP response, a step's report, an error type.
pub fn summarize(outcome: Outcome, body: &[u8]) -> String {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let text = match (outcome, &json) {
        (Outcome::Response, Some(v)) if v.get("statusCode").is_some() => {
            format!("HTTP {}", v["statusCode"])
        }
        (Outcome::Error, Some(v)) if v.get("errorType").is_some() => {
            // The type is often a Rust type path (`&alloc::boxed::Box<dyn …>`): the message says more.
            let t = v["errorType"].as_str().filter(|t| !t.contains("::")).unwrap_or("");
            let m = v.get("errorMessage").and_then(|m| m.as_str()).unwrap_or("");
            format!("error {t}: {m}").replace("error :", "error:")
        }
        _ => String::from_utf8_lossy(body).into_owned(),
    };
    const MAX: usize = 100;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The resident set of process `pid`, from /proc/PID/status.
pub fn vm_rss_kib(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmRSS in {path}"))
}
