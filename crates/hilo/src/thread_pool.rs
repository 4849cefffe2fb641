//! [`ThreadPool`]: runs closures on a bounded set of reusable threads.
//!
//! This module owns the job queue, the worker threads and their life: start
//! on demand, serve until shutdown, catch every panic. It never blocks a
//! submitter (the queue is unbounded, as in Python) and never runs a task
//! while holding one of its own locks.
//!
//! Life of a task: `submit` puts the closure and its future's slot in one
//! allocation (a `TaskCell`) and sends a reference down a crossbeam channel;
//! an idle worker receives it, marks the future running (skipping the task
//! if it was cancelled meanwhile), runs it under `catch_unwind`, and
//! completes the future, which runs the done callbacks in that worker.
//!
//! Life of a worker: started by `submit` when more jobs are queued than
//! workers are idle, up to `max_workers`; runs the initializer once; then
//! serves jobs until the queue is closed (shutdown) and empty.

use std::collections::HashMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock, Weak};
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender};
use crossbeam_utils::atomic::AtomicCell;
use crossbeam_utils::CachePadded;

use crate::error::{panic_message, BuildError, SubmitError, TaskError};
use crate::executor::{default_workers, Executor, Shutdown};
use crate::future::{Cell, Future, Inner};
use crate::stop::StopToken;
use crate::sync::lock_std as lock;

type Initializer = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// A queued unit of work, type-erased.
trait Job: Send + Sync {
    /// Runs the task unless its future was cancelled, completes the future
    /// and marks the worker idle: before waking anyone, or after the done
    /// callbacks if there are any.
    fn run(&self, idle: &IdleMark<'_>);
    /// Cancels the future (used by `shutdown` with `cancel_pending`).
    fn cancel(&self);
    /// Fails the future without running the task (broken pool).
    fn fail(&self, error: TaskError);
}

type JobRef = Arc<dyn Job>;

/// One submitted task: its future's state and the closure, in a single
/// allocation shared by the queue (as a `Job`) and the `Future` (as a
/// `Cell`). The worker only drops its reference, so the memory is freed by
/// the thread that drops the future, usually the one that allocated it.
///
/// Every byte is paid per task (a million queued tasks are a million of
/// these), hence the closure in an `AtomicCell` (no lock of its own) and
/// the stop token as a type parameter: `()` for plain tasks.
struct TaskCell<F, T, S> {
    inner: Inner<T>,
    /// Taken by the one thread that moves the future out of Pending.
    task: AtomicCell<Option<F>>,
    stop: S,
}

/// Where a task keeps its stop token, if it has one.
trait StopSlot: Send + Sync {
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
    F: FnOnce() -> T + Send,
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
        let outcome = catch_unwind(AssertUnwindSafe(f)).map_err(TaskError::from_panic);
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
struct Workers {
    handles: Vec<JoinHandle<()>>,
    /// Threads started so far (never decreases).
    started: usize,
    /// Threads started and not yet exited.
    alive: usize,
}

struct Shared {
    /// `None` once the pool takes no more tasks. Submitters hold the read
    /// lock while sending, so after `shutdown` takes the write lock no task
    /// can slip into a queue whose workers are leaving.
    ///
    /// Padded to a cache line of its own: only submitters write it, and
    /// workers read the fields around it for every job.
    sender: CachePadded<RwLock<Option<Sender<JobRef>>>>,
    receiver: Receiver<JobRef>,
    max_workers: usize,
    name_prefix: String,
    stack_size: Option<usize>,
    initializer: Option<Initializer>,
    workers: Mutex<Workers>,
    worker_exited: Condvar,
    /// Copy of `workers.started`, read without the lock on every submit.
    started: AtomicUsize,
    /// Workers blocked (or about to block) waiting for a job (loom's
    /// under `--cfg loom`, for the model of the idle protocol below).
    idle: IdleCount,
    broken: Mutex<Option<String>>,
    is_broken: AtomicBool,
    /// Stop tokens of tasks submitted with one and not yet finished.
    stops: Mutex<HashMap<u64, StopToken>>,
    next_stop: AtomicU64,
}

impl Shared {
    fn closed_error(&self) -> SubmitError {
        match &*lock(&self.broken) {
            Some(reason) => SubmitError::Broken {
                reason: reason.clone(),
            },
            None => SubmitError::Shutdown,
        }
    }

