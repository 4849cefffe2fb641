//! The lazy bounded map (spec section 4, and section 9).

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use common::Gate;
use hilo::{Shutdown, TaskError, ThreadPool};

fn pool(n: usize) -> ThreadPool {
    ThreadPool::builder().max_workers(n).build().unwrap()
}

/// A small deterministic pseudo-random sequence (xorshift), for durations.
fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn results_come_in_input_order_whatever_the_durations() {
    let pool = pool(4);
    let mut seed = 0x2545_F491_4F6C_DD1D;
    let work: Vec<(u64, u64)> = (0..60).map(|i| (i, xorshift(&mut seed) % 4)).collect();
    let out: Vec<u64> = pool
        .map(work, |(i, ms)| {
            std::thread::sleep(Duration::from_millis(ms)); // the workload, not a sync
            i
        })
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, (0..60).collect::<Vec<_>>());
}

#[test]
fn each_item_gets_its_own_result_and_errors_do_not_stop_the_rest() {
    let pool = pool(2);
    let out: Vec<_> = pool
        .map(0..20u32, |i| {
            assert!(i % 5 != 0, "item {i} is bad");
            i * 2
        })
        .collect();
    assert_eq!(out.len(), 20);
    for (i, r) in out.into_iter().enumerate() {
        let i = i as u32;
        if i % 5 == 0 {
            let msg = format!("item {i} is bad");
            assert_eq!(r, Err(TaskError::Panicked { message: msg }));
        } else {
            assert_eq!(r, Ok(i * 2));
        }
    }
}

#[test]
fn never_more_than_window_items_are_in_flight() {
    let pool = pool(2);
    let submitted = Arc::new(AtomicUsize::new(0));
    let s = Arc::clone(&submitted);
    let window = 5;
    let mut consumed = 0;
    let it = hilo::map(&pool, 0..200u32, move |i| {
        s.fetch_add(1, Ordering::SeqCst);
        move || i
    })
    .window(window);
    assert_eq!(submitted.load(Ordering::SeqCst), 0, "map must be lazy");
    for r in it {
        assert_eq!(r, Ok(consumed as u32));
        let in_flight = submitted.load(Ordering::SeqCst) - consumed;
        assert!(
            in_flight <= window,
            "{in_flight} in flight, window {window}"
        );
        consumed += 1;
    }
    assert_eq!(consumed, 200);
}

#[test]
fn default_window_is_twice_the_workers() {
    let pool = pool(3);
    let submitted = Arc::new(AtomicUsize::new(0));
    let s = Arc::clone(&submitted);
    let mut it = hilo::map(&pool, 0..100u32, move |i| {
        s.fetch_add(1, Ordering::SeqCst);
        move || i
    });
    it.next().unwrap().unwrap();
    assert_eq!(submitted.load(Ordering::SeqCst), 6);
}

#[test]
fn an_endless_input_with_take_works_in_bounded_memory() {
    let pool = pool(2);
    let submitted = Arc::new(AtomicUsize::new(0));
    let s = Arc::clone(&submitted);
    let sum: u64 = hilo::map(&pool, 0u64.., move |i| {
        s.fetch_add(1, Ordering::SeqCst);
        move || i
    })
    .take(10_000)
    .map(Result::unwrap)
    .sum();
    assert_eq!(sum, (0..10_000u64).sum());
    assert!(submitted.load(Ordering::SeqCst) <= 10_000 + 4);
}

#[test]
fn dropping_the_map_cancels_what_has_not_started() {
    let pool = pool(1);
    let gate = Gate::new();
    let ran = Arc::new(Mutex::new(HashSet::new()));
    let (started, on_start) = mpsc::channel::<u32>();
    let started = Mutex::new(started);
    let (g, r) = (gate.clone(), Arc::clone(&ran));
    let mut it = pool
        .map(0..10u32, move |i| {
            r.lock().unwrap().insert(i);
            if i > 0 {
                started.lock().unwrap().send(i).unwrap();
                g.wait();
            }
            i
        })
        .window(4);
    assert_eq!(it.next(), Some(Ok(0)));
    assert_eq!(on_start.recv().unwrap(), 1); // item 1 is running
    drop(it); // items 2, 3 are queued: cancelled
    gate.open();
    pool.shutdown(Shutdown::default());
    let ran = ran.lock().unwrap();
    assert_eq!(*ran, HashSet::from([0, 1]), "only started items may run");
}

#[test]
fn unordered_yields_in_completion_order() {
    let pool = pool(2);
    let gate = Gate::new();
    let g = gate.clone();
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let mut it = pool
        .map([0u32, 1], move |i| {
            if i == 0 {
                g.wait();
            }
            tx.lock().unwrap().send(i).unwrap();
            i
        })
        .unordered();
    assert_eq!(it.next(), Some(Ok(1)), "the unblocked item comes first");
    gate.open();
    assert_eq!(it.next(), Some(Ok(0)));
    assert_eq!(it.next(), None);
    drop(rx);
}

#[test]
fn unordered_returns_every_result() {
    let pool = pool(2);
    let mut out: Vec<u32> = pool
        .map(0..1000u32, |i| i)
        .unordered()
        .window(7)
        .map(Result::unwrap)
        .collect();
    out.sort_unstable();
    assert_eq!(out, (0..1000).collect::<Vec<_>>());
}

#[test]
fn map_on_a_shut_down_pool_yields_shutdown_errors() {
    let pool = pool(1);
    pool.shutdown(Shutdown::default());
    let out: Vec<_> = pool.map(0..3, |i| i).collect();
    assert_eq!(out, vec![Err(TaskError::Shutdown); 3]);
}

#[test]
fn a_map_deadline_yields_what_is_ready_then_one_timeout_and_ends() {
    let pool = pool(2);
    let release = Gate::new();
    let r = release.clone();
    let out: Vec<_> = pool
        .map(0..6u32, move |i| {
            if i == 2 {
                r.wait();
            }
            i
        })
        .timeout(Duration::from_millis(50))
        .collect();
    release.open();
    assert_eq!(out, vec![Ok(0), Ok(1), Err(TaskError::Timeout)]);
}

#[test]
fn an_unordered_map_deadline_ends_with_one_timeout() {
    let pool = pool(2);
    let release = Gate::new();
    let r = release.clone();
    let out: Vec<_> = pool
        .map(0..4u32, move |i| {
            if i == 0 {
                r.wait();
            }
            i
        })
        .unordered()
        .timeout(Duration::from_millis(50))
        .collect();
    release.open();
    let (last, ready) = out.split_last().unwrap();
    assert_eq!(last, &Err(TaskError::Timeout));
    let mut ready: Vec<u32> = ready.iter().map(|r| *r.as_ref().unwrap()).collect();
    ready.sort_unstable();
    assert_eq!(ready, vec![1, 2, 3]);
}
