//! [`Progress`]: counts submitted, done and failed tasks of any executor and
//! reports each change to a hook (the CLI draws its progress bar from it).
//!
//! It only counts; it never blocks, and the hook runs in whatever thread
//! caused the change (the submitter, or the worker that finished a task).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::SubmitError;
use crate::executor::Executor;
use crate::future::Future;

/// Counts at one moment. `done` includes `failed`; `submitted - done` are
/// queued or running.
///
/// ```
/// let s = hilo::ProgressSnapshot { submitted: 10, done: 4, failed: 1 };
/// assert_eq!(s.in_flight(), 6);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProgressSnapshot {
    /// Tasks handed to the executor (including refused ones).
    pub submitted: u64,
    /// Tasks that ended: value, error or cancel.
    pub done: u64,
    /// Of those, the ones that ended with a [`TaskError`](crate::TaskError)
    /// (including cancelled and refused ones).
    pub failed: u64,
}

impl ProgressSnapshot {
    /// Tasks submitted and not yet done.
    ///
    /// ```
    /// assert_eq!(hilo::ProgressSnapshot::default().in_flight(), 0);
    /// ```
    pub fn in_flight(&self) -> u64 {
        self.submitted.saturating_sub(self.done)
    }
}

#[derive(Default)]
struct Counts {
    submitted: AtomicU64,
    done: AtomicU64,
    failed: AtomicU64,
}

impl Counts {
    fn snapshot(&self) -> ProgressSnapshot {
        // Writers bump submitted, then done, then failed; reading in the
        // reverse order keeps failed <= done <= submitted in every snapshot.
        let failed = self.failed.load(Ordering::SeqCst);
        let done = self.done.load(Ordering::SeqCst);
        let submitted = self.submitted.load(Ordering::SeqCst);
        ProgressSnapshot {
            submitted,
            done,
            failed,
        }
    }
}

type Hook = Arc<dyn Fn(ProgressSnapshot) + Send + Sync>;

/// Wraps an executor and counts what goes through it.
///
/// Counts change in done callbacks, in the thread that completed the task,
/// right after the future completes: a thread woken by `result()` may read
/// the count a moment before it includes that task. Counts are final once
/// the executor's workers are joined (`shutdown` with `wait`).
///
/// ```
/// use hilo::{Progress, ThreadPool};
///
/// let pool = Progress::new(ThreadPool::new());
/// let ok = pool.submit(|| 1).unwrap();
/// let bad = pool.submit(|| -> i32 { panic!("x") }).unwrap();
/// let _ = (ok.result(), bad.result());
/// // Counting happens in done callbacks, which run just after a future
/// // completes; once the workers are joined the counts are final.
/// pool.inner().shutdown(hilo::Shutdown::default());
/// let s = pool.snapshot();
/// assert_eq!((s.submitted, s.done, s.failed), (2, 2, 1));
/// ```
pub struct Progress<E> {
    inner: E,
    counts: Arc<Counts>,
    hook: Option<Hook>,
}

impl<E> Progress<E> {
    /// Counts without a hook; read the counts with [`Progress::snapshot`].
    ///
    /// ```
    /// let p = hilo::Progress::new(hilo::ThreadPool::new());
    /// assert_eq!(p.snapshot(), hilo::ProgressSnapshot::default());
    /// ```
    pub fn new(inner: E) -> Self {
        Progress {
            inner,
            counts: Arc::default(),
            hook: None,
        }
    }

    /// Counts and calls `hook` with the new counts after every change.
    ///
    /// ```
    /// use std::sync::{mpsc, Mutex};
    /// let (tx, rx) = mpsc::channel();
    /// let tx = Mutex::new(tx);
    /// let p = hilo::Progress::with_hook(hilo::ThreadPool::new(), move |s| tx.lock().unwrap().send(s).unwrap());
    /// p.submit(|| ()).unwrap();
    /// // One report on submit, one when the task is done.
    /// assert_eq!(rx.recv().unwrap().submitted, 1);
    /// assert_eq!(rx.recv().unwrap().done, 1);
    /// ```
    pub fn with_hook<H>(inner: E, hook: H) -> Self
    where
        H: Fn(ProgressSnapshot) + Send + Sync + 'static,
    {
        Progress {
            inner,
            counts: Arc::default(),
            hook: Some(Arc::new(hook)),
        }
    }

    /// The counts now.
    ///
    /// ```
    /// let p = hilo::Progress::new(hilo::ThreadPool::new());
    /// assert_eq!(p.snapshot().submitted, 0);
    /// ```
    pub fn snapshot(&self) -> ProgressSnapshot {
        self.counts.snapshot()
    }

    /// The wrapped executor.
    ///
    /// ```
    /// let p = hilo::Progress::new(hilo::ThreadPool::builder().max_workers(2).build().unwrap());
    /// assert_eq!(p.inner().max_workers(), 2);
    /// ```
    pub fn inner(&self) -> &E {
        &self.inner
    }

    fn report(&self) {
        if let Some(hook) = &self.hook {
            hook(self.counts.snapshot());
        }
    }
}

impl<E> Progress<E> {
    /// Submits `job` to the inner executor and counts it.
    ///
    /// # Errors
    /// As the inner executor's `submit`; a refused job counts as done and
    /// failed.
    ///
    /// ```
    /// let p = hilo::Progress::new(hilo::ThreadPool::new());
    /// assert_eq!(p.submit(|| 5).unwrap().result(), Ok(5));
    /// ```
    pub fn submit<J>(&self, job: J) -> Result<Future<E::Output>, SubmitError>
    where
        E: Executor<J>,
    {
        self.counts.submitted.fetch_add(1, Ordering::SeqCst);
        self.report();
        let fut = match self.inner.submit(job) {
            Ok(fut) => fut,
            Err(e) => {
                self.counts.done.fetch_add(1, Ordering::SeqCst);
                self.counts.failed.fetch_add(1, Ordering::SeqCst);
                self.report();
                return Err(e);
            }
        };
        let counts = Arc::clone(&self.counts);
        let hook = self.hook.clone();
        fut.add_done_callback(move |outcome| {
            // done before failed: see Counts::snapshot.
            counts.done.fetch_add(1, Ordering::SeqCst);
            if outcome.is_err() {
                counts.failed.fetch_add(1, Ordering::SeqCst);
            }
            if let Some(hook) = hook {
                hook(counts.snapshot());
            }
        });
        Ok(fut)
    }
}

impl<E: Executor<J>, J> Executor<J> for Progress<E> {
    type Output = E::Output;

    fn submit(&self, job: J) -> Result<Future<E::Output>, SubmitError> {
        Progress::submit(self, job)
    }

    fn max_workers(&self) -> usize {
        self.inner.max_workers()
    }
}

impl<E: std::fmt::Debug> std::fmt::Debug for Progress<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("inner", &self.inner)
            .field("counts", &self.snapshot())
            .finish()
    }
}
