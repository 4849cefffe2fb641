//! `speedup`: a CPU-bound job (counting primes by trial division) on 1 to
//! 2 × cores workers, threads and processes, and the lesson's claim that
//! Amdahl's law caps the speedup: the serial fraction fitted to the
//! measured speedups, the ceiling it implies, and the flat line past the
//! core count. Every run's count is checked against a sieve.
//!
//! Start-up is not timed: each pool is built and warmed (every worker
//! started) before the clock runs, because starting workers is another
//! experiment's subject and would blur the fit here.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use hilo::process::ProcessPool;
use hilo::ThreadPool;
// Primes in `[lo, hi)` by trial division: slow on purpose, so that the
// work is pure CPU with no memory traffic.
use hilo_work::trial::count as count_trial;

use super::{human, Ctx, Data, Report};

/// Where the counted window starts: big enough that a prime costs
/// thousands of divisions (real work per number), small enough for `u64`.
const BASE: u64 = 1_000_000_000;

/// The same count in a worker process, with the worker's pid (to count
/// the workers that took part).
#[hilo::task]
fn count_primes(lo: u64, hi: u64) -> (u64, u32) {
    (count_trial(lo, hi), std::process::id())
}

/// Sleeps, so that each worker of a fresh pool gets one (and starts)
/// before the timed run; returns the worker's pid.
#[hilo::task]
fn warm_up(ms: u64) -> u32 {
    std::thread::sleep(Duration::from_millis(ms));
    std::process::id()
}

/// Primes in `[lo, hi)` by `hilo primes`' segmented sieve: the
/// independent answer every timed (trial-division) run is checked against.
fn count_sieve(lo: u64, hi: u64) -> u64 {
    hilo_work::sieve::Sieve::new().count(lo, hi - 1)
}

/// A window of numbers from `BASE` that one thread counts in about
/// `target` of CPU time: timed here on growing windows, then scaled (the
/// cost per number is flat across a window this far from zero). CPU time,
/// not wall time, so that other programs busy at this moment do not
/// shrink the job for the whole experiment.
fn calibrate(target: Duration) -> u64 {
    let mut width = 1_000u64;
    loop {
        let (wall, cpu) = (Instant::now(), thread_cpu());
        std::hint::black_box(count_trial(BASE, BASE + width));
        let took = match (cpu, thread_cpu()) {
            (Some(a), Some(b)) if b > a => b - a,
            _ => wall.elapsed(),
        };
        if took >= Duration::from_millis(40) || width >= 1 << 30 {
            let scale = target.as_secs_f64() / took.as_secs_f64().max(1e-6);
            return ((width as f64 * scale) as u64).max(1_000);
        }
        width *= 2;
    }
}

/// The CPU time this thread has used, from `/proc/thread-self/schedstat`
/// (its first field, in nanoseconds); `None` where the kernel lacks it.
fn thread_cpu() -> Option<Duration> {
    let me = procfs::process::Process::new_with_root("/proc/thread-self".into()).ok()?;
    Some(Duration::from_nanos(me.schedstat().ok()?.sum_exec_runtime))
}

/// The job: `chunks` equal ranges covering `[BASE, BASE + width)`.
struct Job {
    ranges: Vec<(u64, u64)>,
    expected: u64,
}

impl Job {
    fn new(width: u64, chunks: u64) -> Job {
        let step = width.div_ceil(chunks);
        let end = BASE + width;
        let ranges = (0..chunks)
            .map(|i| (BASE + i * step, (BASE + (i + 1) * step).min(end)))
            .filter(|(lo, hi)| lo < hi)
            .collect();
        Job {
            ranges,
            expected: count_sieve(BASE, end),
        }
    }

    fn check(&self, kind: &str, workers: usize, got: u64) -> Result<(), String> {
        if got == self.expected {
            Ok(())
        } else {
            Err(format!(
                "{kind} with {workers} workers counted {got} primes, the sieve says {}",
                self.expected
            ))
        }
    }
}

/// What one timed run measured.
#[derive(Clone, Copy)]
struct Timed {
    took: Duration,
    /// How many distinct workers ran a chunk: proof that the run really
    /// was spread over the pool, whatever the clock says.
    used: usize,
}

/// One warm-up task per worker, all waited for, starts every worker
/// before anything is timed; this is how one of them failing is reported.
const WARM_UP_FAILED: &str = "a warm-up task failed";

