//! What hilo needs of a message broker to spread tasks over machines.

use std::time::Duration;

use hilo::CancelReach;

use crate::wire::WorkerInfo;

/// A queue level: higher levels are taken first, FIFO within a level.
/// Clients map `hilo::Priority` onto them ([`Level::of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    High,
    Medium,
    Low,
}

impl Level {
    /// Every level, the first taken first.
    pub const ALL: [Level; 3] = [Level::High, Level::Medium, Level::Low];

    /// The level of a `hilo::Priority`: above normal is high, below is
    /// low.
    ///
    /// ```
    /// use hilo_redis::Level;
    /// assert_eq!(Level::of(hilo::Priority::HIGH), Level::High);
    /// assert_eq!(Level::of(hilo::Priority::NORMAL), Level::Medium);
    /// assert_eq!(Level::of(hilo::Priority(-1)), Level::Low);
    /// ```
    pub fn of(priority: hilo::Priority) -> Level {
        match priority.0.cmp(&0) {
            std::cmp::Ordering::Greater => Level::High,
            std::cmp::Ordering::Equal => Level::Medium,
            std::cmp::Ordering::Less => Level::Low,
        }
    }

    /// The level's name: `high`, `medium` or `low`.
    pub fn name(self) -> &'static str {
        match self {
            Level::High => "high",
            Level::Medium => "medium",
            Level::Low => "low",
        }
    }
}

/// A task body handed to one consumer, until it finishes it or its lease
/// runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The broker's id of the entry (unique within its level).
    pub id: String,
    pub level: Level,
    /// How many times the body has been handed out, this time included.
    pub deliveries: u32,
    pub body: Vec<u8>,
}

/// A finished task for [`Broker::finish_all`]: its delivery, the inbox its
/// result goes to, and the result.
#[derive(Debug, Clone, Copy)]
pub struct Finished<'a> {
    pub delivery: &'a Delivery,
    pub reply: &'a str,
    pub result: &'a [u8],
}

/// One level's tasks ([`Presence::queue_stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelStats {
    pub level: Level,
    /// Waiting to be handed out.
    pub queued: u64,
    /// Handed to a worker, not finished.
    pub held: u64,
}

/// Where [`Broker::withdraw`] found a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Withdrawn {
    /// Still queued: removed, it will never be handed out.
    Removed,
    /// Held by this consumer: taken from it (its result will be dropped)
    /// and a stop sent to its inbox.
    Taken { owner: String },
    /// Held by this consumer, and left there (only queued tasks were to
    /// be withdrawn).
    Held { owner: String },
    /// Not there any more: finished (its result is written), or never was.
    Gone,
}

/// A message read from an inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The broker's id of the message; pass it back to
    /// [`Inboxes::read_inbox`] to delete the message.
    pub id: String,
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

impl BrokerError {
    /// The error in one line for a person, naming the server at `url`
    /// with its password hidden ([`redacted`](crate::redacted)).
    ///
    /// ```
    /// let err = hilo_redis::Streams::connect("redis://me:secret@127.0.0.1:1", "x").unwrap_err();
    /// let line = err.at("redis://me:secret@127.0.0.1:1");
    /// assert!(line.starts_with("cannot use the Redis at redis://me:***@127.0.0.1:1: redis: "));
    /// ```
    pub fn at(&self, url: &str) -> String {
        format!("cannot use the Redis at {}: {self}", crate::redacted(url))
    }
}

/// Queues of task bodies in three priority levels, shared by any number of
/// producers and consumers, with leases, and an inbox per client and per
/// worker for results and stops.
///
/// A body is handed to one consumer at a time. The consumer holds it on a
/// lease it renews; a body whose lease ran out (its consumer died or
/// stalled) is handed to another by [`Broker::reclaim`]. Only the consumer
/// that holds a body can [`finish`](Broker::finish) it, so of two
/// consumers that ran it the first to finish writes the one result and
/// the other's is dropped.
pub trait Broker {
    /// Queues `body` at `level`; returns its id.
    fn push(&mut self, level: Level, body: &[u8]) -> Result<String, BrokerError>;

