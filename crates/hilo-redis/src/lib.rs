//! hilo on many machines: tasks queued in Redis Streams, taken by worker
//! processes on any machine through a consumer group.
//!
//! - [`RedisExecutor`]: the client. The same `Executor` of `#[hilo::task]`
//!   calls as a `ProcessPool`, so `wait`, `as_completed`, `map`,
//!   `map_chunked`, retry, priority and progress work on it unchanged.
//! - [`serve`]: a worker, in the user's own binary (`hilo::init()` first).
//!   It runs each task in its local `ProcessPool`, so a task that crashes
//!   fails alone.
//! - [`Broker`] and [`Streams`]: queues of task bodies in three levels with
//!   leases, and inboxes; the trait keeps the rest free of Redis, so
//!   another engine (NATS JetStream) can follow.
//!
//! What a future of a [`RedisExecutor`] promises:
//!
//! | | |
//! |---|---|
//! | execution | at least once: a task whose worker died or stalled past its lease runs again elsewhere |
//! | result | exactly once per future: only the worker holding a task can finish it; a late result is dropped |
//! | `cancel()` | queued: removed; running: taken from its worker, which kills the process running it; the future is cancelled at once |
//! | timeout | `Call::timeout` kills the task on its worker (`TimedOut`) |
//! | poison | after `max_deliveries` the task fails with `GaveUp`; taken-over tasks run alone |
//! | state | `Pending` until the result arrives |
//!
//! `docs/scaling.md` says what fails how, and how far one Redis goes.
//!
//! | What | How, on Redis Streams |
//! |---|---|
//! | a queue per priority | one stream per level, `PREFIX:tasks:high` / `medium` / `low` |
//! | taking work | `XREADGROUP` in one group, the higher levels first |
//! | one consumer at a time | an entry read by a consumer is pending for it (its lease) |
//! | renewing a lease | `XCLAIM … JUSTID` in a script that first checks the caller still owns it |
//! | taking over a dead consumer's work | `XAUTOCLAIM` of entries idle past the lease; each counts a delivery |
//! | finishing | a script: owner checked, `XACK`, `XDEL`, the result added to the client's inbox; so the first finisher writes the one result and a late one is dropped |
//! | cancelling | a script: a queued entry is deleted; a held one is taken from its owner, whose inbox gets a stop |
//! | inboxes (results, stops) | a stream each, `PREFIX:inbox:NAME`, expiring a day after its last message |

/// The key prefix clients and workers use unless told otherwise: those of
/// one prefix share queues.
pub const DEFAULT_PREFIX: &str = "hilo";

/// `url` with its password (if any) replaced by `***`: what may be shown.
///
/// ```
/// use hilo_redis::redacted;
/// assert_eq!(redacted("redis://me:secret@host:6379/0"), "redis://me:***@host:6379/0");
/// assert_eq!(redacted("rediss://:secret@host"), "rediss://:***@host");
/// assert_eq!(redacted("redis://host:6379"), "redis://host:6379");
/// assert_eq!(redacted("redis+unix:///run/redis.sock"), "redis+unix:///run/redis.sock");
/// ```
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info
                .split_once(':')
                .map_or(user_info, |(user, _)| user);
            let hidden = if user_info.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{}", &rest[authority_end..])
        }
        None => url.to_owned(),
    }
}

/// `n` copies of one error: the outcome of every call of a chunk that
/// failed as a whole.
pub(crate) fn every<T, E: Clone>(error: &E, n: usize) -> Vec<Result<T, E>> {
    (0..n).map(|_| Err(error.clone())).collect()
}

mod broker;
mod client;
mod local;
mod scripts;
mod streams;
mod wire;
mod worker;

pub use broker::{
    Broker, BrokerError, Delivery, Finished, Inboxes, Level, LevelStats, Message, Presence,
    Withdrawn,
};
pub use client::{RedisExecutor, RedisExecutorBuilder, DEFAULT_MAX_DELIVERIES};
pub use local::LocalRedis;
pub use streams::{Streams, INBOX_TTL};
pub use wire::{fuzz_decode, WorkerInfo, MAX_PAYLOAD};
pub use worker::{serve, ServeError, ServeOptions, ServeReport};
