//! The queue of calls and the supervisor threads, one per worker slot. A
//! supervisor feeds its worker tasks, completes their futures from the
//! answers, and when the worker dies, times out or is cancelled, reaps it,
//! fails the running task, puts the one it never started back in the queue,
//! and starts a new worker.
//!
//! While tasks are short, a worker holds two (the running one and the
//! next, already sent), so it never waits for the round trip to the pool
//! between tasks. A task sent to a worker is committed to it, so this is
//! done only when it cannot delay anything: the worker's last task took
//! under `PIPELINE_BELOW`, and more tasks are queued than idle slots will
//! take. Long tasks therefore never wait behind each other while a worker
//! is free (except once, when a long task follows a run of short ones).
//! The second task's frame must also fit in the socket's buffer at once:
//! a worker writing a big answer reads nothing, and a pool blocked writing
//! it a big task would wait for it for ever.

use std::any::Any;
use std::collections::VecDeque;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::cell::Job;
use super::child::{Config, ProcHandle, Worker};
use super::lock;
use super::protocol::{decode_body, write_frame, FrameError, FromWorkerIn, ToWorkerRef};
use crate::error::{panic_message, TaskError};
use crate::sync::wait_std;

pub(super) struct Queue {
    pub(super) jobs: VecDeque<Arc<dyn Job>>,
    pub(super) closed: bool,
    /// `terminate` was called: tasks of killed workers are not run again.
    pub(super) terminated: bool,
    /// Slots whose worker holds nothing and that will take the next job:
    /// supervisors in `next_job`, and those not started yet (the pool
    /// counts them in up front, so jobs submitted right after `build` are
    /// not all pipelined to the first worker).
    pub(super) idle: usize,
    /// Of `idle`, the slots with a live worker (counted up front for the
    /// first slot, whose worker `build` starts). A slot without a worker
    /// takes a job only when there are more than these will take, so an
    /// idle process is reused before a new one starts.
    pub(super) idle_warm: usize,
    /// Slots asleep in `next_job` with a live worker, most recent last.
    /// A new job wakes one of these before any slot without a worker.
    pub(super) asleep_warm: Vec<usize>,
    /// Slots asleep in `next_job` without a worker.
    pub(super) asleep_cold: Vec<usize>,
}

impl Queue {
    /// Whether a slot may take the job at the front: any slot with a
    /// worker; one without only if the idle slots with a worker will not
    /// take every queued job.
    fn for_slot(&self, warm: bool) -> bool {
        if warm {
            !self.jobs.is_empty()
        } else {
            self.jobs.len() > self.idle_warm
        }
    }

    /// Takes the slot that should get a new job out of the sleepers: the
    /// last one to fall asleep with a live worker (its process is the
    /// likeliest to be warm in cache), else one without a worker if it may
    /// take a job; none if an idle slot with a worker will get to it.
    fn pick_sleeper(&mut self) -> Option<usize> {
        if let Some(slot) = self.asleep_warm.pop() {
            return Some(slot);
        }
        if self.for_slot(false) {
            self.asleep_cold.pop()
        } else {
            None
        }
    }

    fn forget_sleeper(&mut self, slot: usize) {
        self.asleep_warm.retain(|&s| s != slot);
        self.asleep_cold.retain(|&s| s != slot);
    }
}

pub(super) struct Shared {
    pub(super) config: Config,
    pub(super) max_workers: usize,
    pub(super) queue: Mutex<Queue>,
    /// One per slot: woken when a job is there for it (or on shutdown).
    pub(super) wake: Vec<Condvar>,
    /// The live workers, by slot (for `terminate` and `worker_pids`).
    pub(super) workers: Mutex<Vec<Option<ProcHandle>>>,
    pub(super) supervisors: Mutex<Vec<JoinHandle<()>>>,
    pub(super) next_id: AtomicU64,
}