/// One timed run on a warmed `ThreadPool` of `workers` threads.
fn run_threads(job: &Job, workers: usize) -> Result<Timed, String> {
    let pool = ThreadPool::builder()
        .max_workers(workers)
        .thread_name_prefix("hilo-bench-speedup")
        .build()
        .map_err(|e| format!("cannot build a pool of {workers} threads: {e}"))?;
    // One sleeper per worker: the pool starts a thread for each.
    super::submit_and_wait(
        workers,
        || {
            pool.submit(|| std::thread::sleep(Duration::from_millis(20)))
                .map_err(|e| format!("cannot submit to the thread pool: {e}"))
        },
        WARM_UP_FAILED,
    )?;
    job.timed("threads", workers, || {
        job.ranges
            .iter()
            .map(|&(lo, hi)| {
                pool.submit(move || (count_trial(lo, hi), std::thread::current().id()))
            })
            .collect::<Result<_, _>>()
            .map_err(|e| format!("cannot submit to the thread pool: {e}"))
    })
}

/// One timed run on a warmed `ProcessPool` of `workers` processes.
fn run_processes(job: &Job, workers: usize) -> Result<Timed, String> {
    let pool = ProcessPool::builder()
        .max_workers(workers)
        .build()
        .map_err(|e| format!("cannot start {workers} worker processes: {e}"))?;
    super::submit_and_wait(
        workers,
        || {
            pool.submit(warm_up::call(50))
                .map_err(|e| format!("cannot submit to the process pool: {e}"))
        },
        WARM_UP_FAILED,
    )?;
    job.timed("processes", workers, || {
        job.ranges
            .iter()
            .map(|&(lo, hi)| pool.submit(count_primes::call(lo, hi)))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("cannot submit to the process pool: {e}"))
    })
}

impl Job {
    /// Times one run: `submit` queues every chunk (each answering its
    /// count and the worker that ran it), then every answer is waited for
    /// and the total checked.
    fn timed<W: Eq + std::hash::Hash>(
        &self,
        kind: &str,
        workers: usize,
        submit: impl FnOnce() -> Result<Vec<hilo::Future<(u64, W)>>, String>,
    ) -> Result<Timed, String> {
        let start = Instant::now();
        let futs = submit()?;
        let mut total = 0;
        let mut used = HashSet::new();
        for f in futs {
            let (n, by) = f.result().map_err(|e| format!("a chunk failed: {e}"))?;
            total += n;
            used.insert(by);
        }
        let took = start.elapsed();
        self.check(kind, workers, total)?;
        Ok(Timed {
            took,
            used: used.len(),
        })
    }
}

/// The 1-minute load average: how busy other programs kept the cores
/// just before the runs (`None` without `/proc`).
fn load_average() -> Option<f64> {
    use procfs::Current;
    // The kernel gives two decimals; keep them, not the f32's binary tail.
    procfs::LoadAverage::current()
        .ok()
        .map(|l| (f64::from(l.one) * 100.0).round() / 100.0)
}

/// Amdahl's speedup on `n` workers with serial fraction `f`.
fn amdahl(f: f64, n: f64) -> f64 {
    1.0 / (f + (1.0 - f) / n)
}

/// The serial fraction in [0, 1] that best fits `points` (workers,
/// speedup) in the least-squares sense. One parameter on a closed
/// interval: a fine grid, then a finer one around the best, is exact
/// enough and cannot diverge.
fn fit_serial_fraction(points: &[(f64, f64)]) -> f64 {
    let err = |f: f64| -> f64 {
        points
            .iter()
            .map(|&(n, s)| (amdahl(f, n) - s).powi(2))
            .sum()
    };
    let best_on = |lo: f64, hi: f64| -> f64 {
        let steps = 1_000;
        (0..=steps)
            .map(|i| lo + (hi - lo) * f64::from(i) / f64::from(steps))
            .min_by(|a, b| err(*a).total_cmp(&err(*b)))
            .unwrap_or(lo)
    };
    let coarse = best_on(0.0, 1.0);
    best_on((coarse - 0.001).max(0.0), (coarse + 0.001).min(1.0))
}

