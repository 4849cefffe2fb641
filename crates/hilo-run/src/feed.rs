//! Feeding jobs to the pool: a thread reads the inputs (which may block for
//! as long as a `tail -f` takes), keeps at most `window` jobs in the pool,
//! and every finished job is delivered as an event, in completion order, by
//! the thread that finished it. Owns the reading of inputs and the
//! submission; never prints.
//!
//! Reading in its own thread is what lets output appear as soon as a job
//! ends even while the next input line has not arrived, and lets Ctrl+C end
//! `hilo run` while it waits for input.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use super::exec::Runner;
use super::input::Inputs;
use super::report::JobReport;

/// What the sink of finished jobs hears.
pub(crate) enum Event {
    /// The job submitted `order`-th ended (`None`: it never started,
    /// because `hilo run` was stopping).
    Finished {
        order: u64,
        report: Option<JobReport>,
    },
    /// A job's thread failed (a bug in hilo, reported as such).
    Crashed { order: u64, error: String },
    /// The inputs could not be read further.
    InputError(String),
    /// Every input was read (or reading stopped): `submitted` jobs in all.
    InputEnd { submitted: u64 },
    /// `hilo run` began stopping (halt, Ctrl+C): it may end without
    /// waiting for inputs that have not come.
    Stopping,
}

/// Where events go; called from the feeder, the job threads and the
/// runner (when it starts stopping).
pub(crate) type Deliver = Arc<dyn Fn(Event) + Send + Sync>;

/// The feeder's side, shared with the main thread.
pub(crate) struct Feed {
    /// Jobs submitted so far; final once `InputEnd` was delivered.
    pub(crate) submitted: Arc<AtomicU64>,
}

/// Starts the feeder thread: job `seq` (counting every input from 1) is
/// skipped if `skip` holds it, otherwise run on `pool` by `runner`.
pub(crate) fn start(
    pool: Arc<hilo::ThreadPool>,
    runner: Arc<Runner>,
    inputs: Inputs,
    skip: HashSet<u64>,
    window: usize,
    deliver: Deliver,
) -> std::io::Result<Feed> {
    let submitted = Arc::new(AtomicU64::new(0));
    let count = Arc::clone(&submitted);
    let stopping = Arc::clone(&deliver);
    runner.on_stop(move || stopping(Event::Stopping));
    std::thread::Builder::new()
        .name("hilo-run-input".into())
        .spawn(move || feed(&pool, &runner, inputs, &skip, window, &deliver, &count))?;
    Ok(Feed { submitted })
}

fn feed(
    pool: &hilo::ThreadPool,
    runner: &Arc<Runner>,
    inputs: Inputs,
    skip: &HashSet<u64>,
    window: usize,
    deliver: &Deliver,
    submitted: &AtomicU64,
) {
    let in_flight = Arc::new(Window::new(window));
    for (values, seq) in inputs.zip(1u64..) {
        if runner.stopping() {
            break;
        }
        let values = match values {
            Ok(v) => v,
            Err(e) => {
                deliver(Event::InputError(e.to_string()));
                // No new job: the run ends once the submitted ones, which
                // still run, have.
                break;
            }
        };
        if skip.contains(&seq) {
            continue;
        }
        in_flight.enter();
        let order = submitted.fetch_add(1, Ordering::SeqCst);
        let worker = Arc::clone(runner);
        let done = Arc::clone(deliver);
        let window = Arc::clone(&in_flight);
        let finished = move |outcome: Result<Option<JobReport>, hilo::TaskError>| {
            window.leave();
            done(match outcome {
                Ok(report) => Event::Finished { order, report },
                Err(e) => Event::Crashed {
                    order,
                    error: e.to_string(),
                },
            });
        };
        match pool.submit(move || worker.run_job(seq, order, values)) {
            Ok(fut) => fut.on_complete(finished),
            Err(e) => finished(Err(hilo::TaskError::Failed {
                message: e.to_string(),
            })),
        }
    }
    deliver(Event::InputEnd {
        submitted: submitted.load(Ordering::SeqCst),
    });
}

/// At most `size` jobs in flight. The feeder sleeps when the window is
/// full and is woken only once half of it has drained, then refills it in
/// one go: one wake-up per `size / 2` jobs instead of one per job, which
/// matters when jobs last a millisecond.
///
/// Why not the library's bounded `hilo::map`: it is pulled by its
/// consumer, which both reads the next input and takes the next result on
/// one thread. Here reading may block for as long as a `tail -f` takes,
/// and a finished job must be printed at once all the same, so the feeder
/// only submits and each job is delivered by the thread that ran it.
struct Window {
    in_flight: Mutex<usize>,
    room: Condvar,
    size: usize,
}

impl Window {
    fn new(size: usize) -> Window {
        Window {
            in_flight: Mutex::new(0),
            room: Condvar::new(),
            size: size.max(2),
        }
    }

    /// Blocks while the window is full, then takes a place.
    fn enter(&self) {
        let mut n = self.in_flight.lock();
        while *n >= self.size {
            self.room.wait(&mut n);
        }
        *n += 1;
    }

    /// Gives a place back; wakes the feeder when half the window is free.
    fn leave(&self) {
        let mut n = self.in_flight.lock();
        *n -= 1;
        // Each leave lowers the count by one, so a feeder asleep on a full
        // window sees this exact value on the way down.
        if *n == self.size / 2 {
            self.room.notify_one();
        }
    }
}
