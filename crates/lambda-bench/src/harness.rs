//! The command line, the environment each binary gets, and the measurement rounds.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bundle::manifest::{vars, Table};
use bundle::Function;
use bytes::Bytes;
use sam_template::Template;

use crate::process::{self, Limits, Run, Target};
use crate::sizes::{self, Sizes};

/// The yardstick binary, built in the same crate and profile as this bench.
pub const BARE: &str = "bare-lambda";
/// The stack local-aws creates: tables `shop-dev-<context>`, bus `shop-dev-bus`.
pub const PREFIX: &str = "shop-dev-";
/// The region of the sample events and of the local resources.
pub const REGION: &str = "us-east-1";
/// Credentials a local endpoint accepts; never real ones.
pub const DUMMY_KEY: &str = "test";

/// Measures every Lambda function binary of the bundle and bare-lambda (lambda_runtime and nothing
/// else) built with the same profile: init (spawn to the first GET /next of the Runtime API), idle
/// RSS, stripped and zipped size, and the first invocation of a fresh process against the median
/// warm one, with events/<function>.json. Every process is started as Lambda starts it (only the
/// variables its manifest entry lists, region, dummy credentials, AWS_LAMBDA_RUNTIME_API of the
/// bench's own emulator on 127.0.0.1) and killed by its PID once measured.
#[derive(Debug, clap::Parser)]
#[command(
    name = "lambda-bench",
    after_help = "Build the binaries first, with the same profile for all of them (not --workspace: local-runner \
                  would turn on bundle's openapi feature for the functions):\n  \
                  cargo build --profile release -p lambda-bench $(for f in functions/*/; do printf -- '-p %s ' \"$(basename \"$f\")\"; done)\n\n\
                  Examples:\n  target/release/lambda-bench --profile release --out .scratch/bench.md\n  \
                  scripts/with-ministack.sh target/release/lambda-bench --profile release --ministack --out .scratch/bench.md"
)]
struct Cli {
    /// The markdown tables
    #[arg(long, value_name = "PATH.md")]
    out: PathBuf,
    /// The raw results [default: --out with .json]
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// The cargo profile the binaries were built with
    #[arg(long, value_name = "P", default_value = "release", value_parser = profile_name)]
    profile: String,
    /// Where the binaries are [default: $CARGO_TARGET_DIR or target, then /debug for dev, else /P]
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
    /// Fresh processes per binary (medians over them) [default: 20]
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    runs: Option<usize>,
    /// Warm invocations per process after the first [default: 5]
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    warm: Option<usize>,
    /// --runs 2 --warm 2: every function, to prove the bench works (CI)
    #[arg(long)]
    short: bool,
    /// Also measure against the local endpoint in AWS_ENDPOINT_URL (a ministack, as
    /// scripts/with-ministack.sh sets it up), after local-aws has created and seeded its tables and
    /// bus; only a loopback endpoint is accepted
    #[arg(long)]
    ministack: bool,
    /// The local-aws binary (cargo build -p local-runner --bin local-aws) [default: DIR/local-aws,
    /// else target/debug/local-aws]
    #[arg(long, value_name = "PATH")]
    local_aws: Option<PathBuf>,
    /// The sample events
    #[arg(long, value_name = "DIR", default_value = "events")]
    events: PathBuf,
    /// The SAM template (parameter defaults, memory size)
    #[arg(long, value_name = "PATH", default_value = "template.yaml")]
    template: PathBuf,
    /// The binaries' stdout and stderr, one file per binary and mode
    #[arg(long, value_name = "DIR", default_value = ".scratch/bench-logs")]
    logs: PathBuf,
    /// For a cold start and for each invocation
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = seconds)]
    timeout: Duration,
}

fn at_least_one(v: &str) -> Result<usize, String> {
    v.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| "a whole number ≥ 1".to_owned())
}

fn seconds(v: &str) -> Result<Duration, String> {
    v.parse::<u64>().ok().filter(|s| *s >= 1).map(Duration::from_secs).ok_or_else(|| "seconds ≥ 1".to_owned())
}

fn profile_name(v: &str) -> Result<String, String> {
    let ok = !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
    ok.then(|| v.to_owned()).ok_or_else(|| "not a cargo profile name".to_owned())
}

