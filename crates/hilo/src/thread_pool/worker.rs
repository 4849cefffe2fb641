//! The workers' side of a [`ThreadPool`](super::ThreadPool): the task
//! record (`TaskCell`), the state the pool and its threads share, the idle
//! count, and a worker thread's life.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock, Weak};
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender};
use crossbeam_utils::atomic::AtomicCell;
use crossbeam_utils::CachePadded;

use crate::error::{panic_message, SubmitError, TaskError};
use crate::future::{Cell, Inner};
use crate::stop::StopToken;
use crate::sync::{lock_std as lock, read_std, wait_std, write_std};

use super::batch::{Batch, Msg};

pub(super) type Initializer = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// A queued unit of work, type-erased.
pub(super) trait Job: Send + Sync {
    /// Runs the task unless its future was cancelled, completes the future
    /// and marks the worker idle: before waking anyone, or after the done
    /// callbacks if there are any.
    fn run(&self, idle: &IdleMark<'_>);
    /// Cancels the future (used by `shutdown` with `cancel_pending`).
    fn cancel(&self);
    /// Fails the future without running the task (broken pool).
    fn fail(&self, error: TaskError);
}

pub(super) type JobRef = Arc<dyn Job>;

/// One submitted task: its future's state and the closure, in a single
/// allocation shared by the queue (as a `Job`) and the `Future` (as a
/// `Cell`). The worker only drops its reference, so the memory is freed by
/// the thread that drops the future, usually the one that allocated it.
///
/// Every byte is paid per task (a million queued tasks are a million of
/// these), hence the closure in an `AtomicCell` (no lock in the record;
/// when `Option<F>` is over 8 bytes, as it usually is, taking it out holds
/// one of crossbeam's global striped locks for that moment) and the stop
/// token as a type parameter: `()` for plain tasks.
pub(super) struct TaskCell<F, T, S> {
    pub(super) inner: Inner<T>,
    /// Taken by the one thread that moves the future out of Pending.
    pub(super) task: AtomicCell<Option<F>>,
    pub(super) stop: S,
}

/// What a task runs: a closure whose value is the result ([`Plain`]), or
/// one that can fail the task with its own error ([`Fallible`]).
pub(super) trait Body<T>: Send {
    fn run(self) -> Result<T, TaskError>;
}

/// A closure returning the task's value.
pub(super) struct Plain<F>(pub(super) F);

impl<F: FnOnce() -> T + Send, T> Body<T> for Plain<F> {
    fn run(self) -> Result<T, TaskError> {
        Ok((self.0)())
    }
}

/// A closure returning the task's outcome (a registered task's call, which
/// may name a task nobody registered, say).
pub(super) struct Fallible<F>(pub(super) F);

impl<F: FnOnce() -> Result<T, TaskError> + Send, T> Body<T> for Fallible<F> {
    fn run(self) -> Result<T, TaskError> {
        (self.0)()
    }
}

/// Where a task keeps its stop token, if it has one.
pub(super) trait StopSlot: Send + Sync {
    fn token(&self) -> Option<&StopToken>;
}

impl StopSlot for () {
    fn token(&self) -> Option<&StopToken> {
        None
    }
}

impl StopSlot for StopToken {
    fn token(&self) -> Option<&StopToken> {
        Some(self)
    }
}

impl<F: Send, T: Send, S: StopSlot> Cell<T> for TaskCell<F, T, S> {
    fn inner(&self) -> &Inner<T> {
        &self.inner
    }

    fn stop(&self) -> Option<&StopToken> {
        self.stop.token()
    }
}

impl<F, T, S> Job for TaskCell<F, T, S>
where
    F: Body<T>,
    T: Send,
    S: StopSlot,
{
    fn run(&self, idle: &IdleMark<'_>) {
        if !self.inner.set_running() {
            return; // cancelled while queued
        }
        // set_running admits one runner, so the closure is still here.
        let Some(f) = self.task.take() else {
            return;
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| f.run()))
            .unwrap_or_else(|payload| Err(TaskError::from_panic(payload)));
        // Idle before the wake-up if there are no callbacks (a submitter
        // woken by this completion must see this worker as free, or
        // sequential submit+result would start a thread each time), after
        // them otherwise (a callback that submits and waits must not count
        // on the worker that runs it).
        self.inner.complete_then(outcome, || idle.mark());
    }

    fn cancel(&self) {
        self.inner.cancel();
        drop(self.task.take());
    }

    fn fail(&self, error: TaskError) {
        self.inner.complete(Err(error));
        drop(self.task.take());
    }
}

/// Worker threads and their bookkeeping, guarded by `Shared::workers`.
#[derive(Default)]
pub(super) struct Workers {
    pub(super) handles: Vec<JoinHandle<()>>,
    /// Threads started so far (never decreases).
    pub(super) started: usize,
    /// Threads started and not yet exited.
    pub(super) alive: usize,
}

