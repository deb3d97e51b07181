//! `sam-template generate` writes template.yaml from the manifest and shared.yaml; `sam-template
//! check` fails when the committed file is not that output.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sam_template::generate::{template, SHARED};

#[derive(Parser)]
#[command(
    about = "Writes template.yaml from the manifest (crates/bundle/src/manifest.rs) and crates/sam-template/shared.yaml",
    after_help = "Example, after changing a function's declaration:\n  cargo run -p sam-template -- generate"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
    /// The template to write or check.
    #[arg(long, default_value_os_t = default_template())]
    template: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Write the template.
    Generate,
    /// Exit 1 when the template is not what `generate` would write.
    Check,
}

fn default_template() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")
}

fn main() -> ExitCode {
    let args = Args::parse();
    let text = match template(SHARED) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("sam-template: {e}");
            return ExitCode::FAILURE;
        }
    };
    let path = args.template.display().to_string();
    match args.command {
        Command::Generate => match std::fs::write(&args.template, text) {
            Ok(()) => {
                eprintln!("sam-template: wrote {path}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("sam-template: cannot write {path}: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Check => {
            if std::fs::read_to_string(&args.template).is_ok_and(|t| t == text) {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "sam-template: {path} is not the generator's output: run `cargo run -p sam-template -- generate`"
                );
                ExitCode::FAILURE
            }
        }
    }
}
