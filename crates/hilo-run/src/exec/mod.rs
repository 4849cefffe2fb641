//! Running one job: its slot, its child process (in a process group of its
//! own), its output, its timeout, its retries; and stopping every running
//! job on `--halt now` or Ctrl+C. Owns every child process `hilo run`
//! starts: each is reaped by the thread that started it, and killed (with
//! its whole group) only while it is known not to have been reaped yet.
//!
//! Output is captured in temporary files under `$TMPDIR`, as GNU parallel
//! does (`captured.rs`): the job writes at its own pace, never blocks on a
//! full pipe, and a background grandchild holding the file cannot keep the
//! job from ending. `--line-buffer` uses pipes instead, read as the job
//! writes.
//!
//! Here: the runner, its slots, `--delay`, the retry loop, `--halt` and the
//! signals; `child.rs`: one try of a job (spawn, capture, reap);
//! `programs.rs`: the `PATH` cache; `remote.rs`: a try on a cluster worker
//! (`--cluster`); `batch.rs`: the queue of jobs for the cluster, sent several
//! to a task when they are short.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use rustix::process::{Pid, Signal};

mod batch;
mod child;
mod programs;
mod remote;

pub(crate) use batch::MAX_BATCH;

pub use remote::job_task_name;

use programs::Programs;

use super::captured::Budget;
use super::halt::{Halt, Tracker, When};
use super::lines::Lines;
use super::report::JobReport;
use super::template::{JobContext, Template};

/// Time between the TERM and the KILL sent to a job's process group.
const KILL_GRACE: Duration = Duration::from_secs(1);
/// Wait before the first retry; doubled for each next one.
///
/// The retry loop is `run_in_slot`'s own rather than the library's `retry`
/// and `RetryPolicy`, which resubmit each attempt as a new task: a job keeps
/// its slot (`{%}`) and its place in the output order across tries, its
/// report counts the tries for the job log, and a wait between tries ends
/// at once on Ctrl+C or `--halt now`.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// How a job's output is collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Capture {
    /// Whole, printed when the job ends (GNU parallel's `--group`).
    Whole,
    /// Line by line as the job writes, printed at once (`--line-buffer`),
    /// with `--tag`, each line after the job's values and a tab.
    Lines { tag: bool },
}

/// What every job shares.
pub(crate) struct Settings {
    pub(crate) template: Arc<Template>,
    /// Jobs at once (`-j`): slots `{%}` are 1 ..= slots.
    pub(crate) slots: usize,
    pub(crate) capture: Capture,
    pub(crate) timeout: Option<Duration>,
    /// Tries in all (at least 1).
    pub(crate) retries: u32,
    pub(crate) delay: Option<Duration>,
    /// `--halt`, checked by the job's own thread as soon as it ends, so
    /// that thread cannot start another job first.
    pub(crate) halt: Option<Halt>,
    /// All jobs, when known (for a percentage in `--halt`).
    pub(crate) total: Option<u64>,
    /// Where `--line-buffer` lines go.
    pub(crate) lines: Arc<Lines>,
    /// The job log or `--json` shows each job's command line.
    pub(crate) record_command: bool,
    /// `--cluster`: the jobs run on the workers of this executor.
    pub(crate) cluster: Option<Arc<hilo_redis::RedisExecutor>>,
}

/// Where a `--line-buffer` job's lines go: its place among the submitted
/// jobs (for `-k`) and its `--tag` prefix.
struct LineOut {
    order: u64,
    prefix: Vec<u8>,
}

/// A started child, until it is known to have exited.
struct Running {
    pgid: Pid,
    deadline: Option<Instant>,
    /// When TERM was sent (then KILL follows after `KILL_GRACE`).
    term_sent: Option<Instant>,
    timed_out: bool,
}

