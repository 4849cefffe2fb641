//! [`wait`] and [`as_completed`]: block on many futures at once.
//!
//! Both register one `Waiter` with every unfinished future; the thread that
//! completes a future tells the waiter which one it was. Nobody polls and
//! nobody sleeps: a waiter sleeps on its own condition variable until a
//! completion (or its deadline) wakes it. On the way out every registration
//! is removed, so futures keep no trace of a finished wait.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use crate::error::AsCompletedTimeout;
use crate::future::Future;
use crate::sync::{self, Arc};
use crate::waiter::Waiter;

/// When [`wait`] returns.
///
/// ```
/// use hilo::{wait, Future, ReturnWhen, TaskError};
///
/// let ok = Future::ready(Ok::<u8, TaskError>(1));
/// let (_p, pending) = hilo::Promise::<u8>::new();
/// let w = wait([&ok, &pending], None, ReturnWhen::FirstCompleted);
/// assert_eq!((w.done.len(), w.pending.len()), (1, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any future is done (several may be by then).
    FirstCompleted,
    /// As soon as any future fails with an error other than
    /// [`TaskError::Cancelled`](crate::TaskError::Cancelled), or when all are
    /// done. A task whose *value* is an `Err` did not fail: only a
    /// [`TaskError`](crate::TaskError) (panic, …) counts.
    FirstException,
    /// When every future is done.
    AllCompleted,
}

/// The two halves [`wait`] returns, each in the order the futures were given.
///
/// ```
/// let futs = vec![hilo::Future::ready(Ok::<u8, hilo::TaskError>(1))];
/// let hilo::Waited { done, pending } = hilo::wait(futs, None, hilo::ReturnWhen::AllCompleted);
/// assert_eq!(done[0].exception(), None);
/// assert!(pending.is_empty());
/// ```
#[derive(Debug)]
pub struct Waited<F> {
    /// Futures that were done (finished or cancelled) when `wait` returned.
    pub done: Vec<F>,
    /// Futures that were not.
    pub pending: Vec<F>,
}

/// Waits until `when` holds for `futures`, or `timeout` passes, and splits
/// them into done and pending.
///
/// `futures` can be owned futures or references (`&futs` for a
/// `Vec<Future<T>>`); the same future given twice is counted once. A timeout
/// is not an error: you get the split as it stands. A cancelled future is
/// done (unlike Python, which waits for the executor to notice).
///
/// ```
/// use hilo::{wait, ReturnWhen, ThreadPool};
///
/// let pool = ThreadPool::new();
/// let futs: Vec<_> = (0..4).map(|i| pool.submit(move || i * i).unwrap()).collect();
/// let w = wait(&futs, None, ReturnWhen::AllCompleted);
/// assert_eq!(w.done.len(), 4);
/// assert!(w.pending.is_empty());
/// ```
pub fn wait<I, F, T>(futures: I, timeout: Option<Duration>, when: ReturnWhen) -> Waited<F>
where
    I: IntoIterator<Item = F>,
    F: Borrow<Future<T>>,
{
    let deadline = timeout.and_then(sync::deadline_after);
    let futures = dedup(futures);
    let waiter = Waiter::new();
    let mut already_done = 0;
    let mut already_failed = 0;
    for f in &futures {
        if let Some(failed) = f.borrow().inner().add_waiter(&waiter) {
            already_done += 1;
            already_failed += usize::from(failed);
        }
    }

    let total = futures.len();
    let mut c = waiter.lock();
    loop {
        let done = already_done + c.keys.len();
        let failed = already_failed + c.failures;
        let satisfied = done == total
            || match when {
                ReturnWhen::FirstCompleted => done > 0,
                ReturnWhen::FirstException => failed > 0,
                ReturnWhen::AllCompleted => false,
            };
        if satisfied {
            break;
        }
        let (guard, timed_out) = waiter.sleep(c, deadline);
        c = guard;
        if timed_out {
            break;
        }
    }
    drop(c);

    let mut out = Waited {
        done: Vec::new(),
        pending: Vec::new(),
    };
    for f in futures {
        f.borrow().inner().remove_waiter(&waiter);
        if f.borrow().done() {
            out.done.push(f);
        } else {
            out.pending.push(f);
        }
    }
    out
}

/// Keeps the first of each distinct future, in order.
fn dedup<I, F, T>(futures: I) -> Vec<F>
where
    I: IntoIterator<Item = F>,
    F: Borrow<Future<T>>,
{
    let mut seen = HashSet::new();
    futures
        .into_iter()
        .filter(|f| seen.insert(f.borrow().inner().key()))
        .collect()
}

