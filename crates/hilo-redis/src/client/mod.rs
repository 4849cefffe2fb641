//! [`RedisExecutor`]: the client side. It queues `#[hilo::task]` calls in
//! Redis and hands back hilo futures, which its reader thread completes
//! from the client's inbox.

mod builder;
mod done;
mod reader;

pub use builder::RedisExecutorBuilder;
use done::{Chunk, Done, One};

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use hilo::process::{encode_chunk, Call, ChunkExecutor, ChunkFuture};
use hilo::{CancelReach, Executor, Future, Priority, Promise, Shutdown, SubmitError, TaskError};
use serde::de::DeserializeOwned;

use crate::broker::{Broker, BrokerError, Inboxes, Level, Presence, Withdrawn};
use crate::every;
use crate::streams::Streams;
use crate::wire::Envelope;

/// How many times a task is handed out before it is given up, unless the
/// builder says otherwise.
pub const DEFAULT_MAX_DELIVERIES: u32 = 3;

/// Runs `#[hilo::task]` calls on the workers (`hilo_redis::serve`) of a
/// Redis server, through the same [`Executor`] interface as a
/// `ProcessPool`: `wait`, `as_completed`, `map`, retry, priority and
/// progress work on it unchanged.
///
/// - A future's value is delivered once, whatever happens to workers: the
///   first worker to finish a task writes its one result; a task runs at
///   least once (again if its worker died or stalled past its lease).
/// - `cancel()` of a queued task removes it from the queue; of a running
///   one, its worker kills the process running it. Either way the future
///   is cancelled at once and no value of that task will ever arrive.
/// - A task's timeout (`Call::timeout`, or the builder's) kills it on its
///   worker: `TaskError::TimedOut`.
/// - A task handed out more than `max_deliveries` times (every worker that
///   took it died) fails with `TaskError::GaveUp`; the queue moves on.
/// - The client is not told when a worker starts a task: its future is
///   `Pending` until the result arrives.
/// - Dropping the executor is `shutdown(Shutdown::default())`: it waits
///   for every task's result, so with no workers alive it waits for one to
///   come.
pub struct RedisExecutor {
    shared: Arc<Shared>,
    reader: Mutex<Option<JoinHandle<()>>>,
}

/// What the submitting threads, the cancel hooks and the reader share.
pub(crate) struct Shared {
    /// The connection submits and cancels go through.
    queue: Mutex<Streams>,
    /// This client's inbox: where workers send its results.
    inbox: String,
    next_tag: std::sync::atomic::AtomicU64,
    waiting: Mutex<Waiting>,
    /// Signalled when `waiting.tasks` becomes empty.
    drained: Condvar,
    max_workers: usize,
    max_deliveries: u32,
    level: Level,
    timeout: Option<Duration>,
    /// Replies for no waiting task.
    stray: std::sync::atomic::AtomicU64,
}

/// The tasks whose results have not come back.
#[derive(Default)]
pub(crate) struct Waiting {
    tasks: HashMap<u64, Waiter>,
    /// `shutdown` was called: no new tasks.
    closed: bool,
}

