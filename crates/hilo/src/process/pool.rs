//! [`ProcessPool`]: runs registered tasks in worker processes that can
//! crash, be killed or time out without taking the pool down.
//!
//! The pool owns a queue of calls and one supervisor thread per worker
//! slot. A supervisor owns at most one worker process at a time: it starts
//! it (and checks the `Ready` handshake), hands it one task, waits for the
//! answer (with the task's timeout), and when the worker dies, times out
//! or is cancelled, reaps it and starts a new one for the next task. It
//! never lets a child outlive it unreaped.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{self, BufReader};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use super::protocol::{
    decode_body, read_body, read_frame, spin_for_data, write_frame, FrameError, FromWorker,
    FromWorkerIn, ToWorker, ToWorkerRef, WireOutcomeIn, MAX_FRAME,
};
use super::registry::Call;
use super::worker;
use crate::error::{BuildError, SubmitError, TaskError};
use crate::executor::Executor;
use crate::future::{Cell, Future, Inner};
use crate::Shutdown;

/// How long a new worker may take to say `Ready`.
const HANDSHAKE: Duration = Duration::from_secs(2);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A queued call or chunk of calls, type-erased: the supervisor only sees
/// bytes.
trait Job: Send + Sync {
    fn id(&self) -> u64;
    fn name(&self) -> &'static str;
    /// One entry per call (one for `submit`, several for a chunk).
    fn args(&self) -> &[Vec<u8>];
    fn timeout(&self) -> Option<Duration>;
    /// Pending → Running as it is sent to worker `pid`; false if it was
    /// cancelled meanwhile (then it must not be sent).
    fn start(&self, pid: u32) -> bool;
    /// It is the oldest task its worker holds: the one running now. False
    /// if it was cancelled while it waited in the worker: the supervisor
    /// then kills the worker before the task gets anywhere.
    fn promote(&self) -> bool;
    /// The worker no longer holds it: cancel can no longer kill for it.
    fn detach(&self);
    /// Running → Pending for a task a dead worker held but never started,
    /// so it can be queued again; false if it was cancelled.
    fn unstart(&self) -> bool;
    /// Completes the future from the worker's answer (one outcome per
    /// call) or from what happened to the worker.
    fn finish(&self, outcome: Result<&[WireOutcomeIn<'_>], TaskError>);
    fn cancel_pending(&self);
}

/// Turns a run's outcomes into the future's value; the `usize` is how
/// many calls the run had.
type Convert<O> = fn(Result<&[WireOutcomeIn<'_>], TaskError>, usize) -> Result<O, TaskError>;

/// Where a running task is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// In the pool's queue, or done.
    Here,
    /// Sent to worker `pid`, behind another task.
    Waiting(u32),
    /// The task worker `pid` is running.
    Running(u32),
}

/// One run's future (a call's, or a chunk's) and what cancelling it while
/// it runs must kill.
struct ProcCell<O> {
    inner: Inner<O>,
    id: u64,
    name: &'static str,
    args: Vec<Vec<u8>>,
    timeout: Option<Duration>,
    convert: Convert<O>,
    /// Held while killing, so a kill can never reach a worker that has
    /// moved on to another task.
    place: Mutex<Place>,
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
        let place = lock(&self.place);
        match *place {
            Place::Running(pid) => {
                kill(pid);
                self.inner.cancel_running()
            }
            Place::Waiting(_) => self.inner.cancel_running(),
            Place::Here => false,
        }
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
    fn start(&self, pid: u32) -> bool {
        let mut place = lock(&self.place);
        if !self.inner.set_running() {
            return false;
        }
        *place = Place::Waiting(pid);
        true
    }
    fn promote(&self) -> bool {
        let mut place = lock(&self.place);
        if let Place::Waiting(pid) = *place {
            *place = Place::Running(pid);
        }
        self.inner.state() == crate::State::Running
    }
    fn detach(&self) {
        *lock(&self.place) = Place::Here;
    }
    fn unstart(&self) -> bool {
        *lock(&self.place) = Place::Here;
        self.inner.unstart()
    }
    fn finish(&self, outcome: Result<&[WireOutcomeIn<'_>], TaskError>) {
        self.inner
            .complete((self.convert)(outcome, self.args.len()));
    }
    fn cancel_pending(&self) {
        self.inner.cancel();
    }
}

/// One call's outcome as the caller sees it.
fn from_wire<R: DeserializeOwned>(outcome: &WireOutcomeIn<'_>) -> Result<R, TaskError> {
    match outcome {
        WireOutcomeIn::Value(bytes) => {
            super::protocol::from_bytes(bytes).map_err(|e| TaskError::Failed {
                message: format!("cannot decode the task's result: {e}"),
            })
        }
        WireOutcomeIn::Panicked(message) => Err(TaskError::Panicked {
            message: message.clone(),
        }),
        WireOutcomeIn::UnknownTask(name) => Err(TaskError::UnknownTask { name: name.clone() }),
        WireOutcomeIn::Failed(message) => Err(TaskError::Failed {
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
fn every<R>(error: TaskError, n: usize) -> Vec<Result<R, TaskError>> {
    (0..n).map(|_| Err(error.clone())).collect()
}

/// `submit`: one call, one value.
fn convert_one<R: DeserializeOwned>(
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
fn convert_chunk<R: DeserializeOwned>(
    outcome: Result<&[WireOutcomeIn<'_>], TaskError>,
    calls: usize,
) -> Result<Vec<Result<R, TaskError>>, TaskError> {
    Ok(match outcome {
        Ok(outcomes) if outcomes.len() == calls => outcomes.iter().map(from_wire).collect(),
        Ok(outcomes) => every(miscount(outcomes.len(), calls), calls),
        Err(e) => every(e, calls),
    })
}

fn kill(pid: u32) {
    if let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
    }
}

/// Settings a worker is started with.
#[derive(Clone, Debug)]
struct Config {
    program: PathBuf,
    env: Vec<(OsString, OsString)>,
    rlimit_as: Option<u64>,
    rlimit_cpu: Option<u64>,
    nice: Option<u32>,
    initializer: Option<&'static str>,
    timeout: Option<Duration>,
    max_tasks_per_child: Option<usize>,
}

/// A live worker process and its connection.
struct Worker {
    child: Child,
    pid: u32,
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    tasks_done: usize,
    /// The socket's read timeout as last set (a system call to change).
    read_timeout: Option<Duration>,
}

impl Worker {
    fn spawn(config: &Config) -> Result<Worker, String> {
        let (ours, theirs) =
            UnixStream::pair().map_err(|e| format!("cannot create a socket pair: {e}"))?;
        let mut cmd = Command::new(&config.program);
        cmd.env(worker::ENV_WORKER, std::process::id().to_string())
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit());
        for (var, value) in [
            (worker::ENV_RLIMIT_AS, config.rlimit_as),
            (worker::ENV_RLIMIT_CPU, config.rlimit_cpu),
            (worker::ENV_NICE, config.nice.map(u64::from)),
        ] {
            if let Some(v) = value {
                cmd.env(var, v.to_string());
            }
        }
        if let Some(init) = config.initializer {
            cmd.env(worker::ENV_INIT, init);
        }
        cmd.envs(config.env.iter().map(|(k, v)| (k, v)));
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start a worker ({}): {e}", config.program.display()))?;
        drop(cmd); // closes our copy of the worker's end
        let writer = ours
            .try_clone()
            .map_err(|e| format!("cannot clone the worker socket: {e}"))?;
        let mut worker = Worker {
            pid: child.id(),
            child,
            reader: BufReader::new(ours),
            writer,
            tasks_done: 0,
            read_timeout: None,
        };
        match worker.read(Some(HANDSHAKE)) {
            Ok(FromWorker::Ready { .. }) => Ok(worker),
            Ok(FromWorker::SetupFailed { reason }) => {
                worker.kill_and_reap();
                Err(reason)
            }
            Ok(other) => {
                worker.kill_and_reap();
                Err(format!("the worker sent {other:?} instead of Ready"))
            }
            Err(e) => {
                let status = worker.kill_and_reap();
                Err(format!(
                    "the worker process did not start serving ({e}; it {status}). \
                     Is hilo::init() the first line of main?"
                ))
            }
        }
    }

    fn read(&mut self, timeout: Option<Duration>) -> Result<FromWorker, FrameError> {
        self.set_read_timeout(timeout)?;
        read_frame(&mut self.reader, MAX_FRAME)
    }

    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        // A zero timeout means "none" to the socket; the caller checks its
        // deadline before reading, so round a spent one up to 1 ns.
        let timeout = timeout.map(|t| t.max(Duration::from_nanos(1)));
        if timeout != self.read_timeout {
            self.reader.get_ref().set_read_timeout(timeout)?;
            self.read_timeout = timeout;
        }
        Ok(())
    }

    /// One frame's body, undecoded.
    fn read_body(&mut self, timeout: Option<Duration>) -> Result<Vec<u8>, FrameError> {
        if self.reader.buffer().is_empty() {
            spin_for_data(self.reader.get_ref());
        }
        self.set_read_timeout(timeout)?;
        read_body(&mut self.reader, MAX_FRAME)
    }

    /// Kills the worker (if still alive) and reaps it; describes how it
    /// ended.
    fn kill_and_reap(&mut self) -> String {
        let _ = self.child.kill();
        match self.child.wait() {
            Ok(status) => describe(status),
            Err(e) => format!("could not be reaped: {e}"),
        }
    }

    /// Reaps a worker whose connection broke and reports how it ended. If
    /// it is somehow still alive, kill it first.
    fn reap_dead(&mut self) -> TaskError {
        // The socket closes while the process exits, a moment before it can
        // be reaped: give it a second to finish dying before deciding it
        // lives on (it closed the socket but kept running) and ending it.
        if !exited_within(self.pid, Duration::from_secs(1)) {
            let _ = self.child.kill();
        }
        let status = self.child.wait();
        match status {
            Ok(s) => TaskError::WorkerDied {
                code: s.code(),
                signal: s.signal(),
            },
            Err(_) => TaskError::WorkerDied {
                code: None,
                signal: None,
            },
        }
    }

    /// Asks the worker to exit and reaps it (killing it if it does not
    /// exit in time).
    fn retire(mut self) {
        let _ = write_frame(&mut self.writer, &ToWorker::Exit);
        let _ = self.writer.shutdown(std::net::Shutdown::Both);
        if !exited_within(self.pid, Duration::from_secs(2)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Waits up to `timeout` for process `pid` (our child) to exit, woken by
/// the kernel through a pidfd; true if it did. Does not reap it.
fn exited_within(pid: u32, timeout: Duration) -> bool {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let Some(p) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    let Ok(fd) = rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()) else {
        return false; // no pidfd (old kernel): the caller kills and reaps
    };
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let ts = Timespec {
        tv_sec: timeout.as_secs().try_into().unwrap_or(i64::MAX),
        tv_nsec: timeout.subsec_nanos().into(),
    };
    matches!(poll(&mut fds, Some(&ts)), Ok(n) if n > 0)
}

fn describe(status: std::process::ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (_, Some(sig)) => format!("was killed by signal {sig}"),
        (Some(code), None) => format!("exited with status {code}"),
        _ => "ended".to_owned(),
    }
}

struct Queue {
    jobs: VecDeque<Arc<dyn Job>>,
    closed: bool,
    /// `terminate` was called: tasks of killed workers are not run again.
    terminated: bool,
}

struct Shared {
    config: Config,
    max_workers: usize,
    queue: Mutex<Queue>,
    work: Condvar,
    /// Pids of the live workers, by slot (for `terminate`).
    pids: Mutex<Vec<Option<u32>>>,
    supervisors: Mutex<Vec<JoinHandle<()>>>,
    next_id: AtomicU64,
}

impl Shared {
    /// The next job, or `None` once the queue is closed and empty.
    fn next_job(&self) -> Option<Arc<dyn Job>> {
        let mut q = lock(&self.queue);
        loop {
            if let Some(job) = q.jobs.pop_front() {
                return Some(job);
            }
            if q.closed {
                return None;
            }
            q = self.work.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The next job if one is queued now.
    fn try_next_job(&self) -> Option<Arc<dyn Job>> {
        lock(&self.queue).jobs.pop_front()
    }

    fn set_pid(&self, slot: usize, pid: Option<u32>) {
        lock(&self.pids)[slot] = pid;
    }
}

/// How many tasks a worker holds at most: the one it runs and the next,
/// already sent, so it never waits for the pool between tasks.
const PIPELINE: usize = 2;

/// One worker slot's state, owned by its supervisor thread.
struct Slot {
    shared: Arc<Shared>,
    index: usize,
    worker: Option<Worker>,
    /// Tasks sent to the worker, oldest (the running one) first.
    held: VecDeque<Arc<dyn Job>>,
    /// When the oldest held task became the running one.
    head_since: Instant,
}

impl Slot {
    /// Sends tasks until the worker holds `PIPELINE` (or its
    /// `max_tasks_per_child` allowance). Blocks for work only when it holds
    /// none; false once the queue is closed and drained and nothing is held.
    fn fill(&mut self) -> bool {
        while self.held.len() < PIPELINE && self.room_in_worker() {
            let job = if self.held.is_empty() {
                match self.shared.next_job() {
                    Some(job) => job,
                    None => return false,
                }
            } else {
                match self.shared.try_next_job() {
                    Some(job) => job,
                    None => break,
                }
            };
            self.send(job);
        }
        true
    }

    fn room_in_worker(&self) -> bool {
        let done = self.worker.as_ref().map_or(0, |w| w.tasks_done);
        self.shared
            .config
            .max_tasks_per_child
            .is_none_or(|max| done + self.held.len() < max)
    }

    fn send(&mut self, job: Arc<dyn Job>) {
        if self.worker.is_none() {
            match Worker::spawn(&self.shared.config) {
                Ok(w) => {
                    self.shared.set_pid(self.index, Some(w.pid));
                    self.worker = Some(w);
                }
                Err(reason) => {
                    job.finish(Err(TaskError::Broken { reason }));
                    return;
                }
            }
        }
        let Some(w) = self.worker.as_mut() else {
            return;
        };
        if !job.start(w.pid) {
            return; // cancelled while queued
        }
        let msg = ToWorkerRef::Run {
            id: job.id(),
            task: job.name(),
            args: job.args(),
        };
        if write_frame(&mut w.writer, &msg).is_err() {
            // The worker is gone; the task it was running (if any) learns
            // how it died. This one never reached it and is queued again,
            // unless the worker died before doing anything at all: then it
            // fails, so a worker that always dies cannot make us start
            // workers forever.
            let died = w.reap_dead();
            if self.held.is_empty() && w.tasks_done == 0 {
                job.detach();
                job.finish(Err(died.clone()));
            } else {
                self.requeue(vec![job]);
            }
            self.lose_worker(Some(died));
            return;
        }
        self.held.push_back(job);
        if self.held.len() == 1 {
            self.promote_head();
        }
    }

    /// Makes the oldest held task the running one. One cancelled while it
    /// waited in the worker is killed with the worker right away.
    fn promote_head(&mut self) {
        let Some(head) = self.held.front() else {
            return;
        };
        self.head_since = Instant::now();
        if !head.promote() {
            if let Some(w) = self.worker.as_mut() {
                w.kill_and_reap();
            }
            self.lose_worker(None);
        }
    }

    /// Waits for the running task's answer, its timeout or its worker's
    /// death, and completes its future.
    fn await_head(&mut self) {
        let (Some(head), Some(w)) = (self.held.front().cloned(), self.worker.as_mut()) else {
            return;
        };
        let timeout = head.timeout().or(self.shared.config.timeout);
        let deadline = timeout.map(|t| self.head_since + t);
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                w.kill_and_reap();
                let after = timeout.unwrap_or_default();
                self.lose_worker(Some(TaskError::TimedOut { after }));
                return;
            }
            let body = match w.read_body(left) {
                Ok(body) => body,
                Err(FrameError::Io(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    continue; // the deadline check above decides
                }
                Err(FrameError::Closed | FrameError::Truncated | FrameError::Io(_)) => {
                    let died = w.reap_dead();
                    self.lose_worker(Some(died));
                    return;
                }
                Err(e) => return self.bad_frame(e.to_string()),
            };
            match decode_body::<FromWorkerIn<'_>>(&body) {
                Ok(FromWorkerIn::Done { id, outcomes }) if id == head.id() => {
                    // Detach first: once the future is complete, a cancel
                    // must not find this worker to kill.
                    head.detach();
                    head.finish(Ok(&outcomes));
                    self.held.pop_front();
                    w.tasks_done += 1;
                    self.after_answer();
                    return;
                }
                Ok(other) => return self.bad_frame(format!("it sent {other:?}")),
                Err(e) => return self.bad_frame(e.to_string()),
            }
        }
    }

    /// After an answer: retire a worker that has done its share, or start
    /// timing the next held task.
    fn after_answer(&mut self) {
        let done = self.worker.as_ref().map_or(0, |w| w.tasks_done);
        let retire = self
            .shared
            .config
            .max_tasks_per_child
            .is_some_and(|max| done >= max);
        if retire && self.held.is_empty() {
            if let Some(w) = self.worker.take() {
                w.retire();
            }
            self.shared.set_pid(self.index, None);
        } else {
            self.promote_head();
        }
    }

    /// A worker that sent something undecodable cannot be trusted: end it.
    fn bad_frame(&mut self, why: String) {
        let status = self.worker.as_mut().map(Worker::kill_and_reap);
        let error = TaskError::Failed {
            message: format!(
                "the worker broke the protocol ({why}) and {}",
                status.unwrap_or_default()
            ),
        };
        self.lose_worker(Some(error));
    }

    /// The worker is gone (reaped by the caller): the running task gets
    /// `error` (if any), the tasks it held but never started are queued
    /// again, and the next task will start a new worker.
    fn lose_worker(&mut self, error: Option<TaskError>) {
        let mut held: Vec<_> = self.held.drain(..).collect();
        if !held.is_empty() {
            let head = held.remove(0);
            head.detach();
            // A no-op if cancel() already ended it.
            head.finish(Err(error.unwrap_or(TaskError::WorkerDied {
                code: None,
                signal: None,
            })));
        }
        self.requeue(held);
        self.worker = None;
        self.shared.set_pid(self.index, None);
    }

    /// Puts tasks a worker held but never started back at the front of the
    /// queue, in order; after `terminate` they fail instead.
    fn requeue(&self, jobs: Vec<Arc<dyn Job>>) {
        let mut q = lock(&self.shared.queue);
        for job in jobs.into_iter().rev() {
            if q.terminated {
                job.detach();
                job.finish(Err(TaskError::WorkerDied {
                    code: None,
                    signal: Some(9),
                }));
            } else if job.unstart() {
                q.jobs.push_front(job);
            }
        }
        drop(q);
        self.shared.work.notify_all();
    }
}

/// One worker slot: keeps a worker alive and feeds it tasks.
fn supervise(shared: Arc<Shared>, index: usize, worker: Option<Worker>) {
    let mut slot = Slot {
        shared,
        index,
        worker,
        held: VecDeque::new(),
        head_since: Instant::now(),
    };
    while slot.fill() {
        slot.await_head();
    }
    if let Some(w) = slot.worker.take() {
        w.retire();
    }
    slot.shared.set_pid(slot.index, None);
}

/// A pool of worker processes running tasks registered with
/// `#[hilo::task]`: Python's `ProcessPoolExecutor` without
/// `BrokenProcessPool`.
///
/// - A worker that panics keeps serving (`TaskError::Panicked`); one that
///   dies fails only its own task (`TaskError::WorkerDied`) and is
///   replaced.
/// - Timeouts kill (`TaskError::TimedOut`), and `cancel()` of a running
///   task kills its worker.
/// - Workers are this same program started again; `hilo::init()` must be
///   the first line of `main`.
///
/// ```
/// #[hilo::task]
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     hilo::init();
///     let pool = hilo::process::ProcessPool::builder().max_workers(2).build()?;
///     assert_eq!(pool.submit(square::call(7))?.result()?, 49);
///     Ok(())
/// }
/// ```
pub struct ProcessPool {
    shared: Arc<Shared>,
}

impl ProcessPool {
    /// A builder for the number of workers, limits and timeouts.
    ///
    /// ```no_run
    /// let pool = hilo::process::ProcessPool::builder().max_workers(4).build().unwrap();
    /// # drop(pool);
    /// ```
    pub fn builder() -> ProcessPoolBuilder {
        ProcessPoolBuilder::default()
    }

    /// Queues `call` (made by a task's generated `call` function) and
    /// returns the future of its result.
    ///
    /// # Errors
    /// [`SubmitError::Shutdown`] after `shutdown`.
    ///
    /// ```no_run
    /// #[hilo::task]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    ///
    /// # fn main() {
    /// # hilo::init();
    /// # let pool = hilo::process::ProcessPool::builder().build().unwrap();
    /// let fut = pool.submit(square::call(3)).unwrap();
    /// assert_eq!(fut.result(), Ok(9));
    /// # }
    /// ```
    pub fn submit<R>(&self, call: Call<R>) -> Result<Future<R>, SubmitError>
    where
        R: DeserializeOwned + Send + 'static,
    {
        let args = match call.args {
            Ok(args) => vec![args],
            Err(message) => {
                return Ok(Future::ready(Err(TaskError::Failed {
                    message: format!("cannot encode the task's arguments: {message}"),
                })))
            }
        };
        self.enqueue(call.name, args, call.timeout, convert_one::<R>)
    }

    /// Runs several calls of one task in a single round trip to one
    /// worker, as `map_chunked` does: one `Result` per call, in order. A
    /// panic fails only its call; a worker death or timeout fails the
    /// whole chunk (each call gets the error). The first call's timeout
    /// applies to the chunk.
    ///
    /// # Errors
    /// [`SubmitError::Shutdown`] after `shutdown`.
    ///
    /// ```no_run
    /// #[hilo::task]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    /// # fn main() {
    /// # let pool = hilo::process::ProcessPool::builder().build().unwrap();
    /// let chunk = pool.submit_chunk((0..4).map(square::call).collect()).unwrap();
    /// assert_eq!(chunk.result().unwrap(), vec![Ok(0), Ok(1), Ok(4), Ok(9)]);
    /// # }
    /// ```
    pub fn submit_chunk<R>(&self, calls: Vec<Call<R>>) -> Result<ChunkFuture<R>, SubmitError>
    where
        R: DeserializeOwned + Send + 'static,
    {
        let Some(first) = calls.first() else {
            return Ok(Future::ready(Ok(Vec::new())));
        };
        let (name, timeout, n) = (first.name, first.timeout, calls.len());
        let mut args = Vec::with_capacity(n);
        for call in calls {
            let problem = if call.name != name {
                Some(format!(
                    "a chunk must call one task, not both {name} and {}",
                    call.name
                ))
            } else {
                call.args.map(|a| args.push(a)).err()
            };
            if let Some(message) = problem {
                let error = TaskError::Failed { message };
                return Ok(Future::ready(Ok(every(error, n))));
            }
        }
        self.enqueue(name, args, timeout, convert_chunk::<R>)
    }

    /// Maps `make_call` over `items` on the workers in chunks of
    /// `chunk_size` items per round trip (Python's `map(chunksize=)`),
    /// lazily, with at most `window` chunks in flight (default 2 ×
    /// workers): one `Result` per item, in input order. Dropping the
    /// iterator cancels the chunks not yet started.
    ///
    /// ```no_run
    /// #[hilo::task]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    /// # fn main() {
    /// # let pool = hilo::process::ProcessPool::builder().build().unwrap();
    /// let total: u64 = pool.map_chunked(0..100_000u64, 100, square::call).map(Result::unwrap).sum();
    /// # }
    /// ```
    pub fn map_chunked<I, M, R>(
        &self,
        items: I,
        chunk_size: usize,
        make_call: M,
    ) -> ChunkedMap<'_, I::IntoIter, M, R>
    where
        I: IntoIterator,
        M: FnMut(I::Item) -> Call<R>,
        R: DeserializeOwned + Send + 'static,
    {
        ChunkedMap {
            pool: self,
            items: items.into_iter().fuse(),
            make_call,
            chunk_size: chunk_size.max(1),
            window: 2 * self.shared.max_workers,
            in_flight: VecDeque::new(),
            ready: VecDeque::new(),
        }
    }

    fn enqueue<O: Send + 'static>(
        &self,
        name: &'static str,
        args: Vec<Vec<u8>>,
        timeout: Option<Duration>,
        convert: Convert<O>,
    ) -> Result<Future<O>, SubmitError> {
        let cell = Arc::new(ProcCell {
            inner: Inner::new(None),
            id: self.shared.next_id.fetch_add(1, Ordering::Relaxed),
            name,
            args,
            timeout,
            convert,
            place: Mutex::new(Place::Here),
        });
        let future = Future::from_cell(Arc::clone(&cell) as Arc<dyn Cell<O>>);
        let mut q = lock(&self.shared.queue);
        if q.closed {
            return Err(SubmitError::Shutdown);
        }
        q.jobs.push_back(cell);
        drop(q);
        self.shared.work.notify_one();
        Ok(future)
    }

    /// Stops taking tasks. With `cancel_pending`, queued tasks are
    /// cancelled (running ones finish); with `wait`, blocks until every
    /// worker has exited and been reaped. Idempotent.
    ///
    /// ```no_run
    /// let pool = hilo::process::ProcessPool::builder().build().unwrap();
    /// pool.shutdown(hilo::Shutdown::default());
    /// ```
    pub fn shutdown(&self, how: Shutdown) {
        let cancelled: Vec<_> = {
            let mut q = lock(&self.shared.queue);
            q.closed = true;
            if how.cancel_pending {
                q.jobs.drain(..).collect()
            } else {
                Vec::new()
            }
        };
        self.shared.work.notify_all();
        for job in cancelled {
            job.cancel_pending();
        }
        if how.wait {
            let handles: Vec<_> = lock(&self.shared.supervisors).drain(..).collect();
            for h in handles {
                let _ = h.join();
            }
        }
    }

    /// Shuts down at once: cancels queued tasks, kills the workers (their
    /// running tasks fail with `WorkerDied`), and reaps them.
    ///
    /// ```no_run
    /// let pool = hilo::process::ProcessPool::builder().build().unwrap();
    /// pool.terminate();
    /// ```
    pub fn terminate(&self) {
        lock(&self.shared.queue).terminated = true;
        self.shutdown(Shutdown {
            wait: false,
            cancel_pending: true,
        });
        for pid in lock(&self.shared.pids).iter().flatten() {
            kill(*pid);
        }
        self.shutdown(Shutdown::default());
    }

    /// How many worker processes the pool runs at most.
    ///
    /// ```no_run
    /// let pool = hilo::process::ProcessPool::builder().max_workers(3).build().unwrap();
    /// assert_eq!(pool.max_workers(), 3);
    /// ```
    pub fn max_workers(&self) -> usize {
        self.shared.max_workers
    }

    /// The process ids of the workers alive now.
    ///
    /// ```no_run
    /// let pool = hilo::process::ProcessPool::builder().build().unwrap();
    /// assert!(!pool.worker_pids().is_empty()); // the first worker starts with the pool
    /// ```
    pub fn worker_pids(&self) -> Vec<u32> {
        lock(&self.shared.pids).iter().flatten().copied().collect()
    }
}

impl Drop for ProcessPool {
    fn drop(&mut self) {
        self.shutdown(Shutdown::default());
    }
}

impl std::fmt::Debug for ProcessPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessPool")
            .field("max_workers", &self.shared.max_workers)
            .field("workers", &self.worker_pids())
            .finish_non_exhaustive()
    }
}

impl<R> Executor<Call<R>> for ProcessPool
where
    R: DeserializeOwned + Send + 'static,
{
    type Output = R;

    fn submit(&self, job: Call<R>) -> Result<Future<R>, SubmitError> {
        ProcessPool::submit(self, job)
    }

    fn max_workers(&self) -> usize {
        self.shared.max_workers
    }
}

/// Settings for a [`ProcessPool`].
///
/// ```no_run
/// use std::time::Duration;
/// let pool = hilo::process::ProcessPool::builder()
///     .max_workers(4)
///     .timeout(Duration::from_secs(30))   // per task, kills the worker
///     .max_tasks_per_child(1000)
///     .memory_limit(512 << 20)            // RLIMIT_AS per worker
///     .build()?;
/// # Ok::<(), hilo::BuildError>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct ProcessPoolBuilder {
    max_workers: Option<usize>,
    timeout: Option<Duration>,
    max_tasks_per_child: Option<usize>,
    rlimit_as: Option<u64>,
    rlimit_cpu: Option<u64>,
    nice: Option<u32>,
    env: Vec<(OsString, OsString)>,
    initializer: Option<&'static str>,
    program: Option<PathBuf>,
}

impl ProcessPoolBuilder {
    /// The most worker processes (default: the cores available).
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n);
        self
    }

    /// Default timeout of every task; a task over it is killed with its
    /// worker (`TaskError::TimedOut`). A call's own timeout wins.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Replace a worker after it has run `n` tasks (at least 1).
    pub fn max_tasks_per_child(mut self, n: usize) -> Self {
        self.max_tasks_per_child = Some(n.max(1));
        self
    }

    /// Address-space limit of each worker in bytes (`RLIMIT_AS`).
    pub fn memory_limit(mut self, bytes: u64) -> Self {
        self.rlimit_as = Some(bytes);
        self
    }

    /// CPU-time limit of each worker in seconds (`RLIMIT_CPU`).
    pub fn cpu_limit(mut self, seconds: u64) -> Self {
        self.rlimit_cpu = Some(seconds);
        self
    }

    /// Niceness added to each worker (0–19: higher is lower priority).
    pub fn nice(mut self, increment: u32) -> Self {
        self.nice = Some(increment.min(19));
        self
    }

    /// An extra environment variable for the workers.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// A registered task without arguments (`#[hilo::task] fn setup()`),
    /// run once in each worker before its first task; give its generated
    /// `NAME`, e.g. `setup::NAME`. If it fails, the worker does not start
    /// and the pool's tasks fail with a `Broken` error naming it.
    pub fn initializer(mut self, task_name: &'static str) -> Self {
        self.initializer = Some(task_name);
        self
    }

    /// Builds the pool and starts its first worker, so a program that does
    /// not call `hilo::init()` first gets an error here.
    ///
    /// # Errors
    /// [`BuildError::ZeroWorkers`]; [`BuildError::Worker`] if the first
    /// worker does not start (the message says why); and
    /// [`BuildError::InWorker`] when called inside a worker process.
    pub fn build(self) -> Result<ProcessPool, BuildError> {
        if worker::is_worker_process() {
            return Err(BuildError::InWorker);
        }
        if self.max_workers == Some(0) {
            return Err(BuildError::ZeroWorkers);
        }
        let program = match self.program {
            Some(p) => p,
            None => std::env::current_exe().map_err(|e| BuildError::Worker {
                reason: format!("cannot find this program's executable: {e}"),
            })?,
        };
        let max_workers = self
            .max_workers
            .unwrap_or_else(crate::thread_pool::default_workers);
        let shared = Arc::new(Shared {
            config: Config {
                program,
                env: self.env,
                rlimit_as: self.rlimit_as,
                rlimit_cpu: self.rlimit_cpu,
                nice: self.nice,
                initializer: self.initializer,
                timeout: self.timeout,
                max_tasks_per_child: self.max_tasks_per_child,
            },
            max_workers,
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                closed: false,
                terminated: false,
            }),
            work: Condvar::new(),
            pids: Mutex::new(vec![None; max_workers]),
            supervisors: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(0),
        });
        // The first worker is started by its own supervisor thread (a
        // worker dies with the thread that started it), which reports back.
        let (ready_tx, ready_rx) = mpsc::channel();
        let first = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("hilo-proc-0".into())
                .spawn(move || match Worker::spawn(&shared.config) {
                    Ok(w) => {
                        shared.set_pid(0, Some(w.pid));
                        let _ = ready_tx.send(Ok(()));
                        supervise(shared, 0, Some(w));
                    }
                    Err(reason) => {
                        let _ = ready_tx.send(Err(reason));
                    }
                })
                .map_err(|e| BuildError::Worker {
                    reason: format!("cannot start a supervisor thread: {e}"),
                })?
        };
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => {
                let _ = first.join();
                return Err(BuildError::Worker { reason });
            }
            Err(_) => {
                let _ = first.join();
                return Err(BuildError::Worker {
                    reason: "the supervisor thread died".into(),
                });
            }
        }
        let mut supervisors = vec![first];
        for slot in 1..max_workers {
            let s = Arc::clone(&shared);
            let spawned = thread::Builder::new()
                .name(format!("hilo-proc-{slot}"))
                .spawn(move || supervise(s, slot, None));
            match spawned {
                Ok(h) => supervisors.push(h),
                Err(_) => break, // fewer slots; the ones we have still serve
            }
        }
        *lock(&shared.supervisors) = supervisors;
        Ok(ProcessPool { shared })
    }

    #[doc(hidden)]
    /// Run workers from another executable (tests; the default is this one).
    pub fn program(mut self, path: impl Into<PathBuf>) -> Self {
        self.program = Some(path.into());
        self
    }
}

