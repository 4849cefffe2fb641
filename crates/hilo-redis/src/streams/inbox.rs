//! [`Inboxes`] on Redis: a stream per inbox, `PREFIX:inbox:NAME`, read
//! with a blocking `XREAD`, expiring [`INBOX_TTL`] after its last message.

use std::time::Duration;

use redis::streams::{StreamReadOptions, StreamReadReply};
use redis::Commands;

use super::{block_ms, Streams, INBOX_TTL, MESSAGE};
use crate::broker::{BrokerError, Inboxes, Message};

impl Inboxes for Streams {
    fn read_inbox(
        &mut self,
        name: &str,
        seen: &[String],
        after: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Message>, BrokerError> {
        let key = self.inbox_key(name);
        let mut options = StreamReadOptions::default().count(max);
        if !wait.is_zero() {
            options = options.block(block_ms(wait));
        }
        // The seen messages deleted and the next read, in one round trip.
        let reply: Option<StreamReadReply> = self.with_con(|con| {
            let mut pipe = redis::pipe();
            if !seen.is_empty() {
                pipe.xdel(&key, seen).ignore();
            }
            pipe.xread_options(&[&key], &[after], &options);
            let (reply,): (Option<StreamReadReply>,) = pipe.query(con)?;
            Ok(reply)
        })?;
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
        let key = self.inbox_key(name);
        let _: usize = self.with_con(|con| con.del(&key))?;
        Ok(())
    }

    fn post(&mut self, name: &str, body: &[u8]) -> Result<(), BrokerError> {
        let key = self.inbox_key(name);
        let ttl = INBOX_TTL.as_secs() as i64;
        self.with_con(|con| {
            redis::pipe()
                .xadd(&key, "*", &[(MESSAGE, body)])
                .ignore()
                .expire(&key, ttl)
                .ignore()
                .exec(con)
        })
    }
}
