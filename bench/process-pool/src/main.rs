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
use hilo_bench_util::{
    count, main_with, positive, print_rows, ranges, report, report_speedup, sieve_count,
    sum_results, to_usize, Columns, Rate, Row, Tally,
};

/// Worker processes of every pool.
const WORKERS: usize = 2;
/// The primes below 20,000,000 (the default CPU workload), known
/// independently of both the sieve and trial division.
const PRIMES_BELOW_20M: u64 = 1_270_607;

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
    hilo_bench_util::count_primes(lo, hi)
}

/// Measures hilo's ProcessPool against Python's ProcessPoolExecutor: round
/// trips, a chunked map, and the CPU speedup of 2 workers over 1.
#[derive(clap::Parser, Debug)]
#[command(name = "hilo-bench-process-pool")]
struct Options {
    /// No-op tasks per round-trip run, submit all then result() each
    #[arg(long, value_name = "N", default_value_t = 20_000, value_parser = positive)]
    round_trips: u64,
    /// Items per chunked-map run
    #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = positive)]
    map_items: u64,
    /// Items per chunk of the chunked map
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = positive)]
    chunk_size: u64,
    /// Runs of each pool measurement; the median is reported
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = count)]
    runs: usize,
    /// Count primes below N for the CPU part
    #[arg(long, value_name = "N", default_value_t = 20_000_000, value_parser = positive)]
    cpu_below: u64,
    /// Split the CPU part into N tasks
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = positive)]
    cpu_chunks: u64,
    /// Runs of each CPU measurement; the median is reported
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = count)]
    cpu_runs: usize,
    /// Skip the CPU part
    #[arg(long = "no-cpu", action = clap::ArgAction::SetFalse)]
    cpu: bool,
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

/// The CPU workload in this process, one chunk after the other.
fn cpu_sequential(below: u64, chunks: u64) -> (Duration, u64) {
    let start = Instant::now();
    let primes = ranges(below, chunks)
        .map(|(lo, hi)| count_primes(lo, hi))
        .sum();
    (start.elapsed(), primes)
}

/// The CPU workload on a warmed-up pool: submit every chunk, then sum.
fn cpu_pool(below: u64, chunks: u64) -> Result<(Duration, u64), String> {
    let pool = warm_pool()?;
    let start = Instant::now();
    let futures = ranges(below, chunks)
        .map(|(lo, hi)| pool.submit(count_primes::call(lo, hi)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("hilo: submit failed: {e}"))?;
    let primes = sum_results(futures.into_iter().map(hilo::Future::result))?;
    let elapsed = start.elapsed();
    drop(pool);
    Ok((elapsed, primes))
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
    let trips_fields = format!("tasks={} workers={WORKERS}", opts.round_trips);
    let trips_rate = Rate {
        key: "tasks_per_s",
        items: opts.round_trips,
    };
    let trips_label = format!(
        "round trips: {} no-op tasks, submit all, result() each",
        opts.round_trips
    );
    let maps_fields = format!(
        "items={} chunk_size={} workers={WORKERS}",
        opts.map_items, opts.chunk_size
    );
    let maps_rate = Rate {
        key: "items_per_s",
        items: opts.map_items,
    };
    let maps_label = format!(
        "map_chunked: {} no-op items, chunks of {}",
        opts.map_items, opts.chunk_size
    );
    Ok(vec![
        report("hilo_round_trips", &trips_fields, &trips, Some(trips_rate)).row(trips_label),
        report("hilo_map_chunked", &maps_fields, &maps, Some(maps_rate)).row(maps_label),
        report(
            "hilo_first_result",
            &format!("workers={WORKERS}"),
            &firsts,
            None,
        )
        .row("first result: build pool, submit one no-op, result()"),
    ])
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
    let rows: Vec<Row> = [
        ("cpu_primes_sequential", 1, "this process alone", &seq_times),
        (
            "cpu_primes_process_pool",
            WORKERS,
            "ProcessPool, 2 workers",
            &pool_times,
        ),
    ]
    .into_iter()
    .map(|(name, workers, label, times)| {
        let fields = format!(
            "workers={workers} below={} chunks={} primes={want}",
            opts.cpu_below, opts.cpu_chunks
        );
        let label = format!(
            "CPU: primes below {} ({} chunks), {label}",
            opts.cpu_below, opts.cpu_chunks
        );
        report(name, &fields, times, None).row(label)
    })
    .collect();
    let speedup = report_speedup(rows[0].median, rows[1].median);
    Ok((rows, speedup))
}

/// The table's columns: items/s and microseconds per item.
const COLUMNS: Columns = Columns {
    label: "measurement",
    rate: "items/s",
    per_item: "us/item",
    per_item_units: 1e6,
    per_item_decimals: 2,
};

fn print_table(rows: &[Row], speedup: Option<f64>) {
    println!();
    println!("hilo ProcessPool ({WORKERS} worker processes, median of runs)");
    print_rows(rows, &COLUMNS);
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
    main_with(|opts: Options| {
        let mut rows = pool_measurements(&opts)?;
        let mut speedup = None;
        if opts.cpu {
            let (cpu_rows, s) = cpu(&opts)?;
            rows.extend(cpu_rows);
            speedup = Some(s);
        }
        print_table(&rows, speedup);
        Ok(())
    })
}