impl Shared {
    /// The state of a new pool of `max_workers` slots, every slot counted
    /// idle up front and the first one with a worker (its supervisor starts
    /// one before it takes jobs).
    pub(super) fn new(config: Config, max_workers: usize) -> Shared {
        Shared {
            config,
            max_workers,
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                closed: false,
                terminated: false,
                idle: max_workers,
                idle_warm: 1,
                asleep_warm: Vec::with_capacity(max_workers),
                asleep_cold: Vec::with_capacity(max_workers),
            }),
            wake: (0..max_workers).map(|_| Condvar::new()).collect(),
            workers: Mutex::new(vec![None; max_workers]),
            supervisors: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(0),
        }
    }

    /// The next job for `slot`, or `None` once the queue is closed and
    /// empty. The caller is an idle slot until it returns; `warm` says it
    /// has a live worker, and `counted` that it is already counted in
    /// `Queue::idle` (and `idle_warm` if warm) from the pool's up-front
    /// count (its first call).
    pub(super) fn next_job(&self, slot: usize, counted: bool, warm: bool) -> Option<Arc<dyn Job>> {
        let mut q = lock(&self.queue);
        if !counted {
            q.idle += 1;
            q.idle_warm += usize::from(warm);
        }
        loop {
            let job = if q.for_slot(warm) {
                q.jobs.pop_front()
            } else {
                None
            };
            if job.is_some() || q.closed {
                q.idle -= 1;
                q.idle_warm -= usize::from(warm);
                return job;
            }
            if warm {
                q.asleep_warm.push(slot);
            } else {
                q.asleep_cold.push(slot);
            }
            q = wait_std(&self.wake[slot], q);
            // The waker took it off the list; a spurious wake-up did not.
            q.forget_sleeper(slot);
        }
    }

    /// Counts a slot with a live worker as idle ahead of its `next_job`
    /// (which it then calls with `counted`).
    pub(super) fn count_idle_warm(&self) {
        let mut q = lock(&self.queue);
        q.idle += 1;
        q.idle_warm += 1;
    }

    /// Takes back an up-front idle count a slot will not use.
    fn uncount_idle(&self, warm: bool) {
        let mut q = lock(&self.queue);
        q.idle -= 1;
        q.idle_warm -= usize::from(warm);
    }

    /// Wakes the slot that should take a job just queued, if any (see
    /// `Queue::pick_sleeper`). The caller holds the queue's lock.
    pub(super) fn wake_one(&self, q: &mut Queue) {
        if let Some(slot) = q.pick_sleeper() {
            self.wake[slot].notify_one();
        }
    }

    /// Wakes every sleeping slot (the queue closed).
    pub(super) fn wake_all(&self) {
        for cv in &self.wake {
            cv.notify_all();
        }
    }

    /// A job to send behind the one a worker is running: only if more are
    /// queued than idle supervisors will take, so two long tasks on a pool
    /// of two run side by side instead of one behind the other; and only if
    /// its frame is at most `max_frame` bytes (see `Worker::pipeline_limit`).
    pub(super) fn next_job_to_pipeline(&self, max_frame: usize) -> Option<Arc<dyn Job>> {
        let mut q = lock(&self.queue);
        let fits = q.jobs.front().is_some_and(|j| j.frame_len() <= max_frame);
        if fits && q.jobs.len() > q.idle {
            q.jobs.pop_front()
        } else {
            None
        }
    }

    pub(super) fn set_worker(&self, slot: usize, worker: Option<&Worker>) {
        lock(&self.workers)[slot] = worker.map(|w| w.handle.clone());
    }
}

/// How many tasks a worker holds at most: the one it runs and the next.
const PIPELINE: usize = 2;

/// A worker is sent a second task only if its last one ran shorter than
/// this. Above it, the round trip it saves (tens of microseconds) is under
/// 2% of a task, not worth committing a task to a busy worker.
const PIPELINE_BELOW: Duration = Duration::from_millis(2);

/// One worker slot's state, owned by its supervisor thread.
struct Slot {
    shared: Arc<Shared>,
    index: usize,
    worker: Option<Worker>,
    /// Tasks sent to the worker, oldest (the running one) first.
    held: VecDeque<Arc<dyn Job>>,
    /// When the oldest held task became the running one.
    head_since: Instant,
    /// This slot is already counted in `Queue::idle` (and `idle_warm` if
    /// it has a worker): from the pool's up-front count, or since its
    /// worker's last answer.
    idle_counted: bool,
    /// How long the last task answered here ran (none yet: `None`).
    last_run: Option<Duration>,
}

