//! [`StopToken`]: the lesson's `stop_event`, a flag a running task polls or
//! blocks on to learn it should stop.
//!
//! Threads cannot be killed safely, so thread tasks stop cooperatively: the
//! task decides when to look at its token. (A running process task can also
//! be killed: `Future::cancel` on a `ProcessPool` does it.)
//! This module owns the flag and its wake-up; it never interrupts anything.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::sync::{lock_std as lock, wait_timeout_std};

struct Shared {
    stopped: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
}

/// A cloneable "please stop" flag.
///
/// One token can be shared by many tasks (Python's `threading.Event` used as
/// `stop_event`); [`ThreadPool::submit_with_stop`](crate::ThreadPool::submit_with_stop)
/// gives each task its own, which [`Future::request_stop`](crate::Future::request_stop)
/// and `shutdown` with `cancel_pending` trigger.
///
/// ```
/// use std::time::Duration;
/// use hilo::StopToken;
///
/// let token = StopToken::new();
/// let worker = {
///     let token = token.clone();
///     std::thread::spawn(move || {
///         let mut ticks = 0;
///         // Sleep-free: wakes at once when stop is requested.
///         while !token.wait_timeout(Duration::from_millis(10)) {
///             ticks += 1;
///         }
///         ticks
///     })
/// };
/// token.request_stop();
/// worker.join().unwrap();
/// assert!(token.is_stop_requested());
/// ```
#[derive(Clone)]
pub struct StopToken {
    shared: Arc<Shared>,
}

impl StopToken {
    /// A token that has not been triggered.
    ///
    /// ```
    /// assert!(!hilo::StopToken::new().is_stop_requested());
    /// ```
    pub fn new() -> Self {
        StopToken {
            shared: Arc::new(Shared {
                stopped: AtomicBool::new(false),
                lock: Mutex::new(()),
                wake: Condvar::new(),
            }),
        }
    }

    /// True once [`StopToken::request_stop`] has been called on any clone.
    ///
    /// ```
    /// let t = hilo::StopToken::new();
    /// t.clone().request_stop();
    /// assert!(t.is_stop_requested());
    /// ```
    pub fn is_stop_requested(&self) -> bool {
        // Acquire pairs with the Release in request_stop: whatever the
        // requester wrote before asking is visible to the task that sees it.
        self.shared.stopped.load(Ordering::Acquire)
    }

    /// Triggers the token and wakes every thread blocked in
    /// [`StopToken::wait`] or [`StopToken::wait_timeout`]. Idempotent.
    ///
    /// ```
    /// let t = hilo::StopToken::new();
    /// t.request_stop();
    /// t.request_stop();
    /// assert!(t.is_stop_requested());
    /// ```
    pub fn request_stop(&self) {
        self.shared.stopped.store(true, Ordering::Release);
        // Taking the lock orders this notify after any waiter's check of the
        // flag, so a waiter cannot miss it between checking and sleeping.
        let _guard = lock(&self.shared.lock);
        self.shared.wake.notify_all();
    }

    /// Blocks until stop is requested or `timeout` passes; returns whether
    /// stop was requested. Use it instead of `sleep` in a task's loop: the
    /// task wakes at once when asked to stop.
    ///
    /// ```
    /// let t = hilo::StopToken::new();
    /// assert!(!t.wait_timeout(std::time::Duration::from_millis(1)));
    /// t.request_stop();
    /// assert!(t.wait_timeout(std::time::Duration::from_secs(60)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = crate::sync::deadline_after(timeout);
        let mut guard = lock(&self.shared.lock);
        while !self.is_stop_requested() {
            let now = std::time::Instant::now();
            let left = match deadline {
                Some(d) if d <= now => return false,
                Some(d) => d - now,
                None => Duration::from_secs(3600),
            };
            guard = wait_timeout_std(&self.shared.wake, guard, left);
        }
        true
    }

    /// Blocks until stop is requested.
    ///
    /// ```
    /// let t = hilo::StopToken::new();
    /// t.request_stop();
    /// t.wait();
    /// ```
    pub fn wait(&self) {
        while !self.wait_timeout(Duration::from_secs(3600)) {}
    }

    /// Runs `f` with this token as the thread's [`StopToken::current`]:
    /// how an executor that runs a `#[hilo::task]` on a thread (whose
    /// function takes no token) lets it learn that it should stop. The
    /// previous current token is back when `f` returns or panics.
    ///
    /// ```
    /// let t = hilo::StopToken::new();
    /// assert!(hilo::StopToken::current().is_none());
    /// t.request_stop();
    /// let seen = t.run_as_current(|| hilo::StopToken::current().unwrap().is_stop_requested());
    /// assert!(seen);
    /// assert!(hilo::StopToken::current().is_none());
    /// ```
    pub fn run_as_current<T>(&self, f: impl FnOnce() -> T) -> T {
        struct Restore(Option<StopToken>);
        impl Drop for Restore {
            fn drop(&mut self) {
                CURRENT.with(|c| *c.borrow_mut() = self.0.take());
            }
        }
        let previous = CURRENT.with(|c| c.borrow_mut().replace(self.clone()));
        let _restore = Restore(previous);
        f()
    }

    /// The token of the task this thread runs, if its executor gave it
    /// one ([`StopToken::run_as_current`]). A task in a process pool has
    /// none: it is stopped by killing its process.
    pub fn current() -> Option<StopToken> {
        CURRENT.with(|c| c.borrow().clone())
    }
}

thread_local! {
    static CURRENT: std::cell::RefCell<Option<StopToken>> = const { std::cell::RefCell::new(None) };
}

impl Default for StopToken {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for StopToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StopToken")
            .field("stop_requested", &self.is_stop_requested())
            .finish()
    }
}
