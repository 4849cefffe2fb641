//! [`Future<T>`]: a handle to the result of one task, and [`Promise<T>`], the
//! side that completes it.
//!
//! This module owns the completion slot shared by the two and its state
//! machine. It must never lose a result, never wake a waiter twice, and never
//! run user code (callbacks) while holding the slot's lock.
//!
//! # State machine
//!
//! ```text
//!              set_running()             complete(outcome)
//!   Pending ───────────────────▶ Running ─────────────────▶ Finished
//!      │ │                                                     ▲
//!      │ └─────────────────── complete(outcome) ───────────────┘
//!      │ cancel()
//!      ▼
//!   Cancelled
//! ```
//!
//! One more edge exists for process pools only: Running → Pending, when a
//! worker that had been sent the task (behind another one) died before
//! starting it, and the task goes back to the queue.
//!
//! Every transition happens in one critical section of the slot's mutex, so
//! each is atomic: `cancel()` racing `set_running()` has exactly one winner,
//! and a callback or waiter registered concurrently with completion is either
//! registered before it (and notified by the completing thread) or sees the
//! future done (and runs or counts it at once). Finished and Cancelled are
//! terminal: later `complete` and `cancel` calls change nothing.
//!
//! After a transition to a terminal state the completing thread, with the
//! lock released: wakes threads blocked in `result*`, notifies `wait` /
//! `as_completed` waiters, wakes an `async` task, then runs the done
//! callbacks in insertion order. A callback that panics is logged and
//! skipped; the next one still runs.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Waker;
use std::time::Duration;

use crate::error::{log_callback_panic, TaskError};
use crate::stop::StopToken;
use crate::sync::{self, Arc, AtomicU32, Condvar, Mutex, MutexGuard, Ordering};
use crate::waiter::Waiter;

mod handle;
mod promise;

pub use handle::Future;
pub use promise::{CancelReach, Promise};

/// Where a future is in its life. See the module docs for the transitions.
///
/// ```
/// use hilo::{Promise, State};
///
/// let (promise, fut) = Promise::<u8>::new();
/// assert_eq!(fut.state(), State::Pending);
/// promise.set_running();
/// assert_eq!(fut.state(), State::Running);
/// promise.complete(Ok(7));
/// assert_eq!(fut.state(), State::Finished);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Queued; not started. Can still be cancelled.
    Pending,
    /// A worker is running the task (a process pool's worker holds it).
    /// Threads cannot be interrupted, so `cancel()` of a thread task no
    /// longer works (use a [`StopToken`]); a process task is killed.
    Running,
    /// Cancelled: before it started (the task will never run), or while it
    /// ran in a process pool (its worker was killed).
    Cancelled,
    /// The task ended: it returned a value or failed (panicked, …).
    Finished,
}

impl State {
    /// The state's code in `Inner::word` (its low byte).
    const fn code(self) -> u32 {
        match self {
            State::Pending => 0,
            State::Running => 1,
            State::Cancelled => 2,
            State::Finished => 3,
        }
    }

    fn from_code(word: u32) -> State {
        match word & STATE_MASK {
            0 => State::Pending,
            1 => State::Running,
            2 => State::Cancelled,
            _ => State::Finished,
        }
    }

    /// True for the terminal states, `Cancelled` and `Finished`.
    ///
    /// ```
    /// assert!(hilo::State::Cancelled.is_done());
    /// assert!(!hilo::State::Running.is_done());
    /// ```
    pub fn is_done(self) -> bool {
        matches!(self, State::Cancelled | State::Finished)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Pending => "pending",
            State::Running => "running",
            State::Cancelled => "cancelled",
            State::Finished => "finished",
        })
    }
}

type NotifyFn = Box<dyn FnOnce(&Result<(), TaskError>) + Send>;
type TakeFn<T> = Box<dyn FnOnce(Result<T, TaskError>) + Send>;

/// Someone to tell when the future becomes terminal. One list for all
/// kinds keeps the slot small (a task costs one allocation of this size).
enum Listener<T> {
    /// A done callback that learns how the task ended.
    Notify(NotifyFn),
    /// The (at most one) callback that takes the value: `on_complete`.
    Take(TakeFn<T>),
    /// A `wait` / `as_completed` sleeper.
    Waiter(Arc<Waiter>),
    /// The task `.await`ing the future (at most one).
    Waker(Waker),
}

/// The completion slot, guarded by `Inner::slot`. Every byte here is paid
/// per task, so the state lives in `Inner::word` and rarely used parts are
/// boxed.
struct Slot<T> {
    /// `Some` once terminal, until the value is taken. An error is never
    /// taken out, only cloned, so `None` in a terminal state means "succeeded
    /// and the value was taken".
    outcome: Option<Stored<T>>,
    /// Boxed so that a future nobody listens to (the common case) carries
    /// one pointer, not a `Vec`.
    #[allow(clippy::box_collection)]
    listeners: Option<Box<Vec<Listener<T>>>>,
}