/// One submitted task, until its result comes or it is cancelled.
struct Waiter {
    level: Level,
    /// The queue's id of its entry, once the push has returned.
    id: Option<String>,
    done: Box<dyn Done>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RedisExecutor {
    /// An executor on the Redis server at `url`, with the defaults: key
    /// prefix `hilo`, medium priority, no timeout, 3 deliveries, as many
    /// workers as the live workers serve.
    ///
    /// # Errors
    /// The server cannot be reached or refuses.
    pub fn connect(url: &str) -> Result<RedisExecutor, BrokerError> {
        RedisExecutor::builder(url).build()
    }

    /// A builder for the prefix, priority, timeout and delivery cap.
    pub fn builder(url: &str) -> RedisExecutorBuilder {
        RedisExecutorBuilder::new(url)
    }

    /// Queues `call` at the executor's priority.
    ///
    /// # Errors
    /// [`SubmitError::Shutdown`] after `shutdown`;
    /// [`SubmitError::Unreachable`] if Redis cannot be reached.
    pub fn submit<R>(&self, call: Call<R>) -> Result<Future<R>, SubmitError>
    where
        R: DeserializeOwned + Send + 'static,
    {
        self.enqueue_call(self.shared.level, call)
    }

    /// Queues `call` at `priority`: above `Priority::NORMAL` in the high
    /// queue, below it in the low one, else the medium one. Every queued
    /// task of a higher queue is handed out before any of a lower one.
    ///
    /// # Errors
    /// As [`RedisExecutor::submit`].
    pub fn submit_at<R>(&self, priority: Priority, call: Call<R>) -> Result<Future<R>, SubmitError>
    where
        R: DeserializeOwned + Send + 'static,
    {
        self.enqueue_call(Level::of(priority), call)
    }

    fn enqueue_call<R>(&self, level: Level, call: Call<R>) -> Result<Future<R>, SubmitError>
    where
        R: DeserializeOwned + Send + 'static,
    {
        let args = match call.encode() {
            Ok(args) => args,
            Err(error) => return Ok(Future::ready(Err(error))),
        };
        let timeout = call.time_limit().or(self.shared.timeout);
        self.shared
            .enqueue(level, call.task_name(), vec![args], timeout, |p| {
                Box::new(One(p))
            })
    }

    /// Runs several calls of one task as one queued task (one round trip
    /// to one worker): one `Result` per call, in order. A worker death or
    /// timeout fails every call of the chunk.
    ///
    /// # Errors
    /// As [`RedisExecutor::submit`].
    pub fn submit_chunk<R>(&self, calls: Vec<Call<R>>) -> Result<ChunkFuture<R>, SubmitError>
    where
        R: DeserializeOwned + Send + 'static,
    {
        let n = calls.len();
        let chunk = match encode_chunk(&calls) {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return Ok(Future::ready(Ok(Vec::new()))),
            Err(error) => return Ok(Future::ready(Ok(every(&error, n)))),
        };
        let timeout = chunk.timeout.or(self.shared.timeout);
        let level = self.shared.level;
        self.shared
            .enqueue(level, chunk.task, chunk.args, timeout, move |p| {
                Box::new(Chunk(p, n))
            })
    }

    /// Stops taking tasks. With `cancel_pending`, tasks still queued are
    /// removed and their futures cancelled (running ones finish); with
    /// `wait`, blocks until every submitted task's future is done.
    /// Idempotent.
    pub fn shutdown(&self, how: Shutdown) {
        lock(&self.shared.waiting).closed = true;
        if how.cancel_pending {
            let tags: Vec<u64> = lock(&self.shared.waiting).tasks.keys().copied().collect();
            for tag in tags {
                self.shared.cancel(tag, CancelReach::Queued);
            }
        }
        // The reader ends once nothing is waiting; wake it to see that.
        self.shared.wake_reader();
        if how.wait {
            let mut waiting = lock(&self.shared.waiting);
            while !waiting.tasks.is_empty() {
                waiting = self
                    .shared
                    .drained
                    .wait(waiting)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            drop(waiting);
            if let Some(reader) = lock(&self.reader).take() {
                let _ = reader.join();
            }
        }
    }

    /// How many tasks the workers run at once, as the builder was told or
    /// as the live workers said when this executor was built.
    pub fn max_workers(&self) -> usize {
        self.shared.max_workers
    }

    /// The workers alive now (their heartbeats), as `hilo cluster status`
    /// lists them.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub fn live_workers(&self) -> Result<Vec<crate::WorkerInfo>, BrokerError> {
        lock(&self.shared.queue).live_workers()
    }

    /// Replies that came for no waiting future: a result of a task that
    /// had been cancelled as it finished, or a second result of one task,
    /// which the broker's first-finisher rule makes impossible (so a
    /// count above the cancels is a bug worth reporting).
    pub fn stray_replies(&self) -> u64 {
        self.shared.stray.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// This client's inbox name (its results stream is `PREFIX:inbox:NAME`).
    pub fn name(&self) -> &str {
        &self.shared.inbox
    }
}

impl Shared {
    fn enqueue<T: Send + 'static>(
        self: &Arc<Self>,
        level: Level,
        name: &str,
        args: Vec<Vec<u8>>,
        timeout: Option<Duration>,
        make: impl FnOnce(Promise<T>) -> Box<dyn Done>,
    ) -> Result<Future<T>, SubmitError> {
        use std::sync::atomic::Ordering;
        let tag = self.next_tag.fetch_add(1, Ordering::Relaxed);
        let envelope = Envelope::new(&self.inbox, tag, name, args, timeout, self.max_deliveries);
        let body = match envelope.encode() {
            Ok(body) => body,
            Err(fault) => {
                return Ok(Future::ready(Err(TaskError::Failed {
                    message: format!("cannot queue the task: {fault}"),
                })))
            }
        };
        let weak = Arc::downgrade(self);
        let (promise, future) = Promise::with_cancel(move |reach| {
            weak.upgrade()
                .is_some_and(|shared| shared.cancel(tag, reach))
        });
        {
            let mut waiting = lock(&self.waiting);
            if waiting.closed {
                return Err(SubmitError::Shutdown);
            }
            let done = make(promise);
            waiting.tasks.insert(
                tag,
                Waiter {
                    level,
                    id: None,
                    done,
                },
            );
        }
        let pushed = lock(&self.queue).push(level, &body);
        let mut waiting = lock(&self.waiting);
        match pushed {
            Ok(id) => {
                if let Some(waiter) = waiting.tasks.get_mut(&tag) {
                    waiter.id = Some(id);
                }
                Ok(future)
            }
            Err(e) => {
                let waiter = waiting.tasks.remove(&tag);
                self.notify_if_drained(&waiting);
                drop(waiting);
                drop(waiter);
                Err(SubmitError::Unreachable {
                    reason: e.to_string(),
                })
            }
        }
    }

    /// The cancel hook of task `tag`'s future: true if the task was taken
    /// back (it will give no value) and its future cancelled.
    fn cancel(&self, tag: u64, reach: CancelReach) -> bool {
        let (level, id) = match lock(&self.waiting).tasks.get(&tag) {
            Some(Waiter {
                level,
                id: Some(id),
                ..
            }) => (*level, id.clone()),
            _ => return false, // its result is in, or it is still being pushed
        };
        match lock(&self.queue).withdraw(level, &id, reach) {
            Ok(Withdrawn::Removed | Withdrawn::Taken { .. }) => {}
            Ok(Withdrawn::Held { .. } | Withdrawn::Gone) | Err(_) => return false,
        }
        let waiter = lock(&self.waiting).tasks.remove(&tag);
        // No result of it can come any more; a promise not found was
        // completed by the reader just before (then the cancel changes
        // nothing, as for a finished future).
        if let Some(waiter) = waiter {
            waiter.done.cancel();
        }
        self.notify_if_drained(&lock(&self.waiting));
        true
    }

    fn notify_if_drained(&self, waiting: &Waiting) {
        if waiting.tasks.is_empty() {
            self.drained.notify_all();
        }
    }

    /// Posts an empty message to this client's inbox, which wakes its
    /// reader from a blocking read.
    fn wake_reader(&self) {
        let _ = lock(&self.queue).post(&self.inbox, b"");
    }
}

impl Drop for RedisExecutor {
    fn drop(&mut self) {
        self.shutdown(Shutdown::default());
    }
}

impl std::fmt::Debug for RedisExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisExecutor")
            .field("name", &self.shared.inbox)
            .field("max_workers", &self.shared.max_workers)
            .field("waiting", &lock(&self.shared.waiting).tasks.len())
            .finish_non_exhaustive()
    }
}

/// `map_chunked` over the workers: a chunk is one queued task.
impl ChunkExecutor for RedisExecutor {
    fn submit_chunk<R>(&self, calls: Vec<Call<R>>) -> Result<ChunkFuture<R>, SubmitError>
    where
        R: DeserializeOwned + Send + 'static,
    {
        RedisExecutor::submit_chunk(self, calls)
    }

    fn chunk_workers(&self) -> usize {
        self.shared.max_workers
    }
}

impl<R> Executor<Call<R>> for RedisExecutor
where
    R: DeserializeOwned + Send + 'static,
{
    type Output = R;

    fn submit(&self, job: Call<R>) -> Result<Future<R>, SubmitError> {
        RedisExecutor::submit(self, job)
    }

    fn max_workers(&self) -> usize {
        self.shared.max_workers
    }
}
