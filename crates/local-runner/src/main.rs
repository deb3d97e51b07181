//! `cargo run -p local-runner` — the shop on http://127.0.0.1:3000 (PORT to change it).
//!
//! Options (`--help`): `--no-seed` starts empty; `--template PATH` reads another template;
//! `--dynamodb URL` keeps state in DynamoDB at URL (e.g. a ministack) instead of in memory,
//! in tables prefixed `shop-local-` that it creates when missing.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use app::SystemEnvironment;
use bundle::manifest::{Auth, Trigger};
use clap::Parser;
use local_runner::{seed, server, LocalSystem};
use sam_template::Template;
use tokio::sync::watch;

/// The whole shop offline on 127.0.0.1: every route of template.yaml with the handlers the Lambda
/// functions run, the saga routed by the template's rules, and a development identity provider.
#[derive(Parser)]
#[command(
    name = "shop-local",
    after_help = "It listens on port PORT (3000 when unset) and stops on Ctrl-C or SIGTERM.\n\n\
                  Examples:\n  cargo run -p local-runner\n  PORT=8080 cargo run -p local-runner -- --no-seed\n  \
                  cargo run -p local-runner -- --dynamodb http://127.0.0.1:4566    # a ministack there"
)]
struct Cli {
    /// Start empty, without the sample catalogue and customers.
    #[arg(long)]
    no_seed: bool,
    /// The SAM template to serve [default: template.yaml here, else the workspace's].
    #[arg(long, value_name = "PATH")]
    template: Option<String>,
    /// Keep the state in DynamoDB at URL (e.g. a ministack), in tables prefixed `shop-local-` that
    /// it creates when missing, instead of in memory.
    #[arg(long, value_name = "URL")]
    dynamodb: Option<String>,
}

struct Args {
    port: u16,
    seed: bool,
    template: String,
    dynamodb: Option<String>,
}

/// The command line, and the port from PORT.
fn args() -> Result<Args, String> {
    let cli = Cli::parse();
    let port = match std::env::var("PORT") {
        Ok(p) => p.parse().map_err(|_| format!("PORT must be a port number, not {p:?}"))?,
        Err(_) => 3000,
    };
    Ok(Args {
        port,
        seed: !cli.no_seed,
        template: cli.template.unwrap_or_else(default_template),
        dynamodb: cli.dynamodb,
    })
}

/// template.yaml at the workspace root, wherever cargo runs us from.
fn default_template() -> String {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    if std::path::Path::new("template.yaml").exists() {
        "template.yaml".into()
    } else {
        here.display().to_string()
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    local_runner::init_logging();
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let stop = stop_signal();
    let system = match build(&args).await {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port))).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let background = tokio::spawn(system.clone().run_background(Duration::from_secs(10), stopped(stop_rx.clone())));
    // The operator of this runner: an admin subject of its own, with a token printed below.
    let admin = app::access::Caller::new(uuid::Uuid::new_v4(), true);
    let seeded = if args.seed {
        match seed::seed(&system, &admin).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("seeding failed: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        seed::Seeded::default()
    };
    let _ = system.sign_in_as.set(seeded.customers.clone());
    let port = listener.local_addr().map_or(args.port, |a| a.port());
    banner(port, &system, &seeded, &admin);
    let server = tokio::spawn(server::serve(listener, system.clone(), stopped(stop_rx)));
    stop.await;
    println!("\nstopping…");
    let _ = stop_tx.send(true);
    let _ = server.await;
    let _ = background.await;
    ExitCode::SUCCESS
}

/// Ctrl-C, or SIGTERM from a process manager. Both are listened for from the moment this is
/// called, not from the first poll: a signal that comes as soon as the banner is out (a test, a
/// supervisor) stops the runner cleanly instead of killing it.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let listening = signal(SignalKind::interrupt()).and_then(|i| Ok((i, signal(SignalKind::terminate())?)));
        async move {
            match listening {
                Ok((mut interrupt, mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn build(args: &Args) -> Result<LocalSystem, local_runner::RunnerError> {
    let template = Template::load(&args.template)?;
    LocalSystem::at(&template, SystemEnvironment::shared(), args.dynamodb.as_deref(), "shop-local-").await
}

fn banner(port: u16, system: &LocalSystem, seeded: &seed::Seeded, admin: &app::access::Caller) {
    let url = format!("http://127.0.0.1:{port}");
    println!("\nshop-saga running offline at {url}  (Ctrl-C to stop)\n");
    println!("routes (from template.yaml):");
    for (method, path, function) in system.routes.list() {
        let public = matches!(function.trigger(), Trigger::Http { auth: Auth::Public, .. });
        println!("  {method:<5} {path:<28} → {function}{}", if public { "  (public)" } else { "" });
    }
    println!("saga rules: {}", system.rules.list().iter().map(|(f, _)| f.name()).collect::<Vec<_>>().join(", "));
    println!("storefront and operator console: {url}/   API explorer: {url}/docs");
    println!("OpenAPI document: {url}/openapi.json");
    let token = |sub: uuid::Uuid, groups: &[String]| system.identity.token(sub, groups).unwrap_or_default();
    let admin_token = token(admin.subject(), &[app::access::ADMIN_GROUP.to_owned()]);
    println!("\ndevelopment identity provider (tokens valid 1 h; more with POST {url}/_local/token):");
    println!("  JWKS   {url}/.well-known/jwks.json");
    println!("  admin  export ADMIN_TOKEN={admin_token}");
    let mut customer = "<customer-id>".to_owned();
    for (i, (name, id)) in seeded.customers.iter().enumerate() {
        let t = id.parse().map(|sub| token(sub, &[])).unwrap_or_default();
        println!("  {name:<14} {id}\n         export TOKEN_{}={t}", i + 1);
        if i == 0 {
            customer.clone_from(id);
        }
    }
    let product = seeded.products.first().map_or("<product-id>", |p| p.1.as_str());
    if !seeded.products.is_empty() {
        println!("\nseeded products:");
        for (name, id) in &seeded.products {
            println!("  {id}  {name}");
        }
    }
    let address =
        r#"{"street":"12 Analytical Way","city":"Columbus","region":"OH","postalCode":"43004","country":"US"}"#;
    let auth = "-H \"authorization: Bearer $TOKEN_1\"";
    println!("\ntry (after the exports above):");
    println!("  curl -s {url}/products");
    println!("  curl -s {url}/me {auth}");
    println!(
        "  curl -s -X POST {url}/orders {auth} -H 'content-type: application/json' -H 'Idempotency-Key: demo-1' \\\n    -d '{{\"lines\":[{{\"productId\":\"{product}\",\"quantity\":2}}],\"shippingAddress\":{address},\"shippingSpeed\":\"standard\"}}'"
    );
    println!("  curl -s {url}/orders/<order-id> {auth}          # APPROVED a moment later");
    println!("  curl -s {url}/customers/{customer}/orders {auth}");
    println!("  curl -s -X POST {url}/orders/<order-id>/cancel {auth}");
    println!(
        "  curl -s -X POST {url}/_local/token -H 'content-type: application/json' -d '{{\"sub\":\"'$(uuidgen)'\"}}'   # a new customer's token\n"
    );
}
