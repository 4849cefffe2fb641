//! The client's reader thread: reads the client's inbox (blocking) and
//! completes each future from its task's reply.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use hilo::TaskError;

use super::{lock, Shared};
use crate::broker::Inboxes;
use crate::streams::Streams;
use crate::wire::Reply;

/// The longest blocking read; `shutdown` wakes the reader sooner.
const READ_WAIT: Duration = Duration::from_secs(10);

/// How long to wait before reading again after Redis failed, at most.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

pub(super) fn start(shared: Arc<Shared>, broker: Streams) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("hilo-redis-reader".into())
        .spawn(move || run(&shared, broker))
        .expect("cannot start the Redis executor's reader thread")
}

/// Reads until the executor is shut down and every task has its result,
/// then removes the inbox.
fn run(shared: &Shared, mut broker: Streams) {
    let mut after = "0".to_owned();
    let mut seen = Vec::new();
    let mut backoff = Duration::from_millis(10);
    loop {
        {
            let waiting = lock(&shared.waiting);
            if waiting.closed && waiting.tasks.is_empty() {
                break;
            }
        }
        match broker.read_inbox(&shared.inbox, &seen, &after, 512, READ_WAIT) {
            Ok(messages) => {
                seen.clear();
                backoff = Duration::from_millis(10);
                for message in messages {
                    after.clone_from(&message.id);
                    seen.push(message.id);
                    // An empty message only wakes the reader.
                    if !message.body.is_empty() {
                        deliver(shared, &message.body);
                    }
                }
            }
            // Redis is away (restarting?): the replies wait in the inbox.
            Err(_) => {
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    let _ = broker.drop_inbox(&shared.inbox);
}

/// Completes the future the reply is for. A reply that does not decode, or
/// is for no waiting task (cancelled, or a second run's), is dropped.
fn deliver(shared: &Shared, bytes: &[u8]) {
    let Ok(reply) = Reply::decode(bytes) else {
        return;
    };
    let waiter = lock(&shared.waiting).tasks.remove(&reply.tag);
    let Some(waiter) = waiter else {
        shared
            .stray
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return;
    };
    let outcomes = reply
        .outcomes
        .into_iter()
        .map(|o| o.map_err(TaskError::from))
        .collect();
    waiter.done.complete(outcomes);
    // Only now: `shutdown` waits until every future is done.
    shared.notify_if_drained(&lock(&shared.waiting));
}
