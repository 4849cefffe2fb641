//! [`Waiter`]: one sleeper registered with many futures at once, what
//! [`wait`](crate::wait) and [`as_completed`](crate::as_completed) block on.
//!
//! A leaf: it knows nothing of futures, only the keys completing futures
//! report to it (so the future can notify it and `wait.rs` can sleep on it
//! without the two depending on each other).

use std::time::Instant;

use crate::sync::{self, Arc, Condvar, Mutex, MutexGuard};

/// What completing futures tell a waiter.
#[derive(Default)]
pub(crate) struct Completions {
    /// Keys of futures that became terminal since registration, in order.
    pub(crate) keys: Vec<usize>,
    /// How many of those failed with an error other than `Cancelled`.
    pub(crate) failures: usize,
}

/// A sleeper registered with several futures at once.
pub(crate) struct Waiter {
    completions: Mutex<Completions>,
    wake: Condvar,
}

impl Waiter {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Waiter {
            completions: Mutex::new(Completions::default()),
            wake: Condvar::new(),
        })
    }

    /// A stable identity (its address), to find it among listeners.
    pub(crate) fn key(&self) -> usize {
        self as *const Self as usize
    }

    /// Called by a completing future, never with the future's lock held.
    pub(crate) fn notify(&self, future_key: usize, failed: bool) {
        let mut c = sync::lock(&self.completions);
        c.keys.push(future_key);
        c.failures += usize::from(failed);
        drop(c);
        self.wake.notify_one();
    }

    /// What completing futures have reported so far.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Completions> {
        sync::lock(&self.completions)
    }

    /// Sleeps until a future reports (or spuriously) or `deadline` passes;
    /// the guard back, and whether the deadline has passed.
    pub(crate) fn sleep<'a>(
        &self,
        guard: MutexGuard<'a, Completions>,
        deadline: Option<Instant>,
    ) -> (MutexGuard<'a, Completions>, bool) {
        sync::wait_until(&self.wake, guard, deadline)
    }
}
