//! What travels down a [`ThreadPool`](super::ThreadPool)'s queue: one task,
//! or a batch of tasks from `submit_all` that idle workers share.
//!
//! A batch costs the submitter one queue operation for up to [`BATCH`]
//! tasks instead of one each. Its tasks are claimed one at a time through a
//! cursor, so each is run (or cancelled, or failed) by exactly one thread.
//! A worker that finds the queue empty while its batch still has unclaimed
//! tasks puts the batch back in the queue, so idle workers join in and a
//! task never waits behind its batch-mates while a worker has nothing to do.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::worker::JobRef;

/// The most tasks one queued batch holds.
pub(super) const BATCH: usize = 64;

/// One message in the queue.
pub(super) enum Msg {
    One(JobRef),
    /// Shared by every worker that has taken it from the queue.
    Batch(Arc<Batch>),
}

/// Tasks of one `submit_all`, in submission order.
pub(super) struct Batch {
    jobs: Box<[JobRef]>,
    /// The index of the next unclaimed task (may run past the end).
    next: AtomicUsize,
}

impl Batch {
    pub(super) fn new(jobs: Vec<JobRef>) -> Self {
        Batch {
            jobs: jobs.into_boxed_slice(),
            next: AtomicUsize::new(0),
        }
    }

    /// The next unclaimed task: each is handed out once.
    pub(super) fn claim(&self) -> Option<&JobRef> {
        self.jobs.get(self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// True if some task is still unclaimed.
    pub(super) fn has_unclaimed(&self) -> bool {
        self.next.load(Ordering::Relaxed) < self.jobs.len()
    }
}

impl Msg {
    /// Applies `f` to every task of the message nobody has claimed (all of
    /// them claimed here): what a shutdown that cancels, or a broken pool,
    /// does to what is still queued.
    pub(super) fn drain(self, mut f: impl FnMut(&JobRef)) {
        match self {
            Msg::One(job) => f(&job),
            Msg::Batch(batch) => {
                while let Some(job) = batch.claim() {
                    f(job);
                }
            }
        }
    }
}
