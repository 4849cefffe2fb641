//! The synchronisation primitives the future and its waiters are built on.
//!
//! Under `--cfg loom` these are loom's model-checked versions, so the loom
//! tests (`tests/loom_*.rs`, and the `loom_` unit tests of the process
//! cell) explore every interleaving of the state machine and of the
//! protocols around it: the relay of `retry` and `PriorityExecutor`, the
//! priority queue's hand-off, the process cell's place; otherwise they are
//! std's. Nothing else in the crate may reach for a mutex directly when it
//! guards a future's state or a lock held around one.

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicU32, AtomicUsize, Ordering},
    Arc, Condvar, Mutex, MutexGuard,
};
#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{AtomicU32, AtomicUsize, Ordering},
    Arc, Condvar, Mutex, MutexGuard,
};

use std::time::Instant;

/// Locks `m`, ignoring poisoning: no code in hilo panics while holding one
/// of these locks (user code never runs under them), and a poisoned lock
/// would otherwise turn one bug into a cascade of unrelated panics.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `lock` for the plain std mutexes of the pools and policies (std's even
/// under `--cfg loom`, where only the future's core is model-checked).
pub(crate) fn lock_std<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `wait` for the std condvars of the pools, the timer and stop tokens.
pub(crate) fn wait_std<'a, T>(
    cv: &std::sync::Condvar,
    guard: std::sync::MutexGuard<'a, T>,
) -> std::sync::MutexGuard<'a, T> {
    cv.wait(guard).unwrap_or_else(|e| e.into_inner())
}

/// Blocks on std's `cv` until notified or `timeout` passes (spurious
/// wake-ups possible: callers loop and look at the clock).
pub(crate) fn wait_timeout_std<'a, T>(
    cv: &std::sync::Condvar,
    guard: std::sync::MutexGuard<'a, T>,
    timeout: std::time::Duration,
) -> std::sync::MutexGuard<'a, T> {
    cv.wait_timeout(guard, timeout)
        .unwrap_or_else(|e| e.into_inner())
        .0
}

/// Reads a std `RwLock`, ignoring poisoning (as `lock`).
pub(crate) fn read_std<T>(l: &std::sync::RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

/// Writes a std `RwLock`, ignoring poisoning (as `lock`).
pub(crate) fn write_std<T>(l: &std::sync::RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

/// Blocks on `cv` until notified (spurious wake-ups possible: callers loop).
pub(crate) fn wait<'a, T>(cv: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    cv.wait(guard).unwrap_or_else(|e| e.into_inner())
}

/// Blocks on `cv` until notified or `deadline` passes; returns the guard and
/// whether the deadline has passed. `None` waits without a deadline.
pub(crate) fn wait_until<'a, T>(
    cv: &Condvar,
    guard: MutexGuard<'a, T>,
    deadline: Option<Instant>,
) -> (MutexGuard<'a, T>, bool) {
    match deadline {
        None => (wait(cv, guard), false),
        Some(deadline) => {
            let now = Instant::now();
            if now >= deadline {
                return (guard, true);
            }
            let (guard, _) = cv
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(|e| e.into_inner());
            (guard, Instant::now() >= deadline)
        }
    }
}

/// A deadline `timeout` from now; `None` (wait forever) if it does not fit
/// in an `Instant`.
pub(crate) fn deadline_after(timeout: std::time::Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}
