//! The worker's finisher thread: writes each finished task's reply to its
//! client's inbox, if this worker still holds the task.

use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Finish, Worker};
use crate::broker::{Broker, Delivery};
use crate::client::lock;
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

fn run(worker: &Worker, mut broker: Streams, work: &Receiver<Finish>) {
    for job in work {
        let (delivery, reply, answer) = match job {
            Finish::Ran(id) => {
                let Some(held) = lock(&worker.held).remove(&id) else {
                    continue;
                };
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
        let counter = if write(worker, &mut broker, &delivery, &reply, &bytes) {
            &worker.done
        } else {
            &worker.dropped
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

fn every(error: &WireError, n: usize) -> Vec<Result<Vec<u8>, WireError>> {
    (0..n).map(|_| Err(error.clone())).collect()
}

/// Writes the reply if this worker still holds the task; true if it did.
/// While Redis is away it tries again, for as long as the lease could
/// still be its own.
fn write(
    worker: &Worker,
    broker: &mut Streams,
    delivery: &Delivery,
    reply: &str,
    bytes: &[u8],
) -> bool {
    let give_up = Instant::now() + worker.lease;
    let mut backoff = Duration::from_millis(10);
    loop {
        match broker.finish(&worker.name, delivery, reply, bytes) {
            Ok(written) => return written,
            Err(_) if Instant::now() < give_up => {
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
            Err(_) => return false,
        }
    }
}
