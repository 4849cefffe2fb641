//! [`Relay`]: the record of a future that stands for another executor's
//! future, the one doing its work right now: what [`retry`](crate::retry)
//! (one attempt after another) and
//! [`PriorityExecutor`](crate::PriorityExecutor) (the job once dispatched)
//! hand back.
//!
//! Cancelling such a future cancels the attached one as its own executor
//! does (a queued task is removed, a running process task is killed, a
//! running thread task cannot be stopped), so one cancel rule holds for
//! every future (spec section 10). The relay ends its own future only as
//! cancelled (a cancel, or a cancelled outcome); it never holds its lock
//! while a future completes.

use crate::error::TaskError;
use crate::future::{Canceller, Cell, Future, Inner, Promise};
use crate::sync::{lock, Mutex};
use crate::State;

pub(crate) struct Relay<T> {
    inner: Inner<T>,
    /// Held while work is being submitted, so a cancel waits for it to be
    /// attached instead of missing it.
    hand: Mutex<Hand>,
}

/// What `Relay::hand` guards.
struct Hand {
    /// The executor future doing the work now, if any.
    current: Option<Canceller>,
    /// A cancel found nothing attached and ends this future: nothing may be
    /// attached any more. (Set under the lock; the future itself is ended
    /// after it, so its callbacks never run under the lock.)
    stopped: bool,
}

impl<T> Relay<T> {
    pub(crate) fn new() -> Relay<T> {
        Relay {
            inner: Inner::new(),
            hand: Mutex::new(Hand {
                current: None,
                stopped: false,
            }),
        }
    }

    /// Runs `submit` (which hands the work to an executor, and must not
    /// cancel this future) and relays cancels to the future it returns
    /// until [`Relay::detach`]. `None`, without calling `submit`, if this
    /// future is cancelled (or being cancelled: then it is ended here).
    pub(crate) fn attach<U: 'static, E>(
        &self,
        submit: impl FnOnce() -> Result<Future<U>, E>,
    ) -> Option<Result<Future<U>, E>> {
        let mut hand = lock(&self.hand);
        if hand.stopped || self.inner.state().is_done() {
            drop(hand);
            // A cancel is ending this future; end it here too, whichever
            // comes first, so no promise dropped meanwhile abandons it.
            self.inner.cancel_running();
            return None;
        }
        let submitted = submit();
        if let Ok(fut) = &submitted {
            hand.current = Some(fut.canceller());
        }
        Some(submitted)
    }

    /// The attached future has ended and another will follow: nothing runs
    /// until the next attach, and a cancel meanwhile always succeeds.
    pub(crate) fn detach(&self) {
        lock(&self.hand).current = None;
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
        let current = {
            let mut hand = lock(&self.hand);
            if hand.current.is_none() {
                hand.stopped = true;
            }
            hand.current.clone()
        };
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
