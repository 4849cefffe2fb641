//! The record of one submitted call (or chunk of calls): its future, its
//! arguments, where it runs and how cancelling it kills its worker; and the
//! conversion of a worker's answer into the future's value.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::child::ProcHandle;
use super::protocol::WireOutcomeIn;
use crate::error::{panic_message, TaskError};
use crate::future::{Cell, Inner};
use crate::sync::{lock, Mutex};

/// A queued call or chunk of calls, type-erased: the supervisor only sees
/// bytes.
pub(super) trait Job: Send + Sync {
    fn id(&self) -> u64;
    fn name(&self) -> &'static str;
    /// One entry per call (one for `submit`, several for a chunk).
    fn args(&self) -> &[Vec<u8>];
    fn timeout(&self) -> Option<Duration>;
    /// About how many bytes its `Run` frame takes (at least that many).
    fn frame_len(&self) -> usize {
        self.name().len() + self.args().iter().map(Vec::len).sum::<usize>()
    }
    /// Pending → Running as it is sent to `worker`; false if it was
    /// cancelled meanwhile (then it must not be sent).
    fn start(&self, worker: &ProcHandle) -> bool;
    /// It is the oldest task its worker holds: the one running now. False
    /// if it was cancelled while it waited in the worker: the supervisor
    /// then kills the worker before the task gets anywhere.
    fn promote(&self) -> bool;
    /// Running → Pending for a task a dead worker held but never started,
    /// so it can be queued again; false if it was cancelled.
    fn unstart(&self) -> bool;
    /// Completes the future from the worker's answer (one outcome per
    /// call) or from what happened to the worker. The worker no longer holds
    /// it from then on: a cancel can no longer kill for it.
    fn finish(&self, outcome: Result<&[WireOutcomeIn<'_>], TaskError>) {
        self.finish_then(outcome, &mut || {});
    }
    /// `finish`, with `free` run as `Inner::complete_then` runs it: before
    /// anyone can see the future terminal if there are no done callbacks
    /// (under its lock), after them if there are.
    fn finish_then(&self, outcome: Result<&[WireOutcomeIn<'_>], TaskError>, free: &mut dyn FnMut());
    fn cancel_pending(&self);
}

/// Turns a run's outcomes into the future's value; the `usize` is how
/// many calls the run had.
pub(super) type Convert<O> =
    fn(Result<&[WireOutcomeIn<'_>], TaskError>, usize) -> Result<O, TaskError>;

/// Where a running task is.
#[derive(Clone, Debug)]
pub(super) enum Place {
    /// In the pool's queue, or done.
    Here,
    /// Sent to this worker, behind another task.
    Waiting(ProcHandle),
    /// The task this worker is running.
    Running(ProcHandle),
}

/// What `ProcCell::place` guards.
#[derive(Debug)]
pub(super) struct Whereabouts {
    pub(super) place: Place,
    /// `cancel()` stopped the task where it ran (killed its worker, or
    /// marked it to be killed when the worker gets to it). Whatever the
    /// supervisor then sees, the future ends Cancelled.
    pub(super) cancelled: bool,
}

impl Whereabouts {
    pub(super) fn new() -> Mutex<Whereabouts> {
        Mutex::new(Whereabouts {
            place: Place::Here,
            cancelled: false,
        })
    }
}

/// One run's future (a call's, or a chunk's) and what cancelling it while
/// it runs must kill.
pub(super) struct ProcCell<O> {
    pub(super) inner: Inner<O>,
    pub(super) id: u64,
    pub(super) name: &'static str,
    pub(super) args: Vec<Vec<u8>>,
    pub(super) timeout: Option<Duration>,
    pub(super) convert: Convert<O>,
    /// Held while killing, so a kill can never reach a worker that has
    /// moved on to another task. Never held while the future completes:
    /// completing runs callbacks, and a callback may drop the pool.
    pub(super) place: Mutex<Whereabouts>,
}

impl<O: Send> Cell<O> for ProcCell<O> {
    fn inner(&self) -> &Inner<O> {
        &self.inner
    }

    /// Pending: as for threads. Running: the future is cancelled and the
    /// task killed with its worker — at once if the worker is running it,
    /// or the moment the worker gets to it if it waits behind another task
    /// (which is left to finish). The supervisor reaps and replaces the
    /// worker.
    fn cancel(&self) -> bool {
        if self.inner.cancel() {
            return true;
        }
        {
            let mut at = lock(&self.place);
            match &at.place {
                Place::Running(worker) => worker.kill(),
                Place::Waiting(_) => {}
                Place::Here => return false,
            }
            at.cancelled = true;
        }
        // Outside the lock: this runs the callbacks. If the supervisor got
        // here first (it saw the worker die), `finish` cancelled it.
        self.inner.cancel_running();
        self.inner.state() == crate::State::Cancelled
    }
}

impl<O: Send + 'static> Job for ProcCell<O> {
    fn id(&self) -> u64 {
        self.id
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn args(&self) -> &[Vec<u8>] {
        &self.args
    }
    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
    fn start(&self, worker: &ProcHandle) -> bool {
        let mut at = lock(&self.place);
        if !self.inner.set_running() {
            return false;
        }
        at.place = Place::Waiting(worker.clone());
        true
    }
    fn promote(&self) -> bool {
        let mut at = lock(&self.place);
        if let Place::Waiting(worker) = &at.place {
            at.place = Place::Running(worker.clone());
        }
        !at.cancelled && self.inner.state() == crate::State::Running
    }
    fn unstart(&self) -> bool {
        let mut at = lock(&self.place);
        at.place = Place::Here;
        // A cancelled one stays Running until its canceller ends it.
        !at.cancelled && self.inner.unstart()
    }
    fn finish_then(
        &self,
        outcome: Result<&[WireOutcomeIn<'_>], TaskError>,
        free: &mut dyn FnMut(),
    ) {
        // Detached first, in the same critical section that reads the
        // cancel: once the future is complete, a cancel must not find this
        // worker to kill.
        let cancelled = {
            let mut at = lock(&self.place);
            at.place = Place::Here;
            at.cancelled
        };
        if cancelled {
            // Its worker was killed (or the task never started) for the
            // cancel: whatever came back, the future is cancelled.
            self.inner.cancel_running();
            free();
            return;
        }
        // The result's `Deserialize` is the user's code: a panic in it fails
        // this task, not the supervisor thread that decodes it.
        let value = catch_unwind(AssertUnwindSafe(|| {
            (self.convert)(outcome, self.args.len())
        }))
        .unwrap_or_else(|payload| {
            Err(TaskError::Panicked {
                message: format!(
                    "decoding the task's result panicked: {}",
                    panic_message(&*payload)
                ),
            })
        });
        self.inner.complete_then(value, free);
    }
    fn cancel_pending(&self) {
        self.inner.cancel();
    }
}

impl<O> Drop for ProcCell<O> {
    /// A task record dropped unfinished (its supervisor lost it) fails its
    /// future rather than leave a callback waiting for ever.
    fn drop(&mut self) {
        self.inner.abandon();
    }
}

/// One call's outcome as the caller sees it.
fn from_wire<R: DeserializeOwned>(outcome: &WireOutcomeIn<'_>) -> Result<R, TaskError> {
    encoded_from_wire(outcome).and_then(|bytes| super::protocol::decode_value(bytes))
}

/// One call's outcome with its value left encoded.
fn encoded_from_wire<'a>(outcome: &WireOutcomeIn<'a>) -> Result<&'a [u8], TaskError> {
    match *outcome {
        WireOutcomeIn::Value(bytes) => Ok(bytes),
        WireOutcomeIn::Panicked(ref message) => Err(TaskError::Panicked {
            message: message.clone(),
        }),
        WireOutcomeIn::UnknownTask(ref name) => Err(TaskError::UnknownTask { name: name.clone() }),
        WireOutcomeIn::Failed(ref message) => Err(TaskError::Failed {
            message: message.clone(),
        }),
    }
}

fn miscount(got: usize, want: usize) -> TaskError {
    TaskError::Failed {
        message: format!("the worker answered {got} outcomes for {want} calls"),
    }
}

/// `n` copies of one error, one per call.
pub(super) fn every<R>(error: TaskError, n: usize) -> Vec<Result<R, TaskError>> {
    (0..n).map(|_| Err(error.clone())).collect()
}

/// `submit`: one call, one value.
pub(super) fn convert_one<R: DeserializeOwned>(
    outcome: Result<&[WireOutcomeIn<'_>], TaskError>,
    _calls: usize,
) -> Result<R, TaskError> {
    match outcome? {
        [one] => from_wire(one),
        many => Err(miscount(many.len(), 1)),
    }
}

/// A chunk: one `Result` per call; a failure of the whole run (the worker
/// died, timed out) is every call's result.
pub(super) fn convert_chunk<R: DeserializeOwned>(
    outcome: Result<&[WireOutcomeIn<'_>], TaskError>,
    calls: usize,
) -> Result<Vec<Result<R, TaskError>>, TaskError> {
    Ok(match outcome {
        Ok(outcomes) if outcomes.len() == calls => outcomes.iter().map(from_wire).collect(),
        Ok(outcomes) => every(miscount(outcomes.len(), calls), calls),
        Err(e) => every(e, calls),
    })
}

/// `submit_encoded`: a chunk whose values stay encoded.
pub(super) fn convert_encoded(
    outcome: Result<&[WireOutcomeIn<'_>], TaskError>,
    calls: usize,
) -> Result<Vec<Result<Vec<u8>, TaskError>>, TaskError> {
    Ok(match outcome {
        Ok(outcomes) if outcomes.len() == calls => outcomes
            .iter()
            .map(|o| encoded_from_wire(o).map(<[u8]>::to_vec))
            .collect(),
        Ok(outcomes) => every(miscount(outcomes.len(), calls), calls),
        Err(e) => every(e, calls),
    })
}

/// loom models of the place protocol: a cancel racing the supervisor ends
/// the future exactly once, never runs its callbacks under the place lock,
/// and never lets a cancelled task start. Run with `--cfg loom` (see
/// `.ci/run`).
#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::Arc;

    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::thread;

    use super::*;
    use crate::future::Future;

    /// A handle on a process that has exited and been reaped: a kill
    /// through it reaches nobody.
    fn spent_handle() -> ProcHandle {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let handle = ProcHandle::open(&child).unwrap();
        child.wait().unwrap();
        handle
    }

    /// A task's record, its future, and a count of its done callbacks; the
    /// callback takes the place lock (as the supervisor's `finish` of
    /// another task does when a callback drops the pool), so running it
    /// under that lock deadlocks the model.
    fn task() -> (Arc<ProcCell<u32>>, Future<u32>, Arc<AtomicUsize>) {
        let cell = Arc::new(ProcCell {
            inner: Inner::new(),
            id: 1,
            name: "t",
            args: vec![Vec::new()],
            timeout: None,
            convert: convert_one::<u32>,
            place: Whereabouts::new(),
        });
        let fut = Future::from_cell(Arc::clone(&cell) as Arc<dyn Cell<u32>>);
        let calls = Arc::new(AtomicUsize::new(0));
        let (c, probe) = (Arc::clone(&calls), Arc::clone(&cell));
        fut.add_done_callback(move |_| {
            drop(lock(&probe.place));
            c.fetch_add(1, Ordering::SeqCst);
        });
        (cell, fut, calls)
    }

    #[test]
    fn loom_cancel_racing_the_answer_ends_the_future_once() {
        let handle = spent_handle();
        let value = crate::process::protocol::to_bytes(&7u32).unwrap();
        loom::model(move || {
            let (cell, fut, calls) = task();
            assert!(cell.start(&handle));
            assert!(cell.promote());
            let supervisor = {
                let (cell, value) = (Arc::clone(&cell), value.clone());
                thread::spawn(move || {
                    cell.finish(Ok(&[WireOutcomeIn::Value(&value)]));
                })
            };
            let cancelled = fut.cancel();
            supervisor.join().unwrap();
            assert_eq!(calls.load(Ordering::SeqCst), 1);
            match fut.result() {
                Ok(7) => assert!(!cancelled),
                Err(TaskError::Cancelled) => assert!(cancelled),
                other => panic!("unexpected {other:?} (cancelled {cancelled})"),
            }
        });
    }

    #[test]
    fn loom_cancel_of_a_waiting_task_racing_its_promotion_never_lets_it_run() {
        let handle = spent_handle();
        let value = crate::process::protocol::to_bytes(&7u32).unwrap();
        loom::model(move || {
            let (cell, fut, calls) = task();
            // Sent behind another task: Waiting.
            assert!(cell.start(&handle));
            let supervisor = {
                let (cell, value) = (Arc::clone(&cell), value.clone());
                thread::spawn(move || {
                    let runs = cell.promote();
                    if runs {
                        // The worker runs it and answers (unless a cancel
                        // killed it: then the answer never comes, and the
                        // supervisor fails the task; `finish` treats both
                        // alike once the cancel is marked).
                        cell.finish(Ok(&[WireOutcomeIn::Value(&value)]));
                    } else {
                        // Cancelled while waiting: the supervisor kills the
                        // worker before the task starts.
                        cell.finish(Err(TaskError::WorkerDied {
                            code: None,
                            signal: Some(9),
                        }));
                    }
                    runs
                })
            };
            let cancelled = fut.cancel();
            let ran = supervisor.join().unwrap();
            assert_eq!(calls.load(Ordering::SeqCst), 1);
            assert!(ran || cancelled, "a task was held back without a cancel");
            match fut.result() {
                Ok(7) => assert!(ran && !cancelled),
                Err(TaskError::Cancelled) => assert!(cancelled),
                other => panic!("unexpected {other:?} (cancelled {cancelled}, ran {ran})"),
            }
        });
    }
}