/// What `--help` prints.
pub fn help() -> String {
    <Cli as clap::CommandFactory>::command().render_long_help().to_string()
}

/// What to measure, from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub out: PathBuf,
    pub json: PathBuf,
    pub profile: String,
    pub bin_dir: PathBuf,
    pub runs: usize,
    pub warm: usize,
    pub ministack: bool,
    pub events: PathBuf,
    pub template: PathBuf,
    pub logs: PathBuf,
    pub timeout: Duration,
    pub local_aws: Option<PathBuf>,
}

/// `None` when help was asked for.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let cli = match <Cli as clap::Parser>::try_parse_from(std::iter::once("lambda-bench".to_owned()).chain(args)) {
        Ok(cli) => cli,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let Cli { out, json, profile, bin_dir, runs, warm, short, ministack, local_aws, events, template, logs, timeout } =
        cli;
    let json = json.unwrap_or_else(|| out.with_extension("json"));
    if json == out {
        return Err(format!("--json and --out are both {}", out.display()));
    }
    let bin_dir = bin_dir.unwrap_or_else(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
        target.join(if profile == "dev" { "debug" } else { profile.as_str() })
    });
    let (default_runs, default_warm) = if short { (2, 2) } else { (20, 5) };
    Ok(Some(Options {
        out,
        json,
        profile,
        bin_dir,
        runs: runs.unwrap_or(default_runs),
        warm: warm.unwrap_or(default_warm),
        ministack,
        events,
        template,
        logs,
        timeout,
        local_aws,
    }))
}

/// How the functions reach AWS in one series of measurements.
#[derive(Debug, Clone)]
pub struct Mode {
    /// `binary-only` or `ministack`.
    pub key: &'static str,
    pub title: String,
    pub note: String,
    /// The variables every function may read, with their values here (local-aws's environment).
    pub env: Vec<(String, String)>,
    /// Variables every process gets on top of its own.
    pub extra: Vec<(String, String)>,
}

/// What one binary measured in one mode.
#[derive(Debug, Clone)]
pub struct Measured {
    pub name: String,
    pub binary: PathBuf,
    pub sizes: Sizes,
    pub runs: Vec<Run>,
    /// Why the binary was given up on, if it was.
    pub failure: Option<String>,
}

/// One mode's results, the bare binary first.
#[derive(Debug, Clone)]
pub struct Series {
    pub mode: Mode,
    pub measured: Vec<Measured>,
}

/// Everything the bench did.
#[derive(Debug, Clone)]
pub struct Results {
    pub options: Options,
    pub series: Vec<Series>,
}

/// The binary of each target: bare-lambda first, then every function in manifest order.
pub fn binaries(bin_dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let names = std::iter::once(BARE).chain(Function::ALL.iter().map(|f| f.name()));
    // Absolute: each binary starts in its own directory, as in its Lambda sandbox.
    let bin_dir = std::path::absolute(bin_dir).map_err(|e| format!("{}: {e}", bin_dir.display()))?;
    let all: Vec<(String, PathBuf)> = names.map(|n| (n.to_owned(), bin_dir.join(n))).collect();
    let missing: Vec<&str> = all.iter().filter(|(_, p)| !p.is_file()).map(|(n, _)| n.as_str()).collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing in {}: {}\nbuild them with: cargo build --profile <P> --workspace --bins \
             (and pass --profile <P>, or --bin-dir)",
            bin_dir.display(),
            missing.join(", ")
        ));
    }
    Ok(all)
}

