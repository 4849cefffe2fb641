//! The Redis executor: what a task costs through Redis, end to end.
//!
//! - `worker URL SLOTS`: serve the bench's tasks (prefix `bench`) until
//!   stdin closes; `bench/cluster.sh` starts two.
//! - `client URL`: with the workers up,
//!   - round trips: `--round-trips` no-op tasks, submit all, then
//!     `result()` every future;
//!   - latency: `--latency` no-ops one at a time, submit → result, the
//!     median and 99th percentile;
//!   - chunked map: `map_chunked` of `--map-items` no-ops in chunks of
//!     `--chunk-size`.
//!
//! Every result is checked (count and sum); a lost or wrong one exits 1.
//! Output: one machine-readable line per measurement, `name key=value …`.

use std::io::Read;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use hilo::process::ChunkExecutor;
use hilo_bench_util::{main_with, positive, secs, Tally};
use hilo_redis::RedisExecutor;

const PREFIX: &str = "bench";

/// Returns its argument: the task whose round trip is measured.
#[hilo::task]
fn noop(x: u64) -> u64 {
    x
}

#[derive(clap::Parser, Debug)]
#[command(name = "hilo-bench-cluster")]
enum Options {
    /// Serve the bench's tasks until stdin closes
    Worker {
        url: String,
        #[arg(default_value_t = 1)]
        slots: usize,
        /// Tasks held beyond the running ones
        #[arg(long, default_value_t = 0)]
        prefetch: usize,
    },
    /// Measure round trips, latency and a chunked map
    Client {
        url: String,
        #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = positive)]
        round_trips: u64,
        #[arg(long, value_name = "N", default_value_t = 2_000, value_parser = positive)]
        latency: u64,
        #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = positive)]
        map_items: u64,
        #[arg(long, value_name = "N", default_value_t = 100, value_parser = positive)]
        chunk_size: u64,
    },
}

fn main() -> ExitCode {
    hilo::init();
    main_with(|options: Options| match options {
        Options::Worker {
            url,
            slots,
            prefetch,
        } => serve(&url, slots, prefetch),
        Options::Client {
            url,
            round_trips,
            latency,
            map_items,
            chunk_size,
        } => measure(&url, round_trips, latency, map_items, chunk_size),
    })
}

fn serve(url: &str, slots: usize, prefetch: usize) -> Result<(), String> {
    let options = hilo_redis::ServeOptions {
        prefix: PREFIX.into(),
        slots,
        prefetch,
        ..Default::default()
    };
    let stop = options.stop.clone();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        stop.request_stop();
    });
    hilo_redis::serve(url, &options).map_err(|e| e.to_string())?;
    Ok(())
}

fn measure(
    url: &str,
    round_trips: u64,
    latency: u64,
    map_items: u64,
    chunk: u64,
) -> Result<(), String> {
    let exec = RedisExecutor::builder(url)
        .prefix(PREFIX)
        .build()
        .map_err(|e| e.to_string())?;
    // Warm up: both workers' pools started.
    let warm: Vec<_> = (0..100)
        .map(|x| exec.submit(noop::call(x)))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    for f in warm {
        f.result().map_err(|e| e.to_string())?;
    }

    let start = Instant::now();
    let futs: Vec<_> = (0..round_trips)
        .map(|x| exec.submit(noop::call(x)))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let tally = tally_of(futs.into_iter().map(hilo::Future::result))?;
    let took = start.elapsed();
    tally.check("round_trips", round_trips)?;
    println!(
        "hilo_round_trips n={round_trips} secs={:.4} per_sec={:.0}",
        secs(took),
        round_trips as f64 / secs(took)
    );

    let mut times: Vec<Duration> = Vec::with_capacity(latency as usize);
    let mut tally = Tally::default();
    for x in 0..latency {
        let start = Instant::now();
        let v = exec
            .submit(noop::call(x))
            .map_err(|e| e.to_string())?
            .result()
            .map_err(|e| e.to_string())?;
        times.push(start.elapsed());
        tally.add(v);
    }
    tally.check("latency", latency)?;
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "hilo_latency n={latency} median_ms={:.3} p99_ms={:.3}",
        secs(at(0.5)) * 1e3,
        secs(at(0.99)) * 1e3
    );

    let start = Instant::now();
    let tally = tally_of(exec.map_chunked(0..map_items, chunk as usize, noop::call))?;
    let took = start.elapsed();
    tally.check("map_chunked", map_items)?;
    println!(
        "hilo_map_chunked n={map_items} chunk={chunk} secs={:.4} per_sec={:.0}",
        secs(took),
        map_items as f64 / secs(took)
    );
    Ok(())
}

/// Counts and sums results; the first failed task is the error.
fn tally_of(
    results: impl IntoIterator<Item = Result<u64, hilo::TaskError>>,
) -> Result<Tally, String> {
    let mut tally = Tally::default();
    for r in results {
        tally.add(r.map_err(|e| format!("task failed: {e}"))?);
    }
    Ok(tally)
}