impl Slot {
    /// Sends tasks until the worker holds `PIPELINE` (or its
    /// `max_tasks_per_child` allowance). Blocks for work only when it holds
    /// none; false once the queue is closed and drained and nothing is held.
    fn fill(&mut self) -> bool {
        while self.held.len() < PIPELINE && self.room_in_worker() {
            let job = if self.held.is_empty() {
                let counted = std::mem::replace(&mut self.idle_counted, false);
                let warm = self.worker.is_some();
                match self.shared.next_job(self.index, counted, warm) {
                    Some(job) => job,
                    None => return false,
                }
            } else {
                if self.last_run.is_none_or(|d| d >= PIPELINE_BELOW) {
                    break;
                }
                let limit = self.worker.as_ref().map_or(0, |w| w.pipeline_limit);
                match self.shared.next_job_to_pipeline(limit) {
                    Some(job) => job,
                    None => break,
                }
            };
            self.send(job);
        }
        true
    }

    fn room_in_worker(&self) -> bool {
        let done = self.worker.as_ref().map_or(0, |w| w.tasks_done);
        self.shared
            .config
            .max_tasks_per_child
            .is_none_or(|max| done + self.held.len() < max)
    }

    fn send(&mut self, job: Arc<dyn Job>) {
        if self.worker.is_none() {
            match Worker::spawn(&self.shared.config) {
                Ok(w) => {
                    self.shared.set_worker(self.index, Some(&w));
                    self.worker = Some(w);
                }
                Err(reason) => {
                    job.finish(Err(TaskError::Broken { reason }));
                    return;
                }
            }
        }
        let Some(w) = self.worker.as_mut() else {
            return;
        };
        if !job.start(&w.handle) {
            return; // cancelled while queued
        }
        let msg = ToWorkerRef::Run {
            id: job.id(),
            task: job.name(),
            args: job.args(),
        };
        if write_frame(&mut w.writer, &msg).is_err() {
            // The worker is gone; the task it was running (if any) learns
            // how it died. This one never reached it and is queued again,
            // unless the worker died before doing anything at all: then it
            // fails, so a worker that always dies cannot make us start
            // workers forever.
            let died = w.reap_dead();
            if self.held.is_empty() && w.tasks_done == 0 {
                job.finish(Err(died.clone()));
            } else {
                self.requeue(vec![job]);
            }
            self.lose_worker(Some(died));
            return;
        }
        self.held.push_back(job);
        if self.held.len() == 1 {
            self.promote_head();
        }
    }

    /// Makes the oldest held task the running one. One cancelled while it
    /// waited in the worker is killed with the worker right away.
    fn promote_head(&mut self) {
        let Some(head) = self.held.front() else {
            return;
        };
        self.head_since = Instant::now();
        if !head.promote() {
            if let Some(w) = self.worker.as_mut() {
                w.kill_and_reap();
            }
            self.lose_worker(None);
        }
    }

