//! [`ProcessPool`] and its builder: the public face of the process side.
//! Submitting queues a call for the supervisors (see `supervisor.rs`); the
//! pool never talks to a worker itself.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::cell::{
    convert_chunk, convert_encoded, convert_one, every, Convert, ProcCell, Whereabouts,
};
use super::child::{Config, Worker};
use super::chunked::{ChunkExecutor, ChunkFuture, ChunkedMap};
use super::lock;
use super::registry::Call;
use super::supervisor::{supervise, Shared};
use super::worker;
use crate::error::{BuildError, SubmitError, TaskError};
use crate::executor::Executor;
use crate::future::{Cell, Future, Inner};
use crate::Shutdown;

/// A pool of worker processes running tasks registered with
/// `#[hilo::task]`: Python's `ProcessPoolExecutor` without
/// `BrokenProcessPool`.
///
/// - A worker that panics keeps serving (`TaskError::Panicked`); one that
///   dies fails only its own task (`TaskError::WorkerDied`) and is
///   replaced.
/// - Timeouts kill (`TaskError::TimedOut`), and `cancel()` of a running
///   task kills its worker.
/// - Workers are this same program started again; `hilo::init()` must be
///   the first line of `main`. They get no marker variable or descriptor of
///   the pool's beyond their connection, so nothing a task starts sees the
///   pool.
/// - Workers are signalled only through a pidfd (Linux 5.3 or later), never
///   by a pid that may have been reused.
/// - A done callback may submit to the pool and wait, drop it, or shut it
///   down: callbacks run with no lock held.
///
/// ```
/// #[hilo::task]
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     hilo::init();
///     let pool = hilo::process::ProcessPool::builder().max_workers(2).build()?;
///     assert_eq!(pool.submit(square::call(7))?.result()?, 49);
///     Ok(())
/// }
/// ```
pub struct ProcessPool {
    shared: Arc<Shared>,
}

impl ProcessPool {
    /// A builder for the number of workers, limits and timeouts.
    ///
    /// ```no_run
    /// let pool = hilo::process::ProcessPool::builder().max_workers(4).build().unwrap();
    /// # drop(pool);
    /// ```
    pub fn builder() -> ProcessPoolBuilder {
        ProcessPoolBuilder::default()
    }

    /// Queues `call` (made by a task's generated `call` function) and
    /// returns the future of its result.
    ///
    /// # Errors
    /// [`SubmitError::Shutdown`] after `shutdown`.
    ///
    /// ```no_run
    /// #[hilo::task]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    ///
    /// # fn main() {
    /// # hilo::init();
    /// # let pool = hilo::process::ProcessPool::builder().build().unwrap();
    /// let fut = pool.submit(square::call(3)).unwrap();
    /// assert_eq!(fut.result(), Ok(9));
    /// # }
    /// ```
    pub fn submit<R>(&self, call: Call<R>) -> Result<Future<R>, SubmitError>
    where
        R: DeserializeOwned + Send + 'static,
    {
        match call.encode() {
            Ok(args) => self.enqueue(call.name, vec![args], call.timeout, convert_one::<R>),
            Err(error) => Ok(Future::ready(Err(error))),
        }
    }

    /// Runs several calls of one task in a single round trip to one
    /// worker, as `map_chunked` does: one `Result` per call, in order. A
    /// panic fails only its call; a worker death or timeout fails the
    /// whole chunk (each call gets the error). The first call's timeout
    /// applies to the chunk.
    ///
    /// # Errors
    /// [`SubmitError::Shutdown`] after `shutdown`.
    ///
    /// ```no_run
    /// #[hilo::task]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    /// # fn main() {
    /// # let pool = hilo::process::ProcessPool::builder().build().unwrap();
    /// let chunk = pool.submit_chunk((0..4).map(square::call).collect()).unwrap();
    /// assert_eq!(chunk.result().unwrap(), vec![Ok(0), Ok(1), Ok(4), Ok(9)]);
    /// # }
    /// ```
    pub fn submit_chunk<R>(&self, calls: Vec<Call<R>>) -> Result<ChunkFuture<R>, SubmitError>
    where
        R: DeserializeOwned + Send + 'static,
    {
        match super::registry::encode_chunk(&calls) {
            Ok(Some(chunk)) => {
                self.enqueue(chunk.task, chunk.args, chunk.timeout, convert_chunk::<R>)
            }
            Ok(None) => Ok(Future::ready(Ok(Vec::new()))),
            Err(error) => Ok(Future::ready(Ok(every(error, calls.len())))),
        }
    }

