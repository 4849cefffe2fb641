//! The test runner of the process-pool test binaries. They are their own
//! worker programs (`harness = false`): `main` calls `hilo::init()` first,
//! then hands its tests to `run`, which understands the arguments cargo and
//! the CI pass (`--list`, `--ignored`, `--include-ignored`, name filters).
#![allow(dead_code, unreachable_pub)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

/// `(name, function)` pairs for [`run`].
#[macro_export]
macro_rules! tests {
    ($($test:ident),* $(,)?) => {
        &[$((stringify!($test), $test as fn())),*]
    };
}

/// `main` of a process-pool test binary: a worker if the pool started it as
/// one (`hilo::init()` first), helper program `NAME` with `--helper NAME`,
/// else the runner of `tests`.
pub fn main(helper: fn(&str), tests: &[(&str, fn())]) {
    hilo::init();
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--helper") {
        helper(args.get(i + 1).map_or("", String::as_str));
        return;
    }
    run(&args, tests);
}

/// Runs the tests `args` select, in order, and exits 101 if any failed.
pub fn run(args: &[String], tests: &[(&str, fn())]) {
    // `cargo test -- --ignored` runs only ignored tests: none here.
    if args.iter().any(|a| a == "--ignored") && !args.iter().any(|a| a == "--include-ignored") {
        println!("0 passed, 0 failed");
        return;
    }
    if args.iter().any(|a| a == "--list") {
        for (name, _) in tests {
            println!("{name}: test");
        }
        return;
    }
    let filter: Vec<&String> = args
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in tests {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let start = Instant::now();
        match catch_unwind(AssertUnwindSafe(test)) {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok ({:.2?})", start.elapsed());
            }
            Err(_) => {
                failed += 1;
                println!("test {name} ... FAILED");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(101);
    }
}
