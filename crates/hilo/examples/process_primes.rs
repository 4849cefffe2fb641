//! Count the primes below a limit in chunks on a `ProcessPool`, and compare
//! with doing it in this process alone.
//!
//! Run: `cargo run --release -p hilo --example process_primes -- [LIMIT] [CHUNKS]`

use std::time::Instant;

use hilo::process::ProcessPool;

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

fn arg(n: usize, default: u64) -> u64 {
    match std::env::args().nth(n) {
        None => default,
        Some(a) => match a.replace('_', "").parse::<f64>() {
            Ok(v) if (1.0..=1e12).contains(&v) => v as u64,
            _ => {
                eprintln!("process_primes: expected a positive number, got {a:?}");
                std::process::exit(2);
            }
        },
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    hilo::init(); // worker processes serve tasks here and never return
    let limit = arg(1, 200_000_000);
    let chunks = arg(2, 64);
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
    Ok(())
}
