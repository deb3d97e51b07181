//! `lambda-bench --out bench.md [--ministack] [--short]`: every Lambda binary against a bare
//! lambda_runtime binary of the same profile. `--help` for the options; the crate's docs say how.

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let opts = match lambda_bench::harness::parse_args(std::env::args().skip(1)) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{}", lambda_bench::harness::help());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("lambda-bench: {}", e.trim_end());
            return ExitCode::from(2);
        }
    };
    let (out, json) = (opts.out.clone(), opts.json.clone());
    let results = match lambda_bench::harness::run(opts).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lambda-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let raw = lambda_bench::report::to_json(&results);
    let text = match serde_json::to_string_pretty(&raw) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("lambda-bench: cannot render the results: {e}");
            return ExitCode::FAILURE;
        }
    };
    for (path, content) in [(&json, text + "\n"), (&out, lambda_bench::report::to_markdown(&results))] {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = std::fs::write(path, content) {
            eprintln!("lambda-bench: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    eprintln!("lambda-bench: wrote {} and {}", out.display(), json.display());
    let failed: Vec<String> = results
        .series
        .iter()
        .flat_map(|s| {
            s.measured.iter().filter(|m| m.failure.is_some()).map(move |m| format!("{} ({})", m.name, s.mode.key))
        })
        .collect();
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("lambda-bench: not measured: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}
