//! Operator commands; credentials and region come from the usual AWS chain, `--endpoint` points at
//! a local emulator (ministack) instead, with placeholder credentials.
//!
//! `ops redrive --queue URL --bus NAME [--table CONTEXT=NAME…] [--dry-run] [--max N] [--endpoint
//! URL]` puts the events of a rule's dead-letter queue back on the bus and deletes their messages;
//! a message of the relay's failure queues (a pointer to a stream range) has its range read back
//! from the stream, when its table is named with `--table`.
//!
//! `ops republish --table CONTEXT=NAME [--table CONTEXT=NAME…] --bus NAME --since RFC3339
//! [--until RFC3339] [--dry-run] [--endpoint URL]` puts what the tables' outboxes committed in the
//! window back on the bus (after an outage longer than the relay's retries).
//!
//! `--table orders=<orders table>` names a table with its context (`orders`, `products`,
//! `customers`): as the relay does, a record goes on the bus only under its table's context's
//! source; one that names another is reported and left out.
//!
//! Both are safe to repeat: every consumer is idempotent (see the crate's documentation).

use std::process::ExitCode;
use std::sync::Arc;

use app::relay::StreamSources;
use chrono::{DateTime, Utc};
use domain::Context;

const USAGE: &str = "usage: ops redrive --queue URL --bus NAME [--table CONTEXT=NAME...] [--dry-run] [--max N] [--endpoint URL]\n       ops republish --table CONTEXT=NAME [--table CONTEXT=NAME...] --bus NAME --since RFC3339 [--until RFC3339] [--dry-run] [--endpoint URL]\n       (CONTEXT: orders, products or customers)";

enum Command {
    Redrive { queue: String, max: usize },
    Republish { since: DateTime<Utc>, until: Option<DateTime<Utc>> },
}

struct Args {
    command: Command,
    tables: StreamSources,
    bus: String,
    dry_run: bool,
    endpoint: Option<String>,
}

fn time(v: Option<String>, flag: &str) -> Result<DateTime<Utc>, String> {
    v.and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or(format!("{flag} needs an RFC 3339 time, e.g. 2026-12-01T10:00:00Z"))
}

/// `orders=<table name>`: a table with the context whose outbox it holds.
fn table(v: Option<String>) -> Result<(String, Context), String> {
    let v = v.unwrap_or_default();
    let (context, name) = v
        .split_once('=')
        .filter(|(_, n)| !n.is_empty())
        .ok_or(format!("--table needs CONTEXT=NAME, e.g. --table orders=shop-OrdersTable-1Q2W3E, not {v:?}"))?;
    let context = match context {
        "orders" => Context::Orders,
        "products" => Context::Products,
        "customers" => Context::Customers,
        other => return Err(format!("--table: {other:?} is not a context (orders, products, customers)")),
    };
    Ok((name.to_owned(), context))
}

fn args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let which = it.next().unwrap_or_default();
    let (mut queue, mut bus, mut dry_run, mut max, mut endpoint) = (None, None, false, 1_000usize, None);
    let (mut tables, mut since, mut until) = (vec![], None, None);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--queue" => queue = it.next(),
            "--bus" => bus = it.next(),
            "--dry-run" => dry_run = true,
            "--max" => max = it.next().and_then(|v| v.parse().ok()).ok_or("--max needs a whole number")?,
            "--endpoint" => endpoint = it.next(),
            "--table" => tables.push(table(it.next())?),
            "--since" => since = Some(time(it.next(), "--since")?),
            "--until" => until = Some(time(it.next(), "--until")?),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let command = match which.as_str() {
        "redrive" => Command::Redrive { queue: queue.ok_or(format!("--queue is required\n{USAGE}"))?, max },
        "republish" if !tables.is_empty() => {
            Command::Republish { since: since.ok_or(format!("--since is required\n{USAGE}"))?, until }
        }
        "republish" => return Err(format!("--table is required\n{USAGE}")),
        _ => return Err(USAGE.into()),
    };
    let tables = StreamSources::new(tables);
    Ok(Args { command, tables, bus: bus.ok_or(format!("--bus is required\n{USAGE}"))?, dry_run, endpoint })
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    msg
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
    let publisher = Arc::new(aws_adapters::EventBridgePublisher::new(clients.events().clone(), a.bus));
    let done = match a.command {
        Command::Redrive { queue, max } => {
            let streams = Arc::new(aws_adapters::DynamoOutboxStream::new(clients.streams().clone()));
            let redrive =
                ops::Redrive::new(aws_sdk_sqs::Client::new(&sdk), queue, publisher).reading_streams(streams, a.tables);
            redrive.run(a.dry_run, max).await.map(|r| r.to_string())
        }
        Command::Republish { since, until } => {
            let republish = ops::Republish::new(clients.dynamo().clone(), publisher);
            republish.run(&a.tables, since, until, a.dry_run).await.map(|r| r.to_string())
        }
    };
    match done {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("failed: {}", chain(&e));
            ExitCode::FAILURE
        }
    }
}