    /// Starts a worker if more jobs wait than workers are idle. Called with
    /// the sender's read lock held, so it cannot race with shutdown.
    fn maybe_spawn(self: &Arc<Self>) -> Result<(), String> {
        if self.started.load(Ordering::Relaxed) >= self.max_workers
            || !needs_thread(self.receiver.len(), &self.idle)
        {
            return Ok(());
        }
        let mut workers = lock(&self.workers);
        if workers.started >= self.max_workers {
            return Ok(());
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
                Ok(())
            }
            // Other workers will serve the queue; with none, the pool is dead.
            Err(e) if workers.started == 0 => Err(format!("could not start a worker thread: {e}")),
            Err(_) => Ok(()),
        }
    }

    /// Marks the pool broken: no more submits, every queued task fails.
    fn break_pool(&self, reason: String) {
        {
            let mut broken = lock(&self.broken);
            if broken.is_none() {
                *broken = Some(reason.clone());
            }
        }
        self.is_broken.store(true, Ordering::Release);
        drop(
            self.sender
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        while let Ok(job) = self.receiver.try_recv() {
            job.fail(TaskError::Broken {
                reason: reason.clone(),
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
    fn join_workers(&self) {
        let me = thread::current().id();
        let mut workers = lock(&self.workers);
        let own = usize::from(workers.handles.iter().any(|h| h.thread().id() == me));
        while workers.alive > own {
            workers = self
                .worker_exited
                .wait(workers)
                .unwrap_or_else(|e| e.into_inner());
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
        while let Ok(job) = self.receiver.try_recv() {
            job.fail(TaskError::Abandoned);
        }
    }
}

/// The count of idle workers.
type IdleCount = crate::sync::AtomicUsize;

/// Whether `queued` jobs need a thread more than the idle workers: only
/// workers that will take a job next count as idle (not one still running a
/// task's done callbacks, which may be what submitted the job).
fn needs_thread(queued: usize, idle: &IdleCount) -> bool {
    queued > idle.load(Ordering::SeqCst)
}

/// Counts a worker back as idle, once: when its task's future is complete
/// and its callbacks have run, or when the job is over if that came first
/// (cancelled, failed).
struct IdleMark<'a> {
    /// `None` once every worker has started: nobody reads the count any
    /// more, and skipping it keeps two atomic writes per task off the hot
    /// path.
    idle: Option<&'a IdleCount>,
    marked: std::cell::Cell<bool>,
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
fn next_job(rx: &Receiver<JobRef>) -> Result<JobRef, crossbeam_channel::RecvError> {
    use crossbeam_channel::TryRecvError;
    const SPIN_ROUNDS: u32 = 24;
    for round in 0..SPIN_ROUNDS {
        match rx.try_recv() {
            Ok(job) => return Ok(job),
            Err(TryRecvError::Disconnected) => return Err(crossbeam_channel::RecvError),
            Err(TryRecvError::Empty) => {
                for _ in 0..1u32 << round.min(6) {
                    std::hint::spin_loop();
                }
            }
        }
    }
    rx.recv()
}

/// Decrements the live-worker count when a worker exits, however it exits.
struct ExitGuard<'a>(&'a Shared);

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
        let Ok(job) = next_job(&shared.receiver) else {
            shared.idle.fetch_sub(1, Ordering::SeqCst);
            return; // queue closed and empty: shutdown
        };
        // Each job takes this worker out of `idle` and its IdleMark puts it
        // back; once the pool is full, neither happens.
        let counting = shared.started.load(Ordering::Relaxed) < shared.max_workers;
        if counting {
            shared.idle.fetch_sub(1, Ordering::SeqCst);
        }
        let idle = IdleMark {
            idle: counting.then_some(&shared.idle),
            marked: std::cell::Cell::new(false),
        };
        if shared.is_broken.load(Ordering::Acquire) {
            job.fail(shared.broken_error());
        } else {
            job.run(&idle);
        }
    }
}

/// Removes a task's stop token from the pool's registry when the task is
/// done with it (finished, cancelled or dropped).
struct StopRegistration {
    shared: Weak<Shared>,
    id: u64,
}

impl Drop for StopRegistration {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            lock(&shared.stops).remove(&self.id);
        }
    }
}

/// A pool of worker threads running closures, Python's
/// `ThreadPoolExecutor` without its traps.
///
/// - Threads start on demand (never more than `max_workers`) and are reused.
/// - A panicking task becomes [`TaskError::Panicked`]; its worker survives.
/// - `submit` after `shutdown` returns [`SubmitError::Shutdown`], no panic.
/// - Dropping the pool is `shutdown(Shutdown::default())`: queued tasks
///   still run, then the threads are joined.
/// - Running tasks cannot be interrupted (threads stop cooperatively): give
///   a task a [`StopToken`] with [`ThreadPool::submit_with_stop`].
///
/// ```
/// use hilo::ThreadPool;
///
/// let pool = ThreadPool::builder().max_workers(2).thread_name_prefix("img").build()?;
/// let futs: Vec<_> = (0..10u64).map(|i| pool.submit(move || i * i).unwrap()).collect();
/// let sum: u64 = futs.into_iter().map(|f| f.result().unwrap()).sum();
/// assert_eq!(sum, 285);
/// # Ok::<(), hilo::BuildError>(())
/// ```
pub struct ThreadPool {
    shared: Arc<Shared>,
}

static POOL_COUNTER: AtomicUsize = AtomicUsize::new(0);

impl ThreadPool {
    /// A pool with the default settings of [`ThreadPoolBuilder`].
    ///
    /// ```
    /// let pool = hilo::ThreadPool::new();
    /// assert!(pool.max_workers() >= 1);
    /// ```
    pub fn new() -> Self {
        ThreadPoolBuilder::default().build_valid()
    }