/// Shared by the job threads, the watchdog and the signal thread.
pub(crate) struct Runner {
    settings: Settings,
    running: Mutex<HashMap<u64, Running>>,
    /// Wakes the watchdog when a deadline is added or moved earlier.
    watchdog: Condvar,
    free_slots: Mutex<Vec<usize>>,
    next_start: Mutex<Option<Instant>>,
    /// No new job starts (halt, Ctrl+C, end of input error).
    stop: AtomicBool,
    stopped: Mutex<bool>,
    stop_changed: Condvar,
    /// Ctrl+C (or TERM) was received.
    pub(crate) interrupted: AtomicBool,
    interrupts: AtomicU32,
    /// The first of them (SIGINT, or SIGTERM for TERM and HUP), forwarded
    /// to the jobs.
    first_signal: AtomicI32,
    /// `--halt now` fired: every job, even one started after, gets TERM.
    terminating: AtomicBool,
    /// `--halt`'s count of finished jobs and the exit status it decided.
    halt: Mutex<Option<Tracker>>,
    /// Told once when `hilo run` starts stopping.
    stop_listener: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    programs: Programs,
    /// Finished jobs' outputs held in memory.
    budget: Arc<Budget>,
    /// `--cluster`: the queue of jobs for the workers.
    batcher: Option<batch::Batcher>,
}

/// Sends `sig` to the process group `pgid`; it may be gone already.
fn kill_group(pgid: Pid, sig: Signal) {
    let _ = rustix::process::kill_process_group(pgid, sig);
}

impl Runner {
    /// Starts the watchdog (timeouts, halt, second Ctrl+C) and the signal
    /// thread (Ctrl+C and TERM forwarded to the running jobs).
    pub(crate) fn start(settings: Settings) -> io::Result<Arc<Runner>> {
        let slots = settings.slots;
        let halt = settings
            .halt
            .clone()
            .map(|h| Tracker::new(h, settings.total));
        let batcher = match &settings.cluster {
            Some(exec) => {
                // `--halt` counts each job as it ends and `--delay` spaces
                // their starts: there a job travels alone.
                let alone = settings.halt.is_some() || settings.delay.is_some();
                Some(batch::Batcher::start(
                    Arc::clone(exec),
                    settings.timeout,
                    (2 * exec.max_workers()).min(slots),
                    if alone { 1 } else { MAX_BATCH },
                )?)
            }
            None => None,
        };
        let runner = Arc::new(Runner {
            settings,
            running: Mutex::new(HashMap::new()),
            watchdog: Condvar::new(),
            free_slots: Mutex::new((1..=slots).rev().collect()),
            next_start: Mutex::new(None),
            stop: AtomicBool::new(false),
            stopped: Mutex::new(false),
            stop_changed: Condvar::new(),
            interrupted: AtomicBool::new(false),
            interrupts: AtomicU32::new(0),
            first_signal: AtomicI32::new(0),
            terminating: AtomicBool::new(false),
            halt: Mutex::new(halt),
            stop_listener: Mutex::new(None),
            programs: Programs::default(),
            budget: Arc::default(),
            batcher,
        });
        let mut signals = signal_hook::iterator::Signals::new([
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
            // A closed terminal or a logged-out session: as TERM, so no job
            // outlives `hilo run`.
            signal_hook::consts::SIGHUP,
        ])?;
        let r = Arc::clone(&runner);
        std::thread::Builder::new()
            .name("hilo-run-signals".into())
            .spawn(move || {
                for sig in signals.forever() {
                    r.on_signal(sig);
                }
            })?;
        let r = Arc::clone(&runner);
        std::thread::Builder::new()
            .name("hilo-run-watchdog".into())
            .spawn(move || r.watch())?;
        Ok(runner)
    }

    /// True once no new job may start.
    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// No new job starts; running ones go on.
    pub(crate) fn stop_starting(&self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(batcher) = &self.batcher {
            batcher.stop();
        }
        *self.stopped.lock() = true;
        self.stop_changed.notify_all();
        let listener = self.stop_listener.lock().take();
        if let Some(tell) = listener {
            tell();
        }
    }

