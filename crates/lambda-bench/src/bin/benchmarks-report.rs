//! `benchmarks-report --out BENCHMARKS.md --svg docs/benchmarks.svg [--bench lambda-bench.json]
//! [--logs DIR] [--requests request-counts.json] [--load load.json]... [--builds builds.md]
//! [--targets-notes notes.md] [--sam-build-s SECONDS] [--commit SHA] [--date YYYY-MM-DD] [--profile LABEL]`: BENCHMARKS.md (and its chart) from what the measuring tools wrote.
//! `scripts/benchmarks.sh` runs them all and then this.

use std::path::PathBuf;
use std::process::ExitCode;

use lambda_bench::benchmarks::{chart, render, rows, Inputs};
use serde_json::Value;

fn read_json(path: &str) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path} is not JSON: {e}"))
}

fn run() -> Result<(), String> {
    let mut inputs =
        Inputs { date: "an unrecorded date".to_owned(), commit: "unknown".to_owned(), ..Inputs::default() };
    let (mut out, mut svg) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().ok_or_else(|| format!("{a} needs a value"))?;
        match a.as_str() {
            "--out" => out = Some(PathBuf::from(v)),
            "--svg" => svg = Some(PathBuf::from(v)),
            "--bench" => inputs.bench = Some(read_json(&v)?),
            "--logs" => inputs.logs = Some(PathBuf::from(v)),
            "--requests" => inputs.requests = Some(read_json(&v)?),
            "--load" => inputs.loads.push(read_json(&v)?),
            "--builds" => {
                inputs.builds = Some(std::fs::read_to_string(&v).map_err(|e| format!("cannot read {v}: {e}"))?)
            }
            "--targets-notes" => {
                inputs.targets_notes = Some(std::fs::read_to_string(&v).map_err(|e| format!("cannot read {v}: {e}"))?)
            }
            "--sam-build-s" => {
                inputs.sam_build_s = Some(v.parse().map_err(|_| format!("--sam-build-s {v:?}: seconds"))?)
            }
            "--commit" => inputs.commit = v,
            "--profile" => inputs.profile = Some(v),
            "--date" => inputs.date = v,
            _ => return Err(format!("unknown option {a}")),
        }
    }
    let out = out.ok_or("--out is required")?;
    let svg = svg.ok_or("--svg is required")?;
    // The chart is linked from the report by its path relative to the report.
    let link = pathdiff(&svg, out.parent().unwrap_or(std::path::Path::new(".")));
    let md = render(&inputs, &link);
    for (path, text) in
        [(&out, md), (&svg, inputs.bench.as_ref().map(|b| chart(&rows(b, "binary-only"))).unwrap_or_default())]
    {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    eprintln!("benchmarks-report: wrote {} and {}", out.display(), svg.display());
    Ok(())
}

/// `svg` relative to `base` when it lies below it, else as given.
fn pathdiff(svg: &std::path::Path, base: &std::path::Path) -> String {
    svg.strip_prefix(base).unwrap_or(svg).display().to_string()
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmarks-report: {e}");
            ExitCode::FAILURE
        }
    }
}