    /// A builder to set the number of workers, thread names, initializer.
    ///
    /// ```
    /// let pool = hilo::ThreadPool::builder().max_workers(3).build().unwrap();
    /// assert_eq!(pool.max_workers(), 3);
    /// ```
    pub fn builder() -> ThreadPoolBuilder {
        ThreadPoolBuilder::default()
    }

    /// Queues `f` and returns the future of its result.
    ///
    /// # Errors
    /// [`SubmitError::Shutdown`] after [`ThreadPool::shutdown`];
    /// [`SubmitError::Broken`] if a worker's initializer failed.
    ///
    /// ```
    /// let pool = hilo::ThreadPool::new();
    /// let fut = pool.submit(|| (1..=10).product::<u64>()).unwrap();
    /// assert_eq!(fut.result(), Ok(3_628_800));
    /// ```
    pub fn submit<F, T>(&self, f: F) -> Result<Future<T>, SubmitError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.enqueue_task(f, ())
    }

    /// Queues `f` with a fresh [`StopToken`] it can poll or block on; the
    /// token is triggered by [`Future::request_stop`] and by
    /// [`ThreadPool::shutdown`] with `cancel_pending`.
    ///
    /// # Errors
    /// As [`ThreadPool::submit`].
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = hilo::ThreadPool::new();
    /// let fut = pool.submit_with_stop(|stop| {
    ///     let mut polls = 0u32;
    ///     while !stop.wait_timeout(Duration::from_millis(1)) {
    ///         polls += 1;
    ///     }
    ///     polls
    /// }).unwrap();
    /// fut.request_stop();
    /// assert!(fut.result().is_ok());
    /// ```
    pub fn submit_with_stop<F, T>(&self, f: F) -> Result<Future<T>, SubmitError>
    where
        F: FnOnce(&StopToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        let token = StopToken::new();
        let id = self.shared.next_stop.fetch_add(1, Ordering::Relaxed);
        lock(&self.shared.stops).insert(id, token.clone());
        let registration = StopRegistration {
            shared: Arc::downgrade(&self.shared),
            id,
        };
        let stop = token.clone();
        let f = move || {
            let _registration = registration;
            f(&token)
        };
        self.enqueue_task(f, stop)
    }

    fn enqueue_task<F, T, S>(&self, f: F, stop: S) -> Result<Future<T>, SubmitError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
        S: StopSlot + 'static,
    {
        let cell = Arc::new(TaskCell {
            inner: Inner::new(),
            task: AtomicCell::new(Some(f)),
            stop,
        });
        let future = Future::from_cell(Arc::clone(&cell) as Arc<dyn Cell<T>>);
        self.enqueue(cell)?;
        Ok(future)
    }

    fn enqueue(&self, job: JobRef) -> Result<(), SubmitError> {
        let sender = self.shared.sender.read().unwrap_or_else(|e| e.into_inner());
        let Some(tx) = &*sender else {
            return Err(self.shared.closed_error());
        };
        // Cannot fail: `shared` owns a receiver for as long as we can send.
        let _ = tx.send(job);
        let spawned = self.shared.maybe_spawn();
        drop(sender);
        if let Err(reason) = spawned {
            self.shared.break_pool(reason);
        }
        Ok(())
    }