    /// Runs `tell` (once) when `hilo run` starts stopping.
    pub(crate) fn on_stop(&self, tell: impl FnOnce() + Send + 'static) {
        *self.stop_listener.lock() = Some(Box::new(tell));
        if self.stopping() {
            if let Some(tell) = self.stop_listener.lock().take() {
                tell();
            }
        }
    }

    /// `--halt` fired: no new jobs; with `now`, the running ones are killed
    /// (TERM, then KILL after the grace period).
    pub(crate) fn halt(&self, when: When) {
        self.stop_starting();
        if when == When::Now {
            self.terminate_all(Signal::TERM);
        }
    }

    fn on_signal(&self, sig: i32) {
        let sig = if sig == signal_hook::consts::SIGHUP {
            signal_hook::consts::SIGTERM
        } else {
            sig
        };
        self.interrupted.store(true, Ordering::SeqCst);
        // No new job from now on; the stop listener is told last, as it
        // may wait for a job's thread that is busy printing.
        self.stop.store(true, Ordering::SeqCst);
        // Kept before the count rises, for `register` to forward it too.
        let _ = self
            .first_signal
            .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
        let n = self.interrupts.fetch_add(1, Ordering::SeqCst);
        // Jobs in a slot, counted even if their child is not registered
        // yet (`register` forwards the signal to it then).
        let running = self.running_jobs();
        if n == 0 {
            let forwarded = self.forwarded();
            eprintln!(
                "hilo run: interrupted; no new jobs, waiting for {running} running \
                 (press Ctrl+C again to kill them)"
            );
            for r in self.running.lock().values() {
                kill_group(r.pgid, forwarded);
            }
        } else {
            eprintln!("hilo run: killing {running} running jobs");
            if let Some(batcher) = &self.batcher {
                batcher.kill();
            }
            for r in self.running.lock().values() {
                kill_group(r.pgid, Signal::KILL);
            }
        }
        self.stop_starting();
    }

    /// Jobs running: in a slot here, or sent to the cluster (the others
    /// there are only queued on this machine).
    fn running_jobs(&self) -> usize {
        match &self.batcher {
            Some(batcher) => batcher.sent(),
            None => self.settings.slots - self.free_slots.lock().len(),
        }
    }

    /// The signal the first Ctrl+C (or TERM) forwards to the jobs.
    fn forwarded(&self) -> Signal {
        Signal::from_named_raw(self.first_signal.load(Ordering::SeqCst)).unwrap_or(Signal::INT)
    }

    /// Sends `sig` to every running job now and has the watchdog KILL any
    /// still there after the grace period.
    fn terminate_all(&self, sig: Signal) {
        // Set before the map is locked: a job registered after this walk
        // sees the flag in `register`.
        self.terminating.store(true, Ordering::SeqCst);
        if let Some(batcher) = &self.batcher {
            batcher.kill();
        }
        let now = Instant::now();
        for r in self.running.lock().values_mut() {
            kill_group(r.pgid, sig);
            r.term_sent.get_or_insert(now);
        }
        self.watchdog.notify_all();
    }

    /// The watchdog: TERMs jobs past their deadline, KILLs jobs still there
    /// `KILL_GRACE` after their TERM.
    fn watch(&self) {
        let mut running = self.running.lock();
        loop {
            let now = Instant::now();
            let mut next: Option<Instant> = None;
            for r in running.values_mut() {
                if r.term_sent.is_none() && r.deadline.is_some_and(|d| d <= now) {
                    kill_group(r.pgid, Signal::TERM);
                    r.term_sent = Some(now);
                    r.timed_out = true;
                }
                let wake = match r.term_sent {
                    Some(t) if t + KILL_GRACE <= now => {
                        kill_group(r.pgid, Signal::KILL);
                        None
                    }
                    Some(t) => Some(t + KILL_GRACE),
                    None => r.deadline,
                };
                if let Some(w) = wake {
                    next = Some(next.map_or(w, |n| n.min(w)));
                }
            }
            match next {
                None => self.watchdog.wait(&mut running),
                Some(at) => {
                    self.watchdog.wait_until(&mut running, at);
                }
            }
        }
    }

