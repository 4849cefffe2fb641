//! The [`Broker`] on Redis Streams: a stream per priority level, one
//! consumer group that every worker reads through, and a stream per inbox.

use std::time::Duration;

use redis::streams::{StreamReadOptions, StreamReadReply};
use redis::Commands;

use crate::broker::{Broker, BrokerError, Delivery, Message, Priority, Withdrawn};
use crate::scripts;

/// The consumer group every worker reads the task streams through.
const GROUP: &str = "hilo-workers";

/// The field of a stream entry that holds the task body.
const BODY: &str = "body";

/// The field of an inbox message that holds its body.
const MESSAGE: &str = "m";

/// An inbox expires this long after its last message: what a client or
/// worker that vanished leaves behind is gone a day later.
pub const INBOX_TTL: Duration = Duration::from_secs(24 * 3600);

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

    /// The stream of the inbox `name`.
    pub fn inbox_key(&self, name: &str) -> String {
        format!("{}:inbox:{name}", self.prefix)
    }

    /// The connection, for commands the trait does not cover.
    pub fn connection(&mut self) -> &mut redis::Connection {
        &mut self.con
    }

    fn level_of(&self, stream: &str) -> Priority {
        Priority::ALL
            .into_iter()
            .find(|&l| self.key(l) == stream)
            .expect("a stream this broker asked for")
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
            options = options.block(block_ms(wait));
        }
        let news = vec![">"; keys.len()];
        let reply: Option<StreamReadReply> = self.con.xread_options(keys, &news, &options)?;
        let mut out = Vec::new();
        for stream in reply.map(|r| r.keys).unwrap_or_default() {
            let level = self.level_of(&stream.key);
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
                    deliveries: 1,
                    body,
                });
            }
        }
        // Several levels in one blocking read: the higher ones first.
        out.sort_by_key(|d| d.priority);
        Ok(out)
    }
}

/// `BLOCK`'s argument for `wait`: at least 1 ms (0 would mean forever).
fn block_ms(wait: Duration) -> usize {
    wait.as_millis().clamp(1, usize::MAX as u128) as usize
}

/// The body among an entry's fields, `[name, value, name, value, …]`.
fn body_of(fields: Vec<Vec<u8>>) -> Option<Vec<u8>> {
    let mut it = fields.into_iter();
    while let (Some(name), Some(value)) = (it.next(), it.next()) {
        if name == BODY.as_bytes() {
            return Some(value);
        }
    }
    None
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

    fn reclaim(
        &mut self,
        consumer: &str,
        idle: Duration,
        max: usize,
    ) -> Result<Vec<Delivery>, BrokerError> {
        let mut out = Vec::new();
        for level in Priority::ALL {
            if out.len() == max {
                break;
            }
            let key = self.key(level);
            let claimed: Vec<(String, u32, Vec<Vec<u8>>)> = scripts::RECLAIM
                .key(&key)
                .arg(GROUP)
                .arg(consumer)
                .arg(idle.as_millis() as u64)
                .arg(max - out.len())
                .invoke(&mut self.con)?;
            for (id, deliveries, fields) in claimed {
                let body = body_of(fields).ok_or_else(|| BrokerError::Malformed {
                    stream: key.clone(),
                    id: id.clone(),
                })?;
                out.push(Delivery {
                    id,
                    priority: level,
                    deliveries,
                    body,
                });
            }
        }
        Ok(out)
    }

    fn renew(&mut self, consumer: &str, held: &[Delivery]) -> Result<Vec<String>, BrokerError> {
        let mut lost = Vec::new();
        for level in Priority::ALL {
            let ids: Vec<&str> = held
                .iter()
                .filter(|d| d.priority == level)
                .map(|d| d.id.as_str())
                .collect();
            if ids.is_empty() {
                continue;
            }
            let gone: Vec<String> = scripts::RENEW
                .key(self.key(level))
                .arg(GROUP)
                .arg(consumer)
                .arg(&ids)
                .invoke(&mut self.con)?;
            lost.extend(gone);
        }
        Ok(lost)
    }

    fn finish(
        &mut self,
        consumer: &str,
        delivery: &Delivery,
        reply: &str,
        result: &[u8],
    ) -> Result<bool, BrokerError> {
        let done: i64 = scripts::FINISH
            .key(self.key(delivery.priority))
            .key(self.inbox_key(reply))
            .arg(GROUP)
            .arg(consumer)
            .arg(&delivery.id)
            .arg(result)
            .arg(INBOX_TTL.as_secs())
            .invoke(&mut self.con)?;
        Ok(done == 1)
    }

    fn withdraw(&mut self, priority: Priority, id: &str) -> Result<Withdrawn, BrokerError> {
        let said: Vec<String> = scripts::WITHDRAW
            .key(self.key(priority))
            .arg(GROUP)
            .arg(id)
            .arg(self.inbox_key(""))
            .arg(INBOX_TTL.as_secs())
            .invoke(&mut self.con)?;
        Ok(match said.as_slice() {
            [removed] if removed == "removed" => Withdrawn::Removed,
            [taken, owner] if taken == "taken" => Withdrawn::Taken {
                owner: owner.clone(),
            },
            _ => Withdrawn::Gone,
        })
    }

    fn read_inbox(
        &mut self,
        name: &str,
        seen: &[String],
        after: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Message>, BrokerError> {
        let key = self.inbox_key(name);
        if !seen.is_empty() {
            let _: usize = self.con.xdel(&key, seen)?;
        }
        let mut options = StreamReadOptions::default().count(max);
        if !wait.is_zero() {
            options = options.block(block_ms(wait));
        }
        let reply: Option<StreamReadReply> = self.con.xread_options(&[&key], &[after], &options)?;
        let mut out = Vec::new();
        for stream in reply.map(|r| r.keys).unwrap_or_default() {
            for entry in stream.ids {
                let body = entry
                    .map
                    .get(MESSAGE)
                    .and_then(|v| redis::from_redis_value_ref::<Vec<u8>>(v).ok())
                    .ok_or_else(|| BrokerError::Malformed {
                        stream: key.clone(),
                        id: entry.id.clone(),
                    })?;
                out.push(Message { id: entry.id, body });
            }
        }
        Ok(out)
    }

    fn drop_inbox(&mut self, name: &str) -> Result<(), BrokerError> {
        let _: usize = self.con.del(self.inbox_key(name))?;
        Ok(())
    }

    fn unique_name(&mut self, kind: &str) -> Result<String, BrokerError> {
        let n: u64 = self.con.incr(format!("{}:names", self.prefix), 1)?;
        Ok(format!("{kind}-{n}"))
    }
}
