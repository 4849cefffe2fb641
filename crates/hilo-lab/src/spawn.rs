//! `spawn`: what it costs to start a unit of work. The lesson's claim:
//! a thread is much cheaper to start than a process, and a pool that keeps
//! its workers is cheaper still. Measured here, each operation done
//! one at a time and timed alone: a thread spawned and joined, a bare
//! fork waited for, a fork+exec of `true` waited for, and a no-op task
//! through a warm `ThreadPool` and a warm `ProcessPool`.
//!
//! It never leaves anything behind: every thread is joined, every child
//! waited for (or killed and waited for on error), both pools shut down
//! and their workers reaped; the report says so, checked in `/proc`.

use std::collections::BTreeMap;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use super::{human, Ctx, Data, Report};

/// The no-op a `ProcessPool` worker runs: the round trip is all there is
/// to measure. It echoes its argument so the caller can check the answer.
#[hilo::task]
fn lab_spawn_noop(x: u32) -> u32 {
    x
}

/// The min and median of some samples, in seconds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stats {
    pub(super) min: f64,
    pub(super) median: f64,
}

impl Stats {
    /// `None` for no samples or any that is not a positive finite number
    /// (a clock that went wrong must not become a row).
    pub(super) fn of(samples: &[f64]) -> Option<Stats> {
        if samples.is_empty() || samples.iter().any(|s| !s.is_finite() || *s <= 0.0) {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        let median = if sorted.len() % 2 == 0 {
            (sorted[mid - 1] + sorted[mid]) / 2.0
        } else {
            sorted[mid]
        };
        Some(Stats {
            min: sorted[0],
            median,
        })
    }
}

/// One measured operation: its key in the JSON, its row label, its samples.
struct Op {
    key: &'static str,
    label: &'static str,
    samples: Vec<f64>,
}

/// Times `reps` runs of `once`, each alone, after `warm` untimed ones (so
/// the first run's page faults and lazy setup are not counted).
pub(super) fn time_each(
    warm: usize,
    reps: usize,
    mut once: impl FnMut() -> Result<(), String>,
) -> Result<Vec<f64>, String> {
    for _ in 0..warm {
        once()?;
    }
    let mut samples = Vec::with_capacity(reps);
    for _ in 0..reps {
        let start = Instant::now();
        once()?;
        samples.push(start.elapsed().as_secs_f64());
    }
    Ok(samples)
}

fn thread_spawn_join() -> Result<(), String> {
    std::thread::Builder::new()
        .spawn(|| ())
        .map_err(|e| format!("cannot start a thread: {e}"))?
        .join()
        .map_err(|_| "a no-op thread panicked".to_owned())
}

/// Starts `true` and waits for it: fork+exec+wait (std starts it with
/// posix_spawn, which glibc does with a vfork-like clone, then exec).
fn spawn_true(counts: &mut Children) -> Result<(), String> {
    let status = counts.run("true", &[])?;
    if !status.success() {
        return Err(format!("`true` failed: {status}"));
    }
    Ok(())
}

/// Children this experiment started and waited for.
#[derive(Debug, Default)]
struct Children {
    started: u64,
    reaped: u64,
}

impl Children {
    /// Starts `program` silent, waits for it, and counts both.
    fn run(&mut self, program: &str, args: &[&str]) -> Result<ExitStatus, String> {
        let mut child = super::start_silent(program, args)?;
        self.started += 1;
        let status = child
            .wait()
            .map_err(|e| format!("cannot wait for `{program}` ({}): {e}", child.id()))?;
        self.reaped += 1;
        Ok(status)
    }
}

/// The shell loop that forks: `(:)` is a subshell, a plain fork of the
/// shell that runs the no-op builtin and exits, and the shell waits for it;
/// no exec anywhere. The baseline runs the same loop without the
/// parentheses, so the difference is the fork, exit and wait alone.
const FORK_LOOP: &str = r#"i=0; while [ "$i" -lt "$1" ]; do (:); i=$((i+1)); done"#;
const BASE_LOOP: &str = r#"i=0; while [ "$i" -lt "$1" ]; do :; i=$((i+1)); done"#;

/// The kernel's count of forks since boot (`processes` in `/proc/stat`):
/// proof that the shell really forked, not that it optimised `(:)` away.
fn forks_since_boot() -> Result<u64, String> {
    use procfs::CurrentSI;
    procfs::KernelStats::current()
        .map(|stat| stat.processes)
        .map_err(|e| format!("cannot read /proc/stat: {e}"))
}

/// Runs `sh -c script sh n` and returns how long it took, start to reaped.
fn time_shell(script: &str, n: usize, counts: &mut Children) -> Result<f64, String> {
    let start = Instant::now();
    let status = counts.run("sh", &["-c", script, "sh", &n.to_string()])?;
    let took = start.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("the shell's fork loop failed: {status}"));
    }
    Ok(took)
}