    /// Runs the registered task `name` on arguments already encoded, one
    /// run for all of `args` as [`submit_chunk`](Self::submit_chunk) does,
    /// and leaves each value encoded: what a worker serving calls that
    /// arrive as bytes (from another machine) runs. Decode a value with
    /// [`decode_result`](super::decode_result). A name no `#[hilo::task]`
    /// registered fails every call with `TaskError::UnknownTask`, without
    /// reaching a worker.
    ///
    /// # Errors
    /// [`SubmitError::Shutdown`] after `shutdown`.
    ///
    /// ```no_run
    /// #[hilo::task]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    /// # fn main() {
    /// # let pool = hilo::process::ProcessPool::builder().build().unwrap();
    /// let call = square::call(7);
    /// let args = vec![call.encoded_args().unwrap()];
    /// let values = pool.submit_encoded(call.task_name(), args, None).unwrap().result().unwrap();
    /// let value: u64 = hilo::process::decode_result(values[0].as_ref().unwrap()).unwrap();
    /// assert_eq!(value, 49);
    /// # }
    /// ```
    pub fn submit_encoded(
        &self,
        name: &str,
        args: Vec<Vec<u8>>,
        timeout: Option<Duration>,
    ) -> Result<ChunkFuture<Vec<u8>>, SubmitError> {
        let Some(entry) = super::registry::find(name) else {
            let error = TaskError::UnknownTask {
                name: name.to_owned(),
            };
            return Ok(Future::ready(Ok(every(error, args.len()))));
        };
        if args.is_empty() {
            return Ok(Future::ready(Ok(Vec::new())));
        }
        self.enqueue(entry.name(), args, timeout, convert_encoded)
    }

    /// Maps `make_call` over `items` on the workers in chunks of
    /// `chunk_size` items per round trip (Python's `map(chunksize=)`),
    /// lazily, with at most `window` chunks in flight (default 2 ×
    /// workers): one `Result` per item, in input order. Dropping the
    /// iterator cancels the chunks not yet started.
    ///
    /// ```no_run
    /// #[hilo::task]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    /// # fn main() {
    /// # let pool = hilo::process::ProcessPool::builder().build().unwrap();
    /// let total: u64 = pool.map_chunked(0..100_000u64, 100, square::call).map(Result::unwrap).sum();
    /// # }
    /// ```
    pub fn map_chunked<I, M, R>(
        &self,
        items: I,
        chunk_size: usize,
        make_call: M,
    ) -> ChunkedMap<'_, Self, I::IntoIter, M, R>
    where
        I: IntoIterator,
        M: FnMut(I::Item) -> Call<R>,
        R: DeserializeOwned + Send + 'static,
    {
        ChunkedMap::new(self, items.into_iter(), chunk_size, make_call)
    }