/// Yields each of `futures` once, as it becomes done: those already done
/// first, then the rest in the order they complete.
///
/// The deadline (`timeout` from now) is fixed at this call. If it passes
/// with futures still unfinished, the iterator yields one
/// `Err(AsCompletedTimeout)` naming how many, then ends; the unfinished
/// futures can be taken back with [`AsCompleted::into_remaining`].
/// Duplicates are yielded once. A cancelled future is yielded at once.
///
/// ```
/// use hilo::{as_completed, ThreadPool};
///
/// let pool = ThreadPool::new();
/// let futs: Vec<_> = (1..=3u64).map(|n| pool.submit(move || n * 10).unwrap()).collect();
/// let mut total = 0;
/// for fut in as_completed(futs, None) {
///     total += fut.unwrap().result().unwrap();
/// }
/// assert_eq!(total, 60);
/// ```
pub fn as_completed<I, F, T>(futures: I, timeout: Option<Duration>) -> AsCompleted<F, T>
where
    I: IntoIterator<Item = F>,
    F: Borrow<Future<T>>,
{
    let mut it = AsCompleted::empty(timeout.and_then(sync::deadline_after));
    for f in dedup(futures) {
        it.push(f);
    }
    it
}

/// The iterator returned by [`as_completed`]: `Ok(future)` for each future
/// as it becomes done, or one `Err` when the deadline passes.
///
/// ```
/// use std::time::Duration;
/// let (promise, fut) = hilo::Promise::<u8>::new();
/// let mut it = hilo::as_completed(vec![fut], Some(Duration::from_secs(10)));
/// std::thread::spawn(move || promise.complete(Ok(9)));
/// assert_eq!(it.next().unwrap().unwrap().result(), Ok(9));
/// assert!(it.next().is_none());
/// ```
pub struct AsCompleted<F: Borrow<Future<T>>, T> {
    /// Done futures not yet yielded, in the order they were seen done.
    ready: VecDeque<F>,
    /// Futures the waiter is registered with, by key.
    pending: HashMap<usize, F>,
    waiter: Arc<Waiter>,
    deadline: Option<Instant>,
    total: usize,
    timed_out: bool,
    _value: PhantomData<fn() -> T>,
}

impl<F: Borrow<Future<T>>, T> AsCompleted<F, T> {
    pub(crate) fn empty(deadline: Option<Instant>) -> Self {
        AsCompleted {
            ready: VecDeque::new(),
            pending: HashMap::new(),
            waiter: Waiter::new(),
            deadline,
            total: 0,
            timed_out: false,
            _value: PhantomData,
        }
    }

    /// Adds one more future to watch (the caller guarantees it is new).
    pub(crate) fn push(&mut self, f: F) {
        self.total += 1;
        match f.borrow().inner().add_waiter(&self.waiter) {
            Some(_) => self.ready.push_back(f),
            None => {
                self.pending.insert(f.borrow().inner().key(), f);
            }
        }
    }

    /// How many futures are watched and not yet yielded.
    pub(crate) fn len(&self) -> usize {
        self.ready.len() + self.pending.len()
    }

    /// Cancels every watched future that has not started (running ones
    /// are left alone, even on a process pool).
    pub(crate) fn cancel_pending(&self) {
        for f in self.pending.values() {
            f.borrow().cancel_pending();
        }
    }

    /// Stops watching and returns the futures not yet yielded (done ones
    /// first).
    ///
    /// ```
    /// let (_p, fut) = hilo::Promise::<u8>::new();
    /// let mut it = hilo::as_completed(vec![fut], Some(std::time::Duration::ZERO));
    /// assert!(it.next().unwrap().is_err()); // deadline passed
    /// let left = it.into_remaining();
    /// assert_eq!(left.len(), 1);
    /// ```
    pub fn into_remaining(mut self) -> Vec<F> {
        self.unregister();
        let mut out: Vec<F> = self.ready.drain(..).collect();
        out.extend(self.pending.drain().map(|(_, f)| f));
        out
    }

    fn unregister(&self) {
        for f in self.pending.values() {
            f.borrow().inner().remove_waiter(&self.waiter);
        }
    }

    /// Moves futures the waiter heard about from `pending` to `ready`.
    fn collect_completions(&mut self, keys: Vec<usize>) {
        for key in keys {
            if let Some(f) = self.pending.remove(&key) {
                self.ready.push_back(f);
            }
        }
    }
}

impl<F: Borrow<Future<T>>, T> Iterator for AsCompleted<F, T> {
    type Item = Result<F, AsCompletedTimeout>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(f) = self.ready.pop_front() {
                return Some(Ok(f));
            }
            if self.pending.is_empty() || self.timed_out {
                return None;
            }
            let mut c = self.waiter.lock();
            let mut timed_out = false;
            while c.keys.is_empty() && !timed_out {
                let (guard, t) = self.waiter.sleep(c, self.deadline);
                c = guard;
                timed_out = t;
            }
            let keys = std::mem::take(&mut c.keys);
            drop(c);
            if keys.is_empty() {
                self.timed_out = true;
                return Some(Err(AsCompletedTimeout {
                    unfinished: self.pending.len(),
                    total: self.total,
                }));
            }
            self.collect_completions(keys);
        }
    }
}

impl<F: Borrow<Future<T>>, T> Drop for AsCompleted<F, T> {
    fn drop(&mut self) {
        self.unregister();
    }
}

impl<F: Borrow<Future<T>>, T> std::fmt::Debug for AsCompleted<F, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsCompleted")
            .field("ready", &self.ready.len())
            .field("pending", &self.pending.len())
            .field("total", &self.total)
            .finish()
    }
}