/// Per-fork times from `batches` shell runs of `n` forks each, less the
/// fastest run of the same loop without forks (the shell's own start and
/// loop). The runs without forks alternate with the runs with them, so a
/// burst of load elsewhere cannot inflate the baseline alone and leave the
/// forks looking free. Also returns how many forks the kernel counted in
/// the runs with forks.
fn fork_samples(
    batches: usize,
    n: usize,
    counts: &mut Children,
) -> Result<(Vec<f64>, u64), String> {
    let mut base = f64::INFINITY;
    let mut took = Vec::with_capacity(batches);
    let mut forks = 0;
    for _ in 0..batches {
        base = base.min(time_shell(BASE_LOOP, n, counts)?);
        let before = forks_since_boot()?;
        took.push(time_shell(FORK_LOOP, n, counts)?);
        forks += forks_since_boot()?.saturating_sub(before);
    }
    let samples = took.iter().map(|t| (t - base) / n as f64).collect();
    // Each run is `sh` itself plus its n subshells; fewer means no fork.
    let expected = (batches * (n + 1)) as u64;
    if forks < expected {
        return Err(format!(
            "`sh` forked {forks} times for {expected} expected: it does not fork for `(:)`, \
             so this machine's shell cannot measure a bare fork"
        ));
    }
    Ok((samples, forks))
}

/// Samples one at a time, then per item in bursts.
type Timings = (Vec<f64>, Vec<f64>);

