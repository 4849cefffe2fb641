//! Count the primes below a limit in chunks on a `ProcessPool`, and compare
//! with doing it in this process alone.
//!
//! Run: `cargo run --release -p hilo --example process_primes -- [LIMIT] [CHUNKS]`
//! (`-- --small`: below 10,000,000, in about a second).

use std::process::ExitCode;
use std::time::Instant;

use hilo::process::ProcessPool;

#[path = "common/args.rs"]
mod args;

/// Primes in [lo, hi) by a plain sieve of the range (each chunk on its own).
#[hilo::task]
fn count_primes(lo: u64, hi: u64) -> u64 {
    if hi <= 2 {
        return 0;
    }
    let lo = lo.max(2);
    let root = (hi as f64).sqrt() as u64 + 1;
    let mut small = vec![true; root as usize + 1];
    let mut base = Vec::new();
    for i in 2..=root {
        if small[i as usize] {
            base.push(i);
            let mut j = i * i;
            while j <= root {
                small[j as usize] = false;
                j += i;
            }
        }
    }
    let mut is_prime = vec![true; (hi - lo) as usize];
    for p in base {
        let start = (p * p).max(lo.div_ceil(p) * p);
        let mut m = start;
        while m < hi {
            is_prime[(m - lo) as usize] = false;
            m += p;
        }
    }
    is_prime.iter().filter(|&&b| b).count() as u64
}

#[derive(clap::Parser)]
#[command(name = "process_primes")]
struct Args {
    /// Count the primes below LIMIT (1e8 notation too)
    #[arg(default_value = "2e8", value_parser = number)]
    limit: u64,
    /// In CHUNKS tasks
    #[arg(default_value = "64", value_parser = number)]
    chunks: u64,
    /// Below 10,000,000 instead, for a run of about a second
    #[arg(long, conflicts_with = "limit")]
    small: bool,
}

/// A whole number from 1 to 10¹², written `200000000`, `200_000_000` or `2e8`.
fn number(s: &str) -> Result<u64, String> {
    match s.replace('_', "").parse::<f64>() {
        Ok(v) if (1.0..=1e12).contains(&v) && v.fract() == 0.0 => Ok(v as u64),
        _ => Err(format!("expected a whole number from 1 to 1e12, got {s:?}")),
    }
}

fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    hilo::init(); // worker processes serve tasks here and never return
    let args = match args::parse::<Args>("process_primes") {
        Ok(args) => args,
        Err(status) => return Ok(status),
    };
    let limit = if args.small { 10_000_000 } else { args.limit };
    let chunks = args.chunks;
    let ranges: Vec<(u64, u64)> = (0..chunks)
        .map(|i| (limit * i / chunks, limit * (i + 1) / chunks))
        .collect();

    let start = Instant::now();
    let sequential: u64 = ranges.iter().map(|&(lo, hi)| count_primes(lo, hi)).sum();
    let seq_time = start.elapsed();

    let pool = ProcessPool::builder().build()?;
    let workers = pool.max_workers();
    let start = Instant::now();
    let mut parallel = 0;
    for r in hilo::map(&pool, ranges, |(lo, hi)| count_primes::call(lo, hi)) {
        parallel += r?;
    }
    let par_time = start.elapsed();

    assert_eq!(sequential, parallel, "the two counts disagree");
    println!("primes below {limit}: {parallel} ({chunks} chunks)");
    println!("this process alone       {:>8.3} s", seq_time.as_secs_f64());
    println!(
        "ProcessPool, {workers} workers  {:>8.3} s",
        par_time.as_secs_f64()
    );
    println!(
        "speedup                  {:>8.2}x",
        seq_time.as_secs_f64() / par_time.as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