pub(super) struct Shared {
    /// `None` once the pool takes no more tasks. Submitters hold the read
    /// lock while sending, so after `shutdown` takes the write lock no task
    /// can slip into a queue whose workers are leaving.
    ///
    /// Padded to a cache line of its own: only submitters write it, and
    /// workers read the fields around it for every job.
    pub(super) sender: CachePadded<RwLock<Option<Sender<Msg>>>>,
    pub(super) receiver: Receiver<Msg>,
    pub(super) max_workers: usize,
    pub(super) name_prefix: String,
    pub(super) stack_size: Option<usize>,
    pub(super) initializer: Option<Initializer>,
    pub(super) workers: Mutex<Workers>,
    pub(super) worker_exited: Condvar,
    /// Copy of `workers.started`, read without the lock on every submit.
    pub(super) started: AtomicUsize,
    /// Workers blocked (or about to block) waiting for a job (loom's
    /// under `--cfg loom`, for the model of the idle protocol below).
    pub(super) idle: IdleCount,
    pub(super) broken: Mutex<Option<String>>,
    pub(super) is_broken: AtomicBool,
    /// Set by a shutdown with `cancel_pending`: a task a worker takes from
    /// then on (the rest of a batch it holds, say) is cancelled, not run.
    pub(super) cancelling: AtomicBool,
    /// Stop tokens of tasks submitted with one and not yet finished.
    pub(super) stops: Mutex<HashMap<u64, StopToken>>,
    pub(super) next_stop: AtomicU64,
}

impl Shared {
    pub(super) fn closed_error(&self) -> SubmitError {
        match &*lock(&self.broken) {
            Some(reason) => SubmitError::Broken {
                reason: reason.clone(),
            },
            None => SubmitError::Shutdown,
        }
    }

    /// Queues `msg` and starts a worker if more tasks wait than workers are
    /// idle (`tasks`: how many tasks `msg` holds).
    ///
    /// # Errors
    /// The pool's [`SubmitError`] once it is shut down or broken.
    pub(super) fn send(self: &Arc<Self>, msg: Msg, tasks: usize) -> Result<(), SubmitError> {
        let sender = read_std(&self.sender);
        let Some(tx) = &*sender else {
            return Err(self.closed_error());
        };
        // Cannot fail: `self` owns a receiver for as long as we can send.
        let _ = tx.send(msg);
        // Held while starting workers, so this cannot race with shutdown.
        let spawned = if self.started.load(Ordering::Relaxed) < self.max_workers {
            self.grow(tasks)
        } else {
            Ok(())
        };
        drop(sender);
        if let Err(reason) = spawned {
            self.break_pool(reason);
        }
        Ok(())
    }

    /// Starts workers while more tasks wait than workers are idle (counting
    /// the ones it starts), `tasks` being the number in the message just
    /// queued. Called with the sender's read lock held, so it cannot race
    /// with shutdown.
    fn grow(self: &Arc<Self>, tasks: usize) -> Result<(), String> {
        // The queue counts a message once, however many tasks it holds (and
        // not at all once a worker has taken it, which for one task is
        // right: that worker is not idle any more).
        let mut queued = self.receiver.len() + tasks - 1;
        while needs_thread(queued, &self.idle) && self.spawn_worker()? {
            queued -= 1;
        }
        Ok(())
    }

    /// Starts a worker unless `max_workers` have been started; true if it
    /// did.
    fn spawn_worker(self: &Arc<Self>) -> Result<bool, String> {
        let mut workers = lock(&self.workers);
        if workers.started >= self.max_workers {
            return Ok(false);
        }
        let mut builder =
            thread::Builder::new().name(format!("{}-{}", self.name_prefix, workers.started));
        if let Some(size) = self.stack_size {
            builder = builder.stack_size(size);
        }
        let shared = Arc::clone(self);
        match builder.spawn(move || worker_main(shared)) {
            Ok(handle) => {
                workers.handles.push(handle);
                workers.started += 1;
                workers.alive += 1;
                self.started.store(workers.started, Ordering::Relaxed);
                Ok(true)
            }
            // Other workers will serve the queue; with none, the pool is dead.
            Err(e) if workers.started == 0 => Err(format!("could not start a worker thread: {e}")),
            Err(_) => Ok(false),
        }
    }

    /// Marks the pool broken: no more submits, every queued task fails.
    pub(super) fn break_pool(&self, reason: String) {
        {
            let mut broken = lock(&self.broken);
            if broken.is_none() {
                *broken = Some(reason.clone());
            }
        }
        self.is_broken.store(true, Ordering::Release);
        drop(write_std(&self.sender).take());
        while let Ok(msg) = self.receiver.try_recv() {
            msg.drain(|job| {
                job.fail(TaskError::Broken {
                    reason: reason.clone(),
                });
            });
        }
    }

