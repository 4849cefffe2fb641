//! What the tests share: running a `hilo bench` experiment for its JSON,
//! and listing a directory.
#![allow(dead_code)] // each test file uses what it needs

use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

/// Runs `hilo bench ARGS --json` (killed after 120 s), asserts it
/// succeeded (showing its stderr if not), and returns the JSON document
/// and how long the command took.
pub(crate) fn bench_json(args: &[&str]) -> (Value, Duration) {
    let started = Instant::now();
    let out = Command::cargo_bin("hilo")
        .unwrap()
        .arg("bench")
        .args(args)
        .arg("--json")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (serde_json::from_slice(&out.stdout).unwrap(), took)
}

/// `v` as a number, or a failure naming it.
pub(crate) fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Everything in `dir`, hidden files included, sorted.
pub(crate) fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
