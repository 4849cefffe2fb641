//! The [`Broker`] on Redis Streams: a stream per priority level, one
//! consumer group that every worker reads through.

use std::time::Duration;

use redis::streams::{StreamReadOptions, StreamReadReply};
use redis::Commands;

use crate::broker::{Broker, BrokerError, Delivery, Priority};

/// The consumer group every worker reads the task streams through.
const GROUP: &str = "hilo-workers";

/// The field of a stream entry that holds the task body.
const BODY: &str = "body";

/// Task queues on one Redis server, under one key prefix.
pub struct Streams {
    con: redis::Connection,
    prefix: String,
}

impl std::fmt::Debug for Streams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: neither it nor the connection is shown.
        f.debug_struct("Streams")
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl Streams {
    /// Connects to the server at `url` (`redis://[user:pass@]host:port`,
    /// `rediss://…` for TLS where the crate has it, or
    /// `redis+unix:///path/to/socket`) and makes sure the streams under
    /// `prefix` and their group exist.
    pub fn connect(url: &str, prefix: &str) -> Result<Streams, BrokerError> {
        let client = redis::Client::open(url)?;
        let con = client.get_connection()?;
        // A blocking read waits as long as it says: no socket timeout may
        // cut it short.
        con.set_read_timeout(None)?;
        let mut streams = Streams {
            con,
            prefix: prefix.to_owned(),
        };
        for level in Priority::ALL {
            let key = streams.key(level);
            let made: redis::RedisResult<()> = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(&key)
                .arg(GROUP)
                .arg("0")
                .arg("MKSTREAM")
                .query(&mut streams.con);
            match made {
                Err(e) if e.code() == Some("BUSYGROUP") => {} // made before
                other => other?,
            }
        }
        Ok(streams)
    }

    /// The stream of one priority level.
    pub fn key(&self, level: Priority) -> String {
        format!("{}:tasks:{}", self.prefix, level.name())
    }

    /// Reads up to `max` new entries of `keys` for `consumer`, waiting up
    /// to `wait` if there are none (not at all if `wait` is zero).
    fn read(
        &mut self,
        keys: &[String],
        consumer: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Delivery>, BrokerError> {
        let mut options = StreamReadOptions::default()
            .group(GROUP, consumer)
            .count(max);
        if !wait.is_zero() {
            // BLOCK 0 would mean forever.
            options = options.block(wait.as_millis().clamp(1, usize::MAX as u128) as usize);
        }
        let news = vec![">"; keys.len()];
        let reply: Option<StreamReadReply> = self.con.xread_options(keys, &news, &options)?;
        let mut out = Vec::new();
        for stream in reply.map(|r| r.keys).unwrap_or_default() {
            let level = Priority::ALL
                .into_iter()
                .find(|&l| self.key(l) == stream.key)
                .expect("a stream this read asked for");
            for entry in stream.ids {
                let body = entry
                    .map
                    .get(BODY)
                    .and_then(|v| redis::from_redis_value_ref::<Vec<u8>>(v).ok())
                    .ok_or_else(|| BrokerError::Malformed {
                        stream: stream.key.clone(),
                        id: entry.id.clone(),
                    })?;
                out.push(Delivery {
                    id: entry.id,
                    priority: level,
                    body,
                });
            }
        }
        // Several levels in one blocking read: the higher ones first.
        out.sort_by_key(|d| d.priority);
        Ok(out)
    }
}

impl Broker for Streams {
    fn push(&mut self, priority: Priority, body: &[u8]) -> Result<String, BrokerError> {
        let key = self.key(priority);
        Ok(self.con.xadd(key, "*", &[(BODY, body)])?)
    }

    fn take(
        &mut self,
        consumer: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Delivery>, BrokerError> {
        // Level by level without waiting, so that a lower level is read
        // only when the higher ones have nothing.
        let mut out = Vec::new();
        for level in Priority::ALL {
            if out.len() == max {
                return Ok(out);
            }
            let key = [self.key(level)];
            out.extend(self.read(&key, consumer, max - out.len(), Duration::ZERO)?);
        }
        if out.is_empty() && !wait.is_zero() {
            let keys = Priority::ALL.map(|l| self.key(l));
            out = self.read(&keys, consumer, max, wait)?;
        }
        Ok(out)
    }

    fn done(&mut self, delivery: &Delivery) -> Result<(), BrokerError> {
        let key = self.key(delivery.priority);
        redis::pipe()
            .atomic()
            .xack(&key, GROUP, &[&delivery.id])
            .xdel(&key, &[&delivery.id])
            .exec(&mut self.con)?;
        Ok(())
    }
}
