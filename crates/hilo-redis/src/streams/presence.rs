//! [`Presence`] on Redis: heartbeats as keys that expire, in a set of
//! names; queue depths from the streams; the finished-task counter.

use std::time::Duration;

use redis::Commands;

use super::{Streams, GROUP};
use crate::broker::{BrokerError, Level, LevelStats, Presence};
use crate::wire::WorkerInfo;

impl Presence for Streams {
    fn beat(&mut self, info: &WorkerInfo, ttl: Duration) -> Result<(), BrokerError> {
        let (key, set) = (self.worker_key(&info.name), self.workers_key());
        let (body, ms) = (info.encode(), ttl.as_millis().max(1) as u64);
        self.with_con(|con| {
            redis::pipe()
                .set_options(
                    &key,
                    &body,
                    redis::SetOptions::default().with_expiration(redis::SetExpiry::PX(ms)),
                )
                .ignore()
                .sadd(&set, &info.name)
                .ignore()
                .exec(con)
        })
    }

    fn live_workers(&mut self) -> Result<Vec<WorkerInfo>, BrokerError> {
        let set = self.workers_key();
        let names: Vec<String> = self.with_con(|con| con.smembers(&set))?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = names.iter().map(|n| self.worker_key(n)).collect();
        let beats: Vec<Option<Vec<u8>>> = self.with_con(|con| con.mget(&keys))?;
        let mut live = Vec::new();
        for (name, beat) in names.iter().zip(beats) {
            match beat.as_deref().and_then(WorkerInfo::decode) {
                Some(info) => live.push(info),
                // Its heartbeat expired: it is gone.
                None => {
                    let _: usize = self.with_con(|con| con.srem(&set, name))?;
                }
            }
        }
        live.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(live)
    }

    fn queue_stats(&mut self) -> Result<Vec<LevelStats>, BrokerError> {
        let mut out = Vec::new();
        for level in Level::ALL {
            let key = self.key(level);
            let (len, (held, _, _, _)): (u64, (u64, redis::Value, redis::Value, redis::Value)) =
                self.with_con(|con| {
                    redis::pipe()
                        .xlen(&key)
                        .cmd("XPENDING")
                        .arg(&key)
                        .arg(GROUP)
                        .query(con)
                })?;
            out.push(LevelStats {
                level,
                queued: len.saturating_sub(held),
                held,
            });
        }
        Ok(out)
    }

    fn finished_total(&mut self) -> Result<u64, BrokerError> {
        let key = self.finished_key();
        let n: Option<u64> = self.with_con(|con| con.get(&key))?;
        Ok(n.unwrap_or(0))
    }

    fn leave(&mut self, name: &str) -> Result<(), BrokerError> {
        let (key, set) = (self.worker_key(name), self.workers_key());
        let streams = Level::ALL.map(|l| self.key(l));
        self.with_con(|con| {
            let mut pipe = redis::pipe();
            pipe.del(&key).ignore().srem(&set, name).ignore();
            for stream in &streams {
                pipe.cmd("XGROUP")
                    .arg("DELCONSUMER")
                    .arg(stream)
                    .arg(GROUP)
                    .arg(name)
                    .ignore();
            }
            pipe.exec(con)
        })
    }
}
