//! The Redis Streams broker against a real `redis-server` started by each
//! test: every body goes to exactly one consumer, higher levels first,
//! blocking reads wake on a push, and nothing is left in Redis after.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hilo::CancelReach::{Anywhere, Queued};
use hilo_redis::{Broker, Inboxes, Level, Streams, Withdrawn, INBOX_TTL};

mod common;
use common::RedisServer;

const PREFIX: &str = "test";

/// Entries left in the level's stream, and entries read but not acked.
fn left(server: &RedisServer, level: Level) -> (u64, u64) {
    let mut con = server.connection();
    let key = format!("{PREFIX}:tasks:{}", level.name());
    let len: u64 = redis::cmd("XLEN").arg(&key).query(&mut con).unwrap();
    let pending: (u64, redis::Value, redis::Value, redis::Value) = redis::cmd("XPENDING")
        .arg(&key)
        .arg("hilo-workers")
        .query(&mut con)
        .unwrap();
    (len, pending.0)
}

#[test]
#[ignore = "needs redis-server"]
fn every_body_goes_to_exactly_one_of_three_consumers() {
    let server = RedisServer::start();
    let mut producer = Streams::connect(&server.url(), PREFIX).unwrap();
    // Bodies of every byte value, some empty-ish, spread over the levels.
    let bodies: Vec<Vec<u8>> = (0..3_000u32)
        .map(|i| {
            let mut b = i.to_le_bytes().to_vec();
            b.extend((0..i % 40).map(|k| (k * 37 + i) as u8));
            b
        })
        .collect();
    for (i, body) in bodies.iter().enumerate() {
        producer.push(Level::ALL[i % 3], body).unwrap();
    }
    let got = Arc::new(Mutex::new(Vec::new()));
    let taken = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(60);
    let consumers: Vec<_> = (0..3)
        .map(|c| {
            let (url, got, taken) = (server.url(), Arc::clone(&got), Arc::clone(&taken));
            std::thread::spawn(move || {
                let mut broker = Streams::connect(&url, PREFIX).unwrap();
                let name = format!("consumer-{c}");
                while taken.load(Ordering::SeqCst) < 3_000 && Instant::now() < deadline {
                    let batch = broker.take(&name, 50, Duration::from_millis(20)).unwrap();
                    for d in &batch {
                        assert!(broker.finish(&name, d, "results", b"").unwrap());
                    }
                    taken.fetch_add(batch.len(), Ordering::SeqCst);
                    got.lock()
                        .unwrap()
                        .extend(batch.into_iter().map(|d| d.body));
                }
            })
        })
        .collect();
    for c in consumers {
        c.join().unwrap();
    }
    let got = got.lock().unwrap();
    assert_eq!(got.len(), bodies.len(), "each body taken once");
    let distinct: HashSet<&Vec<u8>> = got.iter().collect();
    let want: HashSet<&Vec<u8>> = bodies.iter().collect();
    assert_eq!(distinct, want);
    for level in Level::ALL {
        assert_eq!(left(&server, level), (0, 0), "{level:?}: entries, pending");
    }
}

#[test]
#[ignore = "needs redis-server"]
fn higher_levels_come_first_and_each_level_in_order() {
    let server = RedisServer::start();
    let mut broker = Streams::connect(&server.url(), PREFIX).unwrap();
    for i in 0..5u8 {
        for level in [Level::Low, Level::Medium, Level::High] {
            broker.push(level, &[level as u8, i]).unwrap();
        }
    }
    let mut order = Vec::new();
    loop {
        // Small takes: the order must hold across them too.
        let batch = broker.take("one", 4, Duration::ZERO).unwrap();
        if batch.is_empty() {
            break;
        }
        for d in batch {
            assert!(broker.finish("one", &d, "results", b"").unwrap());
            order.push((d.level, d.body));
        }
    }
    let want: Vec<_> = [Level::High, Level::Medium, Level::Low]
        .into_iter()
        .flat_map(|l| (0..5u8).map(move |i| (l, vec![l as u8, i])))
        .collect();
    assert_eq!(order, want);
}

#[test]
#[ignore = "needs redis-server"]
fn a_waiting_consumer_wakes_on_a_push() {
    let server = RedisServer::start();
    let url = server.url();
    let mut producer = Streams::connect(&url, PREFIX).unwrap();
    let (started, waiting) = std::sync::mpsc::channel();
    let consumer = std::thread::spawn(move || {
        let mut broker = Streams::connect(&url, PREFIX).unwrap();
        started.send(()).unwrap();
        let began = Instant::now();
        // Far longer than the crate's or any socket's default timeout.
        let batch = broker.take("waiter", 10, Duration::from_secs(30)).unwrap();
        (batch, began.elapsed())
    });
    waiting.recv().unwrap();
    // Push only once the consumer is blocked in its read, as the server
    // sees it, so that the push is what wakes it.
    let mut admin = server.connection();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let clients: String = redis::cmd("CLIENT").arg("LIST").query(&mut admin).unwrap();
        let blocked = clients
            .lines()
            .filter(|c| c.contains("cmd=xreadgroup"))
            .flat_map(|c| c.split(' '))
            .any(|f| f.strip_prefix("flags=").is_some_and(|v| v.contains('b')));
        if blocked {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the consumer never blocked:\n{clients}"
        );
        std::thread::yield_now();
    }
    producer.push(Level::Low, b"wake up").unwrap();
    let (batch, took) = consumer.join().unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].body, b"wake up");
    assert!(
        took < Duration::from_secs(30),
        "woken by the push, not the limit"
    );
}

