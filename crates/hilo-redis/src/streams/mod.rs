//! The [`Broker`] on Redis Streams: a stream per priority level, one
//! consumer group that every worker reads through, and a stream per inbox.

use std::time::Duration;

use redis::streams::{StreamReadOptions, StreamReadReply};
use redis::Commands;

use hilo::CancelReach;

use crate::broker::{Broker, BrokerError, Delivery, Finished, Level, Withdrawn};
use crate::scripts;

mod inbox;
mod presence;

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
    client: redis::Client,
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
    /// `rediss://…` for TLS, checked against the system's certificates or
    /// the file `SSL_CERT_FILE` names, or `redis+unix:///path/to/socket`)
    /// and makes sure the streams under `prefix` and their group exist.
    pub fn connect(url: &str, prefix: &str) -> Result<Streams, BrokerError> {
        if url.starts_with("rediss:") {
            // rustls needs a crypto provider; another part of the program
            // may have installed one already, which is as good.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = redis::Client::open(url)?;
        let con = open(&client)?;
        let mut streams = Streams {
            client,
            con,
            prefix: prefix.to_owned(),
        };
        streams.make_groups()?;
        Ok(streams)
    }

    /// Makes the level streams and their group, if they are not there.
    fn make_groups(&mut self) -> Result<(), BrokerError> {
        for level in Level::ALL {
            let made: redis::RedisResult<()> = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(self.key(level))
                .arg(GROUP)
                .arg("0")
                .arg("MKSTREAM")
                .query(&mut self.con);
            match made {
                Err(e) if e.code() == Some("BUSYGROUP") => {} // made before
                other => other?,
            }
        }
        Ok(())
    }

    /// Runs `op` on the connection. If the connection was lost (the server
    /// restarted), connects again and runs it once more; if the group is
    /// gone (a server restarted without its data), makes it again first.
    /// So an `op` may run twice: ours are safe to repeat, or harmless
    /// (a task queued twice runs twice, which at-least-once allows).
    fn with_con<T>(
        &mut self,
        mut op: impl FnMut(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, BrokerError> {
        match op(&mut self.con) {
            Err(e)
                if e.is_connection_dropped() || e.is_io_error() || e.is_unrecoverable_error() =>
            {
                self.con = open(&self.client)?;
                self.make_groups()?;
                Ok(op(&mut self.con)?)
            }
            Err(e) if e.code() == Some("NOGROUP") => {
                self.make_groups()?;
                Ok(op(&mut self.con)?)
            }
            other => Ok(other?),
        }
    }

    /// The stream of one priority level.
    pub fn key(&self, level: Level) -> String {
        format!("{}:tasks:{}", self.prefix, level.name())
    }

    /// The count of tasks finished since the queues were made.
    fn finished_key(&self) -> String {
        format!("{}:finished", self.prefix)
    }

    /// The set of the workers' names.
    fn workers_key(&self) -> String {
        format!("{}:workers", self.prefix)
    }

    /// Where worker `name` keeps its heartbeat.
    fn worker_key(&self, name: &str) -> String {
        format!("{}:worker:{name}", self.prefix)
    }

    /// The stream of the inbox `name`.
    pub fn inbox_key(&self, name: &str) -> String {
        format!("{}:inbox:{name}", self.prefix)
    }

    fn level_of(&self, stream: &str) -> Level {
        Level::ALL
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
        let reply: Option<StreamReadReply> =
            self.with_con(|con| con.xread_options(keys, &news, &options))?;
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
                    level,
                    deliveries: 1,
                    body,
                });
            }
        }
        // Several levels in one blocking read: the higher ones first.
        out.sort_by_key(|d| d.level);
        Ok(out)
    }
}

/// A connection to `client` on which a blocking read waits as long as it
/// says: no socket timeout may cut it short.
fn open(client: &redis::Client) -> Result<redis::Connection, BrokerError> {
    let con = client.get_connection()?;
    con.set_read_timeout(None)?;
    Ok(con)
}

/// `BLOCK`'s argument for `wait`: at least 1 ms (0 would mean forever).
fn block_ms(wait: Duration) -> usize {
    wait.as_millis().clamp(1, usize::MAX as u128) as usize
}

/// The delivery of entry `id` of the stream `key`, from its fields
/// (`[name, value, name, value, …]`, a script's reply).
fn delivery(
    key: &str,
    level: Level,
    id: String,
    deliveries: u32,
    fields: Vec<Vec<u8>>,
) -> Result<Delivery, BrokerError> {
    let mut it = fields.into_iter();
    while let (Some(name), Some(body)) = (it.next(), it.next()) {
        if name == BODY.as_bytes() {
            return Ok(Delivery {
                id,
                level,
                deliveries,
                body,
            });
        }
    }
    Err(BrokerError::Malformed {
        stream: key.to_owned(),
        id,
    })
}

impl Broker for Streams {
    fn push(&mut self, level: Level, body: &[u8]) -> Result<String, BrokerError> {
        let key = self.key(level);
        self.with_con(|con| con.xadd(&key, "*", &[(BODY, body)]))
    }

