//! `cargo run -p ops -- redrive --queue URL --bus NAME [--dry-run] [--max N] [--endpoint URL]`
//!
//! Puts the events of a rule's dead-letter queue back on the bus and deletes their messages (see
//! the crate's documentation for why that is safe). `--dry-run` reports what it would redrive and
//! changes nothing. Credentials and region come from the usual AWS chain; `--endpoint` points at a
//! local emulator (ministack) instead, with placeholder credentials.

use std::process::ExitCode;
use std::sync::Arc;

struct Args {
    queue: String,
    bus: String,
    dry_run: bool,
    max: usize,
    endpoint: Option<String>,
}

const USAGE: &str = "usage: ops redrive --queue URL --bus NAME [--dry-run] [--max N] [--endpoint URL]";

fn args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    if it.next().as_deref() != Some("redrive") {
        return Err(USAGE.into());
    }
    let (mut queue, mut bus, mut dry_run, mut max, mut endpoint) = (None, None, false, 1_000usize, None);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--queue" => queue = it.next(),
            "--bus" => bus = it.next(),
            "--dry-run" => dry_run = true,
            "--max" => max = it.next().and_then(|v| v.parse().ok()).ok_or("--max needs a whole number")?,
            "--endpoint" => endpoint = it.next(),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(Args {
        queue: queue.ok_or(format!("--queue is required\n{USAGE}"))?,
        bus: bus.ok_or(format!("--bus is required\n{USAGE}"))?,
        dry_run,
        max,
        endpoint,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let sdk = match &a.endpoint {
        Some(url) => aws_adapters::local_sdk_config(url).await,
        None => aws_adapters::load_sdk_config().await,
    };
    let clients = aws_adapters::Clients::new(&sdk);
    let publisher = Arc::new(aws_adapters::EventBridgePublisher::new(clients.events, a.bus));
    let redrive = ops::Redrive::new(aws_sdk_sqs::Client::new(&sdk), a.queue, publisher);
    match redrive.run(a.dry_run, a.max).await {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            let mut msg = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                msg.push_str(&format!(": {s}"));
                source = s.source();
            }
            eprintln!("redrive failed: {msg}");
            ExitCode::FAILURE
        }
    }
}