    fn enqueue<O: Send + 'static>(
        &self,
        name: &'static str,
        args: Vec<Vec<u8>>,
        timeout: Option<Duration>,
        convert: Convert<O>,
    ) -> Result<Future<O>, SubmitError> {
        let cell = Arc::new(ProcCell {
            inner: Inner::new(),
            id: self.shared.next_id.fetch_add(1, Ordering::Relaxed),
            name,
            args,
            timeout,
            convert,
            place: Whereabouts::new(),
        });
        let future = Future::from_cell(Arc::clone(&cell) as Arc<dyn Cell<O>>);
        let mut q = lock(&self.shared.queue);
        if q.closed {
            return Err(SubmitError::Shutdown);
        }
        q.jobs.push_back(cell);
        self.shared.wake_one(&mut q);
        drop(q);
        Ok(future)
    }

    /// Stops taking tasks. With `cancel_pending`, queued tasks are
    /// cancelled (running ones finish); with `wait`, blocks until every
    /// worker has exited and been reaped. Idempotent.
    ///
    /// A done callback may call it (or drop the pool): it then waits for
    /// every worker but the one whose supervisor runs the callback, which
    /// ends once the callback returns.
    ///
    /// ```no_run
    /// let pool = hilo::process::ProcessPool::builder().build().unwrap();
    /// pool.shutdown(hilo::Shutdown::default());
    /// ```
    pub fn shutdown(&self, how: Shutdown) {
        let cancelled: Vec<_> = {
            let mut q = lock(&self.shared.queue);
            q.closed = true;
            if how.cancel_pending {
                q.jobs.drain(..).collect()
            } else {
                Vec::new()
            }
        };
        self.shared.wake_all();
        for job in cancelled {
            job.cancel_pending();
        }
        if how.wait {
            // From a done callback, which runs on a supervisor thread, that
            // thread cannot join itself: it stays listed, so a later
            // shutdown (or the drop) from another thread joins it.
            let me = thread::current().id();
            let others: Vec<_> = {
                let mut supervisors = lock(&self.shared.supervisors);
                let (own, others) = supervisors
                    .drain(..)
                    .partition(|h: &thread::JoinHandle<()>| h.thread().id() == me);
                *supervisors = own;
                others
            };
            for h in others {
                let _ = h.join();
            }
        }
    }

    /// Shuts down at once: cancels queued tasks, kills the workers (their
    /// running tasks fail with `WorkerDied`), and reaps them.
    ///
    /// ```no_run
    /// let pool = hilo::process::ProcessPool::builder().build().unwrap();
    /// pool.terminate();
    /// ```
    pub fn terminate(&self) {
        lock(&self.shared.queue).terminated = true;
        self.shutdown(Shutdown {
            wait: false,
            cancel_pending: true,
        });
        for worker in lock(&self.shared.workers).iter().flatten() {
            worker.kill();
        }
        self.shutdown(Shutdown::default());
    }

    /// How many worker processes the pool runs at most.
    ///
    /// ```no_run
    /// let pool = hilo::process::ProcessPool::builder().max_workers(3).build().unwrap();
    /// assert_eq!(pool.max_workers(), 3);
    /// ```
    pub fn max_workers(&self) -> usize {
        self.shared.max_workers
    }

    /// The process ids of the workers alive now.
    ///
    /// ```no_run
    /// let pool = hilo::process::ProcessPool::builder().build().unwrap();
    /// assert!(!pool.worker_pids().is_empty()); // the first worker starts with the pool
    /// ```
    pub fn worker_pids(&self) -> Vec<u32> {
        lock(&self.shared.workers)
            .iter()
            .flatten()
            .map(|w| w.pid())
            .collect()
    }
}

impl Drop for ProcessPool {
    fn drop(&mut self) {
        self.shutdown(Shutdown::default());
    }
}

impl std::fmt::Debug for ProcessPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessPool")
            .field("max_workers", &self.shared.max_workers)
            .field("workers", &self.worker_pids())
            .finish_non_exhaustive()
    }
}

impl ChunkExecutor for ProcessPool {
    fn submit_chunk<R>(&self, calls: Vec<Call<R>>) -> Result<ChunkFuture<R>, SubmitError>
    where
        R: DeserializeOwned + Send + 'static,
    {
        ProcessPool::submit_chunk(self, calls)
    }

    fn chunk_workers(&self) -> usize {
        self.shared.max_workers
    }
}

impl<R> Executor<Call<R>> for ProcessPool
where
    R: DeserializeOwned + Send + 'static,
{
    type Output = R;

    fn submit(&self, job: Call<R>) -> Result<Future<R>, SubmitError> {
        ProcessPool::submit(self, job)
    }

    fn max_workers(&self) -> usize {
        self.shared.max_workers
    }
}

/// Settings for a [`ProcessPool`].
///
/// ```no_run
/// use std::time::Duration;
/// let pool = hilo::process::ProcessPool::builder()
///     .max_workers(4)
///     .timeout(Duration::from_secs(30))   // per task, kills the worker
///     .max_tasks_per_child(1000)
///     .memory_limit(512 << 20)            // RLIMIT_AS per worker
///     .build()?;
/// # Ok::<(), hilo::BuildError>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct ProcessPoolBuilder {
    max_workers: Option<usize>,
    timeout: Option<Duration>,
    max_tasks_per_child: Option<usize>,
    rlimit_as: Option<u64>,
    rlimit_cpu: Option<u64>,
    nice: Option<u32>,
    env: Vec<(OsString, OsString)>,
    initializer: Option<&'static str>,
    program: Option<PathBuf>,
}