/// Per-item times of `bursts` bursts of `n`: `start` begins an item,
/// `finish` waits for one; all `n` are started before the first is waited
/// for, so a pool's worker runs them back to back without sleeping.
fn burst_samples<H>(
    bursts: usize,
    n: usize,
    mut start: impl FnMut(u32) -> Result<H, String>,
    mut finish: impl FnMut(H, u32) -> Result<(), String>,
) -> Result<Vec<f64>, String> {
    let mut samples = Vec::with_capacity(bursts);
    for _ in 0..bursts {
        let began = Instant::now();
        let mut handles = Vec::with_capacity(n);
        let mut failed = None;
        for i in 0..n as u32 {
            match start(i) {
                Ok(h) => handles.push((h, i)),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        // Wait for every item started, even after a failure: none is left
        // running behind the report.
        for (h, i) in handles {
            if let Err(e) = finish(h, i) {
                failed.get_or_insert(e);
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        samples.push(began.elapsed().as_secs_f64() / n as f64);
    }
    Ok(samples)
}

fn check(answer: u32, expected: u32, who: &str) -> Result<(), String> {
    (answer == expected)
        .then_some(())
        .ok_or_else(|| format!("{who} answered {answer}, not {expected}"))
}

/// One at a time and in bursts: spawn+join of threads.
fn thread_samples(reps: usize, bursts: usize, n: usize) -> Result<Timings, String> {
    let one = time_each(5, reps, thread_spawn_join)?;
    let burst = burst_samples(
        bursts,
        n,
        |i| {
            std::thread::Builder::new()
                .spawn(move || i)
                .map_err(|e| format!("cannot start a thread: {e}"))
        },
        |h, i| {
            let answer = h.join().map_err(|_| "a no-op thread panicked".to_owned())?;
            check(answer, i, "a thread")
        },
    )?;
    Ok((one, burst))
}

/// A pool's submit+result, one at a time after `warm` untimed ones, then
/// (if all of those succeeded) in bursts.
fn pool_timings<F>(
    warm: usize,
    reps: usize,
    bursts: usize,
    n: usize,
    submit: impl Fn(u32) -> Result<F, String>,
    wait: impl Fn(F, u32) -> Result<(), String>,
) -> Result<Timings, String> {
    let one = time_each(warm, reps, || wait(submit(7)?, 7))?;
    let burst = burst_samples(bursts, n, &submit, &wait)?;
    Ok((one, burst))
}

/// Submit+result of a no-op on a warm one-worker `ThreadPool`, one at a
/// time and in bursts.
fn thread_pool_samples(reps: usize, bursts: usize, n: usize) -> Result<Timings, String> {
    let pool = hilo::ThreadPool::builder()
        .max_workers(1)
        .build()
        .map_err(|e| format!("cannot build a thread pool: {e}"))?;
    let submit = |i: u32| {
        pool.submit(move || i)
            .map_err(|e| format!("cannot submit to the thread pool: {e}"))
    };
    let wait = |f: hilo::Future<u32>, i: u32| {
        let answer = f
            .result()
            .map_err(|e| format!("a thread-pool no-op failed: {e}"))?;
        check(answer, i, "the thread pool")
    };
    let timings = pool_timings(50, reps, bursts, n, submit, wait);
    // Dropping the pool shuts it down and joins its worker, error or not.
    drop(pool);
    timings
}

/// Submit+result of a no-op on a warm one-worker `ProcessPool` (a round
/// trip over the worker's socket, the worker already started), one at a
/// time and in bursts; also the worker's pid.
fn process_pool_samples(
    reps: usize,
    bursts: usize,
    n: usize,
) -> Result<(Timings, Vec<u32>), String> {
    let pool = hilo::process::ProcessPool::builder()
        .max_workers(1)
        .build()
        .map_err(|e| format!("cannot build a process pool: {e}"))?;
    let submit = |i: u32| {
        pool.submit(lab_spawn_noop::call(i))
            .map_err(|e| format!("cannot submit to the process pool: {e}"))
    };
    let wait = |f: hilo::Future<u32>, i: u32| {
        let answer = f
            .result()
            .map_err(|e| format!("a process-pool no-op failed: {e}"))?;
        check(answer, i, "the worker")
    };
    let timings = pool_timings(20, reps, bursts, n, submit, wait);
    let workers = pool.worker_pids();
    // Dropping shuts the pool down and waits for its workers to be reaped.
    drop(pool);
    Ok((timings?, workers))
}

/// This process's children still in the process table (running or
/// zombie), from the parent field of every `/proc/<pid>/stat`.
pub(super) fn children_left() -> Vec<u32> {
    let me = i32::try_from(std::process::id()).unwrap_or(i32::MAX);
    let Ok(all) = procfs::process::all_processes() else {
        return Vec::new();
    };
    all.flatten()
        // A process gone meanwhile has no entry: not a child left.
        .filter_map(|p| p.stat().ok())
        .filter(|s| s.ppid == me)
        .filter_map(|s| u32::try_from(s.pid).ok())
        .collect()
}

/// The number of threads of this process, from `/proc/self/task`.
pub(super) fn threads_now() -> Result<usize, String> {
    procfs::process::Process::myself()
        .and_then(|me| me.tasks())
        .map(Iterator::count)
        .map_err(|e| format!("cannot list /proc/self/task: {e}"))
}

pub(crate) fn run(ctx: &Ctx) -> Result<Report, String> {
    let threads_before = threads_now()?;
    let mut counts = Children::default();
    let reps = ctx.pick(200, 2_000);
    let (bursts, n) = (ctx.pick(10, 30), BURST);
    let (thread_one, thread_burst) = thread_samples(reps, bursts, n)?;
    let (fork, forks_counted) = fork_samples(ctx.pick(7, 21), ctx.pick(60, 300), &mut counts)?;
    let fork_exec = time_each(3, ctx.pick(40, 300), || spawn_true(&mut counts))?;
    let (tp_one, tp_burst) = thread_pool_samples(ctx.pick(1_000, 10_000), bursts, n)?;
    let ((pp_one, pp_burst), workers) = process_pool_samples(ctx.pick(500, 5_000), bursts, n)?;
    let op = |key, label, samples| Op {
        key,
        label,
        samples,
    };
    let ops = vec![
        op(THREAD, "thread spawn+join", thread_one),
        op("fork_wait", "fork+exit+wait (sh subshell)", fork),
        op("fork_exec_wait", "fork+exec+wait (`true`)", fork_exec),
        op("thread_pool_task", "ThreadPool submit+result", tp_one),
        op("process_pool_task", "ProcessPool submit+result", pp_one),
        op(THREAD_BURST, "burst: thread spawn+join", thread_burst),
        op(
            "thread_pool_burst",
            "burst: ThreadPool submit+result",
            tp_burst,
        ),
        op(
            "process_pool_burst",
            "burst: ProcessPool submit+result",
            pp_burst,
        ),
    ];
    let left = children_left();
    let threads_after = threads_now()?;
    if !left.is_empty() {
        return Err(format!("children left behind: {left:?}"));
    }
    if threads_after > threads_before {
        return Err(format!(
            "threads left behind: {threads_before} before, {threads_after} after"
        ));
    }
    let census = Census {
        counts,
        forks_counted,
        workers,
        left,
        threads_before,
        threads_after,
    };
    report(&ops, &census)
}

/// Items per burst: enough that a pool's worker settles into running them
/// back to back, few enough that the threads' stacks stay small.
const BURST: usize = 200;
const THREAD: &str = "thread_spawn_join";
const THREAD_BURST: &str = "thread_burst";

/// What the experiment started and proved it cleaned up.
struct Census {
    counts: Children,
    forks_counted: u64,
    workers: Vec<u32>,
    /// Children still in the process table at the end (checked empty).
    left: Vec<u32>,
    threads_before: usize,
    threads_after: usize,
}

fn report(ops: &[Op], census: &Census) -> Result<Report, String> {
    let timed = Timed::of(ops)?;
    let c = census;
    Ok(Report {
        explain: format!(
            "Each operation started and waited for alone, then in bursts of {BURST} \
             (time per item); min and median over repetitions; pools warm, tasks no-ops."
        ),
        columns: vec![
            "operation".into(),
            "min".into(),
            "median".into(),
            "vs thread spawn".into(),
        ],
        rows: timed.rows(),
        notes: timed.notes(census),
        data: Data::Spawn(SpawnData {
            ops: timed.data(),
            burst: BURST,
            children_started: c.counts.started,
            children_reaped: c.counts.reaped,
            forks_counted: c.forks_counted,
            pool_workers: c.workers.clone(),
            children_left: c.left.clone(),
            threads_before: c.threads_before,
            threads_after: c.threads_after,
        }),
    })
}

/// The numbers `--json` writes and `--svg` plots.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct SpawnData {
    /// Each operation by its key.
    pub(crate) ops: BTreeMap<&'static str, OpData>,
    burst: usize,
    children_started: u64,
    children_reaped: u64,
    forks_counted: u64,
    pool_workers: Vec<u32>,
    children_left: Vec<u32>,
    threads_before: usize,
    threads_after: usize,
}

/// One operation's timings.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct OpData {
    pub(crate) label: &'static str,
    samples: usize,
    min_s: f64,
    pub(crate) median_s: f64,
    vs_thread_spawn: f64,
}

/// Every operation with the statistics of its samples.
struct Timed<'a>(Vec<(&'a Op, Stats)>);

