//! Errors: what can happen to a task ([`TaskError`]), and why an executor
//! refused one ([`SubmitError`]) or could not be built ([`BuildError`]).
//!
//! Errors are values, not exceptions: where Python raises `CancelledError`,
//! `TimeoutError` or `BrokenThreadPool`, hilo returns one of these.

use std::any::Any;

/// Why a task produced no value.
///
/// Every way a [`Future`](crate::Future) can end without a value is one
/// variant here, with a message that says what happened and what to do.
///
/// ```
/// use hilo::{ThreadPool, TaskError};
///
/// let pool = ThreadPool::new();
/// let fut = pool.submit(|| -> u32 { panic!("disk on fire") }).unwrap();
/// let err = fut.result().unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(err.to_string(), "the task panicked: disk on fire");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// The task panicked. The worker that ran it caught the panic and keeps
    /// serving other tasks.
    #[error("the task panicked: {message}")]
    Panicked {
        /// The panic's message (`"<non-string panic payload>"` if it was not
        /// a string).
        message: String,
    },
    /// The future was cancelled: before its task started (the task never
    /// ran), or while it ran in a process pool (its worker was killed).
    #[error("the task was cancelled")]
    Cancelled,
    /// A timed wait for the result ran out. The task itself is left alone
    /// (it may still be queued or running); wait again or cancel it.
    #[error("timed out waiting for the result; the task was left running")]
    Timeout,
    /// The executor had been shut down, so the task was never queued.
    #[error("the executor was shut down before the task could be queued")]
    Shutdown,
    /// The executor is broken (a worker initializer failed) and runs no
    /// tasks any more; build a new one.
    #[error("the executor is broken and runs no tasks: {reason}")]
    Broken {
        /// What broke it.
        reason: String,
    },
    /// Whoever was to complete the future dropped it without doing so (for
    /// example a [`Promise`](crate::Promise) was dropped unfulfilled).
    #[error("the task was dropped without producing a result")]
    Abandoned,
    /// The value was already taken out of this future by an earlier
    /// [`Future::result_timeout`](crate::Future::result_timeout).
    #[error("the result was already taken from this future")]
    AlreadyTaken,
    /// The worker process running the task died (it exited, aborted, was
    /// killed or hit a resource limit). Only this task failed; the pool
    /// replaced the worker.
    #[error("the worker process running the task died ({})", describe_exit(*.code, *.signal))]
    WorkerDied {
        /// Its exit status, if it exited.
        code: Option<i32>,
        /// The signal that killed it, if one did.
        signal: Option<i32>,
    },
    /// The task ran longer than its timeout; its worker process was killed
    /// and replaced.
    #[error("the task ran longer than its timeout of {after:?} and its worker was killed")]
    TimedOut {
        /// The timeout that was exceeded.
        after: std::time::Duration,
    },
    /// The worker knows no task of this name (is it marked `#[hilo::task]`
    /// in the program the workers run?).
    #[error("no task named {name:?} is registered in the worker")]
    UnknownTask {
        /// The name that was asked for.
        name: String,
    },
    /// The task was handed to a worker `deliveries` times and none of them
    /// finished it (each died or went silent past its lease): it is taken
    /// for a task that kills its workers, and given up so the queue moves
    /// on. Only executors that spread tasks over machines redeliver.
    #[error("the task was given up after {deliveries} deliveries: every worker that took it died or lost its lease")]
    GaveUp {
        /// How many times it was handed out.
        deliveries: u32,
    },
    /// The task's arguments or result could not be sent between processes.
    #[error("the task could not be run: {message}")]
    Failed {
        /// What went wrong.
        message: String,
    },
}

/// "exited with status 3", "killed by signal 9 (SIGKILL)".
fn describe_exit(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (_, Some(sig)) => match signal_name(sig) {
            Some(name) => format!("killed by signal {sig} ({name})"),
            None => format!("killed by signal {sig}"),
        },
        (Some(code), None) => format!("exited with status {code}"),
        (None, None) => "for an unknown reason".to_owned(),
    }
}

fn signal_name(sig: i32) -> Option<&'static str> {
    Some(match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        _ => return None,
    })
}

