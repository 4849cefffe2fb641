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

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_utils::atomic::AtomicCell;

use crate::error::SubmitError;
use crate::executor::{Executor, Shutdown};
use crate::future::{Cell, Future, Inner};
use crate::stop::StopToken;
use crate::sync::lock_std as lock;
use worker::{JobRef, Shared, StopRegistration, StopSlot, TaskCell};

mod builder;
mod worker;

pub use builder::ThreadPoolBuilder;

/// A pool of worker threads running closures, Python's
/// `ThreadPoolExecutor` without its traps.
///
/// - Threads start on demand (never more than `max_workers`) and are reused.
/// - A panicking task becomes [`TaskError::Panicked`](crate::TaskError::Panicked); its worker survives.
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