impl<'a> Timed<'a> {
    fn of(ops: &'a [Op]) -> Result<Timed<'a>, String> {
        ops.iter()
            .map(|op| {
                Stats::of(&op.samples).map(|s| (op, s)).ok_or_else(|| {
                    format!(
                        "{}: no usable timing (non-positive or not finite)",
                        op.label
                    )
                })
            })
            .collect::<Result<_, _>>()
            .map(Timed)
    }

    fn median(&self, key: &str) -> f64 {
        self.0
            .iter()
            .find(|(op, _)| op.key == key)
            .map_or(f64::NAN, |(_, s)| s.median)
    }

    /// What `op` is compared with: bursts with a burst of threads, single
    /// operations with a single thread, each with its own kind.
    fn reference(&self, op: &Op) -> f64 {
        if op.key.ends_with("_burst") {
            self.median(THREAD_BURST)
        } else {
            self.median(THREAD)
        }
    }

    fn rows(&self) -> Vec<Vec<String>> {
        self.0
            .iter()
            .map(|(op, s)| {
                vec![
                    op.label.to_owned(),
                    human(Duration::from_secs_f64(s.min)),
                    human(Duration::from_secs_f64(s.median)),
                    ratio(s.median / self.reference(op)),
                ]
            })
            .collect()
    }

    fn data(&self) -> BTreeMap<&'static str, OpData> {
        self.0
            .iter()
            .map(|(op, s)| {
                let v = OpData {
                    label: op.label,
                    samples: op.samples.len(),
                    min_s: s.min,
                    median_s: s.median,
                    vs_thread_spawn: s.median / self.reference(op),
                };
                (op.key, v)
            })
            .collect()
    }