/// The environment Lambda gives every function, apart from its own variables.
fn lambda_env(name: &str, task_root: &Path, template: &Template) -> Vec<(String, String)> {
    let memory = template.root["Globals"]["Function"]["MemorySize"].as_u64().unwrap_or(128);
    let mut env: Vec<(String, String)> = [
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("LANG", "en_US.UTF-8"),
        ("TZ", ":UTC"),
        ("_HANDLER", "bootstrap"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
        ("AWS_REGION", REGION),
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", DUMMY_KEY),
        ("AWS_SECRET_ACCESS_KEY", DUMMY_KEY),
        // No instance metadata lookups, whatever the SDK's credential chain would try.
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    env.push(("AWS_LAMBDA_FUNCTION_NAME".into(), name.into()));
    env.push(("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), memory.to_string()));
    env.push(("AWS_LAMBDA_LOG_GROUP_NAME".into(), format!("/aws/lambda/{name}")));
    env.push(("LAMBDA_TASK_ROOT".into(), task_root.display().to_string()));
    if let Some(level) = template.parameter_default("LogLevel") {
        env.push(("AWS_LAMBDA_LOG_LEVEL".into(), level));
    }
    env
}

/// The whole environment of `name` in `mode`: Lambda's, the endpoint, and exactly the variables
/// its manifest entry declares (none for the bare binary).
pub fn target_env(name: &str, task_root: &Path, template: &Template, mode: &Mode) -> Vec<(String, String)> {
    let declared: BTreeSet<&str> =
        Function::from_name(name).map(|f| f.env().iter().copied().collect()).unwrap_or_default();
    let mut env = lambda_env(name, task_root, template);
    let own = mode.env.iter().filter(|(k, _)| k == "AWS_ENDPOINT_URL" || declared.contains(k.as_str()));
    env.extend(own.cloned());
    env.extend(mode.extra.iter().cloned());
    env
}

/// A loopback port nothing listens on: bound, then released.
fn closed_port() -> Result<u16, String> {
    let listener =
        std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| format!("cannot find a free local port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| format!("cannot find a free local port: {e}"))
}

/// What local-aws writes for a stack at `endpoint` (its tests hold the two equal): the endpoint,
/// region and dummy credentials, and every variable any function reads, the tables and bus of
/// the `shop-dev-` stack, the rest from the template's parameter defaults.
pub fn stack_environment(endpoint: &str, template: &Template) -> Result<Vec<(String, String)>, String> {
    let mut env: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", DUMMY_KEY),
        ("AWS_SECRET_ACCESS_KEY", DUMMY_KEY),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let variables: BTreeSet<&str> = Function::ALL.iter().flat_map(|f| f.env().iter().copied()).collect();
    let functions = template.functions().map_err(|e| format!("the template: {e}"))?;
    for var in variables {
        let table = Table::ALL.into_iter().find(|t| t.var() == var || t.outbox_var() == var).map(|t| match t {
            Table::Customers => "customers",
            Table::Products => "products",
            Table::Orders => "orders",
        });
        let value = match table {
            Some(t) => format!("{PREFIX}{t}"),
            None if var == vars::EVENT_BUS_NAME => format!("{PREFIX}bus"),
            None => functions
                .iter()
                .find_map(|f| f.env.get(var))
                .and_then(|reference| template.parameter_default(reference))
                .ok_or_else(|| format!("{var}: no function of the template sets it from a parameter with a default"))?,
        };
        env.push((var.to_owned(), value));
    }
    Ok(env)
}

/// The binary-only mode: AWS out of reach, every call fails at once.
pub fn binary_only(template: &Template) -> Result<Mode, String> {
    let endpoint = format!("http://127.0.0.1:{}", closed_port()?);
    let env = stack_environment(&endpoint, template)?;
    Ok(Mode {
        key: "binary-only",
        title: "Binary only".into(),
        note: format!(
            "AWS out of reach: AWS_ENDPOINT_URL is {endpoint}, a closed port, and AWS_MAX_ATTEMPTS=1, so every \
             AWS call (the cold start's warm-up read included) fails at once without retries; what is measured \
             is the binary's own work"
        ),
        env,
        extra: vec![("AWS_MAX_ATTEMPTS".into(), "1".into())],
    })
}

/// Is `url` plain HTTP to a loopback address with a port? (local-aws refuses anything else too.)
pub fn is_local_endpoint(url: &str) -> bool {
    let Some(authority) = url.strip_prefix("http://").map(|a| a.trim_end_matches('/')) else { return false };
    if authority.contains(['/', '?', '#', '@']) {
        return false;
    }
    authority.rsplit_once(':').is_some_and(|(host, port)| {
        ["127.0.0.1", "localhost", "[::1]"].contains(&host) && port.parse::<u16>().is_ok_and(|p| p > 0)
    })
}

/// The local-aws binary: `--local-aws`, else beside the functions, else the dev build's.
fn local_aws_binary(opts: &Options) -> Result<PathBuf, String> {
    let candidates = match &opts.local_aws {
        Some(p) => vec![p.clone()],
        None => vec![opts.bin_dir.join("local-aws"), PathBuf::from("target/debug/local-aws")],
    };
    candidates.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        let tried: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        format!(
            "--ministack needs the local-aws binary (tried {}): cargo build -p local-runner --bin local-aws",
            tried.join(", ")
        )
    })
}

/// Reads `KEY=VALUE` lines (blank lines and `#` comments ignored), as local-aws writes them.
pub fn parse_env(text: &str) -> Vec<(String, String)> {
    bundle::config::env_lines(text).collect()
}

/// The ministack mode: local-aws creates and seeds the stack's tables and bus at `endpoint`, and
/// the functions get the environment it writes.
pub fn ministack(endpoint: &str, opts: &Options) -> Result<Mode, String> {
    if !is_local_endpoint(endpoint) {
        return Err(format!("--ministack: refusing AWS_ENDPOINT_URL {endpoint:?}, which is not a loopback endpoint"));
    }
    let local_aws = local_aws_binary(opts)?;
    std::fs::create_dir_all(&opts.logs).map_err(|e| format!("cannot create {}: {e}", opts.logs.display()))?;
    let env_file = opts.logs.join("local-aws.env");
    let output = std::process::Command::new(&local_aws)
        .args(["--endpoint", endpoint, "--prefix", PREFIX, "--env-file"])
        .arg(&env_file)
        .arg("--template")
        .arg(&opts.template)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", local_aws.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed ({}):\n{}",
            local_aws.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        ));
    }
    let text = std::fs::read_to_string(&env_file).map_err(|e| format!("cannot read {}: {e}", env_file.display()))?;
    Ok(Mode {
        key: "ministack",
        title: "Against ministack".into(),
        note: format!(
            "AWS_ENDPOINT_URL is a ministack at {endpoint} whose tables and bus local-aws created and seeded with \
             what events/*.json refer to, so each event does its work; invocations after the first of an event \
             may be idempotent replays (an already-applied step, a repeated idempotency key) or meet the state \
             an earlier function left (an order already approved), as on AWS with the same records"
        ),
        env: parse_env(&text),
        extra: vec![],
    })
}

