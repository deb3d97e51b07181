//! One function, locally, for real: what `local-aws` (and `scripts/local-aws.sh`) does.
//!
//! Against a local DynamoDB/EventBridge endpoint (ministack), it creates the stack's three tables
//! and its bus, seeds the records the files in `events/` refer to ([`crate::fixtures`]), and
//! writes the environment a function needs as `KEY='VALUE'` lines: every variable any function
//! reads, plus the endpoint, the region and dummy credentials. A function binary started with that
//! environment (by `cargo lambda watch --env-file`, or by hand) and invoked with its own event file
//! answers as it would on AWS with the same data, instead of reaching for AWS without credentials.
//!
//! It only ever talks to a loopback endpoint: anything else is refused before a request is made.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use aws_adapters::{SetupError, TableNames};
use sam_template::{Template, TemplateError};

use crate::fixtures::{self, FixtureError, Seeded};

/// The table prefix and bus name of a stack called `shop-dev`.
pub const DEFAULT_PREFIX: &str = "shop-dev-";
/// Where the environment is written, relative to the working directory.
pub const DEFAULT_ENV_FILE: &str = ".scratch/local-aws.env";
/// The region of the sample events and of the endpoint's resources.
pub const REGION: &str = aws_adapters::LOCAL_REGION;
/// Credentials a local endpoint accepts; never real ones.
pub const DUMMY_KEY: &str = "test";

/// Creates the stack's tables and event bus at a local DynamoDB/EventBridge endpoint such as
/// ministack, seeds the customer, products and PENDING order that events/*.json refer to, then
/// prints the environment a function needs as KEY='VALUE' lines on stdout and writes them to the
/// env file (for `cargo lambda watch --env-file` and `set -a; . FILE`). Running it again changes nothing that exists.
#[derive(Debug, clap::Parser)]
#[command(
    name = "local-aws",
    after_help = "Examples:\n  cargo run -p local-runner --bin local-aws -- --endpoint http://127.0.0.1:4566\n  \
                  scripts/local-aws.sh    # starts a ministack and runs this"
)]
struct Cli {
    /// The local endpoint: http://127.0.0.1:PORT, http://localhost:PORT or http://[::1]:PORT
    /// (anything else is refused)
    #[arg(long, value_name = "URL")]
    endpoint: String,
    /// Table names PREFIX{customers,products,orders}, bus PREFIXbus
    #[arg(long, default_value = DEFAULT_PREFIX)]
    prefix: String,
    /// Where to write the environment
    #[arg(long, value_name = "PATH", default_value = DEFAULT_ENV_FILE)]
    env_file: PathBuf,
    /// The SAM template whose parameter defaults fill in the rest [default: template.yaml]
    #[arg(long, value_name = "PATH")]
    template: Option<PathBuf>,
}

/// What `--help` prints.
fn help() -> String {
    <Cli as clap::CommandFactory>::command().render_long_help().to_string()
}

#[derive(Debug, thiserror::Error)]
pub enum LocalAwsError {
    /// The command line's mistake, with the usage.
    #[error("{}", .0.trim_end())]
    Usage(String),
    #[error("refusing endpoint {0:?}: local-aws only talks to a local endpoint (http://127.0.0.1:PORT, http://localhost:PORT or http://[::1]:PORT)")]
    NotLocal(String),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("no value for {var}: {why}")]
    Unresolved { var: &'static str, why: String },
    #[error("cannot create the tables at {endpoint}")]
    Tables {
        endpoint: String,
        #[source]
        source: SetupError,
    },
    #[error("cannot create the event bus {bus} at {endpoint}")]
    Bus {
        bus: String,
        endpoint: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot seed the fixtures")]
    Fixtures(#[from] FixtureError),
    #[error("cannot write {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl LocalAwsError {
    /// The process exit code: 2 for a usage error, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            LocalAwsError::Usage(_) | LocalAwsError::NotLocal(_) => 2,
            _ => 1,
        }
    }
}

/// What to provision, from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub endpoint: String,
    pub prefix: String,
    pub env_file: PathBuf,
    pub template: PathBuf,
}

