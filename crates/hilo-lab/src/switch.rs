//! `switch`: what a context switch costs. Two parties hand a turn back and
//! forth, each blocking until the other answers; one round trip is two
//! handoffs, so the cost per switch is the round trip / 2.
//!
//! - Threads: a `Mutex` + `Condvar` turn. Not `mpsc`: std's channel spins
//!   before it sleeps, so across cores it would measure a cache-line
//!   transfer instead of a sleep and a wake-up.
//! - Processes: this process and `cat` over two pipes, one byte each way.
//!   `cat` is the smallest real echo server: it blocks in `read` and writes
//!   what it got at once (no stdio buffering), so each byte is one wake-up.
//!
//! Each pair runs pinned (`sched_setaffinity`) on one CPU, where every
//! handoff is a real switch of the CPU from one to the other, and on two
//! CPUs, where it is a wake-up on the other core (skipped with a note when
//! only one CPU is allowed). Only threads this experiment starts are
//! pinned, never the caller's; every thread is joined and `cat` reaped,
//! even on error.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use rustix::process::Pid;
use rustix::thread::{sched_getaffinity, sched_setaffinity, CpuSet};

use super::spawn::{cheaper, children_left, ratio, threads_now, time_each, Stats};
use super::{human, Ctx, Data, Report};

/// How long a side waits for its partner before calling the run failed.
const PATIENCE: Duration = Duration::from_secs(5);

/// The CPUs this process may run on, lowest first.
fn allowed_cpus() -> Result<Vec<usize>, String> {
    let set = sched_getaffinity(None).map_err(|e| format!("cannot read the CPU affinity: {e}"))?;
    Ok((0..CpuSet::MAX_CPU).filter(|&c| set.is_set(c)).collect())
}

/// Pins the calling thread (`None`) or process `pid` to `cpu`.
fn pin(pid: Option<Pid>, cpu: usize) -> Result<(), String> {
    let mut set = CpuSet::new();
    set.set(cpu);
    sched_setaffinity(pid, &set).map_err(|e| format!("cannot pin to CPU {cpu}: {e}"))
}

/// Per-switch times, one per batch of `trips` round trips.
fn batches(
    count: usize,
    trips: usize,
    mut round_trip: impl FnMut() -> Result<(), String>,
) -> Result<Vec<f64>, String> {
    // Untimed first trips: page faults, the first wake-ups.
    for _ in 0..trips.min(50) {
        round_trip()?;
    }
    let batch = time_each(0, count, || (0..trips).try_for_each(|_| round_trip()))?;
    Ok(batch.into_iter().map(|s| s / (2 * trips) as f64).collect())
}

/// Whose turn it is in the thread ping-pong, or why it ended.
#[derive(Debug, Clone, PartialEq)]
enum Turn {
    Ping,
    Pong,
    Stop,
    Failed(String),
}

/// Waits until `ready` holds, then sets the turn to `next` and wakes the
/// other thread. Errors on `Stop`/`Failed` or after `PATIENCE`.
fn hand_over(
    court: &(Mutex<Turn>, Condvar),
    ready: &Turn,
    next: Turn,
) -> Result<(), Option<String>> {
    let (lock, cvar) = court;
    let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
    let (mut turn, timeout) = cvar
        .wait_timeout_while(guard, PATIENCE, |t| {
            t != ready && !matches!(t, Turn::Stop | Turn::Failed(_))
        })
        .unwrap_or_else(PoisonError::into_inner);
    match &*turn {
        Turn::Stop => return Err(None),
        Turn::Failed(why) => return Err(Some(why.clone())),
        _ if timeout.timed_out() => {
            return Err(Some(format!(
                "no answer from the other thread in {PATIENCE:?}"
            )))
        }
        _ => {}
    }
    *turn = next;
    cvar.notify_one();
    Ok(())
}

/// Ends the game for both sides (with a reason if it failed).
fn end(court: &(Mutex<Turn>, Condvar), how: Turn) {
    let (lock, cvar) = court;
    let mut turn = lock.lock().unwrap_or_else(PoisonError::into_inner);
    if !matches!(*turn, Turn::Failed(_)) {
        *turn = how;
    }
    cvar.notify_all();
}