impl TaskError {
    /// True if the task panicked.
    ///
    /// ```
    /// assert!(hilo::TaskError::Panicked { message: "x".into() }.is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self, TaskError::Panicked { .. })
    }

    /// True if the future was cancelled.
    ///
    /// ```
    /// assert!(hilo::TaskError::Cancelled.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, TaskError::Cancelled)
    }

    /// True if a timed wait ran out ([`TaskError::Timeout`]).
    ///
    /// ```
    /// assert!(hilo::TaskError::Timeout.is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, TaskError::Timeout)
    }

    /// Builds [`TaskError::Panicked`] from a payload caught by
    /// [`std::panic::catch_unwind`].
    ///
    /// ```
    /// let payload = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
    /// let err = hilo::TaskError::from_panic(payload);
    /// assert_eq!(err, hilo::TaskError::Panicked { message: "boom 1".into() });
    /// ```
    pub fn from_panic(payload: Box<dyn Any + Send>) -> Self {
        TaskError::Panicked {
            message: panic_message(&*payload),
        }
    }
}

/// The text of a panic payload: the `&str` or `String` it carries.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

/// Why an executor refused a task. The task was not queued and will not run.
///
/// ```
/// use hilo::{Shutdown, SubmitError, ThreadPool};
///
/// let pool = ThreadPool::new();
/// pool.shutdown(Shutdown::default());
/// assert_eq!(pool.submit(|| 1).unwrap_err(), SubmitError::Shutdown);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// `shutdown` was called: the executor takes no new tasks.
    #[error("cannot submit: the executor has been shut down")]
    Shutdown,
    /// The executor is broken (a worker initializer failed).
    #[error("cannot submit: the executor is broken: {reason}")]
    Broken {
        /// What broke it.
        reason: String,
    },
    /// The executor queues tasks on a server it cannot reach now (a Redis
    /// executor whose Redis is down); the task was not queued. Trying
    /// again later may work.
    #[error("cannot submit: the task queue cannot be reached: {reason}")]
    Unreachable {
        /// What the connection said.
        reason: String,
    },
}

impl From<SubmitError> for TaskError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Shutdown => TaskError::Shutdown,
            SubmitError::Broken { reason } => TaskError::Broken { reason },
            e @ SubmitError::Unreachable { .. } => TaskError::Failed {
                message: e.to_string(),
            },
        }
    }
}

/// Why an executor could not be built.
///
/// ```
/// let err = hilo::ThreadPool::builder().max_workers(0).build().unwrap_err();
/// assert_eq!(err.to_string(), "max_workers must be at least 1 (got 0)");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// `max_workers(0)` was asked for.
    #[error("max_workers must be at least 1 (got 0)")]
    ZeroWorkers,
    /// The thread name prefix contains a NUL byte, which thread names cannot hold.
    #[error("thread_name_prefix must not contain a NUL byte")]
    BadThreadName,
    /// A process pool's first worker did not start.
    #[error("the process pool's first worker did not start: {reason}")]
    Worker {
        /// Why (the message says what to do).
        reason: String,
    },
    /// A process pool was built inside one of its own workers: `hilo::init()`
    /// is missing from the top of `main`.
    #[error(
        "this process is a hilo worker: call hilo::init() as the first line of main \
         (it turns worker processes into workers before your code runs)"
    )]
    InWorker,
}

/// `as_completed` reached its deadline with futures still unfinished.
///
/// ```
/// let e = hilo::AsCompletedTimeout { unfinished: 2, total: 5 };
/// assert_eq!(e.to_string(), "2 (of 5) futures unfinished");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{unfinished} (of {total}) futures unfinished")]
pub struct AsCompletedTimeout {
    /// How many futures were not yet done when the deadline passed.
    pub unfinished: usize,
    /// How many distinct futures `as_completed` was given.
    pub total: usize,
}

/// Logs a panic that escaped a done callback: the callback is skipped, the
/// thread that ran it carries on.
pub(crate) fn log_callback_panic(payload: &(dyn Any + Send)) {
    eprintln!(
        "hilo: a done callback panicked and was skipped: {}",
        panic_message(payload)
    );
}
