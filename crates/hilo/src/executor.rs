//! The [`Executor`] trait: the one interface [`wait`](crate::wait),
//! [`as_completed`](crate::as_completed), [`map`](crate::map()) and the
//! policies (priority, retry, progress) are written against; and what every
//! executor shares: [`Shutdown`] and the default number of workers.
//!
//! An executor takes a job of type `J` and returns a [`Future`] of its
//! output. For [`ThreadPool`](crate::ThreadPool) a job is a closure; a
//! process pool or a Redis executor takes a named, serialisable task
//! instead, and everything written over this trait works with them
//! unchanged.

use std::sync::Arc;

use crate::error::SubmitError;
use crate::future::Future;

/// Something that runs jobs of type `J` and hands back futures.
///
/// ```
/// use hilo::{Executor, ThreadPool};
///
/// // Written once, for any executor and any kind of job.
/// fn run_all<E: Executor<J>, J>(exec: &E, jobs: impl IntoIterator<Item = J>) -> Vec<E::Output> {
///     let futs: Vec<_> = jobs.into_iter().map(|j| exec.submit(j).unwrap()).collect();
///     futs.into_iter().map(|f| f.result().unwrap()).collect()
/// }
///
/// let pool = ThreadPool::new();
/// assert_eq!(run_all(&pool, (1..=3).map(|x| move || x * 2)), vec![2, 4, 6]);
/// ```
pub trait Executor<J> {
    /// What a job of type `J` produces.
    type Output: Send + 'static;

    /// Queues `job` and returns the future of its output.
    ///
    /// # Errors
    /// [`SubmitError`] if the executor takes no more jobs (shut down or
    /// broken); the job is dropped unrun.
    ///
    /// ```
    /// use hilo::Executor;
    /// let pool = hilo::ThreadPool::new();
    /// let fut = Executor::submit(&pool, || 3).unwrap();
    /// assert_eq!(fut.result(), Ok(3));
    /// ```
    fn submit(&self, job: J) -> Result<Future<Self::Output>, SubmitError>;

    /// How many jobs can run at once. Policies size their windows from it.
    ///
    /// ```
    /// use hilo::Executor;
    /// let pool = hilo::ThreadPool::builder().max_workers(2).build().unwrap();
    /// assert_eq!(<hilo::ThreadPool as Executor<fn() -> u8>>::max_workers(&pool), 2);
    /// ```
    fn max_workers(&self) -> usize;
}

impl<J, E: Executor<J> + ?Sized> Executor<J> for &E {
    type Output = E::Output;

    fn submit(&self, job: J) -> Result<Future<Self::Output>, SubmitError> {
        (**self).submit(job)
    }

    fn max_workers(&self) -> usize {
        (**self).max_workers()
    }
}

impl<J, E: Executor<J> + ?Sized> Executor<J> for Arc<E> {
    type Output = E::Output;

    fn submit(&self, job: J) -> Result<Future<Self::Output>, SubmitError> {
        (**self).submit(job)
    }

    fn max_workers(&self) -> usize {
        (**self).max_workers()
    }
}

/// A boxed closure job: one type for closures of different kinds, for
/// wrappers that store jobs (such as [`PriorityExecutor`](crate::PriorityExecutor)).
/// Every executor of closures runs it as it runs any closure.
///
/// ```
/// let jobs: Vec<hilo::BoxJob<u32>> = vec![Box::new(|| 1), Box::new(|| 2)];
/// let pool = hilo::ThreadPool::new();
/// let sum: u32 = jobs.into_iter().map(|j| pool.submit(j).unwrap().result().unwrap()).sum();
/// assert_eq!(sum, 3);
/// ```
pub type BoxJob<T> = Box<dyn FnOnce() -> T + Send>;

/// How an executor's `shutdown` behaves ([`ThreadPool::shutdown`](crate::ThreadPool::shutdown),
/// [`ProcessPool::shutdown`](crate::process::ProcessPool::shutdown)). The default is Python's:
/// wait for the workers, let queued tasks run.
///
/// ```
/// use hilo::{Shutdown, ThreadPool};
///
/// let pool = ThreadPool::new();
/// pool.shutdown(Shutdown { wait: true, cancel_pending: true });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shutdown {
    /// Block until every worker (thread or process) has exited (queued
    /// tasks run first unless cancelled). With `false`, return at once; the
    /// workers still drain the queue and exit on their own.
    pub wait: bool,
    /// Cancel every task still queued (their futures become cancelled and
    /// their callbacks run), and, on a thread pool, request a stop on the
    /// [`StopToken`](crate::StopToken) of every task submitted with one.
    /// Running tasks are not interrupted.
    pub cancel_pending: bool,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            wait: true,
            cancel_pending: false,
        }
    }
}

/// The number of workers a pool gets when the builder is not told: the
/// cores this process may use (its CPU affinity mask), or 1 if that cannot
/// be read.
///
/// ```
/// assert!(hilo::default_workers() >= 1);
/// assert_eq!(hilo::ThreadPool::new().max_workers(), hilo::default_workers());
/// ```
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