/// `Inner::word`: the state's code in the low byte, the number of threads
/// blocked on `Inner::done` above it.
const STATE_MASK: u32 = 0xff;
const ONE_SLEEPER: u32 = 0x100;

/// The allocation a [`Future`] points into: a bare [`Inner`] for a
/// [`Promise`], or an executor's task record that holds the `Inner` and the
/// task itself in one allocation (so a task costs one allocation, freed by
/// whoever drops the last handle).
pub(crate) trait Cell<T>: Send + Sync {
    fn inner(&self) -> &Inner<T>;

    /// The stop token the task was submitted with, if any.
    fn stop(&self) -> Option<&StopToken> {
        None
    }

    /// `Future::cancel`. Executors that can stop a running task (a process
    /// pool kills its worker) override this to do so.
    fn cancel(&self) -> bool {
        self.inner().cancel()
    }

    /// Cancels the task only if it has not started, wherever it waits (a
    /// lazy map's drop and timeout). Never stops a running task.
    fn cancel_pending(&self) -> bool {
        self.inner().cancel()
    }
}

impl<T: Send> Cell<T> for Inner<T> {
    fn inner(&self) -> &Inner<T> {
        self
    }
}

/// The state shared by a [`Future`] and whoever completes it.
pub(crate) struct Inner<T> {
    slot: Mutex<Slot<T>>,
    /// The [`State`] (low byte) and the count of threads blocked on `done`
    /// (completion skips the notify system call when there are none).
    /// Written only while holding `slot`'s lock, so a check and the
    /// transition it leads to are one critical section; read without the
    /// lock by `state()` and by waiters spinning before they sleep.
    word: AtomicU32,
    /// Signalled (notify_all) on every transition to a terminal state.
    done: Condvar,
}

/// What a terminal outcome looks like to callbacks and waiters: the error is
/// cloned, the value stays in the slot.
fn summary<T>(outcome: &Stored<T>) -> Result<(), TaskError> {
    match outcome {
        Ok(_) => Ok(()),
        Err(e) => Err(TaskError::clone(e)),
    }
}

/// An outcome as the slot keeps it: the (rare) error boxed, so the slot is
/// as small as the value allows.
type Stored<T> = Result<T, Box<TaskError>>;

impl<T> Slot<T> {
    fn listeners_mut(&mut self) -> &mut Vec<Listener<T>> {
        self.listeners.get_or_insert_with(Box::default)
    }
}

impl<T> Inner<T> {
    pub(crate) fn new() -> Self {
        Inner {
            slot: Mutex::new(Slot {
                outcome: None,
                listeners: None,
            }),
            word: AtomicU32::new(State::Pending.code()),
            done: Condvar::new(),
        }
    }

    /// A stable identity for this slot (its address), used by waiters.
    pub(crate) fn key(&self) -> usize {
        self as *const Self as usize
    }

    /// The current state, read without the lock.
    pub(crate) fn state(&self) -> State {
        State::from_code(self.word.load(Ordering::Acquire))
    }

    /// The state, for a caller holding the lock (whose guard proves it).
    fn locked_state(&self, _slot: &Slot<T>) -> State {
        State::from_code(self.word.load(Ordering::Relaxed))
    }

    /// Sets the state; the caller holds the lock (whose guard proves it).
    /// The sleeper count in the same word is kept.
    fn set_state(&self, _slot: &mut Slot<T>, to: State) {
        let word = self.word.load(Ordering::Relaxed);
        self.word
            .store((word & !STATE_MASK) | to.code(), Ordering::Release);
    }

    /// Pending → Running. False if the future was cancelled (the caller must
    /// then not run the task) or was already started or completed.
    pub(crate) fn set_running(&self) -> bool {
        let mut slot = sync::lock(&self.slot);
        if self.locked_state(&slot) == State::Pending {
            self.set_state(&mut slot, State::Running);
            true
        } else {
            false
        }
    }

    /// Pending or Running → Finished with `outcome`. False (and `outcome`
    /// dropped) if the future was already terminal.
    pub(crate) fn complete(&self, outcome: Result<T, TaskError>) -> bool {
        self.complete_then(outcome, || {})
    }

