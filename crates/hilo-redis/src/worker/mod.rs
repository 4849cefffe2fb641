//! [`serve`]: a worker. It takes tasks from Redis as slots free up, runs
//! each in its local `ProcessPool` (so a task that crashes fails alone and
//! the worker lives on), and sends each result to the client that queued
//! it. Two helper threads: the finisher writes results, the keeper renews
//! leases, carries out stops and beats the heartbeat.

mod finisher;
mod keeper;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hilo::process::ProcessPool;
use hilo::{Future, StopToken, TaskError, ThreadPool};

use crate::broker::{Broker, BrokerError, Delivery, Inboxes, Presence};
use crate::client::lock;
use crate::streams::Streams;
use crate::wire::{Envelope, WireError};

/// How a worker serves.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The key prefix of the queues (the clients' prefix).
    pub prefix: String,
    /// How many tasks run at once (processes of the local pool).
    pub slots: usize,
    /// Tasks held beyond the running ones, queued in the local pool so
    /// that a slot never waits for Redis between tasks (default 0). They
    /// are the worker's (leased, renewed) until they run, in the order
    /// they were taken: a higher-priority task queued meanwhile waits
    /// behind them. For many short tasks of one priority.
    pub prefetch: usize,
    /// A task this worker holds is taken over by another worker if this
    /// one has not renewed its lease for this long (it renews every third
    /// of it).
    pub lease: Duration,
    /// Stop when this is requested: take no more tasks, finish the ones
    /// held, leave.
    pub stop: StopToken,
    /// Tasks run on the worker's own threads instead of its process pool:
    /// tasks that only start other processes and wait for them (a shell
    /// job), for which a process of their own isolates nothing and costs
    /// a round trip and a fork. A cancel (or a lost lease) requests their
    /// `StopToken::current()`; the timeout of the call is theirs to keep.
    pub on_threads: Vec<String>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            prefix: crate::DEFAULT_PREFIX.to_owned(),
            slots: hilo::default_workers(),
            prefetch: 0,
            lease: Duration::from_secs(10),
            stop: StopToken::new(),
            on_threads: Vec::new(),
        }
    }
}

/// What a worker did, when it stops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServeReport {
    /// Its consumer name.
    pub name: String,
    /// Results written.
    pub done: u64,
    /// Results dropped: the task had been cancelled, or taken over by
    /// another worker while this one held it.
    pub dropped: u64,
}

/// Why a worker could not serve.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Broker(#[from] BrokerError),
    #[error("cannot start the worker's process pool: {0}")]
    Pool(#[from] hilo::BuildError),
}

/// A task this worker holds: taken, running or finished but not yet
/// written.
pub(crate) struct Held {
    /// The delivery, without its body (decoded already).
    pub(crate) delivery: Delivery,
    pub(crate) reply: String,
    pub(crate) tag: u64,
    pub(crate) calls: usize,
    pub(crate) future: Future<Vec<Result<Vec<u8>, TaskError>>>,
}

/// What the taker, the finisher and the keeper share.
pub(crate) struct Worker {
    pub(crate) name: String,
    /// Tasks that run at once.
    pub(crate) slots: usize,
    /// Tasks it may hold: the running ones and the prefetched ones.
    pub(crate) capacity: usize,
    pub(crate) lease: Duration,
    pub(crate) held: Mutex<HashMap<String, Held>>,
    /// Signalled when a slot frees up.
    pub(crate) freed: Condvar,
    pub(crate) done: AtomicU64,
    pub(crate) dropped: AtomicU64,
}

/// What the finisher is asked to write.
pub(crate) enum Finish {
    /// The held task with this id has finished running.
    Ran(String),
    /// A task answered without running (given up, undecodable).
    Answer {
        delivery: Delivery,
        reply: String,
        tag: u64,
        error: WireError,
        calls: usize,
    },
}

