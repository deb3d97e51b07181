//! Operator commands; credentials and region come from the usual AWS chain, `--endpoint` points at
//! a local emulator (ministack) instead, with placeholder credentials.
//!
//! `ops redrive --queue URL --bus NAME [--table CONTEXT=NAME…]` puts the events of a rule's
//! dead-letter queue back on the bus and deletes their messages; a message of the relay's failure
//! queues (a pointer to a stream range) has its range read back from the stream, when its table is
//! named with `--table`. `ops republish --table CONTEXT=NAME… --bus NAME --since RFC3339` puts what
//! the tables' outboxes committed in a window back on the bus (after an outage longer than the
//! relay's retries).
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
use clap::{Args, Parser, Subcommand};
use domain::Context;

/// Operator commands: put events back on the bus after a failure. Both are safe to repeat.
#[derive(Parser)]
#[command(
    name = "ops",
    after_help = "Examples:\n  cargo run -p ops -- redrive --queue <dead-letter queue URL> --bus <bus name> --dry-run\n  \
                  cargo run -p ops -- republish --table orders=<orders table> --bus <bus name> --since 2026-12-01T10:00:00Z"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Puts the events of a rule's dead-letter queue back on the bus and deletes their messages; a
    /// message of the relay's failure queues (a pointer to a stream range) has its range read back
    /// from the stream, when its table is named with --table.
    #[command(
        after_help = "Example:\n  cargo run -p ops -- redrive --queue <dead-letter queue URL> --bus <bus name> --dry-run"
    )]
    Redrive {
        /// The dead-letter (or failure) queue
        #[arg(long, value_name = "URL")]
        queue: String,
        /// Messages to redrive at the most
        #[arg(long, value_name = "N", default_value_t = 1_000)]
        max: usize,
        /// A table whose stream ranges may be read back, with its context (orders, products,
        /// customers): its records go on the bus only under that context's source; repeat for more
        #[arg(long = "table", value_name = "CONTEXT=NAME", value_parser = table)]
        tables: Vec<(String, Context)>,
        #[command(flatten)]
        to: Target,
    },
    /// Puts what the tables' outboxes committed in a window back on the bus (after an outage
    /// longer than the relay's retries).
    #[command(
        after_help = "Example:\n  cargo run -p ops -- republish --table orders=<orders table> --table products=<products table> \\\n    \
                      --bus <bus name> --since 2026-12-01T10:00:00Z --until 2026-12-01T11:00:00Z --dry-run"
    )]
    Republish {
        /// A table whose outbox to read, with its context (orders, products, customers): its records
        /// go on the bus only under that context's source; repeat for more
        #[arg(long = "table", value_name = "CONTEXT=NAME", value_parser = table, required = true)]
        tables: Vec<(String, Context)>,
        /// The window's start, an RFC 3339 time such as 2026-12-01T10:00:00Z
        #[arg(long, value_name = "RFC3339", value_parser = time)]
        since: DateTime<Utc>,
        /// The window's end, excluded [default: none]
        #[arg(long, value_name = "RFC3339", value_parser = time)]
        until: Option<DateTime<Utc>>,
        #[command(flatten)]
        to: Target,
    },
}

/// Where the events go, and whether they really do.
#[derive(Args)]
struct Target {
    /// The event bus
    #[arg(long, value_name = "NAME")]
    bus: String,
    /// Report what would be done, change nothing
    #[arg(long)]
    dry_run: bool,
    /// A local emulator (ministack) instead of AWS, with placeholder credentials
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
}

fn time(v: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| "an RFC 3339 time, e.g. 2026-12-01T10:00:00Z".to_owned())
}

/// `orders=<table name>`: a table with the context whose outbox it holds.
fn table(v: &str) -> Result<(String, Context), String> {
    let (context, name) = v
        .split_once('=')
        .filter(|(_, n)| !n.is_empty())
        .ok_or("CONTEXT=NAME, e.g. orders=shop-OrdersTable-1Q2W3E".to_owned())?;
    let context = match context {
        "orders" => Context::Orders,
        "products" => Context::Products,
        "customers" => Context::Customers,
        other => return Err(format!("{other:?} is not a context (orders, products, customers)")),
    };
    Ok((name.to_owned(), context))
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
    let Cli { command } = Cli::parse();
    let (Command::Redrive { to, .. } | Command::Republish { to, .. }) = &command;
    let sdk = match &to.endpoint {
        Some(url) => aws_adapters::local_sdk_config(url).await,
        None => aws_adapters::load_sdk_config().await,
    };
    let clients = aws_adapters::Clients::new(&sdk);
    let publisher = Arc::new(aws_adapters::EventBridgePublisher::new(clients.events().clone(), to.bus.clone()));
    let dry_run = to.dry_run;
    let done = match command {
        Command::Redrive { queue, max, tables, .. } => {
            let streams = Arc::new(aws_adapters::DynamoOutboxStream::new(clients.streams().clone()));
            let redrive = ops::Redrive::new(aws_sdk_sqs::Client::new(&sdk), queue, publisher)
                .reading_streams(streams, StreamSources::new(tables));
            redrive.run(dry_run, max).await.map(|r| r.to_string())
        }
        Command::Republish { tables, since, until, .. } => {
            let republish = ops::Republish::new(clients.dynamo().clone(), publisher);
            republish.run(&StreamSources::new(tables), since, until, dry_run).await.map(|r| r.to_string())
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