/// `None` when help was asked for.
pub fn parse_args(
    args: impl IntoIterator<Item = String>,
    default_template: &Path,
) -> Result<Option<Options>, LocalAwsError> {
    use clap::error::ErrorKind;
    use clap::{CommandFactory, Parser};
    let cli = match Cli::try_parse_from(std::iter::once("local-aws".to_owned()).chain(args)) {
        Ok(cli) => cli,
        Err(e) if e.kind() == ErrorKind::DisplayHelp => return Ok(None),
        Err(e) => return Err(LocalAwsError::Usage(e.to_string())),
    };
    let Cli { endpoint, prefix, env_file, template } = cli;
    let valid_prefix = !prefix.is_empty()
        && prefix.len() <= 200
        && prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !valid_prefix {
        let why = format!("--prefix {prefix:?}: use letters, digits, '-', '_' or '.' (it starts table and bus names)");
        return Err(LocalAwsError::Usage(Cli::command().error(ErrorKind::ValueValidation, why).to_string()));
    }
    let template = template.unwrap_or_else(|| default_template.to_path_buf());
    Ok(Some(Options { endpoint: local_endpoint(&endpoint)?, prefix, env_file, template }))
}

/// The endpoint without a trailing slash, when it is plain HTTP on a loopback address.
pub fn local_endpoint(url: &str) -> Result<String, LocalAwsError> {
    let refuse = || LocalAwsError::NotLocal(url.to_owned());
    let rest = url.strip_prefix("http://").ok_or_else(refuse)?;
    let authority = rest.trim_end_matches('/');
    if authority.contains(['/', '?', '#', '@']) {
        return Err(refuse());
    }
    let (host, port) = authority.rsplit_once(':').ok_or_else(refuse)?;
    let port_ok = port.parse::<u16>().is_ok_and(|p| p > 0);
    if !port_ok || !["127.0.0.1", "localhost", "[::1]"].contains(&host) {
        return Err(refuse());
    }
    Ok(format!("http://{authority}"))
}

/// The names of the stack's resources for `prefix`.
pub fn resource_names(prefix: &str) -> (TableNames, String) {
    (TableNames::with_prefix(prefix), format!("{prefix}bus"))
}

/// The environment variables the functions read, and where each value comes from. This is the one
/// place that reads the function manifest (crates/bundle/src/manifest.rs).
mod manifest {
    use std::collections::BTreeSet;

    use aws_adapters::TableNames;
    use bundle::manifest::{vars, Table};
    use bundle::Function;

    /// Every variable any function reads.
    pub fn variables() -> BTreeSet<&'static str> {
        Function::ALL.iter().flat_map(|f| f.env().iter().copied()).collect()
    }

    /// The value of `var` when it names one of the stack's resources.
    pub fn resource_value(var: &str, names: &TableNames, bus: &str) -> Option<String> {
        let table = Table::ALL.into_iter().find(|t| t.var() == var || t.outbox_var() == var).map(|t| match t {
            Table::Customers => names.customers.clone(),
            Table::Products => names.products.clone(),
            Table::Orders => names.orders.clone(),
        });
        table.or_else(|| (var == vars::EVENT_BUS_NAME).then(|| bus.to_owned()))
    }
}

/// The default of the template parameter that the template's functions set `var` from.
fn parameter_default(var: &'static str, template: &Template) -> Result<String, LocalAwsError> {
    let unresolved = |why: String| LocalAwsError::Unresolved { var, why };
    let functions = template.functions()?;
    let reference = functions
        .iter()
        .find_map(|f| f.env.get(var))
        .ok_or_else(|| unresolved("no function of the template sets it".into()))?;
    template.parameter_default(reference).ok_or_else(|| {
        unresolved(format!("the template sets it from {reference}, which is not a parameter with a default"))
    })
}

/// The environment a function needs against `endpoint`, in the order it is printed: the
/// endpoint, region and dummy credentials, then every variable any function reads.
pub fn environment(
    endpoint: &str,
    names: &TableNames,
    bus: &str,
    template: &Template,
) -> Result<Vec<(String, String)>, LocalAwsError> {
    let mut env = vec![
        ("AWS_ENDPOINT_URL".to_owned(), endpoint.to_owned()),
        ("AWS_REGION".to_owned(), REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID".to_owned(), DUMMY_KEY.to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), DUMMY_KEY.to_owned()),
    ];
    for var in manifest::variables() {
        let value = match manifest::resource_value(var, names, bus) {
            Some(v) => v,
            None => parameter_default(var, template)?,
        };
        if value.contains(UNQUOTABLE) {
            let why = format!("{value:?} cannot be single-quoted on one line of the env file");
            return Err(LocalAwsError::Unresolved { var, why });
        }
        env.push((var.to_owned(), value));
    }
    Ok(env)
}

/// What a value of the env file may not hold: it is single-quoted on one line, which bash and
/// cargo-lambda read alike only without these (the format: [`bundle::config::env_lines`]).
const UNQUOTABLE: [char; 4] = ['\'', '\\', '\n', '\r'];

/// `KEY='VALUE'` lines: what `cargo lambda watch --env-file` reads and `set -a; . FILE` sources,
/// in the format [`bundle::config::env_lines`] states. Every value comes from [`environment`],
/// which refuses one the format cannot hold.
pub fn render(env: &[(String, String)]) -> String {
    env.iter().map(|(k, v)| format!("{k}='{v}'\n")).collect()
}

/// Reads the env file back ([`bundle::config::env_lines`]).
pub fn parse_env(text: &str) -> BTreeMap<String, String> {
    bundle::config::env_lines(text).collect()
}

/// What [`provision`] did.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub names: TableNames,
    pub bus: String,
    pub seeded: Seeded,
    pub env: Vec<(String, String)>,
}

