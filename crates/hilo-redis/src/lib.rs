//! hilo on many machines: tasks queued in Redis Streams, taken by worker
//! processes on any machine through a consumer group.
//!
//! This crate grows in steps (issue 14). It holds today the bottom layer,
//! the [`Broker`]: queues of opaque task bodies in three priority levels,
//! each body delivered to exactly one consumer at a time and acknowledged
//! when done. [`Streams`] is the broker on Redis Streams; the trait keeps
//! the rest of hilo free of Redis, so another engine (NATS JetStream) can
//! follow.
//!
//! | What | How, on Redis Streams |
//! |---|---|
//! | a queue per priority | one stream per level, `PREFIX:tasks:high` / `medium` / `low` |
//! | taking work | `XREADGROUP` in one group, the higher levels first |
//! | one consumer at a time | an entry read by a consumer is pending for it until acknowledged |
//! | done | `XACK` then `XDEL`: the entry leaves the stream |

mod broker;
mod streams;

pub use broker::{Broker, BrokerError, Delivery, Priority};
pub use streams::Streams;
