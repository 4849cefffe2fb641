//! [`ThreadPoolBuilder`]: the settings of a [`ThreadPool`](super::ThreadPool).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};

use crossbeam_utils::CachePadded;

use super::worker::{IdleCount, Initializer, Shared, Workers};
use super::{ThreadPool, POOL_COUNTER};
use crate::error::BuildError;
use crate::executor::default_workers;
/// Settings for a [`ThreadPool`] (setters take and return the builder).
///
/// ```
/// let pool = hilo::ThreadPool::builder()
///     .max_workers(16)              // I/O-bound: more threads than cores
///     .thread_name_prefix("fetch")  // threads are fetch-0, fetch-1, ...
///     .initializer(|| Ok::<(), String>(()))
///     .build()?;
/// # Ok::<(), hilo::BuildError>(())
/// ```
#[derive(Clone, Default)]
pub struct ThreadPoolBuilder {
    max_workers: Option<usize>,
    name_prefix: Option<String>,
    stack_size: Option<usize>,
    initializer: Option<Initializer>,
}

impl ThreadPoolBuilder {
    /// The most threads the pool may start.
    ///
    /// Default: [`std::thread::available_parallelism`], the cores this
    /// process may use (it honours CPU affinity and cgroup quotas). Rust
    /// threads have no GIL, so that many saturate the CPU for CPU-bound work
    /// and more only add switching; Python's `min(32, cpus + 4)` exists
    /// because its threads mostly wait on I/O. For I/O-bound work (the
    /// lessons' downloads) ask for more, e.g. 10–20.
    ///
    /// ```
    /// assert!(hilo::ThreadPool::builder().max_workers(0).build().is_err());
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n);
        self
    }

    /// Names the threads `<prefix>-0`, `<prefix>-1`, …, visible in
    /// `/proc/<pid>/task/*/comm`, `top -H` and debuggers (Linux shows the
    /// first 15 bytes). Default: `hilo-pool<N>` for the N-th pool.
    ///
    /// ```
    /// let pool = hilo::ThreadPool::builder().thread_name_prefix("img").build().unwrap();
    /// let name = pool.submit(|| std::thread::current().name().unwrap().to_owned()).unwrap();
    /// assert_eq!(name.result().unwrap(), "img-0");
    /// ```
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = Some(prefix.into());
        self
    }

    /// Stack size of each worker thread, in bytes (default: std's).
    ///
    /// ```
    /// let pool = hilo::ThreadPool::builder().stack_size(8 << 20).build().unwrap();
    /// # drop(pool);
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Runs `init` once in each worker thread before its first task.
    ///
    /// If it returns `Err` or panics, the pool is broken (as Python's
    /// `BrokenThreadPool`): every queued future fails with
    /// [`TaskError::Broken`](crate::TaskError::Broken) naming the error, and later submits return
    /// [`SubmitError::Broken`](crate::SubmitError::Broken).
    ///
    /// ```
    /// use hilo::{SubmitError, TaskError, ThreadPool};
    ///
    /// let pool = ThreadPool::builder()
    ///     .initializer(|| Err::<(), _>("no database"))
    ///     .build()
    ///     .unwrap();
    /// let fut = pool.submit(|| 1).unwrap();
    /// assert!(matches!(fut.result(), Err(TaskError::Broken { .. })));
    /// assert!(matches!(pool.submit(|| 2), Err(SubmitError::Broken { .. })));
    /// ```
    pub fn initializer<F, E>(mut self, init: F) -> Self
    where
        F: Fn() -> Result<(), E> + Send + Sync + 'static,
        E: fmt::Display,
    {
        self.initializer = Some(Arc::new(move || init().map_err(|e| e.to_string())));
        self
    }

    /// Builds the pool. No thread starts until the first `submit`.
    ///
    /// # Errors
    /// [`BuildError::ZeroWorkers`] for `max_workers(0)`;
    /// [`BuildError::BadThreadName`] for a prefix with a NUL byte.
    ///
    /// ```
    /// let pool = hilo::ThreadPool::builder().build()?;
    /// # Ok::<(), hilo::BuildError>(())
    /// ```
    pub fn build(self) -> Result<ThreadPool, BuildError> {
        if self.max_workers == Some(0) {
            return Err(BuildError::ZeroWorkers);
        }
        if self
            .name_prefix
            .as_deref()
            .is_some_and(|p| p.contains('\0'))
        {
            return Err(BuildError::BadThreadName);
        }
        Ok(self.build_valid())
    }

    pub(super) fn build_valid(self) -> ThreadPool {
        let max_workers = self.max_workers.unwrap_or_else(default_workers);
        let name_prefix = self.name_prefix.unwrap_or_else(|| {
            format!("hilo-pool{}", POOL_COUNTER.fetch_add(1, Ordering::Relaxed))
        });
        let (tx, rx) = crossbeam_channel::unbounded();
        ThreadPool {
            shared: Arc::new(Shared {
                sender: CachePadded::new(RwLock::new(Some(tx))),
                receiver: rx,
                max_workers,
                name_prefix,
                stack_size: self.stack_size,
                initializer: self.initializer,
                workers: Mutex::new(Workers::default()),
                worker_exited: Condvar::new(),
                started: AtomicUsize::new(0),
                idle: IdleCount::new(0),
                broken: Mutex::new(None),
                is_broken: AtomicBool::new(false),
                cancelling: AtomicBool::new(false),
                stops: Mutex::new(HashMap::new()),
                next_stop: AtomicU64::new(0),
            }),
        }
    }
}

impl fmt::Debug for ThreadPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolBuilder")
            .field("max_workers", &self.max_workers)
            .field("thread_name_prefix", &self.name_prefix)
            .field("stack_size", &self.stack_size)
            .field("initializer", &self.initializer.is_some())
            .finish()
    }
}
