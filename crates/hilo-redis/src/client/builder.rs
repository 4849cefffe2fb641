//! [`RedisExecutorBuilder`]: the settings of a [`RedisExecutor`], and
//! building one (its connections, its name, its reader thread).

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use hilo::Priority;

use super::{reader, RedisExecutor, Shared, Waiting};
use crate::broker::{Broker, BrokerError, Level, Presence};
use crate::streams::Streams;

/// Settings for a [`RedisExecutor`].
#[derive(Clone)]
pub struct RedisExecutorBuilder {
    url: String,
    prefix: String,
    priority: Priority,
    timeout: Option<Duration>,
    max_deliveries: u32,
    max_workers: Option<usize>,
}

impl std::fmt::Debug for RedisExecutorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("RedisExecutorBuilder")
            .field("prefix", &self.prefix)
            .field("priority", &self.priority)
            .field("timeout", &self.timeout)
            .field("max_deliveries", &self.max_deliveries)
            .field("max_workers", &self.max_workers)
            .finish_non_exhaustive()
    }
}

impl RedisExecutorBuilder {
    pub(super) fn new(url: &str) -> RedisExecutorBuilder {
        RedisExecutorBuilder {
            url: url.to_owned(),
            prefix: crate::DEFAULT_PREFIX.to_owned(),
            priority: Priority::NORMAL,
            timeout: None,
            max_deliveries: super::DEFAULT_MAX_DELIVERIES,
            max_workers: None,
        }
    }

    /// The key prefix: clients and workers of one prefix share queues.
    pub fn prefix(mut self, prefix: &str) -> Self {
        prefix.clone_into(&mut self.prefix);
        self
    }

    /// The priority `submit` queues at (default `Priority::NORMAL`, the
    /// medium queue); see [`RedisExecutor::submit_at`].
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Kill a task that runs longer (a call's own timeout wins).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Give a task up after this many deliveries (at least 1).
    pub fn max_deliveries(mut self, n: u32) -> Self {
        self.max_deliveries = n.max(1);
        self
    }

    /// How many tasks to say run at once (what `map` and the policies
    /// size their windows from); default: the live workers' slots.
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n.max(1));
        self
    }

    /// Connects, names this client and starts its reader.
    ///
    /// # Errors
    /// The server cannot be reached or refuses.
    pub fn build(self) -> Result<RedisExecutor, BrokerError> {
        let mut queue = Streams::connect(&self.url, &self.prefix)?;
        let inbox = queue.unique_name("client")?;
        let max_workers = match self.max_workers {
            Some(n) => n,
            None => queue
                .live_workers()?
                .iter()
                .map(|w| w.slots as usize)
                .sum::<usize>()
                .max(1),
        };
        let reader_broker = Streams::connect(&self.url, &self.prefix)?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(queue),
            inbox,
            next_tag: std::sync::atomic::AtomicU64::new(0),
            waiting: Mutex::new(Waiting::default()),
            drained: Condvar::new(),
            max_workers,
            max_deliveries: self.max_deliveries,
            level: Level::of(self.priority),
            timeout: self.timeout,
            stray: std::sync::atomic::AtomicU64::new(0),
        });
        let reader = reader::start(Arc::clone(&shared), reader_broker);
        Ok(RedisExecutor {
            shared,
            reader: Mutex::new(Some(reader)),
        })
    }
}
