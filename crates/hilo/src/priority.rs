//! [`PriorityExecutor`]: submit with a priority; higher runs first, FIFO
//! within a level (the lesson's three-level download queue).
//!
//! Written once over [`Executor`]: the wrapper keeps its own heap and feeds
//! the inner executor at most `max_workers` jobs at a time, so the heap, not
//! the inner FIFO queue, decides what runs next. It never holds its lock
//! while submitting or completing.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use crate::error::SubmitError;
use crate::executor::Executor;
use crate::future::{Cell, Future, Promise};
use crate::relay::Relay;
use crate::sync::{lock, Mutex};

/// Priority levels for the common three-level case; any `i32` works.
///
/// ```
/// assert!(hilo::Priority::HIGH > hilo::Priority::NORMAL);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(pub i32);

impl Priority {
    /// Runs before `NORMAL` and `LOW`.
    pub const HIGH: Priority = Priority(10);
    /// The level of plain `Executor::submit`.
    pub const NORMAL: Priority = Priority(0);
    /// Runs after everything else.
    pub const LOW: Priority = Priority(-10);
}

struct Queued<J, O> {
    priority: Priority,
    seq: u64,
    job: J,
    promise: Promise<O>,
    /// The promise's record: relays a cancel to the inner executor's
    /// future once the job is dispatched.
    relay: Arc<Relay<O>>,
}

