//! [`Future`], the handle a caller holds: its state, cancel, blocking and
//! timed waits, callbacks, stop requests, and `.await`.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{Canceller, Cell, Inner, Listener, State};
use crate::error::TaskError;
use crate::stop::StopToken;
use crate::sync;

/// The result of a task that may not have finished yet.
///
/// A `Future` is returned by [`ThreadPool::submit`](crate::ThreadPool::submit)
/// (or any [`Executor`](crate::Executor)) and by [`Promise::new`](crate::Promise::new). It is the
/// only handle to the task's value, so it is not `Clone`; share `&Future`
/// with [`wait`](crate::wait) and [`as_completed`](crate::as_completed).
/// It is also a [`std::future::Future`], so `async` code can `.await` it.
///
/// Dropping a `Future` does not cancel its task.
///
/// ```
/// use hilo::ThreadPool;
///
/// let pool = ThreadPool::new();
/// let fut = pool.submit(|| 6 * 7).unwrap();
/// assert_eq!(fut.result(), Ok(42));
/// ```
pub struct Future<T> {
    cell: std::sync::Arc<dyn Cell<T>>,
}

impl<T: Send + 'static> Future<T> {
    /// A future that is already finished with `outcome`.
    ///
    /// ```
    /// let fut = hilo::Future::ready(Ok::<_, hilo::TaskError>(3));
    /// assert!(fut.done());
    /// assert_eq!(fut.result(), Ok(3));
    /// ```
    pub fn ready(outcome: Result<T, TaskError>) -> Self {
        let inner = Inner::new();
        inner.complete(outcome);
        Future::from_cell(std::sync::Arc::new(inner))
    }
}

impl<T> Future<T> {
    pub(crate) fn from_cell(cell: std::sync::Arc<dyn Cell<T>>) -> Self {
        Future { cell }
    }

    pub(crate) fn inner(&self) -> &Inner<T> {
        self.cell.inner()
    }

    /// The current state.
    ///
    /// ```
    /// let fut = hilo::Future::ready(Ok::<_, hilo::TaskError>(()));
    /// assert_eq!(fut.state(), hilo::State::Finished);
    /// ```
    pub fn state(&self) -> State {
        self.inner().state()
    }

    /// Stops the task wherever its executor can, and returns true if the
    /// future is now cancelled.
    ///
    /// - Pending (queued): it will never run; waiters, `wait`,
    ///   `as_completed` and callbacks see it done at once.
    /// - Running in a [`ProcessPool`](crate::process::ProcessPool): its
    ///   worker process is killed (and replaced) and the future is
    ///   cancelled.
    /// - Running on a thread: returns false, the task runs on (threads
    ///   cannot be interrupted); ask it to stop with
    ///   [`Future::request_stop`].
    /// - Already cancelled: true; finished: false.
    ///
    /// The futures [`retry`](crate::retry) and
    /// [`PriorityExecutor`](crate::PriorityExecutor) return follow the same
    /// rule for the attempt or job that runs at the time.
    ///
    /// Unlike Python, `wait` and `as_completed` see a cancel at once; there
    /// is no separate "cancelled and notified" state.
    ///
    /// ```
    /// let (promise, fut) = hilo::Promise::<()>::new();
    /// assert!(fut.cancel());
    /// assert!(fut.cancelled());
    /// assert!(!promise.set_running()); // the executor skips the task
    /// ```
    pub fn cancel(&self) -> bool {
        self.cell.cancel()
    }

    /// Cancels the task only if it has not started: never kills a running
    /// process task. What a dropped lazy map does to what it submitted.
    pub(crate) fn cancel_pending(&self) -> bool {
        self.cell.cancel_pending()
    }

    /// True if the future is terminal: finished or cancelled.
    ///
    /// ```
    /// let (_promise, fut) = hilo::Promise::<()>::new();
    /// assert!(!fut.done());
    /// ```
    pub fn done(&self) -> bool {
        self.state().is_done()
    }

    /// True while a worker is running the task.
    ///
    /// ```
    /// let (promise, fut) = hilo::Promise::<()>::new();
    /// promise.set_running();
    /// assert!(fut.running());
    /// ```
    pub fn running(&self) -> bool {
        self.state() == State::Running
    }

