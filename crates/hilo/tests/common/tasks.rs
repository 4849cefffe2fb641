//! Tasks both process-pool test binaries register (each binary is its own
//! worker program, so each includes this file).
#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::time::{Duration, Instant};

#[hilo::task]
pub fn my_pid() -> u32 {
    std::process::id()
}

#[hilo::task]
pub fn env_var(name: String) -> Option<String> {
    std::env::var(name).ok()
}

/// Leaves a file named after this worker's pid in `dir`, then waits (up
/// to 10 s) until `n` such files exist: only tasks running at the same time
/// in different workers all return true.
#[hilo::task]
pub fn rendezvous(dir: String, n: usize) -> bool {
    let dir = Path::new(&dir);
    std::fs::write(dir.join(std::process::id().to_string()), b"").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::fs::read_dir(dir).unwrap().count() >= n {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}
