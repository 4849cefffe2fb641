//! `hilo run --cluster`'s batches: jobs that last a few milliseconds go to
//! the workers several to a task, so that a queue round trip and a result
//! write are paid once per batch rather than once per job.
//!
//! Job threads queue their job here and wait for its outcome; carrier
//! threads (as many as the tasks that may be on the cluster at once) take
//! batches from the front of the queue, send each as one chunk of
//! `run_job` calls (a worker runs them one after the other on one slot)
//! and hand each job its outcome.
//!
//! A batch holds about [`BATCH_WORK`] of work, judged from the run times
//! of the jobs seen so far: one job until the first results are back, up
//! to [`MAX_BATCH`] jobs of a millisecond. What is queued is also spread
//! over the carriers, so a short run never sits on one worker.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hilo::{Promise, TaskError};
use parking_lot::{Condvar, Mutex};

use super::remote::{run_job, RemoteJob};

/// The most jobs in one batch.
pub(crate) const MAX_BATCH: usize = 16;
/// About how long the jobs of one batch run, one after the other.
const BATCH_WORK: Duration = Duration::from_millis(10);

/// What became of a queued job.
pub(super) enum Sent {
    /// It ran on a worker.
    Ran(RemoteJob),
    /// It could not run there, or was killed with its batch.
    Failed(TaskError),
    /// It was still queued here when `hilo run` started stopping.
    NotStarted,
}

/// A job waiting for a carrier.
struct Queued {
    argv: Vec<Vec<u8>>,
    outcome: Promise<Sent>,
}

/// The queue, shared by the job threads and the carriers.
pub(super) struct Batcher {
    shared: Arc<Shared>,
}

struct Shared {
    exec: Arc<hilo_redis::RedisExecutor>,
    timeout_ms: Option<u64>,
    /// 1 where a job must be sent alone (`--halt`, `--delay`).
    max_batch: usize,
    carriers: usize,
    state: Mutex<State>,
    queued: Condvar,
    /// `hilo run` is stopping: nothing queued is sent any more.
    stopping: AtomicBool,
    /// A second Ctrl+C or `--halt now`: batches on the cluster are killed.
    killing: AtomicBool,
    /// Jobs in the batches on the cluster.
    sent: AtomicUsize,
}

struct State {
    queue: VecDeque<Queued>,
    /// The mean run time of the jobs seen so far (moving), if any.
    mean_runtime: Option<Duration>,
}

impl Batcher {
    /// Starts `carriers` carrier threads sending jobs to `exec`, each with
    /// the timeout `timeout`; batches of at most `max_batch` jobs.
    pub(super) fn start(
        exec: Arc<hilo_redis::RedisExecutor>,
        timeout: Option<Duration>,
        carriers: usize,
        max_batch: usize,
    ) -> std::io::Result<Batcher> {
        let shared = Arc::new(Shared {
            exec,
            timeout_ms: timeout.map(|t| t.as_millis() as u64),
            max_batch: max_batch.clamp(1, MAX_BATCH),
            carriers: carriers.max(1),
            state: Mutex::new(State {
                queue: VecDeque::new(),
                mean_runtime: None,
            }),
            queued: Condvar::new(),
            stopping: AtomicBool::new(false),
            killing: AtomicBool::new(false),
            sent: AtomicUsize::new(0),
        });
        for n in 0..shared.carriers {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("hilo-run-carrier-{n}"))
                .stack_size(256 << 10)
                .spawn(move || shared.carry())?;
        }
        Ok(Batcher { shared })
    }

    /// Runs `argv` on the cluster: waits for its batch to come back.
    pub(super) fn run(&self, argv: Vec<Vec<u8>>) -> Sent {
        if self.shared.stopping.load(Ordering::SeqCst) {
            return Sent::NotStarted;
        }
        let (outcome, future) = Promise::new();
        {
            let mut state = self.shared.state.lock();
            state.queue.push_back(Queued { argv, outcome });
        }
        self.shared.queued.notify_one();
        future.result().unwrap_or_else(Sent::Failed)
    }

    /// `hilo run` is stopping: what is queued is answered `NotStarted`;
    /// batches on the cluster run to their end.
    pub(super) fn stop(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        let unsent: Vec<Queued> = self.shared.state.lock().queue.drain(..).collect();
        for job in unsent {
            job.outcome.complete(Ok(Sent::NotStarted));
        }
        self.shared.queued.notify_all();
    }

    /// How many jobs are in the batches on the cluster.
    pub(super) fn sent(&self) -> usize {
        self.shared.sent.load(Ordering::SeqCst)
    }

    /// Kills the batches on the cluster (their jobs end `Failed`).
    pub(super) fn kill(&self) {
        self.shared.killing.store(true, Ordering::SeqCst);
        self.stop();
    }
}