    /// Stops taking tasks; see [`Shutdown`] for waiting and cancelling.
    /// Idempotent. Called from one of the pool's own tasks with `wait`, it
    /// waits for every other worker and does not deadlock on itself.
    ///
    /// ```
    /// use hilo::{Shutdown, SubmitError, ThreadPool};
    ///
    /// let pool = ThreadPool::new();
    /// let fut = pool.submit(|| 1).unwrap();
    /// pool.shutdown(Shutdown::default()); // queued work still runs
    /// assert_eq!(fut.result(), Ok(1));
    /// assert_eq!(pool.submit(|| 2).unwrap_err(), SubmitError::Shutdown);
    /// ```
    pub fn shutdown(&self, how: Shutdown) {
        drop(
            self.shared
                .sender
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        if how.cancel_pending {
            while let Ok(job) = self.shared.receiver.try_recv() {
                job.cancel();
            }
            let tokens: Vec<StopToken> = lock(&self.shared.stops).values().cloned().collect();
            for token in tokens {
                token.request_stop();
            }
        }
        if how.wait {
            self.shared.join_workers();
        }
    }

    /// True once [`ThreadPool::shutdown`] was called or the pool broke.
    ///
    /// ```
    /// let pool = hilo::ThreadPool::new();
    /// pool.shutdown(Default::default());
    /// assert!(pool.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.shared
            .sender
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
    }

    /// The most threads this pool will start.
    ///
    /// ```
    /// assert_eq!(hilo::ThreadPool::builder().max_workers(5).build().unwrap().max_workers(), 5);
    /// ```
    pub fn max_workers(&self) -> usize {
        self.shared.max_workers
    }

    /// How many worker threads have been started so far.
    ///
    /// ```
    /// let pool = hilo::ThreadPool::builder().max_workers(4).build().unwrap();
    /// assert_eq!(pool.started_workers(), 0); // threads start on demand
    /// pool.submit(|| ()).unwrap().result().unwrap();
    /// assert_eq!(pool.started_workers(), 1);
    /// ```
    pub fn started_workers(&self) -> usize {
        lock(&self.shared.workers).started
    }
}

impl Default for ThreadPool {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.shutdown(Shutdown::default());
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPool")
            .field("max_workers", &self.shared.max_workers)
            .field("started_workers", &self.started_workers())
            .field("queued", &self.shared.receiver.len())
            .field("shutdown", &self.is_shutdown())
            .finish()
    }
}

impl<F, T> Executor<F> for ThreadPool
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    type Output = T;

    fn submit(&self, job: F) -> Result<Future<T>, SubmitError> {
        ThreadPool::submit(self, job)
    }

    fn max_workers(&self) -> usize {
        self.shared.max_workers
    }
}

/// Settings for a [`ThreadPool`] (setters take and return the builder).
///
/// ```
/// let pool = hilo::ThreadPool::builder()
///     .max_workers(16)              // I/O-bound: more threads than cores
///     .thread_name_prefix("fetch")  // threads are fetch-0, fetch-1, ...
///     .initializer(|| Ok::<(), String>(()))
///     .build()?;
/// # Ok::<(), hilo::BuildError>(())
/// ```
#[derive(Clone, Default)]
pub struct ThreadPoolBuilder {
    max_workers: Option<usize>,
    name_prefix: Option<String>,
    stack_size: Option<usize>,
    initializer: Option<Initializer>,
}