/// Where the result of a task whose envelope cannot be read goes: no
/// client can be named, and the entry must leave the queue.
pub(crate) const UNDELIVERABLE: &str = "undeliverable";

/// Serves tasks from the Redis server at `url` until `options.stop` is
/// requested; then finishes the tasks it holds, leaves, and reports.
///
/// The program must call `hilo::init()` first thing in `main`: the tasks
/// run in worker processes of this same program.
///
/// # Errors
/// Redis cannot be reached when starting, or the process pool cannot be
/// built. Once serving, Redis going away is waited out.
pub fn serve(url: &str, options: &ServeOptions) -> Result<ServeReport, ServeError> {
    let slots = options.slots.max(1);
    let pool = ProcessPool::builder().max_workers(slots).build()?;
    let threads = if options.on_threads.is_empty() {
        None
    } else {
        Some(
            ThreadPool::builder()
                .max_workers(slots)
                .thread_name_prefix("hilo-redis-task")
                .build()?,
        )
    };
    let runners = Runners {
        pool: &pool,
        threads: threads.as_ref(),
        on_threads: &options.on_threads,
    };
    let mut taker = Streams::connect(url, &options.prefix)?;
    let name = taker.unique_name("worker")?;
    let worker = Arc::new(Worker {
        name,
        slots,
        capacity: slots + options.prefetch,
        lease: options.lease.max(Duration::from_millis(30)),
        held: Mutex::new(HashMap::new()),
        freed: Condvar::new(),
        done: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
    });
    let (finish, to_finish) = mpsc::channel();
    let finisher = finisher::start(
        Arc::clone(&worker),
        Streams::connect(url, &options.prefix)?,
        to_finish,
    );
    let keeper_stop = StopToken::new();
    let keeper = keeper::start(
        Arc::clone(&worker),
        Streams::connect(url, &options.prefix)?,
        keeper_stop.clone(),
    );
    take_until_stopped(&worker, &mut taker, &runners, &finish, &options.stop);
    // Let what is held finish and be written, then leave.
    {
        let mut held = lock(&worker.held);
        while !held.is_empty() {
            held = worker
                .freed
                .wait(held)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
    drop(finish);
    let _ = finisher.join();
    keeper_stop.request_stop();
    let _ = taker.post(&worker.name, b"");
    let _ = keeper.join();
    let _ = taker.drop_inbox(&worker.name);
    let _ = taker.leave(&worker.name);
    Ok(ServeReport {
        name: worker.name.clone(),
        done: worker.done.load(Ordering::Relaxed),
        dropped: worker.dropped.load(Ordering::Relaxed),
    })
}

/// The taker: whenever a slot is free, takes new tasks and starts them.
///
/// Every half lease it looks for tasks another worker held past its lease.
/// Such a task may be what killed that worker (and any task beside it), so
/// it runs here alone: the worker drains what it holds, takes over one
/// task, and takes nothing else until it is done. A task that kills its
/// workers then takes no other task down with it, and fails alone once it
/// reaches its delivery cap.
fn take_until_stopped(
    worker: &Arc<Worker>,
    broker: &mut Streams,
    runners: &Runners<'_>,
    finish: &mpsc::Sender<Finish>,
    stop: &StopToken,
) {
    // The longest blocking read: a stop is noticed this soon.
    let wait = (worker.lease / 3).min(Duration::from_millis(500));
    let mut next_look = Instant::now();
    let mut draining = false;
    let mut backoff = Duration::from_millis(10);
    while !stop.is_stop_requested() {
        let (held, alone) = {
            let held = lock(&worker.held);
            (held.len(), held.values().any(|h| h.delivery.deliveries > 1))
        };
        let busy = held >= worker.capacity || alone || (draining && held > 0);
        if busy {
            wait_for_a_slot(worker, held, wait);
            continue;
        }
        let got = if draining || Instant::now() >= next_look {
            next_look = Instant::now() + worker.lease / 2;
            match broker.any_lapsed(worker.lease) {
                Ok(true) if held > 0 => {
                    draining = true;
                    continue;
                }
                Ok(true) => {
                    draining = false;
                    broker.reclaim(&worker.name, worker.lease, 1)
                }
                Ok(false) => {
                    draining = false;
                    broker.take(&worker.name, worker.capacity - held, wait)
                }
                Err(e) => Err(e),
            }
        } else {
            broker.take(&worker.name, worker.capacity - held, wait)
        };
        match got {
            Ok(deliveries) => {
                backoff = Duration::from_millis(10);
                for delivery in deliveries {
                    start(worker, runners, finish, delivery);
                }
            }
            Err(_) => {
                // Redis is away: try again a little later.
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// Waits until the worker holds fewer than `held` tasks, or `wait` passes.
fn wait_for_a_slot(worker: &Worker, held: usize, wait: Duration) {
    let guard = lock(&worker.held);
    if guard.len() >= held {
        let _ = worker.freed.wait_timeout(guard, wait);
    }
}

/// Where a worker's tasks run.
struct Runners<'a> {
    pool: &'a ProcessPool,
    threads: Option<&'a ThreadPool>,
    on_threads: &'a [String],
}

impl Runners<'_> {
    /// Runs the task's calls, on a thread if it is one of `on_threads`,
    /// else in the process pool.
    fn run(
        &self,
        task: String,
        args: Vec<Vec<u8>>,
        timeout: Option<Duration>,
    ) -> Future<Vec<Result<Vec<u8>, TaskError>>> {
        let submitted = match self.threads {
            Some(threads) if self.on_threads.contains(&task) => {
                threads.submit_with_stop(move |token| {
                    token.run_as_current(|| {
                        args.iter()
                            .map(|a| hilo::process::run_encoded_here(&task, a))
                            .collect()
                    })
                })
            }
            _ => self.pool.submit_encoded(&task, args, timeout),
        };
        submitted.unwrap_or_else(|e| Future::ready(Err(e.into())))
    }
}

/// Starts one delivered task, or answers it at once if it cannot or must
/// not run.
fn start(
    worker: &Arc<Worker>,
    runners: &Runners<'_>,
    finish: &mpsc::Sender<Finish>,
    mut delivery: Delivery,
) {
    let envelope = match Envelope::decode(&delivery.body) {
        Ok(envelope) => envelope,
        Err(fault) => {
            delivery.body = Vec::new();
            let error = WireError::Failed(format!("the task cannot be read: {fault}"));
            let reply = UNDELIVERABLE.to_owned();
            let _ = finish.send(Finish::Answer {
                delivery,
                reply,
                tag: 0,
                error,
                calls: 0,
            });
            return;
        }
    };
    delivery.body = Vec::new();
    let calls = envelope.args.len();
    if delivery.deliveries > envelope.max_deliveries {
        let error = WireError::GaveUp {
            deliveries: delivery.deliveries - 1,
        };
        let (reply, tag) = (envelope.reply, envelope.tag);
        let _ = finish.send(Finish::Answer {
            delivery,
            reply,
            tag,
            error,
            calls,
        });
        return;
    }
    if lock(&worker.held).contains_key(&delivery.id) {
        // Taken over from itself (a renewal came too late): it runs here
        // already.
        return;
    }
    let timeout = envelope.timeout();
    let future = runners.run(envelope.task, envelope.args, timeout);
    let id = delivery.id.clone();
    let mut held = lock(&worker.held);
    let task = held.entry(id.clone()).insert_entry(Held {
        delivery,
        reply: envelope.reply,
        tag: envelope.tag,
        calls,
        future,
    });
    let finish = finish.clone();
    // Runs at once if the future is done already; it only sends.
    task.get().future.add_done_callback(move |_| {
        let _ = finish.send(Finish::Ran(id));
    });
}
