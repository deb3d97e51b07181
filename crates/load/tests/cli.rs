//! The command lines as a user meets them: `--help` answers on stdout, exits 0 and shows an example.

#[test]
fn help_exits_0_and_shows_an_example() {
    for bin in [env!("CARGO_BIN_EXE_load"), env!("CARGO_BIN_EXE_flash-sale"), env!("CARGO_BIN_EXE_smoke")] {
        let out = std::process::Command::new(bin).arg("--help").output().expect("it runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains("Examples:\n  cargo run -p load"), "{bin}: {out:?}");
    }
}