    fn notes(&self, c: &Census) -> Vec<String> {
        let median = |key: &str| self.median(key);
        vec![
            format!(
                "starting a process costs {} a thread (fork+exec+wait vs spawn+join, medians); \
                 a bare fork of a small shell, {}",
                ratio(median("fork_exec_wait") / median(THREAD)),
                ratio(median("fork_wait") / median(THREAD))
            ),
            format!(
                "in bursts of {BURST}, a ThreadPool task costs {} a thread spawn+join, \
                 a ProcessPool task {} it: a pool starts its workers once",
                cheaper(median("thread_pool_burst"), median(THREAD_BURST)),
                cheaper(median("process_pool_burst"), median(THREAD_BURST)),
            ),
            format!(
                "one at a time, a ThreadPool task costs {} a thread spawn{}",
                cheaper(median("thread_pool_task"), median(THREAD)),
                if median("thread_pool_task") > median(THREAD) {
                    ": its idle worker sleeps and must be woken on another CPU (see `switch`)"
                } else {
                    ""
                },
            ),
            "fork row: Rust has no safe fork(), and std starts children with posix_spawn \
             (vfork+exec); `sh` runs `(:)` subshells, real forks with no exec (the kernel's \
             fork count proves it), less the same loop without them"
                .to_owned(),
            format!(
                "left behind: nothing ({} children started, {} reaped, none in /proc; pool \
                 worker {:?} reaped; {} threads before, {} after)",
                c.counts.started, c.counts.reaped, c.workers, c.threads_before, c.threads_after
            ),
        ]
    }
}

/// "4.2× less than" or "1.5× more than": `cost` against `reference`.
pub(super) fn cheaper(cost: f64, reference: f64) -> String {
    if cost < reference {
        format!("{} less than", ratio(reference / cost))
    } else {
        format!("{} more than", ratio(cost / reference))
    }
}

/// `12×`, `3.4×`, `0.25×`: enough digits to read, not more.
pub(super) fn ratio(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}×")
    } else if r >= 1.0 {
        format!("{r:.1}×")
    } else {
        format!("{r:.2}×")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_refuse_empty_or_bad_samples() {
        assert!(Stats::of(&[]).is_none());
        assert!(Stats::of(&[1.0, 0.0]).is_none());
        assert!(Stats::of(&[1.0, f64::NAN]).is_none());
        let s = Stats::of(&[3.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!((s.min, s.median), (1.0, 2.5));
    }

    #[test]
    fn ratios_keep_two_significant_digits() {
        assert_eq!(ratio(42.4), "42×");
        assert_eq!(ratio(3.44), "3.4×");
        assert_eq!(ratio(0.254), "0.25×");
    }
}
