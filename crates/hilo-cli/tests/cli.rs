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
