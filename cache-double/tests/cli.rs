//! The `cache-double` binary: help, bad flags, and graceful shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_cache-double");

#[test]
fn help_explains_every_option() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--addr",
        "--admin-addr",
        "--api-key",
        "--cache",
        "--max-bytes",
        "--max-items",
        "--max-item-bytes",
        "--latency",
        "--error-rate",
        "--error-code",
        "--log",
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}");
    }
}

#[test]
fn bad_flags_fail_with_one_clear_line() {
    for args in [
        &["--error-rate", "2"][..],
        &["--error-code", "teapot"],
        &["--latency", "soon"],
        &["--addr", "nowhere"],
        &["--no-such-flag"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    }
}

#[test]
fn stops_cleanly_on_sigterm() {
    let mut child = Command::new(BIN)
        .args([
            "--addr",
            "127.0.0.1:0",
            "--admin-addr",
            "off",
            "--log",
            "info",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("cache double listening"), "{first}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.contains("cache double stopped")),
        "{rest:?}"
    );
}

#[test]
fn probe_health_says_whether_the_admin_endpoint_answers() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let admin = free.local_addr().unwrap().to_string();
    drop(free);
    let probe = || {
        Command::new(BIN)
            .args(["--probe-health", &admin])
            .status()
            .unwrap()
            .code()
    };
    assert_eq!(probe(), Some(1), "nothing listens yet");

    let mut child = Command::new(BIN)
        .args(["--addr", "127.0.0.1:0", "--admin-addr", &admin])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while probe() != Some(0) {
        assert!(started.elapsed() < Duration::from_secs(10), "never healthy");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
