//! The worker's keeper thread: renews the leases of the tasks it holds,
//! stops the ones its clients cancelled (their ids arrive in the worker's
//! inbox), gives up the ones it lost, and beats the heartbeat.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hilo::StopToken;

use super::Worker;
use crate::broker::{Broker, Delivery, Inboxes, Presence};
use crate::client::lock;
use crate::streams::Streams;
use crate::wire::WorkerInfo;

pub(super) fn start(worker: Arc<Worker>, broker: Streams, stop: StopToken) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("hilo-redis-keeper".into())
        .spawn(move || run(&worker, broker, &stop))
        .expect("cannot start the worker's keeper thread")
}

fn run(worker: &Worker, mut broker: Streams, stop: &StopToken) {
    let every = worker.lease / 3;
    let (host, pid) = (hostname(), std::process::id());
    let mut after = "0".to_owned();
    let mut seen = Vec::new();
    let mut last_renewal: Option<Instant> = None;
    while !stop.is_stop_requested() {
        let wait = last_renewal.map_or(Duration::ZERO, |at| every.saturating_sub(at.elapsed()));
        match broker.read_inbox(&worker.name, &seen, &after, 64, wait) {
            Ok(messages) => {
                seen.clear();
                for message in messages {
                    after.clone_from(&message.id);
                    seen.push(message.id);
                    // A cancelled task's id; an empty message only wakes.
                    if let Ok(id) = String::from_utf8(message.body) {
                        stop_task(worker, &id);
                    }
                }
            }
            // Redis is away: wait as a blocking read would have, so as not
            // to spin, and try again.
            Err(_) => {
                stop.wait_timeout(wait.max(Duration::from_millis(100)));
            }
        }
        if last_renewal.is_some_and(|at| at.elapsed() < every) {
            continue;
        }
        last_renewal = Some(Instant::now());
        let held: Vec<Delivery> = lock(&worker.held)
            .values()
            .map(|h| h.delivery.clone())
            .collect();
        if let Ok(lost) = broker.renew(&worker.name, &held) {
            // Taken over by another worker: its result would be dropped.
            for id in lost {
                stop_task(worker, &id);
            }
        }
        let info = WorkerInfo {
            name: worker.name.clone(),
            host: host.clone(),
            pid,
            slots: worker.slots as u32,
            running: held.len() as u32,
            done: worker.done.load(Ordering::Relaxed),
            dropped: worker.dropped.load(Ordering::Relaxed),
        };
        let _ = broker.beat(&info, worker.lease * 2);
    }
}

/// Stops the held task `id` where it runs (its process is killed; a task
/// on a thread is asked through its stop token); its reply will not be
/// written, as the task is no longer this worker's.
fn stop_task(worker: &Worker, id: &str) {
    if let Some(held) = lock(&worker.held).get(id) {
        // Its done callback only sends to the finisher: safe under the lock.
        if !held.future.cancel() {
            held.future.request_stop();
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}