impl ThreadPoolBuilder {
    /// The most threads the pool may start.
    ///
    /// Default: [`std::thread::available_parallelism`], the cores this
    /// process may use (it honours CPU affinity and cgroup quotas). Rust
    /// threads have no GIL, so that many saturate the CPU for CPU-bound work
    /// and more only add switching; Python's `min(32, cpus + 4)` exists
    /// because its threads mostly wait on I/O. For I/O-bound work (the
    /// lessons' downloads) ask for more, e.g. 10–20.
    ///
    /// ```
    /// assert!(hilo::ThreadPool::builder().max_workers(0).build().is_err());
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n);
        self
    }

    /// Names the threads `<prefix>-0`, `<prefix>-1`, …, visible in
    /// `/proc/<pid>/task/*/comm`, `top -H` and debuggers (Linux shows the
    /// first 15 bytes). Default: `hilo-pool<N>` for the N-th pool.
    ///
    /// ```
    /// let pool = hilo::ThreadPool::builder().thread_name_prefix("img").build().unwrap();
    /// let name = pool.submit(|| std::thread::current().name().unwrap().to_owned()).unwrap();
    /// assert_eq!(name.result().unwrap(), "img-0");
    /// ```
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = Some(prefix.into());
        self
    }

    /// Stack size of each worker thread, in bytes (default: std's).
    ///
    /// ```
    /// let pool = hilo::ThreadPool::builder().stack_size(8 << 20).build().unwrap();
    /// # drop(pool);
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Runs `init` once in each worker thread before its first task.
    ///
    /// If it returns `Err` or panics, the pool is broken (as Python's
    /// `BrokenThreadPool`): every queued future fails with
    /// [`TaskError::Broken`] naming the error, and later submits return
    /// [`SubmitError::Broken`].
    ///
    /// ```
    /// use hilo::{SubmitError, TaskError, ThreadPool};
    ///
    /// let pool = ThreadPool::builder()
    ///     .initializer(|| Err::<(), _>("no database"))
    ///     .build()
    ///     .unwrap();
    /// let fut = pool.submit(|| 1).unwrap();
    /// assert!(matches!(fut.result(), Err(TaskError::Broken { .. })));
    /// assert!(matches!(pool.submit(|| 2), Err(SubmitError::Broken { .. })));
    /// ```
    pub fn initializer<F, E>(mut self, init: F) -> Self
    where
        F: Fn() -> Result<(), E> + Send + Sync + 'static,
        E: fmt::Display,
    {
        self.initializer = Some(Arc::new(move || init().map_err(|e| e.to_string())));
        self
    }

    /// Builds the pool. No thread starts until the first `submit`.
    ///
    /// # Errors
    /// [`BuildError::ZeroWorkers`] for `max_workers(0)`;
    /// [`BuildError::BadThreadName`] for a prefix with a NUL byte.
    ///
    /// ```
    /// let pool = hilo::ThreadPool::builder().build()?;
    /// # Ok::<(), hilo::BuildError>(())
    /// ```
    pub fn build(self) -> Result<ThreadPool, BuildError> {
        if self.max_workers == Some(0) {
            return Err(BuildError::ZeroWorkers);
        }
        if self
            .name_prefix
            .as_deref()
            .is_some_and(|p| p.contains('\0'))
        {
            return Err(BuildError::BadThreadName);
        }
        Ok(self.build_valid())
    }

    fn build_valid(self) -> ThreadPool {
        let max_workers = self.max_workers.unwrap_or_else(default_workers);
        let name_prefix = self.name_prefix.unwrap_or_else(|| {
            format!("hilo-pool{}", POOL_COUNTER.fetch_add(1, Ordering::Relaxed))
        });
        let (tx, rx) = crossbeam_channel::unbounded();
        ThreadPool {
            shared: Arc::new(Shared {
                sender: CachePadded::new(RwLock::new(Some(tx))),
                receiver: rx,
                max_workers,
                name_prefix,
                stack_size: self.stack_size,
                initializer: self.initializer,
                workers: Mutex::new(Workers::default()),
                worker_exited: Condvar::new(),
                started: AtomicUsize::new(0),
                idle: IdleCount::new(0),
                broken: Mutex::new(None),
                is_broken: AtomicBool::new(false),
                stops: Mutex::new(HashMap::new()),
                next_stop: AtomicU64::new(0),
            }),
        }
    }
}

impl fmt::Debug for ThreadPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolBuilder")
            .field("max_workers", &self.max_workers)
            .field("thread_name_prefix", &self.name_prefix)
            .field("stack_size", &self.stack_size)
            .field("initializer", &self.initializer.is_some())
            .finish()
    }
}

impl ThreadPool {
    /// Runs `f` on every item, lazily, with a bounded window of tasks in
    /// flight; one `Result` per item, in input order by default. See
    /// [`Map`](crate::Map) for the window, unordered results and what
    /// dropping it does.
    ///
    /// ```
    /// let pool = hilo::ThreadPool::new();
    /// let lens: Vec<_> = pool.map(["a", "bb", "ccc"], |s| s.len()).collect();
    /// assert_eq!(lens, vec![Ok(1), Ok(2), Ok(3)]);
    /// ```
    pub fn map<I, F, T>(&self, items: I, f: F) -> crate::Map<'_, I::IntoIter, T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        let f = Arc::new(f);
        crate::map::map(self, items, move |item| {
            let f = Arc::clone(&f);
            move || f(item)
        })
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
