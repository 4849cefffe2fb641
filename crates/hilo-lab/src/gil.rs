//! `gil`: the lesson's experiment, side by side. A CPU-bound function
//! (`calcular`: sum `0..n` in a loop) runs twice one after the other, then
//! in two threads. In CPython the two threads take turns holding the
//! Global Interpreter Lock, so they are no faster; in Rust they run on two
//! cores at once. Then the per-task cost of a warm pool on no-op tasks:
//! `ThreadPoolExecutor` and `ProcessPoolExecutor` next to hilo's
//! `ThreadPool` and `ProcessPool`.
//!
//! It runs `python3` (through [`super::cow::run_python`]), so only with
//! `--vs-python`; without that flag, or without `python3`, its row says
//! skipped and the lab still exits 0. Both sides run the same `n` and the
//! same number of tasks; each loop time is the best of several runs, so
//! that a neighbour's burst of CPU on a shared machine hurts less.

use std::hint::black_box;
use std::time::{Duration, Instant};

use hilo::process::ProcessPool;
use hilo::ThreadPool;
use serde::Deserialize;

use super::cow::{run_python, skipped};
use super::{human, Ctx, Data, Report};

/// The Python side. Arguments: n, repetitions, no-op tasks for the thread
/// pool, for the process pool. Prints one JSON object on stdout.
const SCRIPT: &str = r#"
import json, sys, threading, time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

def calcular(n):
    total = 0
    for i in range(n):
        total += i
    return total

def sequential(n):
    t0 = time.perf_counter()
    calcular(n)
    calcular(n)
    return time.perf_counter() - t0