    /// Up to `max` bodies never handed out before, for `consumer`, the
    /// higher levels first, waiting up to `wait` when none is queued (an
    /// empty list then).
    fn take(
        &mut self,
        consumer: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Delivery>, BrokerError>;

    /// Up to `max` bodies whose holder has not renewed them for `idle`,
    /// handed to `consumer` instead (their delivery count goes up).
    fn reclaim(
        &mut self,
        consumer: &str,
        idle: Duration,
        max: usize,
    ) -> Result<Vec<Delivery>, BrokerError>;

    /// True if some body has not been renewed by its holder for `idle`
    /// (what [`Broker::reclaim`] would take over).
    fn any_lapsed(&mut self, idle: Duration) -> Result<bool, BrokerError>;

    /// Renews `consumer`'s lease on each of `held`; returns the ids it no
    /// longer holds (finished, withdrawn, or reclaimed by another).
    fn renew(&mut self, consumer: &str, held: &[Delivery]) -> Result<Vec<String>, BrokerError>;

    /// If `consumer` still holds `delivery`: the body leaves the queue for
    /// good and `result` goes to the inbox `reply`; true. Else nothing
    /// happens (another consumer holds it or finished it); false.
    fn finish(
        &mut self,
        consumer: &str,
        delivery: &Delivery,
        reply: &str,
        result: &[u8],
    ) -> Result<bool, BrokerError> {
        let one = Finished {
            delivery,
            reply,
            result,
        };
        Ok(self.finish_all(consumer, &[one])?[0])
    }

    /// [`Broker::finish`] for each of `finished`, in one round trip where
    /// the broker can: one answer each, in order.
    fn finish_all(
        &mut self,
        consumer: &str,
        finished: &[Finished<'_>],
    ) -> Result<Vec<bool>, BrokerError>;

    /// Takes the task `id` of `level` back: from the queue, and with
    /// `CancelReach::Anywhere` from the consumer that holds it too (see
    /// [`Withdrawn`]).
    fn withdraw(
        &mut self,
        level: Level,
        id: &str,
        reach: CancelReach,
    ) -> Result<Withdrawn, BrokerError>;

    /// A name no other client or worker of this broker has had.
    fn unique_name(&mut self, kind: &str) -> Result<String, BrokerError>;
}

/// A stream of messages per client (its results) and per worker (the
/// stops of its tasks), each expiring a while after its last message.
pub trait Inboxes {
    /// Deletes the messages `seen` from the inbox `name`, then reads up to
    /// `max` messages after `after` (`"0"` for all), waiting up to `wait`
    /// for one.
    fn read_inbox(
        &mut self,
        name: &str,
        seen: &[String],
        after: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Message>, BrokerError>;

    /// Adds `body` to the inbox `name`.
    fn post(&mut self, name: &str, body: &[u8]) -> Result<(), BrokerError>;

    /// Removes the inbox `name` and everything in it.
    fn drop_inbox(&mut self, name: &str) -> Result<(), BrokerError>;
}

/// Who serves a broker and how busy it is: workers' heartbeats, queue
/// depths, the count of finished tasks (`hilo cluster status`).
pub trait Presence {
    /// Says that worker `info.name` is alive, for `ttl`.
    fn beat(&mut self, info: &WorkerInfo, ttl: Duration) -> Result<(), BrokerError>;

    /// The workers whose last heartbeat has not expired.
    fn live_workers(&mut self) -> Result<Vec<WorkerInfo>, BrokerError>;

    /// How many tasks each level holds: queued, and held by workers.
    fn queue_stats(&mut self) -> Result<Vec<LevelStats>, BrokerError>;

    /// How many tasks have been finished (results written) in all.
    fn finished_total(&mut self) -> Result<u64, BrokerError>;

    /// Worker `name` leaves: its heartbeat and its consumer are removed.
    fn leave(&mut self, name: &str) -> Result<(), BrokerError>;
}