/// Creates the tables and the bus (keeping those that exist), seeds the fixtures and writes the
/// environment to the env file. The environment is worked out first, so a template it cannot be
/// filled from stops it before any request.
pub async fn provision(opts: &Options) -> Result<Provisioned, LocalAwsError> {
    let endpoint = local_endpoint(&opts.endpoint)?;
    let template = Template::load(&opts.template)?;
    let (names, bus) = resource_names(&opts.prefix);
    let env = environment(&endpoint, &names, &bus, &template)?;

    let clients = aws_adapters::Clients::new(&aws_adapters::local_sdk_config(&endpoint).await);
    let dynamo = clients.dynamo().clone();
    aws_adapters::create_tables(&dynamo, &names)
        .await
        .map_err(|source| LocalAwsError::Tables { endpoint: endpoint.clone(), source })?;
    match clients.events().create_event_bus().name(&bus).send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_already_exists_exception()) => {}
        Err(e) => {
            return Err(LocalAwsError::Bus { bus, endpoint, source: Box::new(e) });
        }
    }
    let seeded = fixtures::seed(&dynamo, &names).await?;

    if let Some(dir) = opts.env_file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| LocalAwsError::Io { path: dir.display().to_string(), source })?;
    }
    std::fs::write(&opts.env_file, render(&env))
        .map_err(|source| LocalAwsError::Io { path: opts.env_file.display().to_string(), source })?;
    Ok(Provisioned { names, bus, seeded, env })
}

