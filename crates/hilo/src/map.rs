//! [`map`]: apply a job to every item of an iterator on any executor,
//! lazily, with a bounded number of tasks in flight.
//!
//! This is the fix for Python's `Executor.map`, which submits every item
//! before returning (an endless iterator hangs, a huge one fills memory).
//! Here nothing is submitted until the first `next()`, at most `window`
//! tasks are queued or running at any time, each item yields its own
//! `Result`, and dropping the iterator cancels what it submitted and has not
//! started.

use std::collections::VecDeque;
use std::iter::Fuse;
use std::time::{Duration, Instant};

use crate::error::{SubmitError, TaskError};
use crate::executor::Executor;
use crate::future::Future;
use crate::wait::AsCompleted;

/// Maps `make_job` over `items` on `exec`, lazily; see [`Map`].
///
/// `make_job` turns an item into a job for the executor (a closure for
/// [`ThreadPool`](crate::ThreadPool), which also has the shortcut
/// [`ThreadPool::map`](crate::ThreadPool::map)). Results come in input order
/// unless [`Map::unordered`] is asked for.
///
/// ```
/// use hilo::ThreadPool;
///
/// let pool = ThreadPool::new();
/// // An endless input is fine: only `window` items are ever in flight.
/// let squares: Vec<u64> = hilo::map(&pool, 0u64.., |n| move || n * n)
///     .take(5)
///     .map(Result::unwrap)
///     .collect();
/// assert_eq!(squares, vec![0, 1, 4, 9, 16]);
/// ```
pub fn map<'e, E, J, I, M>(
    exec: &'e E,
    items: I,
    mut make_job: M,
) -> Map<'e, I::IntoIter, E::Output>
where
    E: Executor<J> + ?Sized,
    I: IntoIterator,
    M: FnMut(I::Item) -> J + 'e,
{
    let window = 2 * exec.max_workers().max(1);
    Map::new(
        items.into_iter(),
        Box::new(move |item| exec.submit(make_job(item))),
        window,
    )
}

/// The lazy iterator returned by [`map`] and
/// [`ThreadPool::map`](crate::ThreadPool::map): one `Result` per item.
///
/// Configure it before the first `next()`: [`Map::window`] sets how many
/// tasks may be in flight (default 2 × the executor's workers),
/// [`Map::unordered`] yields results as they complete instead of in input
/// order. A failed item (panic, …) is an `Err` at its place; the other items
/// are unaffected. If the executor refuses a task (shut down), that item is
/// `Err(TaskError::Shutdown)`.
///
/// Dropping the iterator cancels every task it submitted that has not
/// started; running ones finish and their results are discarded.
///
/// ```
/// let pool = hilo::ThreadPool::new();
/// let mut it = pool.map(1..=1_000_000u64, |n| n % 7);
/// assert_eq!(it.next(), Some(Ok(1)));
/// drop(it); // the rest of the window is cancelled; nothing else is submitted
/// ```
pub struct Map<'e, I: Iterator, T> {
    items: Fuse<I>,
    submit: Submit<'e, I::Item, T>,
    window: usize,
    ordered: bool,
    in_order: VecDeque<Future<T>>,
    any_order: AsCompleted<Future<T>, T>,
    deadline: Option<Instant>,
    /// The deadline passed: the map has ended.
    expired: bool,
}

/// Submits one item's job; boxed so that [`Map`] is a nameable type.
type Submit<'e, X, T> = Box<dyn FnMut(X) -> Result<Future<T>, SubmitError> + 'e>;