#[test]
#[ignore = "needs redis-server"]
fn a_taken_body_is_no_one_elses_until_done_and_then_gone() {
    let server = RedisServer::start();
    let mut a = Streams::connect(&server.url(), PREFIX).unwrap();
    let mut b = Streams::connect(&server.url(), PREFIX).unwrap();
    a.push(Level::Medium, b"mine").unwrap();
    let mine = a.take("a", 10, Duration::ZERO).unwrap();
    assert_eq!(mine.len(), 1);
    assert!(b.take("b", 10, Duration::ZERO).unwrap().is_empty());
    assert_eq!(left(&server, Level::Medium), (1, 1));
    assert!(!b.finish("b", &mine[0], "results", b"no").unwrap());
    assert!(a.finish("a", &mine[0], "results", b"yes").unwrap());
    assert_eq!(left(&server, Level::Medium), (0, 0));
    let results = a
        .read_inbox("results", &[], "0", 10, Duration::ZERO)
        .unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].body, b"yes");
    assert!(b.take("b", 10, Duration::ZERO).unwrap().is_empty());
}

#[test]
#[ignore = "needs redis-server"]
fn connecting_twice_keeps_the_queue() {
    let server = RedisServer::start();
    let mut first = Streams::connect(&server.url(), PREFIX).unwrap();
    first.push(Level::High, b"kept").unwrap();
    // A second worker starting up must not reset the group or the stream.
    let mut second = Streams::connect(&server.url(), PREFIX).unwrap();
    let got = second.take("w", 10, Duration::ZERO).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, b"kept");
}

/// Idle time of entry `id` as the server counts it, and its owner.
fn idle_and_owner(server: &RedisServer, level: Level, id: &str) -> Option<(u64, String)> {
    let mut con = server.connection();
    let key = format!("{PREFIX}:tasks:{}", level.name());
    let rows: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
        .arg(&key)
        .arg("hilo-workers")
        .arg(id)
        .arg(id)
        .arg(1)
        .query(&mut con)
        .unwrap();
    rows.into_iter()
        .next()
        .map(|(_, owner, idle, _)| (idle, owner))
}

#[test]
#[ignore = "needs redis-server"]
fn a_lease_is_renewed_by_its_owner_only_and_taken_over_when_idle() {
    let server = RedisServer::start();
    let mut a = Streams::connect(&server.url(), PREFIX).unwrap();
    let mut b = Streams::connect(&server.url(), PREFIX).unwrap();
    a.push(Level::Low, b"job").unwrap();
    let held = a.take("a", 1, Duration::ZERO).unwrap();
    assert_eq!(held[0].deliveries, 1);
    // Time passes: the server counts the entry idle; a renewal resets it.
    std::thread::sleep(Duration::from_millis(60));
    let (idle, owner) = idle_and_owner(&server, Level::Low, &held[0].id).unwrap();
    assert!(idle >= 60 && owner == "a", "{idle} {owner}");
    assert!(a.renew("a", &held).unwrap().is_empty());
    let (idle, _) = idle_and_owner(&server, Level::Low, &held[0].id).unwrap();
    assert!(idle < 60, "renewed: {idle}");
    // Someone else's renewal changes nothing and says it is not theirs.
    assert_eq!(b.renew("b", &held).unwrap(), vec![held[0].id.clone()]);
    assert_eq!(
        idle_and_owner(&server, Level::Low, &held[0].id).unwrap().1,
        "a"
    );
    // Not idle for an hour: nothing to take over. Idle at all: b takes it.
    assert!(b
        .reclaim("b", Duration::from_secs(3600), 10)
        .unwrap()
        .is_empty());
    let taken = b.reclaim("b", Duration::ZERO, 10).unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!((taken[0].deliveries, &taken[0].body[..]), (2, &b"job"[..]));
    // a lost it: its renewal says so, its late result is dropped.
    assert_eq!(a.renew("a", &held).unwrap(), vec![held[0].id.clone()]);
    assert!(!a.finish("a", &held[0], "client", b"late").unwrap());
    assert!(b.finish("b", &taken[0], "client", b"first").unwrap());
    assert!(!a.finish("a", &held[0], "client", b"later").unwrap());
    let got = a
        .read_inbox("client", &[], "0", 10, Duration::ZERO)
        .unwrap();
    let bodies: Vec<&[u8]> = got.iter().map(|m| &m.body[..]).collect();
    assert_eq!(bodies, vec![&b"first"[..]], "exactly one result");
    assert_eq!(left(&server, Level::Low), (0, 0));
}

