//! The emulator speaks the Runtime API well enough for lambda_runtime: the bare binary polls,
//! takes an event, and its answer arrives, invocation after invocation. Behaviour only, never
//! timing.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use lambda_bench::emulator::Outcome;
use lambda_bench::process::{self, Limits, Target};

fn bare(event: &'static str) -> Target {
    Target {
        name: "bare-lambda".into(),
        binary: PathBuf::from(env!("CARGO_BIN_EXE_bare-lambda")),
        env: vec![
            ("AWS_LAMBDA_FUNCTION_NAME".into(), "bare-lambda".into()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), "128".into()),
            ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
        ],
        event: Bytes::from_static(event.as_bytes()),
    }
}

fn log(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    dir.join(format!("{name}.log"))
}

#[tokio::test]
async fn the_bare_binary_answers_every_event_through_the_emulator() {
    let limits = Limits { timeout: Duration::from_secs(30) };
    let run = process::run(&bare(r#"{"hello":"bench"}"#), 3, limits, &log("answers")).await.unwrap();
    assert!(run.init_ms > 0.0);
    assert!(run.rss_kib > 0, "VmRSS was read");
    assert_eq!(run.warm.len(), 3);
    for invocation in std::iter::once(&run.first).chain(&run.warm) {
        assert_eq!(invocation.outcome, Outcome::Response);
        assert_eq!(invocation.answer, r#"{"hello":"bench"}"#, "the bare binary echoes its event");
    }
}

#[tokio::test]
async fn an_event_the_handler_cannot_read_comes_back_on_the_error_route() {
    let limits = Limits { timeout: Duration::from_secs(30) };
    let run = process::run(&bare("not json"), 1, limits, &log("error")).await.unwrap();
    assert_eq!(run.first.outcome, Outcome::Error);
    assert!(run.first.answer.starts_with("error"), "{}", run.first.answer);
    assert_eq!(run.warm[0].outcome, Outcome::Error, "the process lives on after an error");
}

#[tokio::test]
async fn a_binary_that_cannot_start_is_reported_not_awaited() {
    let mut target = bare("{}");
    // lambda_runtime refuses to start without the function's name.
    target.env.retain(|(k, _)| k != "AWS_LAMBDA_FUNCTION_NAME");
    let limits = Limits { timeout: Duration::from_secs(30) };
    let err = process::run(&target, 1, limits, &log("no-start")).await.unwrap_err();
    assert!(err.contains("exited") || err.contains("init error"), "{err}");
}