    /// True if the future was cancelled before its task started.
    ///
    /// ```
    /// let (_promise, fut) = hilo::Promise::<()>::new();
    /// fut.cancel();
    /// assert!(fut.cancelled());
    /// ```
    pub fn cancelled(&self) -> bool {
        self.state() == State::Cancelled
    }

    /// Blocks until the task ends and returns its value.
    ///
    /// # Errors
    /// [`TaskError::Panicked`] if the task panicked, [`TaskError::Cancelled`]
    /// if it was cancelled, and whatever else the executor reports (see
    /// [`TaskError`]). [`TaskError::AlreadyTaken`] if an earlier
    /// [`Future::result_timeout`] already returned the value.
    ///
    /// ```
    /// let pool = hilo::ThreadPool::new();
    /// let fut = pool.submit(|| "done").unwrap();
    /// assert_eq!(fut.result(), Ok("done"));
    /// ```
    pub fn result(self) -> Result<T, TaskError> {
        let mut slot = self.inner().wait_done(None);
        self.inner().take_outcome(&mut slot)
    }

    /// Blocks up to `timeout` for the task to end and returns its value.
    ///
    /// A zero timeout does not block. When the time runs out this returns
    /// [`TaskError::Timeout`] and changes nothing: the task keeps its place
    /// in the queue or keeps running, and the future can be waited on again.
    /// Once this has returned the value, the value is gone from the future:
    /// later calls return [`TaskError::AlreadyTaken`].
    ///
    /// # Errors
    /// [`TaskError::Timeout`] if the task did not end in time; otherwise as
    /// [`Future::result`].
    ///
    /// ```
    /// use std::time::Duration;
    /// let (promise, mut fut) = hilo::Promise::<u8>::new();
    /// assert_eq!(fut.result_timeout(Duration::ZERO), Err(hilo::TaskError::Timeout));
    /// promise.complete(Ok(1));
    /// assert_eq!(fut.result_timeout(Duration::ZERO), Ok(1));
    /// ```
    pub fn result_timeout(&mut self, timeout: Duration) -> Result<T, TaskError> {
        let mut slot = self.inner().wait_done(sync::deadline_after(timeout));
        if !self.inner().locked_state(&slot).is_done() {
            return Err(TaskError::Timeout);
        }
        self.inner().take_outcome(&mut slot)
    }

    /// Blocks until the task ends and returns its error, or `None` if it
    /// produced a value. The value stays in the future.
    ///
    /// ```
    /// let pool = hilo::ThreadPool::new();
    /// let fut = pool.submit(|| -> u8 { panic!("no") }).unwrap();
    /// assert!(fut.exception().unwrap().is_panic());
    /// ```
    pub fn exception(&self) -> Option<TaskError> {
        match &self.inner().wait_done(None).outcome {
            Some(Err(e)) => Some(TaskError::clone(e)),
            _ => None,
        }
    }