    /// Runs job `seq`, the `order`-th submitted, with `values` (retrying as
    /// configured); `None` if it was not started because `hilo run` is
    /// stopping.
    pub(crate) fn run_job(&self, seq: u64, order: u64, values: Vec<OsString>) -> Option<JobReport> {
        if self.stopping() {
            return None;
        }
        let slot = self.free_slots.lock().pop().unwrap_or(1);
        let report = self.run_in_slot(seq, order, values, slot);
        self.free_slots.lock().push(slot);
        if let Some(r) = &report {
            self.check_halt(r);
        }
        report
    }

    /// Counts a finished job for `--halt`: names it if it counts toward
    /// the rule, as GNU parallel does, and stops the run if the rule fires.
    fn check_halt(&self, report: &JobReport) {
        let mut tracker = self.halt.lock();
        let Some(tracker) = tracker.as_mut() else {
            return;
        };
        let status = report
            .exit
            .unwrap_or_else(|| 128 + report.signal.unwrap_or(0));
        let verdict = tracker.ended(status);
        if let Some(note) = verdict.note {
            let command = String::from_utf8_lossy(&report.command);
            eprintln!("hilo run: {note}\n{command}");
        }
        if let Some(when) = verdict.fire {
            let running = self.running_jobs();
            if when == When::Soon && running > 0 {
                eprintln!("hilo run: Starting no more jobs. Waiting for {running} jobs to finish.");
            }
            self.halt(when);
        }
    }

    /// The exit status `--halt` gives the run (`None` without it).
    pub(crate) fn halt_status(&self) -> Option<u8> {
        self.halt.lock().as_ref().and_then(Tracker::status)
    }

    fn run_in_slot(
        &self,
        seq: u64,
        order: u64,
        values: Vec<OsString>,
        slot: usize,
    ) -> Option<JobReport> {
        self.wait_for_delay();
        if self.stopping() {
            return None;
        }
        let ctx = JobContext {
            args: &values,
            seq,
            slot,
        };
        let argv = self.settings.template.render(&ctx);
        let command = if self.settings.record_command {
            self.settings.template.display(&argv)
        } else {
            Vec::new()
        };
        let prefix = match self.settings.capture {
            Capture::Lines { tag: true } => super::output::tag_of(&values),
            _ => Vec::new(),
        };
        let out = LineOut { order, prefix };
        let mut tries = 0;
        let mut backoff = FIRST_BACKOFF;
        loop {
            tries += 1;
            let attempt = self.run_once(seq, &argv, &out)?;
            let done = attempt.exit == Some(0)
                || tries >= self.settings.retries
                || self.stopping()
                || self.sleep_unless_stopped(backoff);
            if done {
                return Some(JobReport {
                    seq,
                    args: values,
                    command,
                    tries,
                    ..attempt
                });
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Sleeps `d`; true (early) if `hilo run` started stopping.
    fn sleep_unless_stopped(&self, d: Duration) -> bool {
        let mut stopped = self.stopped.lock();
        self.stop_changed.wait_while_for(&mut stopped, |s| !*s, d);
        *stopped
    }

    /// `--delay`: at most one job start per delay.
    fn wait_for_delay(&self) {
        let Some(delay) = self.settings.delay else {
            return;
        };
        let mut next = self.next_start.lock();
        if let Some(at) = *next {
            let left = at.saturating_duration_since(Instant::now());
            if !left.is_zero() && self.sleep_unless_stopped(left) {
                return;
            }
        }
        *next = Some(Instant::now() + delay);
    }
}