/// Worker counts to try: every count up to 2 × cores on small machines,
/// powers of two plus the core count on big ones (to stay quick).
fn worker_counts(cores: usize) -> Vec<usize> {
    let max = 2 * cores;
    if max <= 8 {
        return (1..=max).collect();
    }
    let mut v: Vec<usize> = std::iter::successors(Some(1), |n| Some(n * 2))
        .take_while(|&n| n <= max)
        .chain([cores, max])
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Measured speedups of one kind and what the fit says about them.
struct Series {
    times: Vec<Duration>,
    used: Vec<usize>,
    speedups: Vec<f64>,
    serial_fraction: Option<f64>,
}

impl Series {
    fn new(counts: &[usize], cores: usize, runs: &[Timed]) -> Series {
        let times: Vec<Duration> = runs.iter().map(|r| r.took).collect();
        let one = times[0].as_secs_f64();
        let speedups: Vec<f64> = times.iter().map(|t| one / t.as_secs_f64()).collect();
        let points: Vec<(f64, f64)> = counts
            .iter()
            .zip(&speedups)
            .filter(|(&n, _)| n <= cores)
            .map(|(&n, &s)| (n as f64, s))
            .collect();
        // 1 worker fits every f (S(1) = 1): a fit needs another point.
        let serial_fraction = (points.len() >= 2).then(|| fit_serial_fraction(&points));
        Series {
            times,
            used: runs.iter().map(|r| r.used).collect(),
            speedups,
            serial_fraction,
        }
    }

    fn efficiency(&self, i: usize, workers: usize, cores: usize) -> f64 {
        self.speedups[i] / workers.min(cores) as f64
    }

    fn fit_note(&self, kind: &str) -> String {
        match self.serial_fraction {
            None => format!("{kind}: no fit (it needs a second worker count up to the cores)"),
            Some(f) if f < 1e-3 => format!(
                "{kind}: fitted serial fraction f = {f:.3}: no serial part measurable, \
                 no ceiling in sight on this machine"
            ),
            Some(f) => format!(
                "{kind}: fitted serial fraction f = {f:.3}, so the speedup can never pass \
                 1/f = {:.1} however many cores",
                1.0 / f
            ),
        }
    }

    fn data(&self, counts: &[usize], cores: usize) -> SeriesData {
        let runs = counts
            .iter()
            .enumerate()
            .map(|(i, &n)| RunData {
                workers: n,
                seconds: self.times[i].as_secs_f64(),
                workers_used: self.used[i],
                speedup: self.speedups[i],
                efficiency: self.efficiency(i, n, cores),
                amdahl: self.serial_fraction.map(|f| amdahl(f, n.min(cores) as f64)),
            })
            .collect();
        SeriesData {
            serial_fraction: self.serial_fraction,
            ceiling: self.serial_fraction.filter(|&f| f > 0.0).map(|f| 1.0 / f),
            runs,
        }
    }
}

/// The numbers `--json` writes and `--svg` plots.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct SpeedupData {
    pub(crate) cores: usize,
    range: [u64; 2],
    chunks: usize,
    primes: u64,
    repetitions: usize,
    load_average_before: Option<f64>,
    pub(crate) threads: SeriesData,
    pub(crate) processes: SeriesData,
}

/// One kind of worker (threads or processes) over every worker count.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct SeriesData {
    /// Amdahl's serial fraction fitted to the speedups up to the cores.
    pub(crate) serial_fraction: Option<f64>,
    ceiling: Option<f64>,
    pub(crate) runs: Vec<RunData>,
}

/// One worker count.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct RunData {
    pub(crate) workers: usize,
    seconds: f64,
    workers_used: usize,
    pub(crate) speedup: f64,
    efficiency: f64,
    amdahl: Option<f64>,
}

