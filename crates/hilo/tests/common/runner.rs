//! The test runner of the process-pool test binaries. They are their own
//! worker programs (`harness = false`): `main` calls `hilo::init()` first,
//! then hands its tests to `run` (libtest-mimic: the arguments cargo and the
//! CI pass work as with the standard harness).
#![allow(dead_code, unreachable_pub)]

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
pub fn main(helper: fn(&str), tests: &[(&'static str, fn())]) {
    hilo::init();
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--helper") {
        helper(args.get(i + 1).map_or("", String::as_str));
        return;
    }
    run(tests);
}

/// Runs the tests the command line selects (libtest's options: name
/// filters, `--list`, `--ignored`, `--include-ignored`, `--exact`, ...),
/// one at a time unless `--test-threads` says otherwise: the tests count
/// the process's threads, descriptors and children, so two at once would
/// see each other's. Exits 101 if any failed.
pub fn run(tests: &[(&'static str, fn())]) {
    let mut args = libtest_mimic::Arguments::from_args();
    args.test_threads.get_or_insert(1);
    let trials = tests
        .iter()
        .map(|&(name, test)| {
            libtest_mimic::Trial::test(name, move || {
                test();
                Ok(())
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