impl Shared {
    /// A carrier's life: a batch at a time, for as long as the program.
    fn carry(&self) {
        loop {
            let batch = self.next_batch();
            self.send(batch);
        }
    }

    /// Waits for queued jobs; takes the next batch of them.
    fn next_batch(&self) -> Vec<Queued> {
        let mut state = self.state.lock();
        while state.queue.is_empty() {
            self.queued.wait(&mut state);
        }
        let by_work = state.mean_runtime.map_or(1, |mean| {
            let n = BATCH_WORK.as_nanos() / mean.as_nanos().max(1);
            usize::try_from(n).unwrap_or(usize::MAX)
        });
        let spread = state.queue.len().div_ceil(self.carriers);
        let size = by_work.min(spread).clamp(1, self.max_batch);
        let batch: Vec<Queued> = state.queue.drain(..size).collect();
        if !state.queue.is_empty() {
            // Another carrier may be free for the rest.
            self.queued.notify_one();
        }
        batch
    }

    /// Sends `batch` as one chunk and answers each of its jobs.
    fn send(&self, batch: Vec<Queued>) {
        if self.stopping.load(Ordering::SeqCst) {
            for job in batch {
                job.outcome.complete(Ok(Sent::NotStarted));
            }
            return;
        }
        let (calls, outcomes): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .map(|job| (run_job::call(job.argv, self.timeout_ms), job.outcome))
            .unzip();
        self.sent.fetch_add(outcomes.len(), Ordering::SeqCst);
        let results = match self.exec.submit_chunk(calls) {
            Ok(future) => {
                // Wait, but kill it on a second Ctrl+C or `--halt now`.
                while !future.wait_timeout(Duration::from_millis(100)) {
                    if self.killing.load(Ordering::SeqCst) {
                        future.cancel();
                    }
                }
                future.result()
            }
            Err(e) => Err(TaskError::from(e)),
        };
        let n = outcomes.len();
        self.sent.fetch_sub(n, Ordering::SeqCst);
        let mut results = match results {
            Ok(results) => results,
            Err(e) => (0..n).map(|_| Err(e.clone())).collect(),
        };
        // One outcome per job, whatever came back: no job thread waits
        // forever.
        results.resize_with(n, || {
            Err(TaskError::Failed {
                message: "the worker sent fewer results than jobs".to_owned(),
            })
        });
        let mut runtimes = Vec::with_capacity(n);
        for (outcome, result) in outcomes.into_iter().zip(results) {
            let sent = match result {
                Ok(job) => {
                    runtimes.push(job.runtime());
                    Sent::Ran(job)
                }
                Err(e) => Sent::Failed(e),
            };
            outcome.complete(Ok(sent));
        }
        if !runtimes.is_empty() {
            let mut state = self.state.lock();
            for runtime in runtimes {
                // A moving mean that forgets in about ten jobs.
                state.mean_runtime = Some(match state.mean_runtime {
                    None => runtime,
                    Some(mean) => (mean * 9 + runtime) / 10,
                });
            }
        }
    }
}