/// Thread ping-pong, the pinger on CPU `a`, the ponger on CPU `b`.
fn threads(a: usize, b: usize, count: usize, trips: usize) -> Result<Vec<f64>, String> {
    let court = (Mutex::new(Turn::Ping), Condvar::new());
    std::thread::scope(|s| {
        let court = &court;
        let ponger = std::thread::Builder::new()
            .spawn_scoped(s, move || {
                if let Err(why) = pin(None, b) {
                    end(court, Turn::Failed(why));
                    return;
                }
                // Answers every ping until told to stop.
                while hand_over(court, &Turn::Pong, Turn::Ping).is_ok() {}
            })
            .map_err(|e| format!("cannot start the ponging thread: {e}"))?;
        let pinger = std::thread::Builder::new().spawn_scoped(s, move || {
            pin(None, a)?;
            batches(count, trips, || {
                hand_over(court, &Turn::Ping, Turn::Pong)
                    .map_err(|why| why.unwrap_or_else(|| "stopped early".into()))?;
                // Back to us once the ponger answered.
                let (lock, cvar) = court;
                let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
                let (turn, timeout) = cvar
                    .wait_timeout_while(guard, PATIENCE, |t| *t == Turn::Pong)
                    .unwrap_or_else(PoisonError::into_inner);
                match &*turn {
                    Turn::Failed(why) => Err(why.clone()),
                    _ if timeout.timed_out() => {
                        Err(format!("the ponging thread did not answer in {PATIENCE:?}"))
                    }
                    _ => Ok(()),
                }
            })
        });
        let result = match pinger {
            Ok(h) => h
                .join()
                .unwrap_or_else(|_| Err("the pinging thread panicked".into())),
            Err(e) => Err(format!("cannot start the pinging thread: {e}")),
        };
        // Whatever happened, release the ponger so the scope can join it.
        end(court, Turn::Stop);
        let joined = ponger.join();
        let samples = result?;
        joined.map_err(|_| "the ponging thread panicked".to_owned())?;
        Ok(samples)
    })
}

/// A child that is killed (if still running) and reaped when dropped.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        // Closing its stdin ends `cat` normally; kill is for a stuck one.
        drop(self.0.stdin.take());
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Process ping-pong with `cat`: this side (a new thread) on CPU `a`,
/// `cat` on CPU `b`. Returns the samples and `cat`'s pid.
fn processes(a: usize, b: usize, count: usize, trips: usize) -> Result<(Vec<f64>, u32), String> {
    let child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start `cat`: {e}"))?;
    let mut child = Reaped(child);
    let pid_raw = child.0.id();
    let pid = i32::try_from(pid_raw)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or_else(|| format!("`cat` has an impossible pid {pid_raw}"))?;
    pin(Some(pid), b)?;
    let (Some(mut to_cat), Some(mut from_cat)) = (child.0.stdin.take(), child.0.stdout.take())
    else {
        return Err("`cat` was started without its pipes".into());
    };
    let samples = std::thread::scope(|s| {
        std::thread::Builder::new()
            .spawn_scoped(s, || {
                pin(None, a)?;
                let mut byte = 0u8;
                batches(count, trips, || {
                    byte = byte.wrapping_add(1);
                    to_cat
                        .write_all(&[byte])
                        .map_err(|e| format!("cannot write to `cat`: {e}"))?;
                    let mut back = [0u8];
                    from_cat
                        .read_exact(&mut back)
                        .map_err(|e| format!("cannot read from `cat`: {e}"))?;
                    (back[0] == byte)
                        .then_some(())
                        .ok_or_else(|| format!("`cat` echoed {} for {byte}", back[0]))
                })
            })
            .map_err(|e| format!("cannot start the pinging thread: {e}"))?
            .join()
            .unwrap_or_else(|_| Err("the pinging thread panicked".into()))
    })?;
    // End of input: `cat` exits 0; anything else is worth reporting.
    drop(to_cat);
    let status = child
        .0
        .wait()
        .map_err(|e| format!("cannot wait for `cat` ({pid_raw}): {e}"))?;
    if !status.success() {
        return Err(format!("`cat` ended with {status}"));
    }
    Ok((samples, pid_raw))
}

/// One measured pairing.
struct Row {
    key: String,
    pair: &'static str,
    cpus: String,
    trips: usize,
    stats: Stats,
}

