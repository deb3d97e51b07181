//! `benchmarks-report --out BENCHMARKS.md --svg docs/benchmarks.svg [--bench lambda-bench.json]
//! [--logs DIR] [--requests request-counts.json] [--load load.json]... [--builds builds.md]
//! [--targets-notes notes.md] [--sam-build-s SECONDS] [--commit SHA] [--date YYYY-MM-DD]
//! [--profile LABEL] [--flash-model flash-model.json --flash-svg docs/flash-model.svg]`: BENCHMARKS.md (and its chart) from what the measuring tools wrote.
//! `scripts/benchmarks.sh` runs them all and then this. `--help` for the options.

use std::path::PathBuf;
use std::process::ExitCode;

use lambda_bench::benchmarks::{chart, render, rows, Inputs};
use serde_json::Value;

fn read_json(path: &str) -> Result<Value, String> {
    let text = read_text(path)?;
    serde_json::from_str(&text).map_err(|e| format!("{path} is not JSON: {e}"))
}

/// BENCHMARKS.md and its chart, from what the measuring tools wrote.
#[derive(clap::Parser)]
#[command(
    name = "benchmarks-report",
    after_help = "Example (scripts/benchmarks.sh runs every tool and then this):\n  \
                  benchmarks-report --out BENCHMARKS.md --svg docs/benchmarks.svg --bench lambda-bench.json \\\n    \
                  --requests request-counts.json --load load-memory.json --load load-dynamodb.json"
)]
struct Args {
    /// The report to write
    #[arg(long, value_name = "PATH.md")]
    out: PathBuf,
    /// The chart to write (linked from the report)
    #[arg(long, value_name = "PATH.svg")]
    svg: PathBuf,
    /// What lambda-bench wrote (--json)
    #[arg(long, value_name = "PATH.json")]
    bench: Option<String>,
    /// The functions' logs lambda-bench kept (--logs)
    #[arg(long, value_name = "DIR")]
    logs: Option<PathBuf>,
    /// The request counts the events replay wrote
    #[arg(long, value_name = "PATH.json")]
    requests: Option<String>,
    /// What a load run wrote (--json); once per run
    #[arg(long, value_name = "PATH.json")]
    load: Vec<String>,
    /// Notes on this run's build, in markdown
    #[arg(long, value_name = "PATH.md")]
    builds: Option<String>,
    /// Why the unmet targets stay unmet, in markdown, printed under the targets table
    #[arg(long, value_name = "PATH.md")]
    targets_notes: Option<String>,
    /// Wall seconds of a cold release `sam build` timed in this run
    #[arg(long, value_name = "SECONDS")]
    sam_build_s: Option<f64>,
    /// The commit measured
    #[arg(long, value_name = "SHA", default_value = "unknown")]
    commit: String,
    /// The profile the binaries were built with, overrides included
    #[arg(long, value_name = "LABEL")]
    profile: Option<String>,
    /// What flash-model wrote (--json): the modelled flash sale against K
    #[arg(long, value_name = "PATH.json", requires = "flash_svg")]
    flash_model: Option<String>,
    /// The modelled flash sale's chart to write (linked from the report)
    #[arg(long, value_name = "PATH.svg")]
    flash_svg: Option<PathBuf>,
    /// The day of the run
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "an unrecorded date")]
    date: String,
}

fn read_text(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
}

fn run(a: Args) -> Result<(), String> {
    let inputs = Inputs {
        bench: a.bench.as_deref().map(read_json).transpose()?,
        logs: a.logs,
        requests: a.requests.as_deref().map(read_json).transpose()?,
        loads: a.load.iter().map(|p| read_json(p)).collect::<Result<_, _>>()?,
        builds: a.builds.as_deref().map(read_text).transpose()?,
        targets_notes: a.targets_notes.as_deref().map(read_text).transpose()?,
        sam_build_s: a.sam_build_s,
        commit: a.commit,
        date: a.date,
        profile: a.profile,
        flash: a.flash_model.as_deref().map(read_json).transpose()?,
        flash_chart: String::new(),
    };
    let (out, svg) = (a.out, a.svg);
    // The charts are linked from the report by their paths relative to the report.
    let base = out.parent().unwrap_or(std::path::Path::new(".")).to_owned();
    let link = pathdiff(&svg, &base);
    let mut inputs = inputs;
    let mut files = vec![(svg, inputs.bench.as_ref().map(|b| chart(&rows(b, "binary-only"))).unwrap_or_default())];
    if let (Some(flash), Some(path)) = (&inputs.flash, a.flash_svg) {
        inputs.flash_chart = pathdiff(&path, &base);
        files.push((path, lambda_bench::flash::chart(flash)));
    }
    let md = render(&inputs, &link);
    files.insert(0, (out.clone(), md));
    for (path, text) in &files {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let written: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
    eprintln!("benchmarks-report: wrote {}", written.join(", "));
    Ok(())
}

/// `svg` relative to `base` when it lies below it, else as given.
fn pathdiff(svg: &std::path::Path, base: &std::path::Path) -> String {
    svg.strip_prefix(base).unwrap_or(svg).display().to_string()
}

fn main() -> ExitCode {
    match run(clap::Parser::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmarks-report: {e}");
            ExitCode::FAILURE
        }
    }
}
