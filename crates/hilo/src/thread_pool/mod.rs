//! [`ThreadPool`]: runs closures on a bounded set of reusable threads.
//!
//! This module owns the job queue, the worker threads and their life: start
//! on demand, serve until shutdown, catch every panic. It never blocks a
//! submitter (the queue is unbounded, as in Python) and never runs a task
//! while holding one of its own locks.
//!
//! Life of a task: `submit` puts the closure and its future's slot in one
//! allocation (a `TaskCell`) and sends a reference down a crossbeam channel
//! (`submit_all` sends up to 64 at a time, see `batch.rs`); an idle worker
//! receives it, marks the future running (skipping the task if it was
//! cancelled meanwhile), runs it under `catch_unwind`, and completes the
//! future, which runs the done callbacks in that worker.
//!
//! Life of a worker: started by a submit when more tasks are queued than
//! workers are idle, up to `max_workers`; runs the initializer once; then
//! serves tasks until the queue is closed (shutdown) and empty.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_utils::atomic::AtomicCell;

use crate::error::SubmitError;
use crate::executor::{Executor, Shutdown};
use crate::future::{Cell, Future, Inner};
use crate::stop::StopToken;
use crate::sync::{lock_std as lock, read_std, write_std};
use batch::{Batch, Msg, BATCH};
use worker::{Body, Fallible, JobRef, Plain, Shared, StopRegistration, StopSlot, TaskCell};

mod batch;
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
        self.enqueue_task(Plain(f), ())
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
        self.enqueue_task(Plain(f), stop)
    }

    fn enqueue_task<B, T, S>(&self, body: B, stop: S) -> Result<Future<T>, SubmitError>
    where
        B: Body<T> + 'static,
        T: Send + 'static,
        S: StopSlot + 'static,
    {
        let (job, future) = task_cell(body, stop);
        self.shared.send(Msg::One(job), 1)?;
        Ok(future)
    }

    /// Queues every closure of `jobs`, in order, and returns their futures
    /// in the same order: `submit` for many tasks at a fraction of the cost
    /// per task. Tasks are queued in groups of up to 64 as `jobs` yields
    /// them (so the first ones run while later ones are made); idle workers
    /// share a group, so no task waits behind its group while a worker has
    /// nothing to do.
    ///
    /// # Errors
    /// As [`ThreadPool::submit`]. If the pool is shut down by another
    /// thread part-way, the error is returned and every task already queued
    /// that has not started is cancelled (a started one runs to the end).
    ///
    /// ```
    /// let pool = hilo::ThreadPool::new();
    /// let futs = pool.submit_all((1..=100u64).map(|i| move || i * i)).unwrap();
    /// let sum: u64 = futs.into_iter().map(|f| f.result().unwrap()).sum();
    /// assert_eq!(sum, 338_350);
    /// ```
    pub fn submit_all<I, F, T>(&self, jobs: I) -> Result<Vec<Future<T>>, SubmitError>
    where
        I: IntoIterator<Item = F>,
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let jobs = jobs.into_iter();
        let mut futures = Vec::with_capacity(jobs.size_hint().0);
        let mut group = Vec::with_capacity(BATCH);
        for f in jobs {
            let (job, future) = task_cell(Plain(f), ());
            futures.push(future);
            group.push(job);
            if group.len() == BATCH {
                self.send_group(&mut group, &futures)?;
            }
        }
        self.send_group(&mut group, &futures)?;
        Ok(futures)
    }

    /// Queues the tasks in `group` (emptied) as one message. On error,
    /// cancels what `futures` holds (the tasks queued before).
    fn send_group<T>(
        &self,
        group: &mut Vec<JobRef>,
        futures: &[Future<T>],
    ) -> Result<(), SubmitError> {
        let tasks = group.len();
        let msg = match tasks {
            0 => return Ok(()),
            1 => Msg::One(group.pop().expect("one task")),
            _ => Msg::Batch(Arc::new(Batch::new(std::mem::replace(
                group,
                Vec::with_capacity(BATCH),
            )))),
        };
        self.shared.send(msg, tasks).inspect_err(|_| {
            for future in futures {
                future.cancel();
            }
        })
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
        drop(write_std(&self.shared.sender).take());
        if how.cancel_pending {
            // Before draining: what a worker holds (the rest of a batch)
            // or takes from the queue meanwhile is cancelled too.
            self.shared.cancelling.store(true, Ordering::Release);
            while let Ok(msg) = self.shared.receiver.try_recv() {
                msg.drain(|job| job.cancel());
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
        read_std(&self.shared.sender).is_none()
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

/// One task's record: the queue's reference and the caller's future.
fn task_cell<B, T, S>(f: B, stop: S) -> (JobRef, Future<T>)
where
    B: Body<T> + 'static,
    T: Send + 'static,
    S: StopSlot + 'static,
{
    let cell = Arc::new(TaskCell {
        inner: Inner::new(),
        task: AtomicCell::new(Some(f)),
        stop,
    });
    let future = Future::from_cell(Arc::clone(&cell) as Arc<dyn Cell<T>>);
    (cell, future)
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

/// A `ThreadPool` runs the same `#[hilo::task]` calls as a
/// [`ProcessPool`](crate::process::ProcessPool), so one program can offer
/// both engines: here the function is called on a worker thread, with
/// nothing encoded. A task the registry does not know fails with
/// [`TaskError::UnknownTask`](crate::TaskError::UnknownTask) (only a
/// [`Call::new`](crate::process::Call::new) can name one); a call's
/// `timeout` does not apply (a thread cannot be killed).
///
/// ```
/// use hilo::{Executor, ThreadPool};
///
/// #[hilo::task]
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// # fn main() {
/// let pool = ThreadPool::new();
/// let fut = Executor::submit(&pool, square::call(7)).unwrap();
/// assert_eq!(fut.result(), Ok(49));
/// let squares: Vec<_> = hilo::map(&pool, 1..=3, square::call).collect();
/// assert_eq!(squares, vec![Ok(1), Ok(4), Ok(9)]);
/// # }
/// ```
impl<R> Executor<crate::process::Call<R>> for ThreadPool
where
    R: serde::de::DeserializeOwned + Send + 'static,
{
    type Output = R;

    fn submit(&self, call: crate::process::Call<R>) -> Result<Future<R>, SubmitError> {
        self.enqueue_task(Fallible(move || call.run_here()), ())
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
