//! The `hilo` binary as a shell user meets it.

use assert_cmd::Command;

fn hilo() -> Command {
    Command::cargo_bin("hilo").unwrap()
}

#[test]
fn version_prints_the_crate_version() {
    let out = hilo().arg("--version").assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(stdout.trim(), format!("hilo {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn help_names_the_tool() {
    let out = hilo().arg("--help").assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("Usage: hilo"), "{stdout}");
}

#[test]
fn an_unknown_option_is_one_clear_error_and_exit_2() {
    let out = hilo().arg("--bogus").assert().failure().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.starts_with("error: unexpected argument '--bogus'"),
        "{stderr}"
    );
}

#[test]
fn a_missing_argument_is_named_on_the_one_error_line() {
    let out = hilo().arg("primes").assert().failure().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("not provided: <NUMBER>"),
        "the missing argument is not named: {stderr}"
    );
}

/// A full disk under standard output (`/dev/full`) is one error line, the
/// same phrase from every tool, and exit 1 — not a panic, not success.
#[test]
fn an_unwritable_output_is_the_same_one_line_error_in_every_tool() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("words.txt");
    std::fs::write(&text, "uno dos dos\n").unwrap();
    let cases: [&[&str]; 3] = [
        &["wordcount", text.to_str().unwrap()],
        &["wordcount", "--json", text.to_str().unwrap()],
        &["primes", "--print", "1000"],
    ];
    for args in cases {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("hilo"))
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        let tool = args[0];
        assert!(
            stderr.starts_with(&format!(
                "hilo {tool}: cannot write the output: No space left on device"
            )),
            "{args:?}: {stderr}"
        );
    }
}
