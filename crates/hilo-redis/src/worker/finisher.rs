//! The worker's finisher thread: writes each finished task's reply to its
//! client's inbox, if this worker still holds the task.

use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Finish, Worker};
use crate::broker::{Broker, Delivery, Finished};
use crate::client::lock;
use crate::every;
use crate::streams::Streams;
use crate::wire::{Reply, WireError};

pub(super) fn start(
    worker: Arc<Worker>,
    broker: Streams,
    work: Receiver<Finish>,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("hilo-redis-finisher".into())
        .spawn(move || run(&worker, broker, &work))
        .expect("cannot start the worker's finisher thread")
}

/// The most replies written in one round trip.
const BATCH: usize = 64;

/// A reply ready to be written.
struct Ready {
    delivery: Delivery,
    reply: String,
    bytes: Vec<u8>,
}

fn run(worker: &Worker, mut broker: Streams, work: &Receiver<Finish>) {
    while let Ok(first) = work.recv() {
        // Whatever else has finished meanwhile goes in the same round trip.
        let mut batch: Vec<Ready> = prepare(worker, first).into_iter().collect();
        while batch.len() < BATCH {
            match work.try_recv() {
                Ok(job) => batch.extend(prepare(worker, job)),
                Err(_) => break,
            }
        }
        let written = write(worker, &mut broker, &batch);
        let done = written.iter().filter(|&&w| w).count();
        worker.done.fetch_add(done as u64, Ordering::Relaxed);
        let dropped = batch.len() - done;
        worker.dropped.fetch_add(dropped as u64, Ordering::Relaxed);
    }
}

/// The reply to write for `job`; `None` if the task is no longer held.
fn prepare(worker: &Worker, job: Finish) -> Option<Ready> {
    let (delivery, reply, answer) = match job {
        Finish::Ran(id) => {
            let held = lock(&worker.held).remove(&id)?;
            worker.freed.notify_all();
            let outcomes = match held.future.result() {
                Ok(outcomes) => outcomes
                    .into_iter()
                    .map(|o| o.map_err(|e| WireError::from(&e)))
                    .collect(),
                Err(e) => every(&WireError::from(&e), held.calls),
            };
            let answer = Reply {
                tag: held.tag,
                outcomes,
            };
            (held.delivery, held.reply, answer)
        }
        Finish::Answer {
            delivery,
            reply,
            tag,
            error,
            calls,
        } => (
            delivery,
            reply,
            Reply {
                tag,
                outcomes: every(&error, calls),
            },
        ),
    };
    let bytes = answer.encode().unwrap_or_else(|fault| {
        let error = WireError::Failed(format!("cannot send the task's result: {fault}"));
        let n = answer.outcomes.len();
        Reply {
            tag: answer.tag,
            outcomes: every(&error, n),
        }
        .encode()
        .unwrap_or_default()
    });
    Some(Ready {
        delivery,
        reply,
        bytes,
    })
}

/// Writes each reply if this worker still holds its task: whether it did,
/// one each. While Redis is away it tries again, for as long as the lease
/// could still be its own.
fn write(worker: &Worker, broker: &mut Streams, batch: &[Ready]) -> Vec<bool> {
    let finished: Vec<Finished<'_>> = batch
        .iter()
        .map(|r| Finished {
            delivery: &r.delivery,
            reply: &r.reply,
            result: &r.bytes,
        })
        .collect();
    let give_up = Instant::now() + worker.lease;
    let mut backoff = Duration::from_millis(10);
    loop {
        match broker.finish_all(&worker.name, &finished) {
            Ok(written) => return written,
            Err(_) if Instant::now() < give_up => {
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
            Err(_) => return Vec::new(),
        }
    }
}