impl<J, O> PartialEq for Queued<J, O> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<J, O> Eq for Queued<J, O> {}
impl<J, O> PartialOrd for Queued<J, O> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<J, O> Ord for Queued<J, O> {
    /// Max-heap order: higher priority first, then lower sequence (FIFO).
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

struct State<J, O> {
    heap: BinaryHeap<Queued<J, O>>,
    in_flight: usize,
    seq: u64,
    /// A thread is inside `dispatch`; others leave the work to it.
    dispatching: bool,
    /// Something changed while a dispatch was running: it must look again.
    again: bool,
}

struct Shared<E, J, O> {
    exec: E,
    limit: usize,
    state: Mutex<State<J, O>>,
}

/// Wraps an executor so that jobs run in priority order.
///
/// Higher [`Priority`] first; equal priorities in submission order. At most
/// `max_workers` jobs are handed to the inner executor at once; the rest
/// wait here, where a cancelled future is skipped without running. Once a
/// job is handed over, `cancel()` of its future cancels it as the inner
/// executor cancels (a running process task is killed; a running thread
/// task cannot be stopped). Needs an executor it can own and share between
/// threads, such as `Arc<ThreadPool>`.
///
/// Jobs of different closures need one type: box them as [`BoxJob`](crate::BoxJob).
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use hilo::{BoxJob, Priority, PriorityExecutor, ThreadPool};
///
/// let pool = Arc::new(ThreadPool::builder().max_workers(1).build().unwrap());
/// let prio: PriorityExecutor<_, BoxJob<()>> = PriorityExecutor::new(Arc::clone(&pool));
/// let order = Arc::new(Mutex::new(Vec::new()));
/// let (gate, blocker) = hilo::Promise::<()>::new();
/// // Occupy the only worker so the next jobs queue up.
/// let first = prio.submit(Priority::NORMAL, Box::new(move || blocker.result().unwrap())).unwrap();
/// let futs: Vec<_> = [("low", Priority::LOW), ("high", Priority::HIGH), ("normal", Priority::NORMAL)]
///     .into_iter()
///     .map(|(name, p)| {
///         let order = Arc::clone(&order);
///         prio.submit(p, Box::new(move || order.lock().unwrap().push(name))).unwrap()
///     })
///     .collect();
/// gate.complete(Ok(()));
/// first.result().unwrap();
/// for f in futs { f.result().unwrap(); }
/// assert_eq!(*order.lock().unwrap(), ["high", "normal", "low"]);
/// ```
pub struct PriorityExecutor<E: Executor<J>, J> {
    shared: Arc<Shared<E, J, E::Output>>,
}

impl<E, J> PriorityExecutor<E, J>
where
    E: Executor<J> + Send + Sync + 'static,
    J: Send + 'static,
{
    /// Wraps `exec`.
    ///
    /// ```
    /// let prio = hilo::PriorityExecutor::new(std::sync::Arc::new(hilo::ThreadPool::new()));
    /// assert_eq!(prio.submit(hilo::Priority::HIGH, || 1).unwrap().result(), Ok(1));
    /// ```
    pub fn new(exec: E) -> Self {
        let limit = exec.max_workers().max(1);
        PriorityExecutor {
            shared: Arc::new(Shared {
                exec,
                limit,
                state: Mutex::new(State {
                    heap: BinaryHeap::new(),
                    in_flight: 0,
                    seq: 0,
                    dispatching: false,
                    again: false,
                }),
            }),
        }
    }

    /// Queues `job` at `priority`.
    ///
    /// # Errors
    /// Never fails itself; if the inner executor refuses the job when its
    /// turn comes, the future fails with that error.
    ///
    /// ```
    /// let prio = hilo::PriorityExecutor::new(std::sync::Arc::new(hilo::ThreadPool::new()));
    /// let f = prio.submit(hilo::Priority(3), || "x").unwrap();
    /// assert_eq!(f.result(), Ok("x"));
    /// ```
    pub fn submit(&self, priority: Priority, job: J) -> Result<Future<E::Output>, SubmitError> {
        let relay = Arc::new(Relay::new());
        let (promise, future) = Promise::with_cell(Arc::clone(&relay) as Arc<dyn Cell<E::Output>>);
        {
            let mut st = lock(&self.shared.state);
            st.seq += 1;
            let seq = st.seq;
            st.heap.push(Queued {
                priority,
                seq,
                job,
                promise,
                relay,
            });
        }
        Shared::dispatch(&self.shared);
        Ok(future)
    }

    /// This executor at one priority: an [`Executor`] that submits every
    /// job at `priority`, sharing this one's queue. What [`retry`](crate::retry)
    /// needs to put a job's next attempt back at its own level.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use hilo::{retry, Priority, PriorityExecutor, RetryPolicy, ThreadPool};
    ///
    /// let prio = PriorityExecutor::new(Arc::new(ThreadPool::new()));
    /// let policy = RetryPolicy::new(3).backoff(Duration::ZERO, Duration::ZERO);
    /// let f = retry(prio.at(Priority::HIGH), policy, || || 7);
    /// assert_eq!(f.result(), Ok(7));
    /// ```
    pub fn at(&self, priority: Priority) -> AtPriority<E, J> {
        AtPriority {
            shared: Arc::clone(&self.shared),
            priority,
        }
    }

    /// How many jobs wait here for their turn.
    ///
    /// ```
    /// let pool = std::sync::Arc::new(hilo::ThreadPool::new());
    /// let prio = hilo::PriorityExecutor::<_, hilo::BoxJob<u8>>::new(pool);
    /// assert_eq!(prio.queued(), 0);
    /// ```
    pub fn queued(&self) -> usize {
        lock(&self.shared.state).heap.len()
    }
}

impl<E, J> Shared<E, J, E::Output>
where
    E: Executor<J> + Send + Sync + 'static,
    J: Send + 'static,
{
    /// Hands queued jobs to the inner executor while there is room. Only
    /// one thread dispatches at a time; the others set `again` and leave, so
    /// a job that completes at once cannot recurse into here.
    fn dispatch(this: &Arc<Self>) {
        {
            let mut st = lock(&this.state);
            if st.dispatching {
                st.again = true;
                return;
            }
            st.dispatching = true;
        }
        loop {
            let next = {
                let mut st = lock(&this.state);
                let next = if st.in_flight < this.limit {
                    st.heap.pop()
                } else {
                    None
                };
                match next {
                    Some(q) => {
                        st.in_flight += 1;
                        q
                    }
                    None if st.again => {
                        st.again = false;
                        continue;
                    }
                    None => {
                        st.dispatching = false;
                        return;
                    }
                }
            };
            Self::start(this, next);
        }
    }

    fn start(this: &Arc<Self>, q: Queued<J, E::Output>) {
        let Queued {
            job,
            promise,
            relay,
            ..
        } = q;
        if !promise.set_running() {
            lock(&this.state).in_flight -= 1; // cancelled while queued
            return;
        }
        match relay.attach(|| this.exec.submit(job)) {
            Some(Ok(fut)) => {
                let shared = Arc::clone(this);
                fut.on_complete(move |outcome| {
                    // Still attached to the finished job: a cancel from now
                    // on is refused, as for any finished task.
                    relay.complete(promise, outcome);
                    lock(&shared.state).in_flight -= 1;
                    Shared::dispatch(&shared);
                });
            }
            Some(Err(e)) => {
                promise.complete(Err(e.into()));
                lock(&this.state).in_flight -= 1;
            }
            // Cancelled between the two steps above.
            None => lock(&this.state).in_flight -= 1,
        }
    }
}

impl<E, J> Executor<J> for PriorityExecutor<E, J>
where
    E: Executor<J> + Send + Sync + 'static,
    J: Send + 'static,
{
    type Output = E::Output;

    /// Submits at [`Priority::NORMAL`].
    fn submit(&self, job: J) -> Result<Future<E::Output>, SubmitError> {
        PriorityExecutor::submit(self, Priority::NORMAL, job)
    }

    fn max_workers(&self) -> usize {
        self.shared.limit
    }
}

/// A [`PriorityExecutor`] at one priority ([`PriorityExecutor::at`]).
pub struct AtPriority<E: Executor<J>, J> {
    shared: Arc<Shared<E, J, E::Output>>,
    priority: Priority,
}

impl<E, J> Executor<J> for AtPriority<E, J>
where
    E: Executor<J> + Send + Sync + 'static,
    J: Send + 'static,
{
    type Output = E::Output;

    /// Submits at this executor's priority.
    fn submit(&self, job: J) -> Result<Future<E::Output>, SubmitError> {
        let exec = PriorityExecutor {
            shared: Arc::clone(&self.shared),
        };
        exec.submit(self.priority, job)
    }

    fn max_workers(&self) -> usize {
        self.shared.limit
    }
}

impl<E: Executor<J>, J> std::fmt::Debug for AtPriority<E, J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtPriority")
            .field("priority", &self.priority)
            .finish_non_exhaustive()
    }
}

impl<E: Executor<J>, J> std::fmt::Debug for PriorityExecutor<E, J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PriorityExecutor")
            .field("limit", &self.shared.limit)
            .finish_non_exhaustive()
    }
}