    /// Waits for the running task's answer, its timeout or its worker's
    /// death, and completes its future.
    fn await_head(&mut self) {
        let (Some(head), Some(w)) = (self.held.front().cloned(), self.worker.as_mut()) else {
            return;
        };
        let timeout = head.timeout().or(self.shared.config.timeout);
        // A timeout too far off to be an instant is no deadline at all.
        let deadline = timeout.and_then(|t| self.head_since.checked_add(t));
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                w.kill_and_reap();
                let after = timeout.unwrap_or_default();
                self.lose_worker(Some(TaskError::TimedOut { after }));
                return;
            }
            let body = match w.read_body(left) {
                Ok(body) => body,
                Err(FrameError::Io(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    continue; // the deadline check above decides
                }
                Err(FrameError::Closed | FrameError::Truncated | FrameError::Io(_)) => {
                    let died = w.reap_dead();
                    self.lose_worker(Some(died));
                    return;
                }
                Err(e) => return self.bad_frame(e.to_string()),
            };
            match decode_body::<FromWorkerIn<'_>>(&body) {
                Ok(FromWorkerIn::Done { id, outcomes }) if id == head.id() => {
                    self.last_run = Some(self.head_since.elapsed());
                    self.held.pop_front();
                    w.tasks_done += 1;
                    // If the worker now holds nothing and stays, the slot is
                    // idle with a live worker from the moment the future is
                    // complete (or its callbacks have run): a submitter that
                    // sees the completion must find it idle, or it would
                    // start a new process. (Counted under the future's lock
                    // when there are no callbacks: that lock, then the
                    // queue's, the one order in which the two are taken
                    // together here; requeue takes them the other way round
                    // only for tasks this same thread holds.)
                    let stays = self.held.is_empty() && self.room_in_worker();
                    let shared = &self.shared;
                    let mut counted = false;
                    head.finish_then(Ok(&outcomes), &mut || {
                        if stays {
                            shared.count_idle_warm();
                            counted = true;
                        }
                    });
                    self.idle_counted = counted;
                    self.after_answer();
                    return;
                }
                Ok(other) => return self.bad_frame(format!("it sent {other:?}")),
                Err(e) => return self.bad_frame(e.to_string()),
            }
        }
    }

    /// After an answer: retire a worker that has done its share, or start
    /// timing the next held task.
    fn after_answer(&mut self) {
        if self.held.is_empty() && !self.room_in_worker() {
            self.retire_worker();
        } else {
            self.promote_head();
        }
    }

    /// Lets the worker (if any) exit after its last task, and forgets it.
    fn retire_worker(&mut self) {
        if let Some(w) = self.worker.take() {
            w.retire();
        }
        self.shared.set_worker(self.index, None);
    }

    /// After a panic in this supervisor: the worker is ended and every task
    /// it held fails, so none is left pending.
    fn recover(&mut self, payload: &(dyn Any + Send)) {
        let message = format!(
            "the process pool's supervisor failed: {}",
            panic_message(payload)
        );
        // Counted idle as it was (with or without its worker): uncounted,
        // since it loses its worker and counts itself again as it goes on.
        if std::mem::take(&mut self.idle_counted) {
            self.shared.uncount_idle(self.worker.is_some());
        }
        if let Some(w) = self.worker.as_mut() {
            w.kill_and_reap();
        }
        for job in self.held.drain(..) {
            job.finish(Err(TaskError::Failed {
                message: message.clone(),
            }));
        }
        self.worker = None;
        self.shared.set_worker(self.index, None);
    }

    /// A worker that sent something undecodable cannot be trusted: end it.
    fn bad_frame(&mut self, why: String) {
        let status = self.worker.as_mut().map(Worker::kill_and_reap);
        let error = TaskError::Failed {
            message: format!(
                "the worker broke the protocol ({why}) and {}",
                status.unwrap_or_default()
            ),
        };
        self.lose_worker(Some(error));
    }

    /// The worker is gone (reaped by the caller): the running task gets
    /// `error` (if any), the tasks it held but never started are queued
    /// again, and the next task will start a new worker.
    fn lose_worker(&mut self, error: Option<TaskError>) {
        let mut held: Vec<_> = self.held.drain(..).collect();
        if !held.is_empty() {
            let head = held.remove(0);
            // A no-op if cancel() already ended it.
            head.finish(Err(error.unwrap_or(TaskError::WorkerDied {
                code: None,
                signal: None,
            })));
        }
        self.requeue(held);
        self.worker = None;
        self.shared.set_worker(self.index, None);
    }

    /// Puts tasks a worker held but never started back at the front of the
    /// queue, in order; after `terminate` they fail instead.
    fn requeue(&self, jobs: Vec<Arc<dyn Job>>) {
        let mut q = lock(&self.shared.queue);
        for job in jobs.into_iter().rev() {
            if q.terminated {
                job.finish(Err(TaskError::WorkerDied {
                    code: None,
                    signal: Some(9),
                }));
            } else if job.unstart() {
                q.jobs.push_front(job);
                self.shared.wake_one(&mut q);
            }
        }
    }
}

/// One worker slot: keeps a worker alive and feeds it tasks.
pub(super) fn supervise(shared: Arc<Shared>, index: usize, worker: Option<Worker>) {
    let mut slot = Slot {
        shared,
        index,
        worker,
        held: VecDeque::new(),
        head_since: Instant::now(),
        idle_counted: true,
        last_run: None,
    };
    // Whatever panics in here (the user's code runs in the tasks' done
    // callbacks, which are caught where they run, so only a bug of ours
    // could), the slot's tasks fail and the slot serves on.
    loop {
        let served = catch_unwind(AssertUnwindSafe(|| {
            while slot.fill() {
                slot.await_head();
            }
        }));
        match served {
            Ok(()) => break,
            Err(payload) => slot.recover(&*payload),
        }
    }
    slot.retire_worker();
}
