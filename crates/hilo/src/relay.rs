//! [`Relay`]: the record of a future that stands for another executor's
//! future, the one doing its work right now: what [`retry`](crate::retry)
//! (one attempt after another) and
//! [`PriorityExecutor`](crate::PriorityExecutor) (the job once dispatched)
//! hand back.
//!
//! Cancelling such a future cancels the attached one as its own executor
//! does (a queued task is removed, a running process task is killed, a
//! running thread task cannot be stopped), so one cancel rule holds for
//! every future (spec section 10). The relay never completes anything
//! itself and never holds its lock while a future completes.

use std::sync::Mutex;

use crate::error::TaskError;
use crate::future::{Canceller, Cell, Future, Inner, Promise};
use crate::sync::lock_std as lock;
use crate::State;

pub(crate) struct Relay<T> {
    inner: Inner<T>,
    /// The executor future doing the work now, if any. Held while it is
    /// being submitted, so a cancel waits for it instead of missing it.
    current: Mutex<Option<Canceller>>,
}

impl<T> Relay<T> {
    pub(crate) fn new() -> Relay<T> {
        Relay {
            inner: Inner::new(),
            current: Mutex::new(None),
        }
    }

    /// Runs `submit` (which hands the work to an executor) and relays
    /// cancels to the future it returns until [`Relay::detach`]. `None`,
    /// without calling `submit`, if this future is already terminal
    /// (cancelled).
    pub(crate) fn attach<U: 'static, E>(
        &self,
        submit: impl FnOnce() -> Result<Future<U>, E>,
    ) -> Option<Result<Future<U>, E>> {
        let mut current = lock(&self.current);
        if self.inner.state().is_done() {
            return None;
        }
        let submitted = submit();
        if let Ok(fut) = &submitted {
            *current = Some(fut.canceller());
        }
        Some(submitted)
    }

    /// The attached future has ended: nothing runs until the next attach.
    pub(crate) fn detach(&self) {
        *lock(&self.current) = None;
    }

    /// Ends this future with `outcome` through `promise` (made over this
    /// relay). A cancelled outcome (the work was cancelled where it ran)
    /// makes this future cancelled too, not finished with an error.
    pub(crate) fn complete(&self, promise: Promise<T>, outcome: Result<T, TaskError>) {
        if matches!(outcome, Err(TaskError::Cancelled)) {
            if !self.inner.cancel() {
                self.inner.cancel_running();
            }
            drop(promise); // terminal already: nothing to abandon
        } else {
            promise.complete(outcome);
        }
    }

    /// Cancels this future: pending, at once; running, if the attached
    /// future can be stopped with `how` (or nothing is attached: between
    /// two attempts). Stopping the attached future may complete this one
    /// (as cancelled, through `complete`) before `how` returns.
    fn stop(&self, how: fn(&Canceller) -> bool) -> bool {
        if self.inner.cancel() {
            return true;
        }
        if self.inner.state() != State::Running {
            return false;
        }
        let current = lock(&self.current).clone();
        if current.as_ref().is_none_or(how) {
            self.inner.cancel_running();
        }
        self.inner.state() == State::Cancelled
    }
}

impl<T: Send> Cell<T> for Relay<T> {
    fn inner(&self) -> &Inner<T> {
        &self.inner
    }

    fn cancel(&self) -> bool {
        self.stop(Canceller::cancel)
    }

    fn cancel_pending(&self) -> bool {
        self.stop(Canceller::cancel_pending)
    }
}
