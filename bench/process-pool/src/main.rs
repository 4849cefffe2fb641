//! Process pool: what hilo's `ProcessPool` costs per task and at start-up,
//! and whether it scales CPU-bound work, all with 2 worker processes.
//!
//! - round trips: `--round-trips` no-op tasks, submit all, then `result()`
//!   every future;
//! - chunked map: `map_chunked` of `--map-items` no-op calls in chunks of
//!   `--chunk-size`;
//! - first result: build a pool, submit one no-op, get its result (the
//!   pool's creation is inside the clock);
//! - CPU: count the primes below `--cpu-below` by trial division in
//!   `--cpu-chunks` tasks, in this process alone and on the pool.
//!
//! Every measurement checks its results (count and sum of the no-ops, the
//! prime count against a sieve); a lost or wrong result makes the program
//! exit with status 1. Pools are built and warmed up (both workers started)
//! before the clock starts and shut down after it stops, except for the
//! first-result measurement, whose point is the start-up. Each measurement
//! runs `--runs` times (the CPU part `--cpu-runs` times), interleaved with
//! the others, and the median run is reported (the best one too).
//!
//! Output: one machine-readable line per measurement, `name key=value ...`
//! (for `bench/process_pool.sh`), then a table for humans.
//!
//! The workers are this program started again: `hilo::init()` is the first
//! line of `main`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use hilo::process::ProcessPool;

/// Worker processes of every pool.
const WORKERS: usize = 2;
/// The primes below 20,000,000 (the default CPU workload), known
/// independently of both the sieve and trial division.
const PRIMES_BELOW_20M: u64 = 1_270_607;

const USAGE: &str = "\
usage: hilo-bench-process-pool [options]

  --round-trips N  no-op tasks per round-trip run, submit all then result() each (default 20000)
  --map-items N    items per chunked-map run (default 100000)
  --chunk-size N   items per chunk of the chunked map (default 100)
  --runs N         runs of each pool measurement; the median is reported (default 5)
  --cpu-below N    count primes below N for the CPU part (default 20000000)
  --cpu-chunks N   split the CPU part into N tasks (default 64)
  --cpu-runs N     runs of each CPU measurement; the median is reported (default 5)
  --no-cpu         skip the CPU part
  -h, --help       this text";

/// Returns its argument: the task whose round trip is measured.
#[hilo::task]
fn noop(x: u64) -> u64 {
    x
}