impl<'e, I: Iterator, T: Send + 'static> Map<'e, I, T> {
    pub(crate) fn new(items: I, submit: Submit<'e, I::Item, T>, window: usize) -> Self {
        Map {
            items: items.fuse(),
            submit,
            window: window.max(1),
            ordered: true,
            in_order: VecDeque::new(),
            any_order: AsCompleted::empty(None),
            deadline: None,
            expired: false,
        }
    }

    /// One deadline for the whole map, `timeout` from this call (Python's
    /// `map(timeout=)`). Results that are ready by then are yielded as
    /// usual; the first one that is not yields `Err(TaskError::Timeout)`,
    /// and the map ends there: it submits nothing more and cancels what it
    /// has in flight and has not started (running tasks finish, even on a
    /// process pool, and their results are dropped).
    ///
    /// ```
    /// use std::time::Duration;
    /// let pool = hilo::ThreadPool::builder().max_workers(1).build().unwrap();
    /// let release = hilo::StopToken::new();
    /// let r = release.clone();
    /// let out: Vec<_> = pool
    ///     .map(0..3, move |i| {
    ///         if i == 1 {
    ///             r.wait(); // item 1 is stuck until released
    ///         }
    ///         i
    ///     })
    ///     .timeout(Duration::from_millis(50))
    ///     .collect();
    /// release.request_stop();
    /// assert_eq!(out, vec![Ok(0), Err(hilo::TaskError::Timeout)]);
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.deadline = crate::sync::deadline_after(timeout);
        self.any_order = AsCompleted::empty(self.deadline);
        self
    }

    /// At most `n` tasks queued or running at once (at least 1).
    ///
    /// ```
    /// let pool = hilo::ThreadPool::builder().max_workers(2).build().unwrap();
    /// let out: Vec<_> = pool.map(1..=3, |x| x + 1).window(1).collect();
    /// assert_eq!(out, vec![Ok(2), Ok(3), Ok(4)]);
    /// ```
    pub fn window(mut self, n: usize) -> Self {
        self.window = n.max(1);
        self
    }

    /// Yield results as tasks complete rather than in input order.
    ///
    /// ```
    /// let pool = hilo::ThreadPool::new();
    /// let mut out: Vec<u32> = pool.map(1..=4, |x| x * 10).unordered().map(Result::unwrap).collect();
    /// out.sort();
    /// assert_eq!(out, vec![10, 20, 30, 40]);
    /// ```
    pub fn unordered(mut self) -> Self {
        self.ordered = false;
        self
    }

    fn in_flight(&self) -> usize {
        self.in_order.len() + self.any_order.len()
    }

    /// Submits items until `window` are in flight or the input ends.
    fn fill(&mut self) {
        while self.in_flight() < self.window {
            let Some(item) = self.items.next() else {
                return;
            };
            let fut = (self.submit)(item).unwrap_or_else(|e| Future::ready(Err(e.into())));
            if self.ordered {
                self.in_order.push_back(fut);
            } else {
                self.any_order.push(fut);
            }
        }
    }
}

impl<I: Iterator, T: Send + 'static> Iterator for Map<'_, I, T> {
    type Item = Result<T, TaskError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.expired {
            return None;
        }
        self.fill();
        let outcome = if self.ordered {
            let mut fut = self.in_order.pop_front()?;
            match self.deadline {
                None => fut.result(),
                Some(d) => {
                    let outcome = fut.result_timeout(d.saturating_duration_since(Instant::now()));
                    if matches!(outcome, Err(TaskError::Timeout)) {
                        fut.cancel_pending();
                    }
                    outcome
                }
            }
        } else {
            match self.any_order.next()? {
                Ok(fut) => fut.result(),
                Err(_) => Err(TaskError::Timeout),
            }
        };
        if matches!(outcome, Err(TaskError::Timeout)) {
            self.expire();
        }
        Some(outcome)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (lo, hi) = self.items.size_hint();
        let n = self.in_flight();
        (lo.saturating_add(n), hi.and_then(|h| h.checked_add(n)))
    }
}

impl<I: Iterator, T> Map<'_, I, T> {
    /// Ends the map: cancels what is in flight and has not started; what
    /// runs finishes (even on a process pool) and its result is dropped.
    fn expire(&mut self) {
        self.expired = true;
        for fut in &self.in_order {
            fut.cancel_pending();
        }
        self.any_order.cancel_pending();
    }
}

impl<I: Iterator, T> Drop for Map<'_, I, T> {
    fn drop(&mut self) {
        self.expire();
    }
}

impl<I: Iterator, T> std::fmt::Debug for Map<'_, I, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Map")
            .field("window", &self.window)
            .field("ordered", &self.ordered)
            .field("in_flight", &(self.in_order.len() + self.any_order.len()))
            .finish()
    }
}
