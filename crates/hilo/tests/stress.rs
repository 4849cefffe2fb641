//! A CI-sized stress test: 200,000 tasks with random cancels, panics and
//! timed waits. At the end every future is terminal, every callback ran
//! exactly once, and the process has as many threads as before the pool.
//!
//! This file holds one test so that no other test's threads are counted.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hilo::{Shutdown, TaskError, ThreadPool};

#[path = "common/procs.rs"]
mod procs;

use procs::thread_count;

const TASKS: usize = 200_000;

#[test]
fn two_hundred_thousand_tasks_with_cancels_panics_and_timeouts() {
    // 2,000 deliberate panics: keep the default hook from printing each.
    std::panic::set_hook(Box::new(|_| {}));
    let threads_before = thread_count();
    let pool = ThreadPool::builder().max_workers(4).build().unwrap();
    let callbacks: Arc<Vec<AtomicU8>> = Arc::new((0..TASKS).map(|_| AtomicU8::new(0)).collect());
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };

    let mut futs = Vec::with_capacity(TASKS);
    let mut cancelled_ok = 0usize;
    for i in 0..TASKS {
        let panics = next() % 100 == 0;
        let fut = pool
            .submit(move || {
                assert!(!panics, "task {i} panics on purpose");
                i
            })
            .unwrap();
        let cb = Arc::clone(&callbacks);
        fut.add_done_callback(move |_| {
            cb[i].fetch_add(1, Ordering::SeqCst);
        });
        match next() % 20 {
            0 if fut.cancel() => cancelled_ok += 1,
            1 => {
                // A timed wait must not disturb the task, whatever it returns.
                let _ = fut.wait_timeout(Duration::from_micros(next() % 50));
            }
            _ => {}
        }
        futs.push((i, panics, fut));
    }

    let mut cancelled_seen = 0usize;
    for (i, panics, mut fut) in futs {
        let outcome = if i % 7 == 0 {
            loop {
                match fut.result_timeout(Duration::from_millis(1)) {
                    Err(TaskError::Timeout) => continue,
                    other => break other,
                }
            }
        } else {
            fut.result()
        };
        match outcome {
            Ok(v) => {
                assert_eq!(v, i);
                assert!(!panics);
            }
            Err(TaskError::Cancelled) => cancelled_seen += 1,
            Err(TaskError::Panicked { message }) => {
                assert!(panics);
                assert_eq!(message, format!("task {i} panics on purpose"));
            }
            Err(other) => panic!("task {i}: unexpected {other:?}"),
        }
    }
    assert_eq!(cancelled_seen, cancelled_ok);

    pool.shutdown(Shutdown::default());
    // Workers are joined: every callback has run by now.
    for (i, c) in callbacks.iter().enumerate() {
        assert_eq!(c.load(Ordering::SeqCst), 1, "callback of task {i}");
    }
    drop(pool);
    assert_eq!(thread_count(), threads_before, "worker threads left behind");
}
