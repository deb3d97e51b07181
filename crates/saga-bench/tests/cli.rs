//! The command line as a user meets it: `--help` answers on stdout, exits 0 and shows an example.

#[test]
fn help_exits_0_and_shows_an_example() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_saga-bench")).arg("--help").output().expect("it runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("Example:\n  cargo run -p saga-bench"), "{out:?}");
}