def two_threads(n):
    threads = [threading.Thread(target=calcular, args=(n,)) for _ in range(2)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0

def ticks():
    # The machine's busy and total CPU ticks, and this process's own: what
    # the neighbours used is the difference (see `Ticks` in gil.rs).
    with open("/proc/stat") as f:
        lines = f.read().splitlines()
    v = [int(x) for x in lines[0].split()[1:9]]
    cpus = sum(1 for l in lines if l.startswith("cpu") and l[3:4].isdigit())
    with open("/proc/self/stat") as f:
        stat = f.read()
    own = stat[stat.rindex(")") + 2:].split()
    ours = int(own[11]) + int(own[12])
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
    return busy, busy + v[3] + v[4], ours, cpus

def others_busy(a, b):
    total = b[1] - a[1]
    if total <= 0:
        return None
    return max(0, (b[0] - a[0]) - (b[2] - a[2])) / total * b[3]

def per_task(executor, tasks):
    # Warm: the workers exist before the clock starts. The no-op is the
    # builtin int(), so that it pickles under any start method.
    for f in [executor.submit(int) for _ in range(8)]:
        f.result()
    t0 = time.perf_counter()
    futures = [executor.submit(int) for _ in range(tasks)]
    for f in futures:
        f.result()
    return (time.perf_counter() - t0) / tasks

n, reps, thread_tasks, process_tasks = (int(a) for a in sys.argv[1:5])
seq, thr = [], []
before = ticks()
for _ in range(reps):
    # Interleaved, so that a slow moment of the machine hits both.
    seq.append(sequential(n))
    thr.append(two_threads(n))
others = others_busy(before, ticks())
with ThreadPoolExecutor(max_workers=2) as executor:
    thread_task = per_task(executor, thread_tasks)
with ProcessPoolExecutor(max_workers=2) as executor:
    process_task = per_task(executor, process_tasks)
gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
print(json.dumps({"version": sys.version.split()[0], "gil_enabled": gil,
                  "sequential_s": min(seq), "threads_s": min(thr), "others_busy_cores": others,
                  "thread_pool_task_s": thread_task, "process_pool_task_s": process_task}))
"#;

/// One side's numbers (Python's as printed by [`SCRIPT`]).
#[derive(Debug, Deserialize)]
struct Side {
    sequential_s: f64,
    threads_s: f64,
    thread_pool_task_s: f64,
    process_pool_task_s: f64,
    /// Cores kept busy by other processes while the loops ran, on
    /// average (`None` if `/proc/stat` could not tell).
    others_busy_cores: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct Python {
    version: String,
    gil_enabled: bool,
    #[serde(flatten)]
    side: Side,
}

/// The sizes of one run.
struct Sizes {
    n: u64,
    reps: u32,
    thread_tasks: u32,
    process_tasks: u32,
    /// How long Rust's loop keeps being re-run for its best time.
    budget: Duration,
}

pub(crate) fn run(ctx: &Ctx) -> Result<Report, String> {
    let explain = "A CPU-bound function run twice, one call after the other, then in two \
                   threads: Python's threads take turns holding the GIL, Rust's run on two cores \
                   at once. Then the cost per no-op task of a warm pool, Python's next to hilo's.";
    if !ctx.vs_python {
        return Ok(skipped(explain, "needs --vs-python (it runs python3)"));
    }
    let sizes = Sizes {
        // The lesson's loop runs 10 000 000 times; quick mode a tenth, more
        // often, so that the best of the runs is a quiet one.
        n: ctx.pick(1_000_000, 10_000_000),
        reps: ctx.pick(5, 5),
        thread_tasks: ctx.pick(20_000, 100_000),
        process_tasks: ctx.pick(2_000, 10_000),
        budget: ctx.pick(Duration::from_millis(600), Duration::from_secs(3)),
    };
    let args = [
        sizes.n.to_string(),
        sizes.reps.to_string(),
        sizes.thread_tasks.to_string(),
        sizes.process_tasks.to_string(),
    ];
    let Some((value, _)) = run_python(SCRIPT, &args, Duration::from_secs(300))? else {
        return Ok(skipped(explain, "needs python3"));
    };
    let python: Python = serde_json::from_value(value)
        .map_err(|e| format!("python3 printed an unexpected report: {e}"))?;
    let rust = rust_side(&sizes)?;
    Ok(report(explain, &sizes, &python, &rust))
}

/// The lesson's `calcular` in Rust. `black_box` keeps the compiler from
/// replacing the loop by its closed form: the loop is the work.
fn calcular(n: u64) -> u64 {
    let mut total: u64 = 0;
    for i in 0..n {
        total = total.wrapping_add(black_box(i));
    }
    total
}

fn rust_side(sizes: &Sizes) -> Result<Side, String> {
    // Rust's loop is ~100× shorter than Python's: at the same n, starting
    // two threads would cost as much as the loop and hide the speedup. So
    // it runs `scale` times longer (one call ≥ 20 ms) and its times are
    // divided by `scale`, i.e. reported for the same n as Python's.
    let start = Instant::now();
    black_box(calcular(sizes.n));
    let one = start.elapsed().max(Duration::from_micros(1));
    let scale = (Duration::from_millis(20).as_secs_f64() / one.as_secs_f64())
        .ceil()
        .max(1.0);
    let n = (sizes.n as f64 * scale) as u64;
    // As many runs as fit in `budget` (at least `reps`); the best counts.
    // On a shared machine the best run is the one the neighbours left alone.
    let mut sequential = Duration::MAX;
    let mut threads = Duration::MAX;
    let began = Instant::now();
    let mut runs = 0;
    let before = Ticks::now();
    while runs < sizes.reps || began.elapsed() < sizes.budget {
        runs += 1;
        let start = Instant::now();
        black_box(calcular(n));
        black_box(calcular(n));
        sequential = sequential.min(start.elapsed());

        let start = Instant::now();
        std::thread::scope(|s| {
            let a = s.spawn(|| black_box(calcular(n)));
            let b = s.spawn(|| black_box(calcular(n)));
            // `calcular` cannot panic (wrapping arithmetic), and the scope
            // would re-raise a panic anyway.
            let _ = (a.join(), b.join());
        });
        threads = threads.min(start.elapsed());
    }
    let others_busy_cores = Ticks::now().and_then(|after| after.others_busy_since(before?));
    Ok(Side {
        sequential_s: sequential.as_secs_f64() / scale,
        threads_s: threads.as_secs_f64() / scale,
        thread_pool_task_s: thread_pool_task(sizes.thread_tasks)?,
        process_pool_task_s: process_pool_task(sizes.process_tasks)?,
        others_busy_cores,
    })
}

/// CPU time counters, in clock ticks: the whole machine's (from
/// `/proc/stat`) and this process's, all its threads (`/proc/self/stat`).
/// Two samples tell how many cores *other* processes kept busy in
/// between: a two-thread speedup needs two free cores, and on a shared
/// machine the reader must know whether it had them.
#[derive(Debug, Clone, Copy)]
struct Ticks {
    busy: u64,
    total: u64,
    ours: u64,
    cpus: usize,
}

impl Ticks {
    fn now() -> Option<Ticks> {
        use procfs::CurrentSI;
        let stat = procfs::KernelStats::current().ok()?;
        let all = hilo_term::CpuTicks::of(&stat.total);
        let ours = super::proc_stat(std::process::id())?.cpu_ticks;
        Some(Ticks {
            busy: all.busy,
            total: all.total,
            ours,
            cpus: stat.cpu_time.len(),
        })
    }

    /// Cores kept busy by other processes since `before`, on average.
    fn others_busy_since(self, before: Ticks) -> Option<f64> {
        let total = self.total.checked_sub(before.total).filter(|&t| t > 0)?;
        let busy = self.busy.saturating_sub(before.busy);
        let ours = self.ours.saturating_sub(before.ours);
        Some(busy.saturating_sub(ours) as f64 / total as f64 * self.cpus as f64)
    }
}

/// Seconds per no-op task through a warm two-thread `ThreadPool`.
fn thread_pool_task(tasks: u32) -> Result<f64, String> {
    let pool = ThreadPool::builder()
        .max_workers(2)
        .thread_name_prefix("gil")
        .build()
        .map_err(|e| format!("cannot start a thread pool: {e}"))?;
    per_task(tasks, || pool.submit(|| 0u64).map_err(|e| e.to_string()))
}

/// Seconds per no-op task through a warm two-worker `ProcessPool`.
fn process_pool_task(tasks: u32) -> Result<f64, String> {
    let pool = ProcessPool::builder()
        .max_workers(2)
        .build()
        .map_err(|e| format!("cannot start a process pool: {e}"))?;
    // Dropping the pool (here or on an early return) waits for its
    // workers and reaps them.
    per_task(tasks, || {
        pool.submit(no_op::call()).map_err(|e| e.to_string())
    })
}

/// Seconds per task when `tasks` tasks from `submit` are all submitted,
/// then all waited for, after 8 that warm the pool (both workers started
/// before the clock starts).
fn per_task(
    tasks: u32,
    submit: impl Fn() -> Result<hilo::Future<u64>, String>,
) -> Result<f64, String> {
    let failed = "a no-op task failed";
    super::submit_and_wait(8, &submit, failed)?;
    let start = Instant::now();
    super::submit_and_wait(tasks as usize, &submit, failed)?;
    Ok(start.elapsed().as_secs_f64() / f64::from(tasks.max(1)))
}

/// The no-op task a `ProcessPool` worker runs: Python's `int()`.
#[hilo::task]
fn no_op() -> u64 {
    0
}

fn report(explain: &str, sizes: &Sizes, python: &Python, rust: &Side) -> Report {
    Report {
        explain: explain.into(),
        columns: ["case", "Python", "Rust/hilo", "Python ÷ Rust"]
            .map(String::from)
            .to_vec(),
        rows: rows(sizes, &python.side, rust),
        notes: notes(python, rust),
        data: Data::Gil(GilData {
            n: sizes.n,
            cores: hilo::default_workers(),
            thread_tasks: sizes.thread_tasks,
            process_tasks: sizes.process_tasks,
            python: PythonData {
                version: python.version.clone(),
                gil_enabled: python.gil_enabled,
                side: SideData::of(&python.side),
            },
            rust: SideData::of(rust),
        }),
    }
}

/// The numbers `--json` writes.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct GilData {
    n: u64,
    cores: usize,
    thread_tasks: u32,
    process_tasks: u32,
    python: PythonData,
    rust: SideData,
}

/// Python's side, with the interpreter it ran on.
#[derive(Debug, Clone, serde::Serialize)]
struct PythonData {
    version: String,
    gil_enabled: bool,
    #[serde(flatten)]
    side: SideData,
}

/// One side's times.
#[derive(Debug, Clone, serde::Serialize)]
struct SideData {
    sequential_s: f64,
    threads_s: f64,
    threads_over_sequential: f64,
    thread_pool_task_s: f64,
    process_pool_task_s: f64,
    others_busy_cores: Option<f64>,
}

impl SideData {
    fn of(s: &Side) -> Self {
        SideData {
            sequential_s: s.sequential_s,
            threads_s: s.threads_s,
            threads_over_sequential: s.threads_s / s.sequential_s,
            thread_pool_task_s: s.thread_pool_task_s,
            process_pool_task_s: s.process_pool_task_s,
            others_busy_cores: s.others_busy_cores,
        }
    }
}

/// The table: each case's Python and Rust times and their ratio.
fn rows(sizes: &Sizes, py: &Side, rust: &Side) -> Vec<Vec<String>> {
    let secs = |s: f64| human(Duration::from_secs_f64(s));
    let times =
        |label: String, p: f64, r: f64| vec![label, secs(p), secs(r), format!("{:.1}×", p / r)];
    vec![
        times(
            format!("calcular({}) ×2, one after the other", sizes.n),
            py.sequential_s,
            rust.sequential_s,
        ),
        times(
            format!("calcular({}) ×2, two threads", sizes.n),
            py.threads_s,
            rust.threads_s,
        ),
        vec![
            "two threads ÷ one after the other".into(),
            format!("{:.2}", py.threads_s / py.sequential_s),
            format!("{:.2}", rust.threads_s / rust.sequential_s),
            String::new(),
        ],
        times(
            format!(
                "no-op task, warm thread pool (2 workers, {} tasks)",
                sizes.thread_tasks
            ),
            py.thread_pool_task_s,
            rust.thread_pool_task_s,
        ),
        times(
            format!(
                "no-op task, warm process pool (2 workers, {} tasks)",
                sizes.process_tasks
            ),
            py.process_pool_task_s,
            rust.process_pool_task_s,
        ),
    ]
}

/// What the times say: the GIL, the load beside the runs, how they ran.
fn notes(python: &Python, rust: &Side) -> Vec<String> {
    let py = &python.side;
    let py_gain = py.threads_s / py.sequential_s;
    let rust_gain = rust.threads_s / rust.sequential_s;
    let cores = hilo::default_workers();
    let gil = if python.gil_enabled {
        "with the GIL"
    } else {
        "free-threaded: no GIL"
    };
    let busy = |s: &Side| {
        s.others_busy_cores
            .map_or_else(|| "unknown".into(), |c| format!("{c:.1}"))
    };
    vec![
        format!(
            "cores kept busy by other processes meanwhile: {} (Python's loops), {} (Rust's); \
             a two-thread speedup needs two free cores",
            busy(py),
            busy(rust)
        ),
        format!(
            "Python {} ({gil}): two threads take {py_gain:.2}× the sequential time; Rust: \
             {rust_gain:.2}× on {cores} cores (0.5 is a perfect 2× speedup)",
            python.version
        ),
        "Rust's loop ran longer (one call ≥ 20 ms, so that starting threads is not what \
         is measured) and its times are scaled back to the same n"
            .into(),
        "pools: ThreadPoolExecutor / ProcessPoolExecutor vs hilo ThreadPool / ProcessPool, \
         all tasks submitted, then every result waited for; the ratio is Python ÷ Rust"
            .into(),
    ]
}
