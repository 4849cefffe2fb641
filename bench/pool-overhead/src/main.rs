//! Pool overhead: what one tiny task costs on hilo's `ThreadPool` compared
//! with `rayon::ThreadPool::spawn` + a channel and the `threadpool` crate +
//! a channel, all with 2 workers; plus the speedup of a CPU-bound workload
//! (counting primes by trial division) on hilo with 2 workers over 1.
//!
//! Every overhead contender runs `--tasks` no-op tasks (each returns its
//! index), collects every result on the submitting thread and checks that
//! the count and the sum are right; a lost or wrong result makes the program
//! exit with status 1. Each contender runs `--runs` times, interleaved with
//! the others so that drift in the machine's speed hits all of them alike,
//! and the median run is reported (the best one too). Pools are built and
//! warmed up (their threads started) before the clock starts and shut down
//! after it stops. (`bench/pool_overhead.sh` runs each contender alone in
//! several fresh processes instead, so no run inherits another's heap.)
//!
//! Output: one machine-readable line per measurement, `name key=value ...`
//! (for `bench/pool_overhead.sh`), then a table for humans.

use std::collections::VecDeque;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use hilo_bench_util::{
    count, count_primes, main_with, positive, print_rows, ranges, report, report_speedup,
    sieve_count, sum_results, to_usize, Columns, Rate, Row, Tally,
};

/// Worker threads of every pool in the overhead part.
const WORKERS: usize = 2;
/// Futures in flight in the pipelined hilo variant.
const PIPELINE_WINDOW: usize = 1024;

/// Measures what a tiny task costs on hilo's ThreadPool against rayon and
/// the threadpool crate, and the CPU speedup of 2 workers over 1.
#[derive(clap::Parser, Debug)]
#[command(name = "hilo-bench-pool-overhead")]
struct Options {
    /// No-op tasks per overhead run
    #[arg(long, default_value_t = 1_000_000, value_parser = positive)]
    tasks: u64,
    /// Runs of each overhead contender; the median is reported
    #[arg(long, default_value_t = 5, value_parser = count)]
    runs: usize,
    /// Count primes below N for the CPU part
    #[arg(long, value_name = "N", default_value_t = 2_000_000, value_parser = positive)]
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
    /// Skip the overhead part (only the CPU part runs)
    #[arg(long = "no-overhead", action = clap::ArgAction::SetFalse)]
    overhead: bool,
    /// Run only these overhead contenders (names as printed)
    #[arg(long, value_name = "A,B", value_delimiter = ',', value_parser = contender)]
    only: Option<Vec<String>>,
}

/// `--only`'s names must be contenders'.
fn contender(name: &str) -> Result<String, String> {
    match CONTENDERS.iter().any(|c| c.name == name) {
        true => Ok(name.to_owned()),
        false => Err(format!("no contender named {name:?}")),
    }
}

/// What one timed run saw.
struct Run {
    elapsed: Duration,
    tally: Tally,
}

impl Run {
    /// Stops the clock started at `start` on the results in `tally`.
    fn stop(start: Instant, tally: Tally) -> Self {
        Run {
            elapsed: start.elapsed(),
            tally,
        }
    }
}

fn hilo_pool(workers: usize) -> Result<hilo::ThreadPool, String> {
    let pool = hilo::ThreadPool::builder()
        .max_workers(workers)
        .build()
        .map_err(|e| format!("hilo: cannot build the pool: {e}"))?;
    // hilo starts threads on demand: start them now, outside the clock.
    let warm: Vec<_> = (0..4 * workers as u64)
        .map(|i| pool.submit(move || i))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("hilo: warm-up submit failed: {e}"))?;
    for f in warm {
        f.result()
            .map_err(|e| format!("hilo: warm-up task failed: {e}"))?;
    }
    Ok(pool)
}

/// One no-op task on a hilo pool.
fn submit_noop(pool: &hilo::ThreadPool, i: u64) -> Result<hilo::Future<u64>, String> {
    pool.submit(move || i)
        .map_err(|e| format!("hilo: submit failed: {e}"))
}

/// A hilo task's value, or the error as a message.
fn value_of(fut: hilo::Future<u64>) -> Result<u64, String> {
    fut.result().map_err(|e| format!("hilo: task failed: {e}"))
}

/// hilo: submit every task, then `result()` every future in order.
fn hilo_submit_all(n: u64) -> Result<Run, String> {
    let pool = hilo_pool(WORKERS)?;
    let start = Instant::now();
    let mut futures = Vec::with_capacity(to_usize(n));
    for i in 0..n {
        let fut = submit_noop(&pool, i)?;
        futures.push(fut);
    }
    collect_all(pool, start, futures)
}

