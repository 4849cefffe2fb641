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
//! after it stops.
//!
//! Output: one machine-readable line per measurement, `name key=value ...`
//! (for `bench/pool_overhead.sh`), then a table for humans.

use std::collections::VecDeque;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Worker threads of every pool in the overhead part.
const WORKERS: usize = 2;
/// Futures in flight in the pipelined hilo variant.
const PIPELINE_WINDOW: usize = 1024;

const USAGE: &str = "\
usage: hilo-bench-pool-overhead [options]

  --tasks N        no-op tasks per overhead run (default 1000000)
  --runs N         runs of each overhead contender; the median is reported (default 5)
  --cpu-below N    count primes below N for the CPU part (default 2000000)
  --cpu-chunks N   split the CPU part into N tasks (default 64)
  --cpu-runs N     runs of each CPU measurement; the median is reported (default 5)
  --only A,B       run only these overhead contenders (names as printed)
  --no-cpu         skip the CPU part
  -h, --help       this text";

struct Options {
    tasks: u64,
    runs: usize,
    cpu_below: u64,
    cpu_chunks: u64,
    cpu_runs: usize,
    cpu: bool,
    only: Option<Vec<String>>,
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
        tasks: 1_000_000,
        runs: 5,
        cpu_below: 2_000_000,
        cpu_chunks: 64,
        cpu_runs: 5,
        cpu: true,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| args.next());
        match flag.as_str() {
            "--tasks" => opts.tasks = parse_number(&flag, value())?,
            "--runs" => opts.runs = to_usize(parse_number(&flag, value())?),
            "--cpu-below" => opts.cpu_below = parse_number(&flag, value())?,
            "--cpu-chunks" => opts.cpu_chunks = parse_number(&flag, value())?,
            "--cpu-runs" => opts.cpu_runs = to_usize(parse_number(&flag, value())?),
            "--only" => {
                let names = value().ok_or("--only needs a value")?;
                let names: Vec<String> = names.split(',').map(str::to_owned).collect();
                if let Some(bad) = names
                    .iter()
                    .find(|n| !CONTENDERS.iter().any(|c| c.name == *n))
                {
                    return Err(format!("--only: no contender named {bad:?}"));
                }
                opts.only = Some(names);
            }
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

/// What one timed run saw.
struct Run {
    elapsed: Duration,
    count: u64,
    sum: u64,
}

/// Sums `n` results as they are collected, so that every contender does the
/// same bookkeeping.
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

    fn finish(self, start: Instant) -> Run {
        Run {
            elapsed: start.elapsed(),
            count: self.count,
            sum: self.sum,
        }
    }
}

fn expected_sum(n: u64) -> u64 {
    // 0 + 1 + ... + (n - 1), exact in u128, then wrapped like the tallies.
    let n = u128::from(n);
    (n * (n - 1) / 2) as u64
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

/// hilo: submit every task, then `result()` every future in order.
fn hilo_submit_all(n: u64) -> Result<Run, String> {
    let pool = hilo_pool(WORKERS)?;
    let start = Instant::now();
    let mut futures = Vec::with_capacity(to_usize(n));
    for i in 0..n {
        let fut = pool
            .submit(move || i)
            .map_err(|e| format!("hilo: submit failed: {e}"))?;
        futures.push(fut);
    }
    let mut tally = Tally::default();
    for fut in futures {
        tally.add(
            fut.result()
                .map_err(|e| format!("hilo: task failed: {e}"))?,
        );
    }
    let run = tally.finish(start);
    drop(pool);
    Ok(run)
}

/// hilo, pipelined: keep at most `PIPELINE_WINDOW` futures in flight and
/// collect the oldest one before submitting past that.
fn hilo_pipelined(n: u64) -> Result<Run, String> {
    let pool = hilo_pool(WORKERS)?;
    let start = Instant::now();
    let mut in_flight = VecDeque::with_capacity(PIPELINE_WINDOW + 1);
    let mut tally = Tally::default();
    for i in 0..n {
        let fut = pool
            .submit(move || i)
            .map_err(|e| format!("hilo: submit failed: {e}"))?;
        in_flight.push_back(fut);
        if in_flight.len() > PIPELINE_WINDOW {
            if let Some(oldest) = in_flight.pop_front() {
                tally.add(
                    oldest
                        .result()
                        .map_err(|e| format!("hilo: task failed: {e}"))?,
                );
            }
        }
    }
    for fut in in_flight {
        tally.add(
            fut.result()
                .map_err(|e| format!("hilo: task failed: {e}"))?,
        );
    }
    let run = tally.finish(start);
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
    let run = tally.finish(start);
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
    Ok(tally.finish(start))
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
    rate: Option<f64>,
}

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
            let want_sum = expected_sum(n);
            let run = (c.run)(n)?;
            if run.count != n || run.sum != want_sum {
                return Err(format!(
                    "{}: results lost or wrong: got {} results summing to {}, \
                     expected {n} summing to {want_sum}",
                    c.name, run.count, run.sum
                ));
            }
            slot.push(run.elapsed);
        }
    }
    let mut rows = Vec::new();
    for (c, t) in chosen.iter().zip(&times) {
        let n = (opts.tasks / c.divisor).max(1);
        let (median, best) = median_and_best(t);
        let rate = n as f64 / secs(median);
        println!(
            "{} tasks={n} workers={WORKERS} runs={} median_s={:.4} best_s={:.4} \
             tasks_per_s={rate:.0} runs_s={}",
            c.name,
            opts.runs,
            secs(median),
            secs(best),
            join_secs(t),
        );
        rows.push(Row {
            label: c.label.to_owned(),
            median,
            best,
            rate: Some(rate),
        });
    }
    Ok(rows)
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