pub(crate) fn run(ctx: &Ctx) -> Result<Report, String> {
    let cores = hilo::default_workers();
    let counts = worker_counts(cores);
    let load = load_average();
    let reps = ctx.pick(3, 5);
    let width = calibrate(ctx.pick(Duration::from_millis(300), Duration::from_secs(2)));
    let chunks = (12 * counts.iter().max().copied().unwrap_or(1)).max(48) as u64;
    let job = Job::new(width, chunks);
    let (thread_runs, process_runs) = measure(&job, &counts, reps)?;
    let threads = Series::new(&counts, cores, &thread_runs);
    let processes = Series::new(&counts, cores, &process_runs);
    let rows = rows(&counts, cores, &threads, &processes);
    let mut notes = notes(&counts, cores, &threads, &processes);
    if let Some(load) = load.filter(|&l| l > 0.5) {
        notes.push(format!(
            "the machine was already busy (load average {load:.1} on {cores} cores before \
             the runs): when other programs take turns on the cores, speedups read low \
             or erratic"
        ));
    }
    notes.push(format!(
        "every run counted {} primes in [{BASE}, {}) in {} chunks, as a sieve does; \
         best of {reps} runs, pools started before timing",
        job.expected,
        BASE + width,
        job.ranges.len()
    ));
    Ok(Report {
        explain: "Counting primes by trial division (pure CPU) on 1 to 2 × cores workers: \
                  speedup over 1 worker of the same kind, efficiency per useful core, and \
                  Amdahl's serial fraction fitted to the speedups up to the core count."
            .into(),
        columns: [
            "workers",
            "threads",
            "speedup",
            "efficiency",
            "processes",
            "speedup",
            "efficiency",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        notes,
        data: Data::Speedup(SpeedupData {
            cores,
            range: [BASE, BASE + width],
            chunks: job.ranges.len(),
            primes: job.expected,
            repetitions: reps,
            load_average_before: load,
            threads: threads.data(&counts, cores),
            processes: processes.data(&counts, cores),
        }),
    })
}

/// The best time (and the fewest workers used) of each worker count, on
/// threads and on processes. Repetitions go round all the worker counts,
/// so that a burst of load from other programs spreads over them instead
/// of spoiling one; the best of each cell is kept, as noise only ever adds
/// time. The fewest workers used in any repetition is kept, so one run on
/// fewer workers than asked shows.
fn measure(job: &Job, counts: &[usize], reps: usize) -> Result<(Vec<Timed>, Vec<Timed>), String> {
    let first = Timed {
        took: Duration::MAX,
        used: usize::MAX,
    };
    let mut thread_runs = vec![first; counts.len()];
    let mut process_runs = vec![first; counts.len()];
    let keep = |best: &mut Timed, new: Timed| {
        best.took = best.took.min(new.took);
        best.used = best.used.min(new.used);
    };
    for _ in 0..reps {
        for (i, &n) in counts.iter().enumerate() {
            keep(&mut thread_runs[i], run_threads(job, n)?);
            keep(&mut process_runs[i], run_processes(job, n)?);
        }
    }
    Ok((thread_runs, process_runs))
}

/// The table: per worker count, time, speedup and efficiency of each kind.
fn rows(counts: &[usize], cores: usize, threads: &Series, processes: &Series) -> Vec<Vec<String>> {
    counts
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            vec![
                n.to_string(),
                human(threads.times[i]),
                format!("{:.2}×", threads.speedups[i]),
                format!("{:.0}%", 100.0 * threads.efficiency(i, n, cores)),
                human(processes.times[i]),
                format!("{:.2}×", processes.speedups[i]),
                format!("{:.0}%", 100.0 * processes.efficiency(i, n, cores)),
            ]
        })
        .collect()
}

/// What the measurements say: the Amdahl fits, how much the fit rests on,
/// and the flattening past the core count.
fn notes(counts: &[usize], cores: usize, threads: &Series, processes: &Series) -> Vec<String> {
    let mut notes = vec![threads.fit_note("threads"), processes.fit_note("processes")];
    let fit_points = counts.iter().filter(|&&n| n <= cores).count();
    if fit_points <= 2 {
        notes.push(format!(
            "with {cores} core(s) the fit rests on {fit_points} worker counts (and S(1) = 1 \
             always): f is a rough estimate; more cores give a steadier one"
        ));
    }
    if let (Some(at_cores), Some(last)) = (
        counts.iter().position(|&n| n == cores),
        counts.len().checked_sub(1),
    ) {
        if counts[last] > cores {
            notes.push(format!(
                "past {cores} cores the speedup flattens: {} workers {:.2}× (threads), \
                 {:.2}× (processes), against {:.2}× and {:.2}× at {cores}; extra workers \
                 only take turns on the same cores",
                counts[last],
                threads.speedups[last],
                processes.speedups[last],
                threads.speedups[at_cores],
                processes.speedups[at_cores],
            ));
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trial_division_and_sieve_agree() {
        assert_eq!(count_trial(0, 100), 25);
        assert_eq!(count_sieve(0, 100), 25);
        assert_eq!(
            count_trial(BASE, BASE + 5_000),
            count_sieve(BASE, BASE + 5_000)
        );
    }

    #[test]
    fn the_fit_recovers_a_known_serial_fraction() {
        let points: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0]
            .iter()
            .map(|&n| (n, amdahl(0.1, n)))
            .collect();
        assert!((fit_serial_fraction(&points) - 0.1).abs() < 1e-4);
        // Superlinear speedups clamp to f = 0, slower-than-serial to f = 1.
        assert_eq!(fit_serial_fraction(&[(1.0, 1.0), (2.0, 2.5)]), 0.0);
        assert_eq!(fit_serial_fraction(&[(1.0, 1.0), (2.0, 0.5)]), 1.0);
    }

    #[test]
    fn worker_counts_reach_twice_the_cores() {
        assert_eq!(worker_counts(2), [1, 2, 3, 4]);
        assert_eq!(worker_counts(6), [1, 2, 4, 6, 8, 12]);
    }
}
