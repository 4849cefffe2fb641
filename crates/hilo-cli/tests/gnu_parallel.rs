//! `hilo run` against GNU parallel: each case runs through both, which
//! must print byte-identical stdout and exit with the same status.
//!
//! Every test is ignored by default, as it needs GNU parallel on PATH (CI
//! installs it and runs `cargo test -- --ignored`). GNU parallel runs
//! every command through a shell and `hilo run` only when the command
//! needs one, so the cases print their values (`echo`, `printf '%s\n'`)
//! and leave out what a shell alone decides (`echo` of a backslash, which
//! bash and dash differ on). `-k` keeps the order of both deterministic.

use std::path::Path;
use std::process::Output;

#[macro_use]
mod gnu_cases;
use gnu_cases::{args, exits, tricky, Case};

fn parallel_is_installed() -> bool {
    std::process::Command::new("parallel")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run_hilo(case: &Case, dir: &Path) -> Output {
    assert_cmd::Command::cargo_bin("hilo")
        .expect("the hilo binary is built")
        .arg("run")
        .arg("-k")
        .args(&case.args)
        .current_dir(dir)
        .write_stdin(case.stdin.clone())
        .output()
        .expect("hilo runs")
}

fn run_parallel(case: &Case, dir: &Path) -> Output {
    assert_cmd::Command::new("parallel")
        .args(["--will-cite", "-k"])
        .args(&case.args)
        .current_dir(dir)
        .write_stdin(case.stdin.clone())
        .output()
        .expect("parallel runs")
}

fn check(case: Case) {
    assert!(
        parallel_is_installed(),
        "GNU parallel is not on PATH: install it (e.g. apt-get install parallel) \
         to run these cross-checks, or leave out --ignored"
    );
    let dir = tempfile::tempdir().expect("a temp dir");
    for (name, bytes) in &case.files {
        std::fs::write(dir.path().join(name), bytes).expect("write an input file");
    }
    let gnu = run_parallel(&case, dir.path());
    let hilo = run_hilo(&case, dir.path());
    assert_eq!(
        String::from_utf8_lossy(&hilo.stdout),
        String::from_utf8_lossy(&gnu.stdout),
        "stdout of {:?} (hilo stderr: {})",
        case.args,
        String::from_utf8_lossy(&hilo.stderr)
    );
    assert_eq!(hilo.stdout, gnu.stdout, "stdout bytes of {:?}", case.args);
    assert_eq!(
        hilo.status.code(),
        gnu.status.code(),
        "exit status of {:?} (hilo stderr: {}; parallel stderr: {})",
        case.args,
        String::from_utf8_lossy(&hilo.stderr),
        String::from_utf8_lossy(&gnu.stderr)
    );
}

/// One `#[test]` per line: `name: case;`.
macro_rules! cross_checks {
    ($($name:ident: $case:expr;)*) => {
        $(
            #[test]
            #[ignore = "needs parallel"]
            fn $name() {
                check($case);
            }
        )*
    };
}

with_gnu_cases!(cross_checks);