    /// `complete`, telling the completing worker when it is free again:
    /// `free` runs before anyone can see the future terminal if it has no
    /// done callbacks (then under the future's lock: it must be quick and
    /// must not touch this future), and after the callbacks otherwise. A
    /// thread pool marks its worker idle there, so a submitter that sees the
    /// completion finds it idle, while a callback that submits and waits
    /// makes the pool start another thread rather than wait for the one
    /// running the callback.
    pub(crate) fn complete_then(&self, outcome: Result<T, TaskError>, free: impl FnOnce()) -> bool {
        let slot = sync::lock(&self.slot);
        if self.locked_state(&slot).is_done() {
            free();
            return false;
        }
        self.finish_then(slot, State::Finished, outcome, free);
        true
    }

    /// Pending → Cancelled, true; already Cancelled, true; else false.
    pub(crate) fn cancel(&self) -> bool {
        let slot = sync::lock(&self.slot);
        match self.locked_state(&slot) {
            State::Pending => {
                self.finish(slot, State::Cancelled, Err(TaskError::Cancelled));
                true
            }
            State::Cancelled => true,
            State::Running | State::Finished => false,
        }
    }

    /// Running → Pending, for an executor that handed the task to a worker
    /// which died before starting it: it will be queued again. False if
    /// the future is no longer running (cancelled meanwhile).
    pub(crate) fn unstart(&self) -> bool {
        let mut slot = sync::lock(&self.slot);
        if self.locked_state(&slot) != State::Running {
            return false;
        }
        self.set_state(&mut slot, State::Pending);
        true
    }

    /// Running → Cancelled, for an executor that has just stopped the
    /// running task by force. False if the future is no longer running.
    pub(crate) fn cancel_running(&self) -> bool {
        let slot = sync::lock(&self.slot);
        if self.locked_state(&slot) != State::Running {
            return false;
        }
        self.finish(slot, State::Cancelled, Err(TaskError::Cancelled));
        true
    }

    fn finish(&self, slot: MutexGuard<'_, Slot<T>>, to: State, outcome: Result<T, TaskError>) {
        self.finish_then(slot, to, outcome, || {});
    }

    /// The one place a future becomes terminal. Takes the locked slot so the
    /// check that led here and the transition are one critical section.
    /// `free` is `complete_then`'s.
    fn finish_then(
        &self,
        mut slot: MutexGuard<'_, Slot<T>>,
        to: State,
        outcome: Result<T, TaskError>,
        free: impl FnOnce(),
    ) {
        let listeners = slot.listeners.take().map_or_else(Vec::new, |b| *b);
        let mut free = Some(free);
        let callbacks = listeners
            .iter()
            .any(|l| matches!(l, Listener::Notify(_) | Listener::Take(_)));
        if !callbacks {
            // Before the state changes: nobody can see the future terminal
            // (not even a waiter spinning on the word) before the worker is
            // free.
            if let Some(free) = free.take() {
                free();
            }
        }
        let outcome = outcome.map_err(Box::new);
        let status = (!listeners.is_empty()).then(|| summary(&outcome));
        slot.outcome = Some(outcome);
        // After the outcome: a waiter that sees the state terminal without
        // the lock takes the lock before reading the outcome anyway.
        self.set_state(&mut slot, to);
        let sleepers = self.word.load(Ordering::Relaxed) / ONE_SLEEPER;
        drop(slot);

        // A sleeper counted itself under the lock before waiting, so any
        // sleeper that could miss this transition is counted here.
        if sleepers > 0 {
            self.done.notify_all();
        }
        let Some(status) = status else {
            return;
        };
        // First wake whoever waits (cheap, no user code), then run the
        // callbacks in the order they were added.
        let failed = matches!(&status, Err(e) if !e.is_cancelled());
        for listener in &listeners {
            match listener {
                Listener::Waiter(waiter) => waiter.notify(self.key(), failed),
                Listener::Waker(waker) => waker.wake_by_ref(),
                Listener::Notify(_) | Listener::Take(_) => {}
            }
        }
        for listener in listeners {
            self.run_callback(listener, &status);
        }
        if let Some(free) = free.take() {
            free();
        }
    }

    /// Runs one callback outside the lock, catching its panic (other
    /// listeners are ignored here).
    fn run_callback(&self, listener: Listener<T>, status: &Result<(), TaskError>) {
        let result = match listener {
            Listener::Notify(f) => catch_unwind(AssertUnwindSafe(|| f(status))),
            Listener::Take(f) => {
                let outcome = self.take_outcome(&mut sync::lock(&self.slot));
                catch_unwind(AssertUnwindSafe(|| f(outcome)))
            }
            Listener::Waiter(_) | Listener::Waker(_) => return,
        };
        if let Err(payload) = result {
            log_callback_panic(&*payload);
        }
    }

    /// Moves the value out of a terminal slot, or clones the error.
    fn take_outcome(&self, slot: &mut Slot<T>) -> Result<T, TaskError> {
        match &slot.outcome {
            Some(Err(e)) => Err(TaskError::clone(e)),
            Some(Ok(_)) => match slot.outcome.take() {
                Some(Ok(v)) => Ok(v),
                _ => Err(TaskError::AlreadyTaken),
            },
            None => Err(TaskError::AlreadyTaken),
        }
    }