    fn take(
        &mut self,
        consumer: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Delivery>, BrokerError> {
        // Level by level, a lower one only when the higher ones have too
        // few, in one script; then, if none had any, a blocking read of all.
        let keys = Level::ALL.map(|l| self.key(l));
        let taken: Vec<(String, String, Vec<Vec<u8>>)> = self.with_con(|con| {
            let mut take = scripts::TAKE.prepare_invoke();
            for key in &keys {
                take.key(key);
            }
            take.arg(GROUP).arg(consumer).arg(max).invoke(con)
        })?;
        let mut out = Vec::with_capacity(taken.len());
        for (key, id, fields) in taken {
            let level = self.level_of(&key);
            out.push(delivery(&key, level, id, 1, fields)?);
        }
        if out.is_empty() && !wait.is_zero() {
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
        for level in Level::ALL {
            if out.len() == max {
                break;
            }
            let key = self.key(level);
            let want = max - out.len();
            let claimed: Vec<(String, u32, Vec<Vec<u8>>)> = self.with_con(|con| {
                scripts::RECLAIM
                    .key(&key)
                    .arg(GROUP)
                    .arg(consumer)
                    .arg(idle.as_millis() as u64)
                    .arg(want)
                    .invoke(con)
            })?;
            for (id, deliveries, fields) in claimed {
                out.push(delivery(&key, level, id, deliveries, fields)?);
            }
        }
        Ok(out)
    }

    fn any_lapsed(&mut self, idle: Duration) -> Result<bool, BrokerError> {
        for level in Level::ALL {
            let key = self.key(level);
            let ms = idle.as_millis() as u64;
            let lapsed: Vec<redis::Value> = self.with_con(|con| {
                redis::cmd("XPENDING")
                    .arg(&key)
                    .arg(GROUP)
                    .arg("IDLE")
                    .arg(ms)
                    .arg("-")
                    .arg("+")
                    .arg(1)
                    .query(con)
            })?;
            if !lapsed.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn renew(&mut self, consumer: &str, held: &[Delivery]) -> Result<Vec<String>, BrokerError> {
        let mut lost = Vec::new();
        for level in Level::ALL {
            let ids: Vec<&str> = held
                .iter()
                .filter(|d| d.level == level)
                .map(|d| d.id.as_str())
                .collect();
            if ids.is_empty() {
                continue;
            }
            let key = self.key(level);
            let gone: Vec<String> = self.with_con(|con| {
                scripts::RENEW
                    .key(&key)
                    .arg(GROUP)
                    .arg(consumer)
                    .arg(&ids)
                    .invoke(con)
            })?;
            lost.extend(gone);
        }
        Ok(lost)
    }

    fn finish_all(
        &mut self,
        consumer: &str,
        finished: &[Finished<'_>],
    ) -> Result<Vec<bool>, BrokerError> {
        if finished.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        let counter = self.finished_key();
        for f in finished {
            pipe.cmd("EVALSHA")
                .arg(scripts::FINISH.get_hash())
                .arg(3)
                .arg(self.key(f.delivery.level))
                .arg(self.inbox_key(f.reply))
                .arg(&counter)
                .arg(GROUP)
                .arg(consumer)
                .arg(&f.delivery.id)
                .arg(f.result)
                .arg(INBOX_TTL.as_secs());
        }
        let done: Vec<i64> = self.with_con(|con| match pipe.query(con) {
            // A server that restarted has forgotten the script: load it.
            Err(e) if e.code() == Some("NOSCRIPT") => {
                scripts::FINISH.prepare_invoke().load(con)?;
                pipe.query(con)
            }
            other => other,
        })?;
        Ok(done.into_iter().map(|d| d == 1).collect())
    }

    fn withdraw(
        &mut self,
        level: Level,
        id: &str,
        reach: CancelReach,
    ) -> Result<Withdrawn, BrokerError> {
        let (key, inboxes) = (self.key(level), self.inbox_key(""));
        let only_queued = u8::from(reach == CancelReach::Queued);
        let said: Vec<String> = self.with_con(|con| {
            scripts::WITHDRAW
                .key(&key)
                .arg(GROUP)
                .arg(id)
                .arg(&inboxes)
                .arg(INBOX_TTL.as_secs())
                .arg(only_queued)
                .invoke(con)
        })?;
        Ok(match said.as_slice() {
            [removed] if removed == "removed" => Withdrawn::Removed,
            [taken, owner] if taken == "taken" => Withdrawn::Taken {
                owner: owner.clone(),
            },
            [held, owner] if held == "held" => Withdrawn::Held {
                owner: owner.clone(),
            },
            _ => Withdrawn::Gone,
        })
    }

    fn unique_name(&mut self, kind: &str) -> Result<String, BrokerError> {
        let key = format!("{}:names", self.prefix);
        let n: u64 = self.with_con(|con| con.incr(&key, 1))?;
        Ok(format!("{kind}-{n}"))
    }
}