pub(crate) fn run(ctx: &Ctx) -> Result<Report, String> {
    let threads_before = threads_now()?;
    let cpus = allowed_cpus()?;
    let Some(&first) = cpus.first() else {
        return Err("no CPU is allowed to this process".into());
    };
    let mut layouts = vec![("same_core", first, first)];
    if let Some(&second) = cpus.get(1) {
        layouts.push(("cross_core", first, second));
    }
    let (count, trips) = (ctx.pick(20, 60), ctx.pick(200, 2_000));
    let mut rows = Vec::new();
    let mut cats = Vec::new();
    for &(layout, a, b) in &layouts {
        let cpus = if a == b {
            format!("{a}")
        } else {
            format!("{a} ↔ {b}")
        };
        let t = threads(a, b, count, trips)?;
        let (p, cat) = processes(a, b, count, trips)?;
        cats.push(cat);
        for (kind, pair, samples) in [
            ("threads", "two threads (Mutex+Condvar)", t),
            ("processes", "two processes (pipes, `cat`)", p),
        ] {
            let stats = Stats::of(&samples).ok_or_else(|| {
                format!("{pair} on CPU {cpus}: no usable timing (non-positive or not finite)")
            })?;
            rows.push(Row {
                key: format!("{kind}_{layout}"),
                pair,
                cpus: cpus.clone(),
                trips: count * trips,
                stats,
            });
        }
    }
    let left = children_left();
    if !left.is_empty() {
        return Err(format!("children left behind: {left:?}"));
    }
    let census = Census {
        cpus,
        cats,
        left,
        threads_before,
        threads_after: threads_now()?,
    };
    Ok(report(&rows, &census))
}

/// What ran around the ping-pongs: the CPUs allowed, the `cat`s started
/// (and what was left of them), the threads before and after.
struct Census {
    cpus: Vec<usize>,
    cats: Vec<u32>,
    left: Vec<u32>,
    threads_before: usize,
    threads_after: usize,
}

fn report(rows: &[Row], census: &Census) -> Report {
    let Census {
        cpus,
        cats,
        threads_before,
        threads_after,
        ..
    } = census;
    let median = |key: &str| rows.iter().find(|r| r.key == key).map(|r| r.stats.median);
    let mut notes = Vec::new();
    if let (Some(t), Some(p)) = (median("threads_same_core"), median("processes_same_core")) {
        notes.push(format!(
            "on one core a switch costs {} between threads, {} between processes \
             ({} the threads): microseconds, so a handoff must carry more work than that",
            human(Duration::from_secs_f64(t)),
            human(Duration::from_secs_f64(p)),
            cheaper(p, t)
        ));
    }
    match (median("threads_cross_core"), median("threads_same_core")) {
        (Some(c), Some(s)) => notes.push(format!(
            "across cores each handoff wakes a sleeping CPU instead of switching this one: \
             {} of the same-core cost for threads",
            ratio(c / s)
        )),
        _ => notes.push(format!(
            "only CPU {cpus:?} is allowed here: the across-cores rows are skipped"
        )),
    }
    notes.push(format!(
        "per switch = round trip / 2, each sample a batch of round trips; `cat` ({cats:?}) \
         reaped, every thread joined ({threads_before} threads before, {threads_after} after)"
    ));
    Report {
        explain: "Two parties hand a turn back and forth, each blocking until the other \
                  answers; per switch = round trip / 2, min and median over batches."
            .into(),
        columns: vec![
            "ping-pong".into(),
            "CPU".into(),
            "min / switch".into(),
            "median / switch".into(),
            "round trips".into(),
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.pair.to_owned(),
                    r.cpus.clone(),
                    human(Duration::from_secs_f64(r.stats.min)),
                    human(Duration::from_secs_f64(r.stats.median)),
                    r.trips.to_string(),
                ]
            })
            .collect(),
        notes,
        data: Data::Switch(SwitchData::of(rows, census)),
    }
}

/// The numbers `--json` writes.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct SwitchData {
    /// Each ping-pong by its key (`threads_same_core`, …).
    pairs: BTreeMap<String, PairData>,
    allowed_cpus: Vec<usize>,
    cross_core_skipped: bool,
    children_started: usize,
    children_reaped: usize,
    children_left: Vec<u32>,
    threads_before: usize,
    threads_after: usize,
}

impl SwitchData {
    fn of(rows: &[Row], census: &Census) -> Self {
        let pairs = rows
            .iter()
            .map(|r| {
                let pair = PairData {
                    pair: r.pair,
                    cpus: r.cpus.clone(),
                    round_trips: r.trips,
                    min_s: r.stats.min,
                    median_s: r.stats.median,
                };
                (r.key.clone(), pair)
            })
            .collect();
        SwitchData {
            pairs,
            allowed_cpus: census.cpus.clone(),
            cross_core_skipped: census.cpus.len() < 2,
            children_started: census.cats.len(),
            children_reaped: census.cats.len(),
            children_left: census.left.clone(),
            threads_before: census.threads_before,
            threads_after: census.threads_after,
        }
    }
}

/// One ping-pong's per-switch times.
#[derive(Debug, Clone, serde::Serialize)]
struct PairData {
    pair: &'static str,
    cpus: String,
    round_trips: usize,
    min_s: f64,
    median_s: f64,
}