/// Primes in `lo..hi`, by trial division (slow on purpose: the workload).
fn count_primes(lo: u64, hi: u64) -> u64 {
    (lo..hi).filter(|&n| is_prime(n)).count() as u64
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
        let mut j = i * i;
        while j < n {
            composite[j] = true;
            j += i;
        }
    }
    count
}

/// One CPU run: `chunks` tasks over `0..below` on a fresh `workers`-thread
/// hilo pool. Returns the time and the number of primes found.
fn cpu_run(workers: usize, below: u64, chunks: u64) -> Result<(Duration, u64), String> {
    let pool = hilo_pool(workers)?;
    let start = Instant::now();
    let futures = (0..chunks)
        .map(|c| {
            let lo = below * c / chunks;
            let hi = below * (c + 1) / chunks;
            pool.submit(move || count_primes(lo, hi))
        })
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

fn cpu(opts: &Options) -> Result<Vec<Row>, String> {
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
    let mut rows = Vec::new();
    let mut medians = Vec::new();
    for (&(workers, name), t) in configs.iter().zip(&times) {
        let (median, best) = median_and_best(t);
        println!(
            "{name} workers={workers} below={} chunks={} primes={want} runs={} \
             median_s={:.4} best_s={:.4} runs_s={}",
            opts.cpu_below,
            opts.cpu_chunks,
            opts.cpu_runs,
            secs(median),
            secs(best),
            join_secs(t),
        );
        medians.push(median);
        rows.push(Row {
            label: format!(
                "hilo CPU: primes below {} in {} chunks, {workers} worker{}",
                opts.cpu_below,
                opts.cpu_chunks,
                if workers == 1 { "" } else { "s" }
            ),
            median,
            best,
            rate: None,
        });
    }
    let speedup = secs(medians[0]) / secs(medians[1]);
    println!("cpu_speedup value={speedup:.3}");
    Ok(rows)
}

fn print_table(rows: &[Row], tasks: u64, cpu_speedup: Option<f64>) {
    println!();
    println!("Rust contenders ({WORKERS} workers unless noted, {tasks} no-op tasks per run, median of runs)");
    println!(
        "  {:<55} {:>9} {:>9} {:>12} {:>8}",
        "contender", "median s", "best s", "tasks/s", "ns/task"
    );
    for r in rows {
        let (rate, per_task) = match r.rate {
            Some(rate) => (format!("{rate:.0}"), format!("{:.0}", 1e9 / rate)),
            None => ("-".to_owned(), "-".to_owned()),
        };
        println!(
            "  {:<55} {:>9.4} {:>9.4} {:>12} {:>8}",
            r.label,
            secs(r.median),
            secs(r.best),
            rate,
            per_task
        );
    }
    if let Some(s) = cpu_speedup {
        println!("  CPU speedup, 2 workers over 1: {s:.2}x");
    }
}

fn main() -> ExitCode {
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
    let mut rows = match overhead(&opts) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut speedup = None;
    if opts.cpu {
        match cpu(&opts) {
            Ok(cpu_rows) => {
                speedup = Some(secs(cpu_rows[0].median) / secs(cpu_rows[1].median));
                rows.extend(cpu_rows);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    print_table(&rows, opts.tasks, speedup);
    ExitCode::SUCCESS
}