/// Measures every target in `mode`: `runs` rounds, each starting every binary once in turn (so
/// a slow moment of the machine spreads over all of them rather than one).
pub async fn measure(
    targets: &[(String, PathBuf)],
    sizes: &[Sizes],
    mode: Mode,
    opts: &Options,
    template: &Template,
) -> Result<Series, String> {
    let mut prepared = Vec::with_capacity(targets.len());
    for (name, binary) in targets {
        let event = if name == BARE {
            Bytes::from_static(br#"{"hello":"bench"}"#)
        } else {
            let path = opts.events.join(format!("{name}.json"));
            Bytes::from(std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?)
        };
        let task_root = binary.parent().unwrap_or(Path::new("."));
        let env = target_env(name, task_root, template, &mode);
        prepared.push(Target { name: name.clone(), binary: binary.clone(), env, event });
    }
    let mut measured: Vec<Measured> = targets
        .iter()
        .zip(sizes)
        .map(|((name, binary), sizes)| Measured {
            name: name.clone(),
            binary: binary.clone(),
            sizes: *sizes,
            runs: vec![],
            failure: None,
        })
        .collect();
    std::fs::create_dir_all(&opts.logs).map_err(|e| format!("cannot create {}: {e}", opts.logs.display()))?;
    let limits = Limits { timeout: opts.timeout };
    for round in 1..=opts.runs {
        eprintln!("lambda-bench: {} round {round}/{}", mode.key, opts.runs);
        for (target, m) in prepared.iter().zip(measured.iter_mut()) {
            if m.failure.is_some() {
                continue;
            }
            let log = opts.logs.join(format!("{}.{}.log", mode.key, target.name));
            match process::run(target, opts.warm, limits, &log).await {
                Ok(run) => m.runs.push(run),
                Err(e) => {
                    eprintln!("lambda-bench: {} ({}): {e} (log: {})", target.name, mode.key, log.display());
                    m.failure = Some(e);
                }
            }
        }
    }
    Ok(Series { mode, measured })
}

/// Sizes of every target, stripping copies in `scratch`.
pub fn measure_sizes(targets: &[(String, PathBuf)], scratch: &Path) -> Result<Vec<Sizes>, String> {
    let sizes = targets.iter().map(|(_, binary)| sizes::measure(binary, scratch)).collect();
    let _ = std::fs::remove_dir_all(scratch);
    sizes
}

/// The whole bench, as the command line asks.
pub async fn run(opts: Options) -> Result<Results, String> {
    let template = Template::load(&opts.template).map_err(|e| format!("{}: {e}", opts.template.display()))?;
    let targets = binaries(&opts.bin_dir)?;
    let sizes = measure_sizes(&targets, &opts.logs.join("strip"))?;
    let mut series = vec![measure(&targets, &sizes, binary_only(&template)?, &opts, &template).await?];
    if opts.ministack {
        let endpoint = std::env::var("AWS_ENDPOINT_URL")
            .map_err(|_| "--ministack: AWS_ENDPOINT_URL is not set (run under scripts/with-ministack.sh)")?;
        let mode = ministack(&endpoint, &opts)?;
        series.push(measure(&targets, &sizes, mode, &opts, &template).await?);
    }
    Ok(Results { options: opts, series })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        Template::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")).unwrap()
    }

    #[test]
    fn the_environment_is_the_one_local_aws_writes() {
        let template = template();
        let endpoint = "http://127.0.0.1:4566";
        let ours = stack_environment(endpoint, &template).unwrap();
        let (names, bus) = local_runner::local_aws::resource_names(local_runner::local_aws::DEFAULT_PREFIX);
        let theirs = local_runner::local_aws::environment(endpoint, &names, &bus, &template).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(PREFIX, local_runner::local_aws::DEFAULT_PREFIX);
        assert_eq!(parse_env(&local_runner::local_aws::render(&theirs)), ours);
    }

    #[test]
    fn only_loopback_endpoints_are_local() {
        for ok in ["http://127.0.0.1:4566", "http://localhost:4566/", "http://[::1]:4566"] {
            assert!(is_local_endpoint(ok), "{ok}");
            assert!(local_runner::local_aws::local_endpoint(ok).is_ok());
        }
        for bad in [
            "https://dynamodb.us-east-1.amazonaws.com",
            "http://127.0.0.1",
            "http://10.0.0.1:4566",
            "http://user@127.0.0.1:1",
            "",
        ] {
            assert!(!is_local_endpoint(bad), "{bad}");
        }
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_are_parsed_and_checked() {
        let o = parse_args(args(&["--out", "x/b.md"])).unwrap().unwrap();
        assert_eq!((o.runs, o.warm, o.profile.as_str()), (20, 5, "release"));
        assert_eq!(o.json, PathBuf::from("x/b.json"));
        let s = parse_args(args(&["--out", "b.md", "--short", "--profile", "dev"])).unwrap().unwrap();
        assert_eq!((s.runs, s.warm), (2, 2));
        assert!(s.bin_dir.ends_with("debug"));
        assert!(parse_args(args(&["--help"])).unwrap().is_none());
        for bad in [
            &[][..],
            &["--out"],
            &["--out", "b.md", "--runs", "0"],
            &["--out", "b.md", "--bogus"],
            &["--out", "b.md", "--profile", "../x"],
            &["--out", "b.json"],
        ] {
            assert!(parse_args(args(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_function_gets_exactly_its_declared_variables() {
        let template = template();
        let mode = binary_only(&template).unwrap();
        let f = Function::GetOrder;
        let env = target_env(f.name(), Path::new("/tmp"), &template, &mode);
        let keys: BTreeSet<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
        for var in f.env() {
            assert!(keys.contains(var), "{var}");
        }
        let others: BTreeSet<&str> = Function::ALL.iter().flat_map(|g| g.env().iter().copied()).collect();
        for var in others.difference(&f.env().iter().copied().collect()) {
            assert!(!keys.contains(var), "{var} is not get-order's");
        }
        assert!(keys.contains("AWS_ENDPOINT_URL") && keys.contains("AWS_LAMBDA_FUNCTION_NAME"));
        assert_eq!(keys.len(), env.len(), "no variable twice");
        let bare = target_env(BARE, Path::new("/tmp"), &template, &mode);
        assert!(bare.iter().all(|(k, _)| !others.contains(k.as_str())));
    }
}
