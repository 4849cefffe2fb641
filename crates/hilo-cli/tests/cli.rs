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
        stderr.starts_with("hilo: unexpected argument '--bogus'"),
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
    // Addresses that fail the syntax rule: hilo mx prints without any lookup.
    let addresses = dir.path().join("addresses.txt");
    std::fs::write(&addresses, "not-an-address\nuser@localhost\n").unwrap();
    let cases: [&[&str]; 5] = [
        &["wordcount", text.to_str().unwrap()],
        &["wordcount", "--json", text.to_str().unwrap()],
        &["primes", "--print", "1000"],
        &["mx", addresses.to_str().unwrap()],
        &["mx", "--json", addresses.to_str().unwrap()],
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

/// Plain `hilo` is a usage error: the help on stderr, status 2.
#[test]
fn no_subcommand_prints_the_help_and_exits_2() {
    let out = hilo().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    for sub in ["run", "compress", "primes", "wordcount", "mx", "bench"] {
        assert!(stderr.contains(&format!("  {sub} ")), "{sub}: {stderr}");
    }
}

/// Every subcommand: a bad option is one line in the tools' style (`hilo
/// SUB: what is wrong`), status 2; `-j` is written the same everywhere
/// (`-j 0` and `-j 50%` accepted, `-j x` refused with the same words).
#[test]
fn usage_errors_look_alike_in_every_subcommand() {
    let cases: [(&str, &[&str]); 5] = [
        ("run", &["echo", ":::", "a"]),
        ("compress", &["-c", "-"]),
        ("primes", &["100"]),
        ("wordcount", &["-"]),
        ("mx", &["-"]),
    ];
    for (sub, ok) in cases {
        let out = hilo().args([sub, "--no-such-option"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{sub}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{sub}: {stderr}");
        assert!(
            stderr.starts_with(&format!("hilo {sub}: ")),
            "{sub}: {stderr}"
        );
        let out = hilo().args([sub, "-j", "x"]).args(ok).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{sub} -j x");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.contains("expected N, N%, +N, -N or 0"),
            "{sub}: {stderr}"
        );
        for j in ["0", "50%", "+1", "-1"] {
            let out = hilo()
                .args([sub, "-j", j])
                .args(ok)
                .write_stdin("")
                .output()
                .unwrap();
            assert!(out.status.success(), "{sub} -j {j}: {out:?}");
        }
    }
}