/// The future of a chunk: one `Result` per call.
type ChunkFuture<R> = Future<Vec<Result<R, TaskError>>>;

/// The iterator of [`ProcessPool::map_chunked`]: one `Result` per item.
pub struct ChunkedMap<'p, I: Iterator, M, R> {
    pool: &'p ProcessPool,
    items: std::iter::Fuse<I>,
    make_call: M,
    chunk_size: usize,
    window: usize,
    /// Chunks submitted, oldest first, with how many items each holds.
    in_flight: VecDeque<(usize, ChunkFuture<R>)>,
    /// Results of the oldest finished chunk not yet yielded.
    ready: VecDeque<Result<R, TaskError>>,
}

impl<I, M, R> ChunkedMap<'_, I, M, R>
where
    I: Iterator,
    M: FnMut(I::Item) -> Call<R>,
    R: DeserializeOwned + Send + 'static,
{
    /// At most `n` chunks queued or running at once (at least 1).
    pub fn window(mut self, n: usize) -> Self {
        self.window = n.max(1);
        self
    }

    fn fill(&mut self) {
        while self.in_flight.len() < self.window {
            let calls: Vec<Call<R>> = self
                .items
                .by_ref()
                .take(self.chunk_size)
                .map(&mut self.make_call)
                .collect();
            if calls.is_empty() {
                return;
            }
            let n = calls.len();
            let fut = self
                .pool
                .submit_chunk(calls)
                .unwrap_or_else(|e| Future::ready(Err(e.into())));
            self.in_flight.push_back((n, fut));
        }
    }
}

impl<I, M, R> Iterator for ChunkedMap<'_, I, M, R>
where
    I: Iterator,
    M: FnMut(I::Item) -> Call<R>,
    R: DeserializeOwned + Send + 'static,
{
    type Item = Result<R, TaskError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(r) = self.ready.pop_front() {
            return Some(r);
        }
        self.fill();
        let (n, fut) = self.in_flight.pop_front()?;
        match fut.result() {
            Ok(results) => self.ready.extend(results),
            Err(e) => self.ready.extend(every(e, n)),
        }
        self.ready.pop_front()
    }
}

impl<I: Iterator, M, R> Drop for ChunkedMap<'_, I, M, R> {
    fn drop(&mut self) {
        for (_, fut) in &self.in_flight {
            // Pending chunks only: a running one finishes (killing a worker
            // for a dropped iterator would be a surprise).
            if !fut.running() {
                fut.cancel();
            }
        }
    }
}

impl<I: Iterator, M, R> std::fmt::Debug for ChunkedMap<'_, I, M, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkedMap")
            .field("chunk_size", &self.chunk_size)
            .field("window", &self.window)
            .field("chunks_in_flight", &self.in_flight.len())
            .finish_non_exhaustive()
    }
}
