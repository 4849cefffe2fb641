//! What hilo needs of a message broker to spread tasks over machines.

use std::time::Duration;

/// A task's priority level; higher levels are taken first, FIFO within a
/// level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    High,
    Medium,
    Low,
}

impl Priority {
    /// Every level, the first taken first.
    pub const ALL: [Priority; 3] = [Priority::High, Priority::Medium, Priority::Low];

    /// The level's name: `high`, `medium` or `low`.
    pub fn name(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Low => "low",
        }
    }
}

/// A task body handed to one consumer, until it says [`Broker::done`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The broker's id of the entry (unique within its level).
    pub id: String,
    pub priority: Priority,
    pub body: Vec<u8>,
}

/// Why the broker failed.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The broker could not be reached or refused a command.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// An entry that is not a hilo task body (written by something else).
    #[error("entry {id} of {stream} is not a hilo task")]
    Malformed { stream: String, id: String },
}

/// Queues of task bodies in three priority levels, shared by any number
/// of producers and consumers.
pub trait Broker {
    /// Queues `body` at `priority`; returns its id.
    fn push(&mut self, priority: Priority, body: &[u8]) -> Result<String, BrokerError>;

    /// Up to `max` bodies for `consumer`, the higher levels first, waiting
    /// up to `wait` when none is queued (an empty list then). Each body
    /// goes to one consumer only, and stays its own until [`Broker::done`].
    fn take(
        &mut self,
        consumer: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Delivery>, BrokerError>;

    /// The delivery is finished with: it leaves the queue for good.
    fn done(&mut self, delivery: &Delivery) -> Result<(), BrokerError>;
}
