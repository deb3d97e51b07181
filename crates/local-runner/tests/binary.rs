//! The README's run command as a user runs it: the `shop-local` binary starts, prints where it
//! serves, answers over HTTP with the seeded catalogue, and stops cleanly on SIGTERM; and both
//! binaries' `--help`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("write");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// Kills the runner by its PID if the test ends early, so a failing test leaves nothing behind.
struct Runner(std::process::Child);

impl Drop for Runner {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn the_runner_serves_the_seeded_shop_and_stops_on_sigterm() {
    let mut runner = Runner(
        Command::new(env!("CARGO_BIN_EXE_shop-local"))
            .env("PORT", "0")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("shop-local starts"),
    );
    let child = &mut runner.0;
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = loop {
        let line = lines.next().expect("the banner").expect("a line");
        if let Some(rest) = line.split("running offline at http://").nth(1) {
            break rest.split_whitespace().next().expect("an address").to_owned();
        }
        assert!(Instant::now() < deadline, "no banner");
    };
    assert!(addr.starts_with("127.0.0.1:"), "serves on loopback only: {addr}");
    let (status, body) = get(&addr, "/products");
    assert_eq!(status, 200, "{body}");
    let catalogue: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(catalogue["items"].as_array().map(Vec::len), Some(5), "the sample catalogue");
    assert_eq!(get(&addr, "/nowhere").0, 404);

    let stopped = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(stopped.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "shop-local did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "clean exit: {status}");
}

#[test]
fn help_exits_0_and_shows_an_example() {
    for bin in [env!("CARGO_BIN_EXE_shop-local"), env!("CARGO_BIN_EXE_local-aws")] {
        let out = Command::new(bin).arg("--help").output().expect("it runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains("Examples:\n  cargo run -p local-runner"), "{bin}: {out:?}");
    }
}
