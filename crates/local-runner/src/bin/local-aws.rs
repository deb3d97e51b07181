//! `cargo run -p local-runner --bin local-aws -- --endpoint http://127.0.0.1:PORT`: the stack's
//! tables and bus at a local endpoint (ministack), seeded with what events/*.json refer to, and the
//! environment a function needs, printed as KEY=VALUE lines and written to .scratch/local-aws.env.
//! `scripts/local-aws.sh` starts a ministack and runs this. `--help` for the options.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let template = default_template();
    let (mut out, mut log) = (std::io::stdout(), std::io::stderr());
    match local_runner::local_aws::run(std::env::args().skip(1), &template, &mut out, &mut log).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("local-aws: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// template.yaml in the working directory, else the one at the workspace root.
fn default_template() -> std::path::PathBuf {
    let here = std::path::PathBuf::from("template.yaml");
    if here.exists() {
        here
    } else {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")
    }
}