impl ProcessPoolBuilder {
    /// The most worker processes (default: the cores available).
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n);
        self
    }

    /// Default timeout of every task; a task over it is killed with its
    /// worker (`TaskError::TimedOut`). A call's own timeout wins.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Replace a worker after it has run `n` tasks (at least 1).
    pub fn max_tasks_per_child(mut self, n: usize) -> Self {
        self.max_tasks_per_child = Some(n.max(1));
        self
    }

    /// Address-space limit of each worker in bytes (`RLIMIT_AS`).
    pub fn memory_limit(mut self, bytes: u64) -> Self {
        self.rlimit_as = Some(bytes);
        self
    }

    /// CPU-time limit of each worker in seconds (`RLIMIT_CPU`).
    pub fn cpu_limit(mut self, seconds: u64) -> Self {
        self.rlimit_cpu = Some(seconds);
        self
    }

    /// Niceness added to each worker (0–19: higher is lower priority).
    pub fn nice(mut self, increment: u32) -> Self {
        self.nice = Some(increment.min(19));
        self
    }

    /// An extra environment variable for the workers.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// A registered task without arguments (`#[hilo::task] fn setup()`),
    /// run once in each worker before its first task; give its generated
    /// `NAME`, e.g. `setup::NAME`. If it fails, the worker does not start
    /// and the pool's tasks fail with a `Broken` error naming it.
    pub fn initializer(mut self, task_name: &'static str) -> Self {
        self.initializer = Some(task_name);
        self
    }

    /// Builds the pool and starts its first worker, so a program that does
    /// not call `hilo::init()` first gets an error here.
    ///
    /// # Errors
    /// [`BuildError::ZeroWorkers`]; [`BuildError::Worker`] if the first
    /// worker does not start (the message says why); and
    /// [`BuildError::InWorker`] when called inside a worker process.
    pub fn build(self) -> Result<ProcessPool, BuildError> {
        if worker::is_worker_process() {
            return Err(BuildError::InWorker);
        }
        if self.max_workers == Some(0) {
            return Err(BuildError::ZeroWorkers);
        }
        let program = match self.program {
            Some(p) => p,
            None => std::env::current_exe().map_err(|e| BuildError::Worker {
                reason: format!("cannot find this program's executable: {e}"),
            })?,
        };
        let max_workers = self
            .max_workers
            .unwrap_or_else(crate::executor::default_workers);
        let config = Config {
            program,
            env: self.env,
            rlimit_as: self.rlimit_as,
            rlimit_cpu: self.rlimit_cpu,
            nice: self.nice,
            initializer: self.initializer,
            timeout: self.timeout,
            max_tasks_per_child: self.max_tasks_per_child,
        };
        let shared = Arc::new(Shared::new(config, max_workers));
        let mut supervisors = vec![start_first_slot(&shared)?];
        supervisors.extend(start_other_slots(&shared));
        *lock(&shared.supervisors) = supervisors;
        Ok(ProcessPool { shared })
    }

    #[doc(hidden)]
    /// Run workers from another executable (tests; the default is this one).
    pub fn program(mut self, path: impl Into<PathBuf>) -> Self {
        self.program = Some(path.into());
        self
    }
}

/// Starts slot 0's supervisor, which starts the first worker (a worker dies
/// with the thread that started it) and reports back: a program that does
/// not call `hilo::init()` first fails here, at `build`.
fn start_first_slot(shared: &Arc<Shared>) -> Result<thread::JoinHandle<()>, BuildError> {
    let (ready_tx, ready_rx) = mpsc::channel();
    let first = {
        let shared = Arc::clone(shared);
        thread::Builder::new()
            .name("hilo-proc-0".into())
            .spawn(move || match Worker::spawn(&shared.config) {
                Ok(w) => {
                    shared.set_worker(0, Some(&w));
                    let _ = ready_tx.send(Ok(()));
                    supervise(shared, 0, Some(w));
                }
                Err(reason) => {
                    let _ = ready_tx.send(Err(reason));
                }
            })
            .map_err(|e| BuildError::Worker {
                reason: format!("cannot start a supervisor thread: {e}"),
            })?
    };
    let failed = match ready_rx.recv() {
        Ok(Ok(())) => return Ok(first),
        Ok(Err(reason)) => reason,
        Err(_) => "the supervisor thread died".into(),
    };
    let _ = first.join();
    Err(BuildError::Worker { reason: failed })
}

/// Starts the supervisors of the other slots (their workers start with
/// their first task). If the system runs out of threads, the pool has fewer
/// slots; the ones it has still serve.
fn start_other_slots(shared: &Arc<Shared>) -> Vec<thread::JoinHandle<()>> {
    let mut supervisors = Vec::with_capacity(shared.max_workers.saturating_sub(1));
    for slot in 1..shared.max_workers {
        let s = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(format!("hilo-proc-{slot}"))
            .spawn(move || supervise(s, slot, None));
        match spawned {
            Ok(h) => supervisors.push(h),
            Err(_) => {
                lock(&shared.queue).idle -= shared.max_workers - slot;
                break;
            }
        }
    }
    supervisors
}
