//! The commands' URL mode as a user runs it, the binaries themselves: `smoke`, `load --url` and
//! `flash-sale --url` against a runner started in this test (`--local`: tokens from its
//! development identity provider), and against the bundle deployed to ministack behind its API
//! Gateway, with tokens of the stack's Cognito user pool from the e2e harness's recipe
//! (`--token-cmd`). Short runs: the full ones are documented (docs/DEPLOY.md, BENCHMARKS.md).

use std::process::Command;

use system_tests::root;

/// Runs a binary of this crate to its end (off the runtime's threads: the runner it calls is
/// served by them); its success and stdout + stderr.
async fn run(bin: &'static str, args: Vec<String>) -> (bool, String) {
    let shown = args.clone();
    let out = tokio::task::spawn_blocking(move || Command::new(bin).args(&args).output().expect("it runs"))
        .await
        .expect("joined");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    // What the command reported, in the test's output (nextest shows it for a failure, or with
    // --no-capture): each step's time.
    println!("$ {} {}\n{text}", bin.rsplit('/').next().unwrap_or(bin), shown.join(" "));
    (out.status.success(), text)
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_load_and_flash_sale_run_against_a_runner_at_a_url() {
    let runner = system_tests::start().await;
    let url = runner.base.as_str();

    let (ok, out) = run(env!("CARGO_BIN_EXE_smoke"), args(&["--local", "--url", url, "--wait", "30"])).await;
    assert!(ok, "{out}");
    for step in ["the saga approves it (timeline)", "cancel it", "the stock is released", "the credit is released"] {
        assert!(out.lines().any(|l| l.starts_with("ok ") && l.contains(step)), "no step {step:?}:\n{out}");
    }
    assert!(out.contains("OrderCreated > OrderPriced > OrderApproved"), "{out}");

    let load =
        args(&["--url", url, "--local", "--requests", "60", "--customers", "4", "--concurrency", "2", "--hot", "1"]);
    let (ok, out) = run(env!("CARGO_BIN_EXE_load"), load).await;
    assert!(ok && out.contains("books: balanced") && out.contains(&format!("load on {url}:")), "{out}");

    let (ok, out) = run(env!("CARGO_BIN_EXE_flash-sale"), args(&["--url", url, "--local", "--orders", "8"])).await;
    assert!(ok && out.contains("| 8 |"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_step_or_token_command_exits_with_a_failure() {
    // Nothing listens on port 9: the first step fails.
    let (ok, out) = run(env!("CARGO_BIN_EXE_smoke"), args(&["--local", "--url", "http://127.0.0.1:9"])).await;
    assert!(!ok && out.contains("FAILED"), "{out}");
    let runner = system_tests::start().await;
    let failing = args(&["--url", &runner.base, "--token-cmd", "false"]);
    let (ok, out) = run(env!("CARGO_BIN_EXE_smoke"), failing).await;
    assert!(!ok && out.contains("--token-cmd"), "{out}");
    // A command printing no token.
    let (ok, out) = run(env!("CARGO_BIN_EXE_smoke"), args(&["--url", &runner.base, "--token-cmd", "echo"])).await;
    assert!(!ok && out.contains("printed no token"), "{out}");
    // A URL without a way to get tokens is refused before anything is sent.
    let (ok, out) = run(env!("CARGO_BIN_EXE_load"), args(&["--url", &runner.base])).await;
    assert!(!ok && out.contains("--token-cmd"), "{out}");
}

/// Needs `.aws-sam/build` and a ministack, as tests/e2e_ministack.rs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_load_and_flash_sale_run_against_the_bundle_deployed_to_ministack() {
    let _ = system_tests::ministack::sdk_config().await; // fails loudly without a ministack
    let (api, stack, _) = system_tests::deployed_api("cli");
    let token_cmd = format!(
        "'{}' '{}' token {stack}",
        root().join(".venv/ministack/bin/python").display(),
        root().join("tests/e2e/ministack.py").display()
    );
    let target = |more: &[&str]| {
        let mut a = args(&["--url", &api.base, "--token-cmd", &token_cmd]);
        a.extend(args(more));
        a
    };

    let (ok, out) = run(env!("CARGO_BIN_EXE_smoke"), target(&["--wait", "90"])).await;
    assert!(ok && out.contains("smoke test passed"), "{out}");
    assert!(out.contains("OrderCreated > OrderPriced > OrderApproved"), "{out}");

    let load = target(&["--requests", "30", "--customers", "2", "--concurrency", "2", "--hot", "1"]);
    let (ok, out) = run(env!("CARGO_BIN_EXE_load"), load).await;
    assert!(ok && out.contains("books: balanced"), "{out}");

    let (ok, out) = run(env!("CARGO_BIN_EXE_flash-sale"), target(&["--orders", "4"])).await;
    assert!(ok && out.contains("| 4 |"), "{out}");
}
