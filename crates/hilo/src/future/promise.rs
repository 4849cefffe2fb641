//! [`Promise`], the completing side of a [`Future`]: what executors and
//! policies hold while a task is queued or running.

use std::fmt;

use super::{Cell, Future, Inner, State};
use crate::error::TaskError;

/// The completing side of a [`Future`]: executors (and policies such as
/// [`retry`](crate::retry)) hold it while the task is queued or running.
///
/// Dropping a promise without completing it fails its future with
/// [`TaskError::Abandoned`], so a lost task is an error, never a hang.
///
/// ```
/// let (promise, fut) = hilo::Promise::new();
/// std::thread::spawn(move || {
///     if promise.set_running() {
///         promise.complete(Ok(21 * 2));
///     }
/// });
/// assert_eq!(fut.result(), Ok(42));
/// ```
pub struct Promise<T> {
    cell: std::sync::Arc<dyn Cell<T>>,
    /// `complete` ran: the drop has nothing to do (saves a lock per task).
    completed: bool,
}

impl<T: Send + 'static> Promise<T> {
    /// A new pending future and the promise that completes it.
    ///
    /// ```
    /// let (promise, fut) = hilo::Promise::<String>::new();
    /// promise.complete(Ok("hi".into()));
    /// assert_eq!(fut.result().unwrap(), "hi");
    /// ```
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> (Promise<T>, Future<T>) {
        Promise::with_cell(std::sync::Arc::new(Inner::new()))
    }

    /// A promise and future over `cell` (a policy's own record).
    pub(crate) fn with_cell(cell: std::sync::Arc<dyn Cell<T>>) -> (Promise<T>, Future<T>) {
        (
            Promise {
                cell: std::sync::Arc::clone(&cell),
                completed: false,
            },
            Future::from_cell(cell),
        )
    }
}

impl<T> Promise<T> {
    fn inner(&self) -> &Inner<T> {
        self.cell.inner()
    }

    /// Marks the task as started (Pending → Running). Returns false if the
    /// future was cancelled meanwhile: then do not run the task.
    ///
    /// ```
    /// let (promise, fut) = hilo::Promise::<()>::new();
    /// assert!(promise.set_running());
    /// assert!(!fut.cancel()); // running: too late to cancel
    /// ```
    pub fn set_running(&self) -> bool {
        self.inner().set_running()
    }

    /// True if the future was cancelled.
    ///
    /// ```
    /// let (promise, fut) = hilo::Promise::<()>::new();
    /// fut.cancel();
    /// assert!(promise.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.inner().state() == State::Cancelled
    }

    /// Completes the future with `outcome`. Returns false if it was already
    /// terminal (cancelled), in which case `outcome` is dropped.
    ///
    /// ```
    /// let (promise, fut) = hilo::Promise::<u8>::new();
    /// assert!(promise.complete(Err(hilo::TaskError::Abandoned)));
    /// assert_eq!(fut.result(), Err(hilo::TaskError::Abandoned));
    /// ```
    pub fn complete(mut self, outcome: Result<T, TaskError>) -> bool {
        self.completed = true;
        self.inner().complete(outcome)
    }

    /// Cancels the future if it is still pending (see [`Future::cancel`]).
    ///
    /// ```
    /// let (promise, fut) = hilo::Promise::<u8>::new();
    /// assert!(promise.cancel());
    /// assert_eq!(fut.result(), Err(hilo::TaskError::Cancelled));
    /// ```
    pub fn cancel(&self) -> bool {
        self.inner().cancel()
    }
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        if self.completed {
            return;
        }
        // Not completed: the future fails instead of hanging.
        self.inner().abandon();
    }
}

impl<T> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Promise")
            .field("state", &self.inner().state())
            .finish()
    }
}
