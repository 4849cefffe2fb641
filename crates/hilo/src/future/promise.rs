//! [`Promise`], the completing side of a [`Future`]: what executors and
//! policies hold while a task is queued or running.

use std::fmt;

use super::{Cell, Future, Inner, State};
use crate::error::TaskError;

/// How far [`Promise::with_cancel`]'s hook is asked to reach.
///
/// ```
/// assert_ne!(hilo::CancelReach::Queued, hilo::CancelReach::Anywhere);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CancelReach {
    /// Only a task that has not started: a dropped lazy
    /// [`map`](crate::map()) cancels what it submitted this way.
    Queued,
    /// Wherever the task is: [`Future::cancel`]. A running task is
    /// stopped where it runs.
    Anywhere,
}

/// A future whose executor cancels the task itself (a remote queue, a
/// worker somewhere else): the hook decides, the slot records.
struct Hooked<T> {
    inner: Inner<T>,
    hook: Box<dyn Fn(CancelReach) -> bool + Send + Sync>,
}

impl<T: Send> Hooked<T> {
    fn cancel_with(&self, reach: CancelReach) -> bool {
        match self.inner.state() {
            State::Cancelled => return true,
            State::Finished => return false,
            State::Pending | State::Running => {}
        }
        if !(self.hook)(reach) {
            // Another thread's cancel may have won meanwhile.
            return self.inner.state() == State::Cancelled;
        }
        // The task will give no value: end the future, from whichever of
        // the two live states it is in now.
        if !self.inner.cancel() {
            self.inner.cancel_running();
        }
        self.inner.state() == State::Cancelled
    }
}

impl<T: Send> Cell<T> for Hooked<T> {
    fn inner(&self) -> &Inner<T> {
        &self.inner
    }

    fn cancel(&self) -> bool {
        self.cancel_with(CancelReach::Anywhere)
    }

    fn cancel_pending(&self) -> bool {
        self.cancel_with(CancelReach::Queued)
    }
}

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

    /// A pending future whose cancels are the executor's to carry out, and
    /// the promise that completes it: for executors whose tasks wait or run
    /// out of this process's reach (a queue on a server, a worker on
    /// another machine).
    ///
    /// While the future is pending or running, [`Future::cancel`] calls
    /// `hook(CancelReach::Anywhere)` and a dropped lazy map calls
    /// `hook(CancelReach::Queued)`, on the cancelling thread with no lock
    /// held. The hook returns true if the task will now never produce a
    /// value (removed from its queue, or stopped where it ran): the future
    /// is then cancelled, and a later [`Promise::complete`] changes
    /// nothing. False leaves the future as it is (the task runs on, or its
    /// result is already on its way). A terminal future never calls it.
    ///
    /// ```
    /// use hilo::{CancelReach, Promise, State};
    ///
    /// // A task that is stopped only while queued.
    /// let (promise, fut) = Promise::<u8>::with_cancel(|reach| reach == CancelReach::Queued);
    /// assert!(!fut.cancel()); // Anywhere: the hook said no
    /// assert_eq!(fut.state(), State::Pending);
    /// drop(promise); // dropped unfulfilled: the future fails
    /// assert_eq!(fut.result(), Err(hilo::TaskError::Abandoned));
    ///
    /// let (promise, fut) = Promise::<u8>::with_cancel(|_| true);
    /// promise.set_running();
    /// assert!(fut.cancel()); // the hook stopped it where it ran
    /// assert!(!promise.complete(Ok(1)));
    /// assert_eq!(fut.result(), Err(hilo::TaskError::Cancelled));
    /// ```
    pub fn with_cancel(
        hook: impl Fn(CancelReach) -> bool + Send + Sync + 'static,
    ) -> (Promise<T>, Future<T>) {
        Promise::with_cell(std::sync::Arc::new(Hooked {
            inner: Inner::new(),
            hook: Box::new(hook),
        }))
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
