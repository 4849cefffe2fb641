//! The README's main job: a CPU-bound workload (count the primes below
//! 3,000,000 by trial division, in 64 chunks) run sequentially and then on a
//! `ThreadPool`, printing both times and the speedup.
//!
//! Run: `cargo run --release -p hilo --example quickstart -- [LIMIT]`
//! (`-- --small`: below 300,000, in about a second).

use std::process::ExitCode;
use std::time::Instant;

use hilo::ThreadPool;

#[path = "common/args.rs"]
mod args;

#[derive(clap::Parser)]
#[command(name = "quickstart")]
struct Args {
    /// Count the primes below LIMIT
    #[arg(default_value_t = 3_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    limit: u64,
    /// Below 300,000 instead, for a run of about a second
    #[arg(long, conflicts_with = "limit")]
    small: bool,
}

/// Primes in [lo, hi), by trial division: slow on purpose, so the work is
/// all CPU and splits evenly.
fn count_primes(lo: u64, hi: u64) -> u64 {
    (lo..hi).filter(|&n| is_prime(n)).count() as u64
}

fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    if n % 2 == 0 {
        return n == 2;
    }
    let mut d = 3;
    while d * d <= n {
        if n % d == 0 {
            return false;
        }
        d += 2;
    }
    true
}

/// Splits [0, limit) into `parts` ranges.
fn chunks(limit: u64, parts: u64) -> Vec<(u64, u64)> {
    (0..parts)
        .map(|i| (limit * i / parts, limit * (i + 1) / parts))
        .collect()
}

fn main() -> ExitCode {
    let args = match args::parse::<Args>("quickstart") {
        Ok(args) => args,
        Err(status) => return status,
    };
    let limit = if args.small { 300_000 } else { args.limit };
    let parts = 64;

    let start = Instant::now();
    let sequential: u64 = chunks(limit, parts)
        .into_iter()
        .map(|(lo, hi)| count_primes(lo, hi))
        .sum();
    let seq_time = start.elapsed();

    let pool = ThreadPool::new();
    let workers = pool.max_workers();
    let start = Instant::now();
    let parallel: u64 = pool
        .map(chunks(limit, parts), |(lo, hi)| count_primes(lo, hi))
        .map(|r| r.expect("a chunk failed"))
        .sum();
    let par_time = start.elapsed();

    assert_eq!(sequential, parallel, "the two runs disagree");
    println!("primes below {limit}: {sequential} ({parts} chunks)");
    println!("sequential            {:>9.3} s", seq_time.as_secs_f64());
    println!(
        "ThreadPool, {workers} workers  {:>9.3} s",
        par_time.as_secs_f64()
    );
    println!(
        "speedup               {:>9.2}x on {workers} workers",
        seq_time.as_secs_f64() / par_time.as_secs_f64()
    );
    ExitCode::SUCCESS
}
