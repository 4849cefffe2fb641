//! # hilo — `concurrent.futures` done right
//!
//! One [`Future`] handle and one [`Executor`] interface over threads and
//! processes ([`process::ProcessPool`]; many machines later), with the fixes Python's
//! `concurrent.futures` never made: a lazy, bounded [`map`](crate::map()),
//! errors as values, cooperative [`StopToken`]s, priorities, retries and
//! progress.
//!
//! ## Quick start
//!
//! ```
//! use std::time::Duration;
//! use hilo::{as_completed, wait, ReturnWhen, ThreadPool};
//!
//! let pool = ThreadPool::builder().max_workers(4).build()?;
//!
//! // submit → Future
//! let fut = pool.submit(|| (1..=20u64).product::<u64>())?;
//! assert_eq!(fut.result()?, 2_432_902_008_176_640_000);
//!
//! // as_completed: results as they finish
//! let futs: Vec<_> = (0..8u64).map(|i| pool.submit(move || i * i).unwrap()).collect();
//! let total: u64 = as_completed(futs, Some(Duration::from_secs(10)))
//!     .map(|f| f.unwrap().result().unwrap())
//!     .sum();
//! assert_eq!(total, 140);
//!
//! // wait: split into done / pending
//! let futs: Vec<_> = (0..3).map(|i| pool.submit(move || i).unwrap()).collect();
//! let w = wait(&futs, None, ReturnWhen::AllCompleted);
//! assert_eq!(w.done.len(), 3);
//!
//! // map: lazy and bounded, one Result per item, fine on endless input
//! let evens: Vec<u64> = pool.map(0u64.., |n| n * 2).take(4).map(Result::unwrap).collect();
//! assert_eq!(evens, [0, 2, 4, 6]);
//!
//! // errors are values: a panic is TaskError::Panicked, the worker lives on
//! let bad = pool.submit(|| -> u8 { panic!("bad input") })?;
//! assert!(bad.result().unwrap_err().is_panic());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Where hilo differs from Python on purpose
//!
//! - Errors are values: `result()` returns `Err(TaskError::…)` for a panic,
//!   a cancel or a timeout; `submit` after shutdown returns
//!   `Err(SubmitError::Shutdown)` instead of raising.
//! - A cancelled future is done at once for [`wait`] and [`as_completed`]
//!   (Python waits until the executor dequeues it).
//! - [`map`](crate::map()) is lazy with a bounded window (default 2 ×
//!   workers), can yield unordered, never stops at the first error, and
//!   dropping it cancels what it submitted and has not started.
//! - The default `max_workers` is the number of cores (Rust threads have no
//!   GIL), not `min(32, cpus + 4)`.
//! - A [`Future`] is not `Clone`: it owns the task's value. `result()`
//!   consumes it; [`Future::result_timeout`] takes the value once.
//!   Callbacks get `Ok(())` or the error ([`Future::add_done_callback`]), or
//!   the value itself with [`Future::on_complete`].
//! - One cancel rule for every future, [`retry`]'s and
//!   [`PriorityExecutor`]'s included: [`Future::cancel`] removes a queued
//!   task and kills a running process task; running thread tasks cannot be
//!   cancelled (threads stop cooperatively): [`Future::request_stop`] and
//!   `shutdown` with `cancel_pending` signal a task's [`StopToken`].
//!   Dropping a lazy [`map`](crate::map()) cancels only what has not
//!   started.
//! - Every future ends, whatever panics where (a task, a callback, a retry
//!   predicate, a result's decoding): never a hang.
//! - Callbacks never run under a lock, so a callback may submit to the same
//!   pool and wait for the result (its worker does not count as idle until
//!   the callbacks return), or shut the pool down. The library installs no
//!   signal handlers.

#![deny(missing_docs)]
#![deny(unsafe_code)]

mod error;
mod executor;
mod future;
mod map;
mod priority;
pub mod process;
mod progress;
mod relay;
mod retry;
mod stop;
mod sync;
mod thread_pool;
mod timer;
mod wait;
mod waiter;

pub use error::{AsCompletedTimeout, BuildError, SubmitError, TaskError};
pub use executor::{default_workers, BoxJob, Executor, Shutdown};
pub use future::{CancelReach, Future, Promise, State};
pub use map::{map, Map};
pub use priority::{AtPriority, Priority, PriorityExecutor};
pub use progress::{Progress, ProgressSnapshot};
pub use retry::{retry, RetryPolicy};
pub use stop::StopToken;
pub use thread_pool::{ThreadPool, ThreadPoolBuilder};
pub use wait::{as_completed, wait, AsCompleted, ReturnWhen, Waited};

pub use hilo_macros::task;
pub use process::init;

#[doc(hidden)]
pub use inventory;