    /// Blocks up to `timeout` for the task to end; true if it has.
    /// Nothing is taken out of the future.
    ///
    /// ```
    /// let (_promise, fut) = hilo::Promise::<u8>::new();
    /// assert!(!fut.wait_timeout(std::time::Duration::from_millis(1)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let slot = self.inner().wait_done(sync::deadline_after(timeout));
        self.inner().locked_state(&slot).is_done()
    }

    /// Runs `callback` when the future becomes terminal, with `Ok(())` if the
    /// task produced a value and the error otherwise.
    ///
    /// If the future is already done, `callback` runs at once in this
    /// thread; otherwise it runs in the thread that completes the future
    /// (usually a worker), after the future's lock is released, in the order
    /// callbacks were added. No lock of hilo's is held while it runs, so a
    /// callback may submit to the same pool and wait for that result (the
    /// worker running it does not count as idle until its callbacks return,
    /// so the pool starts another worker if it may), cancel other futures,
    /// or shut down or drop the pool (a shutdown from a pool's own thread
    /// waits for every other worker). A callback that panics is caught and
    /// logged to stderr; it never kills a worker and the remaining callbacks
    /// still run. Each callback runs exactly once.
    ///
    /// The value itself is not shown to the callback (it belongs to the
    /// single owner of the future); use [`Future::on_complete`] to hand the
    /// value to a callback.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let ok = Arc::new(AtomicUsize::new(0));
    /// let fut = hilo::Future::ready(Ok::<_, hilo::TaskError>(1));
    /// let seen = ok.clone();
    /// fut.add_done_callback(move |r| if r.is_ok() { seen.fetch_add(1, Ordering::SeqCst); });
    /// assert_eq!(ok.load(Ordering::SeqCst), 1); // already done: ran at once
    /// ```
    pub fn add_done_callback<F>(&self, callback: F)
    where
        F: FnOnce(&Result<(), TaskError>) + Send + 'static,
    {
        self.inner()
            .add_callback(Listener::Notify(Box::new(callback)));
    }

    /// Consumes the future and hands its outcome (value or error) to
    /// `callback` when it is terminal, with the same rules as
    /// [`Future::add_done_callback`]: at once if already done, otherwise in
    /// the completing thread, after the callbacks added before it.
    ///
    /// This is the lesson's "callback that prints the result", without
    /// blocking anyone.
    ///
    /// ```
    /// let pool = hilo::ThreadPool::new();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// pool.submit(|| 2 + 2).unwrap().on_complete(move |r| tx.send(r).unwrap());
    /// assert_eq!(rx.recv().unwrap(), Ok(4));
    /// ```
    pub fn on_complete<F>(self, callback: F)
    where
        F: FnOnce(Result<T, TaskError>) + Send + 'static,
    {
        self.inner()
            .add_callback(Listener::Take(Box::new(callback)));
    }

    /// Asks the task to stop, through the [`StopToken`] it was submitted with
    /// (see [`ThreadPool::submit_with_stop`](crate::ThreadPool::submit_with_stop)).
    /// Returns false if the task has no token. Thread tasks stop
    /// cooperatively: the request only has effect when the task checks its
    /// token. A pending task is not cancelled by this; use [`Future::cancel`].
    ///
    /// ```
    /// let pool = hilo::ThreadPool::new();
    /// let fut = pool.submit_with_stop(|stop| {
    ///     let mut rounds = 0;
    ///     while !stop.wait_timeout(std::time::Duration::from_millis(5)) {
    ///         rounds += 1;
    ///     }
    ///     rounds
    /// }).unwrap();
    /// assert!(fut.request_stop());
    /// assert!(fut.result().is_ok());
    /// ```
    pub fn request_stop(&self) -> bool {
        match self.cell.stop() {
            Some(token) => {
                token.request_stop();
                true
            }
            None => false,
        }
    }

    /// The stop token this future's task was submitted with, if any.
    ///
    /// ```
    /// let fut = hilo::Future::ready(Ok::<_, hilo::TaskError>(()));
    /// assert!(fut.stop_token().is_none());
    /// ```
    pub fn stop_token(&self) -> Option<&StopToken> {
        self.cell.stop()
    }
}

impl<T: 'static> Future<T> {
    pub(crate) fn canceller(&self) -> Canceller {
        Canceller(std::sync::Arc::new(std::sync::Arc::downgrade(&self.cell)))
    }
}

impl<T> fmt::Debug for Future<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slot = sync::lock(&self.inner().slot);
        let mut d = f.debug_struct("Future");
        d.field("state", &self.inner().locked_state(&slot));
        if let Some(Err(e)) = &slot.outcome {
            d.field("error", e);
        }
        d.finish()
    }
}

impl<T> std::future::Future for Future<T> {
    type Output = Result<T, TaskError>;

    /// Ready with the outcome once the task is terminal; the waker is woken
    /// by the completing thread.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = sync::lock(&self.inner().slot);
        if self.inner().locked_state(&slot).is_done() {
            return Poll::Ready(self.inner().take_outcome(&mut slot));
        }
        let listeners = slot.listeners_mut();
        let registered = listeners.iter_mut().find_map(|l| match l {
            Listener::Waker(w) => Some(w),
            _ => None,
        });
        match registered {
            Some(w) if w.will_wake(cx.waker()) => {}
            Some(w) => *w = cx.waker().clone(),
            None => listeners.push(Listener::Waker(cx.waker().clone())),
        }
        Poll::Pending
    }
}