    fn add_callback(&self, callback: Listener<T>) {
        let mut slot = sync::lock(&self.slot);
        if !self.locked_state(&slot).is_done() {
            slot.listeners_mut().push(callback);
            return;
        }
        let status = match &slot.outcome {
            Some(outcome) => summary(outcome),
            None => Ok(()),
        };
        drop(slot);
        self.run_callback(callback, &status);
    }

    /// Registers `waiter` to be told when this future becomes terminal.
    /// Returns `Some(failed)` instead if it already is (nothing registered).
    pub(crate) fn add_waiter(&self, waiter: &Arc<Waiter>) -> Option<bool> {
        let mut slot = sync::lock(&self.slot);
        if self.locked_state(&slot).is_done() {
            return Some(matches!(&slot.outcome, Some(Err(e)) if !e.is_cancelled()));
        }
        slot.listeners_mut()
            .push(Listener::Waiter(Arc::clone(waiter)));
        None
    }

    pub(crate) fn remove_waiter(&self, waiter: &Arc<Waiter>) {
        let key = waiter.key();
        if let Some(listeners) = &mut sync::lock(&self.slot).listeners {
            listeners.retain(|l| !matches!(l, Listener::Waiter(w) if w.key() == key));
        }
    }

    /// Blocks until terminal or until `deadline`; returns the guard.
    fn wait_done(&self, deadline: Option<std::time::Instant>) -> MutexGuard<'_, Slot<T>> {
        // Spin only when the caller is prepared to wait a while: a zero or
        // tiny timeout means "look, don't wait".
        let patient = deadline.is_none_or(|d| {
            d.saturating_duration_since(std::time::Instant::now()) >= Duration::from_millis(1)
        });
        if patient {
            self.spin_until_terminal();
        }
        let mut slot = sync::lock(&self.slot);
        while !self.locked_state(&slot).is_done() {
            // Under the lock, like every write of the word.
            self.word.fetch_add(ONE_SLEEPER, Ordering::Relaxed);
            let (guard, timed_out) = sync::wait_until(&self.done, slot, deadline);
            slot = guard;
            self.word.fetch_sub(ONE_SLEEPER, Ordering::Relaxed);
            if timed_out {
                break;
            }
        }
        slot
    }
}

impl<T> Inner<T> {
    /// Spins for a few microseconds (then yields a few times) waiting for
    /// completion before the caller sleeps on the condvar: a tiny task is
    /// often done by then, and sleeping costs two system calls. Purely an
    /// optimisation: the caller re-checks under the lock either way.
    #[cfg(not(loom))]
    fn spin_until_terminal(&self) {
        let backoff = crossbeam_utils::Backoff::new();
        while !self.state().is_done() && !backoff.is_completed() {
            backoff.snooze();
        }
    }

    #[cfg(loom)]
    fn spin_until_terminal(&self) {}
}

/// Cancels one future without owning it, as its executor cancels: lets a
/// policy that handed the future to [`Future::on_complete`] still cancel
/// its task. It holds the task weakly: once the executor is done with the
/// task (and the future handle is gone), there is nothing left to cancel,
/// and holding it would keep alive what the task's callbacks hold.
#[derive(Clone)]
pub(crate) struct Canceller(std::sync::Arc<dyn CancelTask>);

/// The two ways to cancel, type-erased over the future's value type.
trait CancelTask: Send + Sync {
    fn cancel(&self) -> bool;
    fn cancel_pending(&self) -> bool;
}

impl<T> CancelTask for std::sync::Weak<dyn Cell<T>> {
    fn cancel(&self) -> bool {
        self.upgrade().is_some_and(|cell| cell.cancel())
    }
    fn cancel_pending(&self) -> bool {
        self.upgrade().is_some_and(|cell| cell.cancel_pending())
    }
}

impl Canceller {
    /// [`Future::cancel`] of the task.
    pub(crate) fn cancel(&self) -> bool {
        self.0.cancel()
    }

    /// [`Future::cancel_pending`] of the task.
    pub(crate) fn cancel_pending(&self) -> bool {
        self.0.cancel_pending()
    }
}

impl<T> Inner<T> {
    /// Fails the future with [`TaskError::Abandoned`] unless it is already
    /// terminal: what a completer that goes away unfinished does.
    pub(crate) fn abandon(&self) {
        let slot = sync::lock(&self.slot);
        if !self.locked_state(&slot).is_done() {
            self.finish(slot, State::Finished, Err(TaskError::Abandoned));
        }
    }
}