#[test]
#[ignore = "needs redis-server"]
fn every_takeover_counts_a_delivery() {
    let server = RedisServer::start();
    let mut broker = Streams::connect(&server.url(), PREFIX).unwrap();
    broker.push(Level::High, b"poison").unwrap();
    let mut counts = vec![broker.take("w-0", 1, Duration::ZERO).unwrap()[0].deliveries];
    for w in 1..5 {
        let got = broker
            .reclaim(&format!("w-{w}"), Duration::ZERO, 1)
            .unwrap();
        counts.push(got[0].deliveries);
    }
    assert_eq!(counts, vec![1, 2, 3, 4, 5]);
}

#[test]
#[ignore = "needs redis-server"]
fn withdraw_removes_a_queued_task_and_takes_a_held_one_from_its_owner() {
    let server = RedisServer::start();
    let mut client = Streams::connect(&server.url(), PREFIX).unwrap();
    let mut worker = Streams::connect(&server.url(), PREFIX).unwrap();
    let queued = client.push(Level::Medium, b"queued").unwrap();
    assert_eq!(
        client.withdraw(Level::Medium, &queued, Anywhere).unwrap(),
        Withdrawn::Removed
    );
    assert!(
        worker.take("w", 10, Duration::ZERO).unwrap().is_empty(),
        "never handed out"
    );

    let id = client.push(Level::Medium, b"running").unwrap();
    let held = worker.take("w", 10, Duration::ZERO).unwrap();
    // Only queued tasks: a held one is left where it is.
    assert_eq!(
        client.withdraw(Level::Medium, &id, Queued).unwrap(),
        Withdrawn::Held { owner: "w".into() }
    );
    assert!(worker
        .read_inbox("w", &[], "0", 10, Duration::ZERO)
        .unwrap()
        .is_empty());
    assert_eq!(
        client.withdraw(Level::Medium, &id, Anywhere).unwrap(),
        Withdrawn::Taken { owner: "w".into() }
    );
    // The owner is told which task to stop, and its result is dropped.
    let stops = worker
        .read_inbox("w", &[], "0", 10, Duration::ZERO)
        .unwrap();
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].body, id.as_bytes());
    assert!(!worker.finish("w", &held[0], "c", b"too late").unwrap());
    assert!(client
        .read_inbox("c", &[], "0", 10, Duration::ZERO)
        .unwrap()
        .is_empty());
    assert_eq!(
        client.withdraw(Level::Medium, &id, Anywhere).unwrap(),
        Withdrawn::Gone
    );

    let id = client.push(Level::High, b"finished").unwrap();
    let held = worker.take("w", 10, Duration::ZERO).unwrap();
    assert!(worker.finish("w", &held[0], "c", b"value").unwrap());
    assert_eq!(
        client.withdraw(Level::High, &id, Anywhere).unwrap(),
        Withdrawn::Gone
    );
    for level in Level::ALL {
        assert_eq!(left(&server, level), (0, 0));
    }
}

#[test]
#[ignore = "needs redis-server"]
fn an_inbox_deletes_what_was_seen_and_expires_after_its_ttl() {
    let server = RedisServer::start();
    let mut broker = Streams::connect(&server.url(), PREFIX).unwrap();
    for body in [&b"one"[..], b"two"] {
        let held = {
            broker.push(Level::Low, body).unwrap();
            broker.take("w", 1, Duration::ZERO).unwrap()
        };
        assert!(broker.finish("w", &held[0], "me", body).unwrap());
    }
    let first = broker
        .read_inbox("me", &[], "0", 1, Duration::ZERO)
        .unwrap();
    assert_eq!(first[0].body, b"one");
    let seen = vec![first[0].id.clone()];
    let second = broker
        .read_inbox("me", &seen, &first[0].id, 10, Duration::ZERO)
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].body, b"two");
    let all = broker
        .read_inbox("me", &[], "0", 10, Duration::ZERO)
        .unwrap();
    assert_eq!(all, second, "the seen message is deleted");
    let mut con = server.connection();
    let key = format!("{PREFIX}:inbox:me");
    let ttl: i64 = redis::cmd("TTL").arg(&key).query(&mut con).unwrap();
    assert!(ttl > 0 && ttl as u64 <= INBOX_TTL.as_secs(), "{ttl}");
    broker.drop_inbox("me").unwrap();
    let exists: bool = redis::cmd("EXISTS").arg(&key).query(&mut con).unwrap();
    assert!(!exists);
    let names = [
        broker.unique_name("c").unwrap(),
        broker.unique_name("w").unwrap(),
    ];
    assert_eq!(names, ["c-1".to_owned(), "w-2".to_owned()]);
}

#[test]
fn a_server_that_is_not_there_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("redis+unix://{}", dir.path().join("none.sock").display());
    let err = Streams::connect(&url, PREFIX).unwrap_err();
    assert!(err.to_string().starts_with("redis: "), "{err}");
}