/// The whole command: parses `args`, provisions, prints the environment on `out` and what it did
/// on `log`. The `local-aws` binary is this and an exit code.
pub async fn run(
    args: impl IntoIterator<Item = String>,
    default_template: &Path,
    out: &mut impl Write,
    log: &mut impl Write,
) -> Result<(), LocalAwsError> {
    let Some(opts) = parse_args(args, default_template)? else {
        let _ = write!(out, "{}", help());
        return Ok(());
    };
    let p = provision(&opts).await?;
    let _ = writeln!(log, "local-aws: at {}:", opts.endpoint);
    let _ = writeln!(
        log,
        "  tables {}, {}, {} and bus {} ready",
        p.names.customers, p.names.products, p.names.orders, p.bus
    );
    for (what, written) in &p.seeded.records {
        let _ = writeln!(log, "  {what}: {}", if *written { "seeded" } else { "there already, kept" });
    }
    let _ = writeln!(log, "  environment written to {}:", opts.env_file.display());
    let _ = write!(out, "{}", render(&p.env));
    let _ = out.flush();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_loopback_endpoints_are_accepted() {
        for ok in ["http://127.0.0.1:4566", "http://localhost:4566/", "http://[::1]:4566"] {
            assert!(local_endpoint(ok).is_ok(), "{ok}");
        }
        assert_eq!(local_endpoint("http://127.0.0.1:4566/").unwrap(), "http://127.0.0.1:4566");
        for bad in [
            "https://dynamodb.us-east-1.amazonaws.com",
            "http://dynamodb.us-east-1.amazonaws.com:80",
            "http://127.0.0.1",
            "http://127.0.0.1:0",
            "http://127.0.0.1:99999",
            "http://127.0.0.1:4566/path",
            "http://user@127.0.0.1:4566",
            "http://127.0.0.1.example.com:4566",
            "127.0.0.1:4566",
            "",
        ] {
            assert!(matches!(local_endpoint(bad), Err(LocalAwsError::NotLocal(_))), "{bad}");
        }
    }

    #[test]
    fn arguments_are_parsed_and_checked() {
        let t = Path::new("template.yaml");
        let o = parse_args(args(&["--endpoint", "http://127.0.0.1:1234"]), t).unwrap().unwrap();
        assert_eq!(o.prefix, DEFAULT_PREFIX);
        assert_eq!(o.env_file, PathBuf::from(DEFAULT_ENV_FILE));
        assert!(parse_args(args(&["--help"]), t).unwrap().is_none());
        for bad in [
            &["--prefix", "x-"][..],
            &["--endpoint"],
            &["--endpoint", "http://127.0.0.1:1", "--bogus"],
            &["--endpoint", "http://127.0.0.1:1", "--prefix", "a b"],
            &["--endpoint", "http://127.0.0.1:1", "--prefix", ""],
        ] {
            assert!(matches!(parse_args(args(bad), t), Err(LocalAwsError::Usage(_))), "{bad:?}");
        }
    }

    #[test]
    fn the_environment_names_every_variable_with_the_templates_defaults() {
        let template = Template::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")).unwrap();
        let (names, bus) = resource_names(DEFAULT_PREFIX);
        let env = environment("http://127.0.0.1:4566", &names, &bus, &template).unwrap();
        let map: BTreeMap<_, _> = env.iter().cloned().collect();
        assert_eq!(map.len(), env.len(), "no variable twice");
        for var in manifest::variables() {
            assert!(map.get(var).is_some_and(|v| !v.is_empty()), "{var} missing");
        }
        assert_eq!(map["AWS_ENDPOINT_URL"], "http://127.0.0.1:4566");
        assert_eq!(map["ORDERS_TABLE"], "shop-dev-orders");
        assert_eq!(map["EVENT_BUS_NAME"], "shop-dev-bus");
        let default = |p: &str| template.root["Parameters"][p]["Default"].clone();
        assert_eq!(serde_json::Value::from(map["WAREHOUSE_REGION"].as_str()), default("WarehouseRegion"));
        assert_eq!(map["PENDING_TIMEOUT_SECONDS"], default("PendingTimeoutSeconds").to_string());
        assert_eq!(parse_env(&render(&env)), map, "the file reads back as written");
    }

    #[test]
    fn a_variable_the_template_cannot_fill_is_named() {
        let template = Template::parse(
            "Parameters: {}\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Metadata: {BuildProperties: {Binary: quote-shipping}}\n    Properties:\n      Environment: {Variables: {WAREHOUSE_REGION: !Ref Nowhere}}\n",
        )
        .unwrap();
        let (names, bus) = resource_names(DEFAULT_PREFIX);
        let err = environment("http://127.0.0.1:4566", &names, &bus, &template).unwrap_err();
        assert!(matches!(err, LocalAwsError::Unresolved { .. }), "{err}");
    }

    #[test]
    fn bash_reads_the_env_file_as_the_project_reads_it() {
        // Given the environment, with a value that has a space (the default credit limit, "50000 USD")
        let template = Template::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")).unwrap();
        let (names, bus) = resource_names(DEFAULT_PREFIX);
        let env = environment("http://127.0.0.1:4566", &names, &bus, &template).unwrap();
        assert!(env.iter().any(|(_, v)| v.contains(' ')), "a value with a space is among them: {env:?}");
        let file = std::env::temp_dir().join(format!("local-aws-env-{}", std::process::id()));
        std::fs::write(&file, render(&env)).unwrap();
        // When bash sources the file as scripts/local-aws.sh does, and prints each variable
        let script = r#"set -eua; . "$0"; shift; for k; do printf '%s=%s\n' "$k" "${!k}"; done"#;
        let out = std::process::Command::new("bash")
            .args(["--noprofile", "--norc", "-c", script])
            .arg(&file)
            .arg("--")
            .args(env.iter().map(|(k, _)| k))
            .env_clear()
            .output()
            .expect("bash runs");
        let _ = std::fs::remove_file(&file);
        // Then bash reads every value as written, as env_lines does
        assert!(out.status.success(), "bash: {}", String::from_utf8_lossy(&out.stderr));
        let by_bash: BTreeMap<String, String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        assert_eq!(by_bash, env.iter().cloned().collect::<BTreeMap<_, _>>());
        assert_eq!(parse_env(&render(&env)), by_bash);
    }

    #[test]
    fn a_value_the_env_file_cannot_quote_is_refused() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        let (names, bus) = resource_names(DEFAULT_PREFIX);
        for bad in ["it's", r"C:\shop", "two\nlines"] {
            // Given the template with a parameter default the quotes cannot hold
            let yaml = text.replacen("Default: OH\n", &format!("Default: {bad:?}\n"), 1);
            assert_ne!(yaml, text, "the template's WarehouseRegion default is OH");
            let template = Template::parse(&yaml).unwrap();
            // Then the environment names the variable instead of writing a line bash would misread
            let err = environment("http://127.0.0.1:4566", &names, &bus, &template).unwrap_err();
            let refused = matches!(&err, LocalAwsError::Unresolved { var: "WAREHOUSE_REGION", why } if why.contains("single-quoted"));
            assert!(refused, "{bad:?}: {err}");
        }
    }
}