/// Sleeps `ms` milliseconds: holds a worker busy so that the warm-up
/// reaches both workers.
#[hilo::task]
fn pause(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

/// Primes in `lo..hi`, by trial division (slow on purpose: the workload).
#[hilo::task]
fn count_primes(lo: u64, hi: u64) -> u64 {
    (lo..hi).filter(|&n| is_prime(n)).count() as u64
}

fn is_prime(n: u64) -> bool {
    if n < 4 {
        return n >= 2;
    }
    if n % 2 == 0 {
        return false;
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

struct Options {
    round_trips: u64,
    map_items: u64,
    chunk_size: u64,
    runs: usize,
    cpu_below: u64,
    cpu_chunks: u64,
    cpu_runs: usize,
    cpu: bool,
}

fn parse_number(flag: &str, value: Option<String>) -> Result<u64, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    let n: u64 = value
        .replace('_', "")
        .parse()
        .map_err(|_| format!("{flag}: not a whole number: {value:?}"))?;
    if n == 0 {
        return Err(format!("{flag} must be at least 1"));
    }
    Ok(n)
}

fn parse_args() -> Result<Option<Options>, String> {
    let mut opts = Options {
        round_trips: 20_000,
        map_items: 100_000,
        chunk_size: 100,
        runs: 5,
        cpu_below: 20_000_000,
        cpu_chunks: 64,
        cpu_runs: 5,
        cpu: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| args.next());
        match flag.as_str() {
            "--round-trips" => opts.round_trips = parse_number(&flag, value())?,
            "--map-items" => opts.map_items = parse_number(&flag, value())?,
            "--chunk-size" => opts.chunk_size = parse_number(&flag, value())?,
            "--runs" => opts.runs = to_usize(parse_number(&flag, value())?),
            "--cpu-below" => opts.cpu_below = parse_number(&flag, value())?,
            "--cpu-chunks" => opts.cpu_chunks = parse_number(&flag, value())?,
            "--cpu-runs" => opts.cpu_runs = to_usize(parse_number(&flag, value())?),
            "--no-cpu" => opts.cpu = false,
            "-h" | "--help" => return Ok(None),
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    Ok(Some(opts))
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Counts and sums results as they are collected.
#[derive(Default)]
struct Tally {
    count: u64,
    sum: u64,
}

impl Tally {
    fn add(&mut self, v: u64) {
        self.count += 1;
        self.sum = self.sum.wrapping_add(v);
    }

    /// Checks that exactly `0..n` came back (by count and sum).
    fn check(&self, who: &str, n: u64) -> Result<(), String> {
        let want_sum = expected_sum(n);
        if self.count != n || self.sum != want_sum {
            return Err(format!(
                "{who}: results lost or wrong: got {} results summing to {}, \
                 expected {n} summing to {want_sum}",
                self.count, self.sum
            ));
        }
        Ok(())
    }
}

fn expected_sum(n: u64) -> u64 {
    // 0 + 1 + ... + (n - 1), exact in u128, then wrapped like the tallies.
    let n = u128::from(n);
    (n * (n - 1) / 2) as u64
}

fn build_pool() -> Result<ProcessPool, String> {
    ProcessPool::builder()
        .max_workers(WORKERS)
        .build()
        .map_err(|e| format!("hilo: cannot build the process pool: {e}"))
}

/// A pool whose workers are all started: the pool starts its first worker
/// when built and the others on demand, so hold one worker busy while
/// another task is queued, until every slot has a live worker.
fn warm_pool() -> Result<ProcessPool, String> {
    let pool = build_pool()?;
    for _ in 0..10 {
        if pool.worker_pids().len() >= WORKERS {
            return Ok(pool);
        }
        let futures = (0..WORKERS)
            .map(|_| pool.submit(pause::call(50)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("hilo: warm-up submit failed: {e}"))?;
        for f in futures {
            f.result()
                .map_err(|e| format!("hilo: warm-up task failed: {e}"))?;
        }
    }
    Err(format!(
        "hilo: after the warm-up only {} of {WORKERS} workers are alive",
        pool.worker_pids().len()
    ))
}

/// Round trips: submit `n` no-op calls, then `result()` every future.
fn round_trips(n: u64) -> Result<Duration, String> {
    let pool = warm_pool()?;
    let start = Instant::now();
    let futures = (0..n)
        .map(|i| pool.submit(noop::call(i)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("hilo: submit failed: {e}"))?;
    let mut tally = Tally::default();
    for fut in futures {
        tally.add(
            fut.result()
                .map_err(|e| format!("hilo: task failed: {e}"))?,
        );
    }
    let elapsed = start.elapsed();
    drop(pool);
    tally.check("hilo_round_trips", n)?;
    Ok(elapsed)
}

/// Chunked map: `map_chunked(0..n, chunk_size, noop::call)`.
fn chunked_map(n: u64, chunk_size: u64) -> Result<Duration, String> {
    let pool = warm_pool()?;
    let start = Instant::now();
    let mut tally = Tally::default();
    for r in pool.map_chunked(0..n, to_usize(chunk_size), noop::call) {
        tally.add(r.map_err(|e| format!("hilo: map item failed: {e}"))?);
    }
    let elapsed = start.elapsed();
    drop(pool);
    tally.check("hilo_map_chunked", n)?;
    Ok(elapsed)
}

/// From nothing to the first result: build the pool, submit one no-op and
/// wait for its value. The shutdown is outside the clock.
fn first_result() -> Result<Duration, String> {
    let start = Instant::now();
    let pool = build_pool()?;
    let value = pool
        .submit(noop::call(7))
        .map_err(|e| format!("hilo: submit failed: {e}"))?
        .result()
        .map_err(|e| format!("hilo: task failed: {e}"))?;
    let elapsed = start.elapsed();
    drop(pool);
    if value != 7 {
        return Err(format!("hilo_first_result: noop(7) returned {value}"));
    }
    Ok(elapsed)
}

/// Splits `0..below` into `chunks` ranges.
fn ranges(below: u64, chunks: u64) -> Vec<(u64, u64)> {
    (0..chunks)
        .map(|c| (below * c / chunks, below * (c + 1) / chunks))
        .collect()
}

/// The CPU workload in this process, one chunk after the other.
fn cpu_sequential(below: u64, chunks: u64) -> (Duration, u64) {
    let start = Instant::now();
    let primes = ranges(below, chunks)
        .into_iter()
        .map(|(lo, hi)| count_primes(lo, hi))
        .sum();
    (start.elapsed(), primes)
}

/// The CPU workload on a warmed-up pool: submit every chunk, then sum.
fn cpu_pool(below: u64, chunks: u64) -> Result<(Duration, u64), String> {
    let pool = warm_pool()?;
    let start = Instant::now();
    let futures = ranges(below, chunks)
        .into_iter()
        .map(|(lo, hi)| pool.submit(count_primes::call(lo, hi)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("hilo: submit failed: {e}"))?;
    let mut primes = 0;
    for fut in futures {
        primes += fut
            .result()
            .map_err(|e| format!("hilo: task failed: {e}"))?;
    }
    let elapsed = start.elapsed();
    drop(pool);
    Ok((elapsed, primes))
}

/// Primes below `n` by a sieve: the reference the workload is checked with.
fn sieve_count(n: u64) -> u64 {
    let n = to_usize(n);
    if n < 3 {
        return 0;
    }
    let mut composite = vec![false; n];
    let mut count = 0;
    for i in 2..n {
        if composite[i] {
            continue;
        }
        count += 1;
        let mut j = i.saturating_mul(i);
        while j < n {
            composite[j] = true;
            j += i;
        }
    }
    count
}

/// Median (upper median for an even count) and best of some durations.
fn median_and_best(times: &[Duration]) -> (Duration, Duration) {
    let mut sorted = times.to_vec();
    sorted.sort();
    (sorted[sorted.len() / 2], sorted[0])
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn join_secs(times: &[Duration]) -> String {
    times
        .iter()
        .map(|t| format!("{:.4}", secs(*t)))
        .collect::<Vec<_>>()
        .join(",")
}

struct Row {
    label: String,
    median: Duration,
    best: Duration,
    /// Items (tasks or mapped items) per second at the median, if a rate
    /// means something for this row.
    rate: Option<f64>,
}

fn pool_measurements(opts: &Options) -> Result<Vec<Row>, String> {
    let mut trips = Vec::with_capacity(opts.runs);
    let mut maps = Vec::with_capacity(opts.runs);
    let mut firsts = Vec::with_capacity(opts.runs);
    for _ in 0..opts.runs {
        trips.push(round_trips(opts.round_trips)?);
        maps.push(chunked_map(opts.map_items, opts.chunk_size)?);
        firsts.push(first_result()?);
    }
    let mut rows = Vec::new();

    let (median, best) = median_and_best(&trips);
    let rate = opts.round_trips as f64 / secs(median);
    println!(
        "hilo_round_trips tasks={} workers={WORKERS} runs={} median_s={:.4} best_s={:.4} \
         tasks_per_s={rate:.0} runs_s={}",
        opts.round_trips,
        opts.runs,
        secs(median),
        secs(best),
        join_secs(&trips),
    );
    rows.push(Row {
        label: format!(
            "round trips: {} no-op tasks, submit all, result() each",
            opts.round_trips
        ),
        median,
        best,
        rate: Some(rate),
    });

    let (median, best) = median_and_best(&maps);
    let rate = opts.map_items as f64 / secs(median);
    println!(
        "hilo_map_chunked items={} chunk_size={} workers={WORKERS} runs={} median_s={:.4} \
         best_s={:.4} items_per_s={rate:.0} runs_s={}",
        opts.map_items,
        opts.chunk_size,
        opts.runs,
        secs(median),
        secs(best),
        join_secs(&maps),
    );
    rows.push(Row {
        label: format!(
            "map_chunked: {} no-op items, chunks of {}",
            opts.map_items, opts.chunk_size
        ),
        median,
        best,
        rate: Some(rate),
    });

    let (median, best) = median_and_best(&firsts);
    println!(
        "hilo_first_result workers={WORKERS} runs={} median_s={:.4} best_s={:.4} runs_s={}",
        opts.runs,
        secs(median),
        secs(best),
        join_secs(&firsts),
    );
    rows.push(Row {
        label: "first result: build pool, submit one no-op, result()".to_owned(),
        median,
        best,
        rate: None,
    });
    Ok(rows)
}

fn cpu(opts: &Options) -> Result<(Vec<Row>, f64), String> {
    let want = sieve_count(opts.cpu_below);
    if opts.cpu_below == 20_000_000 && want != PRIMES_BELOW_20M {
        return Err(format!(
            "the sieve counts {want} primes below 20000000, not {PRIMES_BELOW_20M}"
        ));
    }
    let mut seq_times = Vec::with_capacity(opts.cpu_runs);
    let mut pool_times = Vec::with_capacity(opts.cpu_runs);
    for _ in 0..opts.cpu_runs {
        for (name, on_pool) in [
            ("cpu_primes_sequential", false),
            ("cpu_primes_process_pool", true),
        ] {
            let (elapsed, primes) = if on_pool {
                cpu_pool(opts.cpu_below, opts.cpu_chunks)?
            } else {
                cpu_sequential(opts.cpu_below, opts.cpu_chunks)
            };
            if primes != want {
                return Err(format!(
                    "{name}: counted {primes} primes below {}, the sieve says {want}",
                    opts.cpu_below
                ));
            }
            if on_pool {
                pool_times.push(elapsed);
            } else {
                seq_times.push(elapsed);
            }
        }
    }
    let mut rows = Vec::new();
    let mut medians = Vec::new();
    for (name, workers, label, times) in [
        ("cpu_primes_sequential", 1, "this process alone", &seq_times),
        (
            "cpu_primes_process_pool",
            WORKERS,
            "ProcessPool, 2 workers",
            &pool_times,
        ),
    ] {
        let (median, best) = median_and_best(times);
        println!(
            "{name} workers={workers} below={} chunks={} primes={want} runs={} \
             median_s={:.4} best_s={:.4} runs_s={}",
            opts.cpu_below,
            opts.cpu_chunks,
            opts.cpu_runs,
            secs(median),
            secs(best),
            join_secs(times),
        );
        medians.push(median);
        rows.push(Row {
            label: format!(
                "CPU: primes below {} ({} chunks), {label}",
                opts.cpu_below, opts.cpu_chunks
            ),
            median,
            best,
            rate: None,
        });
    }
    let speedup = secs(medians[0]) / secs(medians[1]);
    println!("cpu_speedup value={speedup:.3}");
    Ok((rows, speedup))
}

fn print_table(rows: &[Row], speedup: Option<f64>) {
    println!();
    println!("hilo ProcessPool ({WORKERS} worker processes, median of runs)");
    println!(
        "  {:<64} {:>9} {:>9} {:>10} {:>9}",
        "measurement", "median s", "best s", "items/s", "us/item"
    );
    for r in rows {
        let (rate, per_item) = match r.rate {
            Some(rate) => (format!("{rate:.0}"), format!("{:.2}", 1e6 / rate)),
            None => ("-".to_owned(), "-".to_owned()),
        };
        println!(
            "  {:<64} {:>9.4} {:>9.4} {:>10} {:>9}",
            r.label,
            secs(r.median),
            secs(r.best),
            rate,
            per_item
        );
    }
    if let Some(s) = speedup {
        println!(
            "  CPU speedup, ProcessPool with {WORKERS} workers over this process alone: {s:.2}x"
        );
    }
}

fn main() -> ExitCode {
    // Worker processes are this program started again: they serve tasks
    // here and never return.
    hilo::init();
    let opts = match parse_args() {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut rows = match pool_measurements(&opts) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut speedup = None;
    if opts.cpu {
        match cpu(&opts) {
            Ok((cpu_rows, s)) => {
                rows.extend(cpu_rows);
                speedup = Some(s);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    print_table(&rows, speedup);
    ExitCode::SUCCESS
}