    fn broken_error(&self) -> TaskError {
        TaskError::Broken {
            reason: lock(&self.broken).clone().unwrap_or_default(),
        }
    }

    /// Runs the initializer; `Err(reason)` if it failed or panicked.
    fn initialize(&self) -> Result<(), String> {
        let Some(init) = &self.initializer else {
            return Ok(());
        };
        match catch_unwind(AssertUnwindSafe(|| init())) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(msg)) => Err(format!("a worker thread's initializer failed: {msg}")),
            Err(payload) => Err(format!(
                "a worker thread's initializer panicked: {}",
                panic_message(&*payload)
            )),
        }
    }

    /// Blocks until every worker except the calling thread has exited, then
    /// joins them.
    pub(super) fn join_workers(&self) {
        let me = thread::current().id();
        let mut workers = lock(&self.workers);
        let own = usize::from(workers.handles.iter().any(|h| h.thread().id() == me));
        while workers.alive > own {
            workers = wait_std(&self.worker_exited, workers);
        }
        let handles = std::mem::take(&mut workers.handles);
        drop(workers);
        for handle in handles {
            // Joining ourselves would deadlock; our own thread ends after
            // this task returns.
            if handle.thread().id() != me {
                let _ = handle.join();
            }
        }
    }
}

impl Drop for Shared {
    /// Workers leave only once the queue is closed and empty, so nothing
    /// should be left here; if something is, its future fails rather than
    /// hanging.
    fn drop(&mut self) {
        while let Ok(msg) = self.receiver.try_recv() {
            msg.drain(|job| job.fail(TaskError::Abandoned));
        }
    }
}

/// The count of idle workers.
pub(super) type IdleCount = crate::sync::AtomicUsize;

/// Whether `queued` jobs need a thread more than the idle workers: only
/// workers that will take a job next count as idle (not one still running a
/// task's done callbacks, which may be what submitted the job).
fn needs_thread(queued: usize, idle: &IdleCount) -> bool {
    queued > idle.load(Ordering::SeqCst)
}

/// Counts a worker back as idle, once: when its task's future is complete
/// and its callbacks have run, or when the job is over if that came first
/// (cancelled, failed).
pub(super) struct IdleMark<'a> {
    /// `None` once every worker has started: nobody reads the count any
    /// more, and skipping it keeps two atomic writes per task off the hot
    /// path.
    pub(super) idle: Option<&'a IdleCount>,
    pub(super) marked: std::cell::Cell<bool>,
}

impl IdleMark<'_> {
    fn mark(&self) {
        if let Some(idle) = self.idle {
            if !self.marked.replace(true) {
                idle.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

impl Drop for IdleMark<'_> {
    fn drop(&mut self) {
        self.mark();
    }
}

/// The next job. A worker that has just finished one first polls the queue
/// for a few microseconds of pure spinning: in a stream of small tasks the
/// next one is usually there by then, and neither parking (two system
/// calls) nor yielding (which hands the core to another idle worker rather
/// than to the submitter) is cheaper. Then it blocks on the channel.
///
/// The spin is bounded by time, not by a count of pauses: a `pause` costs
/// from a few cycles to over a hundred depending on the processor, and a
/// count tuned on one turned into 50 µs of burnt core per idle worker on
/// another (where tasks arrive a network round trip apart, that core is
/// what the submitter and the task's own processes needed).
fn next_job(rx: &Receiver<Msg>) -> Result<Msg, crossbeam_channel::RecvError> {
    use crossbeam_channel::TryRecvError;
    const SPIN_FOR: std::time::Duration = std::time::Duration::from_micros(8);
    let began = std::time::Instant::now();
    for round in 0u32.. {
        match rx.try_recv() {
            Ok(job) => return Ok(job),
            Err(TryRecvError::Disconnected) => return Err(crossbeam_channel::RecvError),
            Err(TryRecvError::Empty) => {
                if began.elapsed() >= SPIN_FOR {
                    break;
                }
                for _ in 0..1u32 << round.min(6) {
                    std::hint::spin_loop();
                }
            }
        }
    }
    rx.recv()
}

/// Decrements the live-worker count when a worker exits, however it exits.
pub(super) struct ExitGuard<'a>(&'a Shared);

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        lock(&self.0.workers).alive -= 1;
        self.0.worker_exited.notify_all();
    }
}