/// `result()` of every future in order; the clock stops at the last one.
fn collect_all(
    pool: hilo::ThreadPool,
    start: Instant,
    futures: Vec<hilo::Future<u64>>,
) -> Result<Run, String> {
    let mut tally = Tally::default();
    for fut in futures {
        tally.add(value_of(fut)?);
    }
    let run = Run::stop(start, tally);
    drop(pool);
    Ok(run)
}

/// hilo: one `submit_all` of every task, then `result()` every future in
/// order.
fn hilo_batch(n: u64) -> Result<Run, String> {
    let pool = hilo_pool(WORKERS)?;
    let start = Instant::now();
    let futures = pool
        .submit_all((0..n).map(|i| move || i))
        .map_err(|e| format!("hilo: submit_all failed: {e}"))?;
    collect_all(pool, start, futures)
}

/// hilo, pipelined: keep at most `PIPELINE_WINDOW` futures in flight and
/// collect the oldest one before submitting past that.
fn hilo_pipelined(n: u64) -> Result<Run, String> {
    let pool = hilo_pool(WORKERS)?;
    let start = Instant::now();
    let mut in_flight = VecDeque::with_capacity(PIPELINE_WINDOW + 1);
    let mut tally = Tally::default();
    for i in 0..n {
        let fut = submit_noop(&pool, i)?;
        in_flight.push_back(fut);
        if in_flight.len() > PIPELINE_WINDOW {
            if let Some(oldest) = in_flight.pop_front() {
                tally.add(value_of(oldest)?);
            }
        }
    }
    for fut in in_flight {
        tally.add(value_of(fut)?);
    }
    let run = Run::stop(start, tally);
    drop(pool);
    Ok(run)
}

/// hilo's lazy `ThreadPool::map` with its default window (2 × workers).
fn hilo_map(n: u64) -> Result<Run, String> {
    let pool = hilo_pool(WORKERS)?;
    let start = Instant::now();
    let mut tally = Tally::default();
    for r in pool.map(0..n, |i| i) {
        tally.add(r.map_err(|e| format!("hilo: map item failed: {e}"))?);
    }
    let run = Run::stop(start, tally);
    drop(pool);
    Ok(run)
}

/// The pattern of the pools that return no futures: `spawn(i, tx)` queues a
/// task that sends `i` down the channel; after a warm-up, the timed part
/// spawns `n` tasks and receives all their results on this thread.
fn spawn_and_collect(
    who: &str,
    n: u64,
    spawn: impl Fn(u64, crossbeam_channel::Sender<u64>),
) -> Result<Run, String> {
    let (tx, rx) = crossbeam_channel::unbounded::<u64>();
    for i in 0..4 * WORKERS as u64 {
        spawn(i, tx.clone());
    }
    for _ in 0..4 * WORKERS {
        rx.recv()
            .map_err(|_| format!("{who}: warm-up result lost"))?;
    }
    let start = Instant::now();
    for i in 0..n {
        spawn(i, tx.clone());
    }
    drop(tx);
    let mut tally = Tally::default();
    for _ in 0..n {
        match rx.recv() {
            Ok(v) => tally.add(v),
            Err(_) => break, // every sender gone: results were lost
        }
    }
    Ok(Run::stop(start, tally))
}

/// `rayon::ThreadPool::spawn`, each task sending its result down a
/// crossbeam channel; the submitting thread receives all of them.
fn rayon_spawn_channel(n: u64) -> Result<Run, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(WORKERS)
        .build()
        .map_err(|e| format!("rayon: cannot build the pool: {e}"))?;
    spawn_and_collect("rayon", n, |i, tx| {
        pool.spawn(move || {
            let _ = tx.send(i);
        })
    })
}

/// The `threadpool` crate's `execute`, each task sending its result down a
/// crossbeam channel; the submitting thread receives all of them.
fn threadpool_channel(n: u64) -> Result<Run, String> {
    let pool = threadpool::ThreadPool::new(WORKERS);
    let run = spawn_and_collect("threadpool", n, |i, tx| {
        pool.execute(move || {
            let _ = tx.send(i);
        })
    })?;
    pool.join();
    Ok(run)
}

struct Contender {
    name: &'static str,
    label: &'static str,
    /// Runs `--tasks / divisor` tasks (for contenders too slow for all).
    divisor: u64,
    run: fn(u64) -> Result<Run, String>,
}

