//! hilo on many machines: tasks queued in Redis Streams, taken by worker
//! processes on any machine through a consumer group.
//!
//! This crate grows in steps (issue 14). It holds today the bottom layer,
//! the [`Broker`]: queues of opaque task bodies in three priority levels,
//! each body held by one consumer at a time on a lease, finished with one
//! result, and inboxes that carry results to clients and stops to workers. [`Streams`] is the broker on Redis Streams; the trait keeps
//! the rest of hilo free of Redis, so another engine (NATS JetStream) can
//! follow.
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

mod broker;
mod client;
mod local;
mod scripts;
mod streams;
mod wire;
mod worker;

pub use broker::{Broker, BrokerError, Delivery, Finished, Level, LevelStats, Message, Withdrawn};
pub use client::{RedisExecutor, RedisExecutorBuilder, DEFAULT_MAX_DELIVERIES};
pub use local::LocalRedis;
pub use streams::{Streams, INBOX_TTL};
pub use wire::{fuzz_decode, WorkerInfo, MAX_PAYLOAD};
pub use worker::{serve, ServeError, ServeOptions, ServeReport};