fn worker_main(shared: Arc<Shared>) {
    let _exit = ExitGuard(&shared);
    if let Err(reason) = shared.initialize() {
        eprintln!("hilo: {reason}; the pool is broken");
        shared.break_pool(reason);
        return;
    }
    // `idle` counts this worker from here until it receives a job, and
    // again once that job's future is complete (see IdleMark).
    shared.idle.fetch_add(1, Ordering::SeqCst);
    loop {
        let Ok(msg) = next_job(&shared.receiver) else {
            shared.idle.fetch_sub(1, Ordering::SeqCst);
            return; // queue closed and empty: shutdown
        };
        match msg {
            Msg::One(job) => run_job(&shared, &job),
            Msg::Batch(batch) => run_batch(&shared, &batch),
        }
    }
}

/// Runs the batch's tasks until none is unclaimed, first putting the batch
/// back in the queue whenever the queue is empty (so idle workers help)
/// while some task is still unclaimed.
fn run_batch(shared: &Arc<Shared>, batch: &Arc<Batch>) {
    while let Some(job) = batch.claim() {
        run_job_after(shared, job, || {
            // This worker is out of `idle` by now: if no other worker is
            // idle, the put-back starts one (the pool is not full yet).
            if batch.has_unclaimed() && shared.receiver.is_empty() {
                // Closed (shutdown): this worker runs the rest alone.
                let _ = shared.send(Msg::Batch(Arc::clone(batch)), 1);
            }
        });
    }
}

/// Runs one task. Each takes this worker out of `idle` and its IdleMark
/// puts it back; once the pool is full, neither happens.
#[inline(always)]
fn run_job(shared: &Shared, job: &JobRef) {
    run_job_after(shared, job, || {});
}

/// [`run_job`], calling `first` once this worker no longer counts as idle.
#[inline(always)]
fn run_job_after(shared: &Shared, job: &JobRef, first: impl FnOnce()) {
    let counting = shared.started.load(Ordering::Relaxed) < shared.max_workers;
    if counting {
        shared.idle.fetch_sub(1, Ordering::SeqCst);
    }
    let idle = IdleMark {
        idle: counting.then_some(&shared.idle),
        marked: std::cell::Cell::new(false),
    };
    first();
    if shared.is_broken.load(Ordering::Acquire) {
        job.fail(shared.broken_error());
    } else if shared.cancelling.load(Ordering::Acquire) {
        job.cancel();
    } else {
        job.run(&idle);
    }
}

/// Removes a task's stop token from the pool's registry when the task is
/// done with it (finished, cancelled or dropped).
pub(super) struct StopRegistration {
    pub(super) shared: Weak<Shared>,
    pub(super) id: u64,
}

impl Drop for StopRegistration {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            lock(&shared.stops).remove(&self.id);
        }
    }
}

/// loom models of the idle count: a submitter that sees a task's result
/// finds its worker idle (sequential submit and result use one thread), and
/// the task's done callbacks do not (a callback that submits and waits gets
/// a thread of its own).
#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::Arc as StdArc;

    use loom::sync::atomic::AtomicBool;
    use loom::sync::Arc;
    use loom::thread;

    use super::*;
    use crate::future::Future;

    /// A worker completing the task of `cell` as `TaskCell::run` does.
    fn complete_on_a_worker(
        cell: StdArc<Inner<u32>>,
        idle: Arc<IdleCount>,
    ) -> thread::JoinHandle<()> {
        thread::spawn(move || {
            let mark = IdleMark {
                idle: Some(&idle),
                marked: std::cell::Cell::new(false),
            };
            cell.complete_then(Ok(1), || mark.mark());
        })
    }

    fn task() -> (StdArc<Inner<u32>>, Future<u32>) {
        let cell = StdArc::new(Inner::new());
        let fut = Future::from_cell(StdArc::clone(&cell) as StdArc<dyn Cell<u32>>);
        (cell, fut)
    }

    #[test]
    fn loom_a_submitter_that_sees_the_result_finds_the_worker_idle() {
        loom::model(|| {
            let idle = Arc::new(IdleCount::new(0));
            let (cell, fut) = task();
            let worker = complete_on_a_worker(cell, Arc::clone(&idle));
            assert_eq!(fut.result(), Ok(1));
            assert!(
                !needs_thread(1, &idle),
                "the next task would start a thread"
            );
            worker.join().unwrap();
        });
    }

    #[test]
    fn loom_a_worker_running_done_callbacks_is_not_idle_for_them() {
        loom::model(|| {
            let idle = Arc::new(IdleCount::new(0));
            let (cell, fut) = task();
            let needed = Arc::new(AtomicBool::new(false));
            let (i, n) = (Arc::clone(&idle), Arc::clone(&needed));
            fut.add_done_callback(move |_| n.store(needs_thread(1, &i), Ordering::SeqCst));
            complete_on_a_worker(cell, Arc::clone(&idle))
                .join()
                .unwrap();
            assert!(
                needed.load(Ordering::SeqCst),
                "a callback would wait for its own worker"
            );
            assert_eq!(idle.load(Ordering::SeqCst), 1);
        });
    }
}