const CONTENDERS: &[Contender] = &[
    Contender {
        name: "hilo_threadpool",
        label: "hilo ThreadPool: submit all, then result() each",
        divisor: 1,
        run: hilo_submit_all,
    },
    Contender {
        name: "hilo_submit_all",
        label: "hilo ThreadPool::submit_all, then result() each",
        divisor: 1,
        run: hilo_batch,
    },
    Contender {
        name: "hilo_pipelined",
        label: "hilo ThreadPool: submit, result() 1024 behind",
        divisor: 1,
        run: hilo_pipelined,
    },
    Contender {
        name: "hilo_map",
        label: "hilo ThreadPool::map, default window (1/10 of tasks)",
        divisor: 10,
        run: hilo_map,
    },
    Contender {
        name: "rayon_spawn_channel",
        label: "rayon ThreadPool::spawn + crossbeam channel",
        divisor: 1,
        run: rayon_spawn_channel,
    },
    Contender {
        name: "threadpool_channel",
        label: "threadpool crate execute + crossbeam channel",
        divisor: 1,
        run: threadpool_channel,
    },
];

fn overhead(opts: &Options) -> Result<Vec<Row>, String> {
    let chosen: Vec<&Contender> = CONTENDERS
        .iter()
        .filter(|c| {
            opts.only
                .as_ref()
                .is_none_or(|o| o.iter().any(|n| n == c.name))
        })
        .collect();
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(opts.runs); chosen.len()];
    for _ in 0..opts.runs {
        for (c, slot) in chosen.iter().zip(times.iter_mut()) {
            let n = (opts.tasks / c.divisor).max(1);
            let run = (c.run)(n)?;
            run.tally.check(c.name, n)?;
            slot.push(run.elapsed);
        }
    }
    let rows = chosen
        .iter()
        .zip(&times)
        .map(|(c, t)| {
            let n = (opts.tasks / c.divisor).max(1);
            let fields = format!("tasks={n} workers={WORKERS}");
            let rate = Rate {
                key: "tasks_per_s",
                items: n,
            };
            report(c.name, &fields, t, Some(rate)).row(c.label)
        })
        .collect();
    Ok(rows)
}

/// One CPU run: `chunks` tasks over `0..below` on a fresh `workers`-thread
/// hilo pool. Returns the time and the number of primes found.
fn cpu_run(workers: usize, below: u64, chunks: u64) -> Result<(Duration, u64), String> {
    let pool = hilo_pool(workers)?;
    let start = Instant::now();
    let futures = ranges(below, chunks)
        .map(|(lo, hi)| pool.submit(move || count_primes(lo, hi)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("hilo: submit failed: {e}"))?;
    let primes = sum_results(futures.into_iter().map(hilo::Future::result))?;
    let elapsed = start.elapsed();
    drop(pool);
    Ok((elapsed, primes))
}

fn cpu(opts: &Options) -> Result<(Vec<Row>, f64), String> {
    let want = sieve_count(opts.cpu_below);
    let configs = [(1usize, "cpu_primes_1_worker"), (2, "cpu_primes_2_workers")];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); configs.len()];
    for _ in 0..opts.cpu_runs {
        for (&(workers, name), slot) in configs.iter().zip(times.iter_mut()) {
            let (elapsed, primes) = cpu_run(workers, opts.cpu_below, opts.cpu_chunks)?;
            if primes != want {
                return Err(format!(
                    "{name}: counted {primes} primes below {}, the sieve says {want}",
                    opts.cpu_below
                ));
            }
            slot.push(elapsed);
        }
    }
    let rows: Vec<Row> = configs
        .iter()
        .zip(&times)
        .map(|(&(workers, name), t)| {
            let fields = format!(
                "workers={workers} below={} chunks={} primes={want}",
                opts.cpu_below, opts.cpu_chunks
            );
            let label = format!(
                "hilo CPU: primes below {} in {} chunks, {workers} worker{}",
                opts.cpu_below,
                opts.cpu_chunks,
                if workers == 1 { "" } else { "s" }
            );
            report(name, &fields, t, None).row(label)
        })
        .collect();
    let speedup = report_speedup(rows[0].median, rows[1].median);
    Ok((rows, speedup))
}

/// The table's columns: tasks/s and nanoseconds per task.
const COLUMNS: Columns = Columns {
    label: "contender",
    rate: "tasks/s",
    per_item: "ns/task",
    per_item_units: 1e9,
    per_item_decimals: 0,
};

fn print_table(rows: &[Row], tasks: u64, cpu_speedup: Option<f64>) {
    println!();
    println!("Rust contenders ({WORKERS} workers unless noted, {tasks} no-op tasks per run, median of runs)");
    print_rows(rows, &COLUMNS);
    if let Some(s) = cpu_speedup {
        println!("  CPU speedup, 2 workers over 1: {s:.2}x");
    }
}

fn main() -> ExitCode {
    main_with(|opts: Options| {
        let mut rows = if opts.overhead {
            overhead(&opts)?
        } else {
            Vec::new()
        };
        let mut speedup = None;
        if opts.cpu {
            let (cpu_rows, s) = cpu(&opts)?;
            rows.extend(cpu_rows);
            speedup = Some(s);
        }
        print_table(&rows, opts.tasks, speedup);
        Ok(())
    })
}
