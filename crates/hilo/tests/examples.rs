//! The examples in `examples/` run to the end with `--small` and say they
//! succeeded (exit status 0), and refuse a bad argument with status 2.
//!
//! `cargo test` builds the examples before it runs the tests; this test
//! runs those binaries, found beside its own (`target/<profile>/examples/`).
//! Run it with the whole `cargo test -p hilo`: `--test examples` alone
//! does not rebuild the examples.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs example `name` with `args` and returns what it did.
fn run_example(name: &str, args: &[&str]) -> Output {
    let exe = std::env::current_exe().expect("the test knows its own path");
    // target/<profile>/deps/examples-<hash> -> target/<profile>/examples/<name>
    let dir: PathBuf = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary lives in target/<profile>/deps")
        .join("examples");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run the whole `cargo test -p hilo`, which builds the examples",
        path.display()
    );
    Command::new(&path)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()))
}

fn assert_success(name: &str, out: &Output, expected: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{name} --small failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(expected),
        "{name} did not print {expected:?}:\n{stdout}"
    );
}

#[test]
fn blur_images_blurs_its_own_images_identically_in_both_runs() {
    let out = run_example("blur_images", &["--small"]);
    assert_success("blur_images", &out, "byte-identical in both runs");
}

#[test]
fn csv_stats_agrees_with_itself_in_chunks() {
    let out = run_example("csv_stats", &["--small"]);
    assert_success("csv_stats", &out, "both runs agree");
}

#[test]
fn errors_and_timeouts_sees_every_expected_outcome() {
    let out = run_example("errors_and_timeouts", &["--small"]);
    assert_success("errors_and_timeouts", &out, "TimedOut");
}

#[test]
fn done_callbacks_reports_every_task() {
    let out = run_example("done_callbacks", &["--small"]);
    assert_success(
        "done_callbacks",
        &out,
        "all tasks processed: 8 ok, 2 failed",
    );
}

#[test]
fn examples_refuse_a_bad_argument_with_status_2() {
    for name in [
        "blur_images",
        "csv_stats",
        "errors_and_timeouts",
        "done_callbacks",
        "quickstart",
        "process_primes",
    ] {
        let out = run_example(name, &["--no-such-option"]);
        assert_eq!(out.status.code(), Some(2), "{name} accepted a bad option");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with(&format!("{name}: ")) && stderr.trim_end().lines().count() == 1,
            "{name} should say what is wrong in one line, said {stderr:?}"
        );
    }
}

/// The README's `--small` works for every example: the prime counts below
/// 300,000 and 10,000,000 are the published values of π(x).
#[test]
fn quickstart_and_process_primes_take_small_too() {
    let out = run_example("quickstart", &["--small"]);
    assert_success("quickstart", &out, "primes below 300000: 25997");
    let out = run_example("process_primes", &["--small"]);
    assert_success("process_primes", &out, "primes below 10000000: 664579");
}

#[test]
fn blur_images_names_a_missing_folder() {
    let out = run_example("blur_images", &["no/such/folder"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read folder no/such/folder"),
        "said {stderr:?}"
    );
}
