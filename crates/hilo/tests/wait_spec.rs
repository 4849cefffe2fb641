//! `wait` and `as_completed` (spec sections 2 and 3, and section 9).

mod common;

use std::time::{Duration, Instant};

use common::hold;
use hilo::{
    as_completed, wait, AsCompletedTimeout, Future, Promise, ReturnWhen, TaskError, ThreadPool,
};

fn pool(n: usize) -> ThreadPool {
    ThreadPool::builder().max_workers(n).build().unwrap()
}

#[test]
fn all_completed_returns_every_future_done() {
    let pool = pool(2);
    let futs: Vec<_> = (0..20u64)
        .map(|i| pool.submit(move || i).unwrap())
        .collect();
    let w = wait(&futs, None, ReturnWhen::AllCompleted);
    assert_eq!(w.done.len(), 20);
    assert!(w.pending.is_empty());
    assert!(futs.iter().all(Future::done));
}

#[test]
fn first_completed_returns_once_one_is_done_leaving_the_blocked_one_pending() {
    let pool = pool(2);
    let held = hold(&pool, 1);
    let slow = &held.futs[0];
    let quick = pool.submit(|| ()).unwrap();
    let w = wait([slow, &quick], None, ReturnWhen::FirstCompleted);
    assert_eq!(w.done.len(), 1);
    assert!(std::ptr::eq(w.done[0], &quick));
    assert!(std::ptr::eq(w.pending[0], slow));
    held.open();
}

#[test]
fn first_exception_returns_on_a_panic_while_others_run() {
    let pool = pool(2);
    let held = hold(&pool, 1);
    let slow = &held.futs[0];
    let bad = pool.submit(|| panic!("boom")).unwrap();
    let w = wait([slow, &bad], None, ReturnWhen::FirstException);
    assert_eq!(w.done.len(), 1);
    assert!(std::ptr::eq(w.done[0], &bad));
    assert_eq!(w.pending.len(), 1);
    held.open();
}

#[test]
fn first_exception_without_errors_waits_for_all() {
    let pool = pool(2);
    let futs: Vec<_> = (0..10).map(|i| pool.submit(move || i).unwrap()).collect();
    let w = wait(&futs, None, ReturnWhen::FirstException);
    assert_eq!(w.done.len(), 10);
}

#[test]
fn a_cancelled_future_is_done_at_once_but_is_not_an_exception() {
    let (_p1, cancelled) = Promise::<u8>::new();
    let (_p2, pending) = Promise::<u8>::new();
    assert!(cancelled.cancel());
    // hilo differs from Python: the cancel is seen at once.
    let w = wait([&cancelled], None, ReturnWhen::AllCompleted);
    assert_eq!(w.done.len(), 1);
    // ... and it does not end a FIRST_EXCEPTION wait: that times out.
    let w = wait(
        [&cancelled, &pending],
        Some(Duration::from_millis(30)),
        ReturnWhen::FirstException,
    );
    assert_eq!((w.done.len(), w.pending.len()), (1, 1));
    assert!(std::ptr::eq(w.pending[0], &pending));
}

#[test]
fn timeout_is_not_an_error_it_returns_the_split_as_it_stands() {
    let (_p, pending) = Promise::<u8>::new();
    let done = Future::ready(Ok::<u8, TaskError>(1));
    let start = Instant::now();
    let w = wait(
        [&pending, &done],
        Some(Duration::from_millis(40)),
        ReturnWhen::AllCompleted,
    );
    assert!(start.elapsed() >= Duration::from_millis(40));
    assert!(std::ptr::eq(w.done[0], &done));
    assert!(std::ptr::eq(w.pending[0], &pending));
}

#[test]
fn wait_on_nothing_returns_nothing_at_once() {
    let none: Vec<Future<u8>> = Vec::new();
    let w = wait(&none, None, ReturnWhen::AllCompleted);
    assert!(w.done.is_empty() && w.pending.is_empty());
}

#[test]
fn wait_counts_a_duplicate_once() {
    let a = Future::ready(Ok::<u8, TaskError>(1));
    let b = Future::ready(Ok::<u8, TaskError>(2));
    let w = wait([&a, &a, &b, &a], None, ReturnWhen::AllCompleted);
    assert_eq!(w.done.len(), 2);
}

#[test]
fn wait_is_woken_by_completion_in_another_thread() {
    let (promise, fut) = Promise::<u8>::new();
    let completer = std::thread::spawn(move || promise.complete(Ok(4)));
    let w = wait([&fut], None, ReturnWhen::AllCompleted);
    assert_eq!(w.done.len(), 1);
    completer.join().unwrap();
}

#[test]
fn as_completed_yields_finished_first_then_in_completion_order() {
    let (p2, f2) = Promise::<u8>::new();
    let (p3, f3) = Promise::<u8>::new();
    let f1 = Future::ready(Ok(1));
    let mut it = as_completed(vec![f2, f3, f1], None);
    assert_eq!(it.next().unwrap().unwrap().result(), Ok(1));
    p3.complete(Ok(3));
    assert_eq!(it.next().unwrap().unwrap().result(), Ok(3));
    p2.complete(Ok(2));
    assert_eq!(it.next().unwrap().unwrap().result(), Ok(2));
    assert!(it.next().is_none());
}

#[test]
fn as_completed_yields_a_duplicate_once() {
    let a = Future::ready(Ok::<u8, TaskError>(1));
    let b = Future::ready(Ok::<u8, TaskError>(2));
    let yielded: Vec<_> = as_completed([&a, &b, &a, &b, &a], None)
        .map(Result::unwrap)
        .collect();
    assert_eq!(yielded.len(), 2);
}

#[test]
fn as_completed_deadline_names_how_many_were_unfinished() {
    let (_p1, f1) = Promise::<u8>::new();
    let (_p2, f2) = Promise::<u8>::new();
    let done = Future::ready(Ok(0));
    let mut it = as_completed(vec![f1, done, f2], Some(Duration::from_millis(30)));
    assert_eq!(it.next().unwrap().unwrap().result(), Ok(0));
    let err = it.next().unwrap().unwrap_err();
    assert_eq!(
        err,
        AsCompletedTimeout {
            unfinished: 2,
            total: 3
        }
    );
    assert_eq!(err.to_string(), "2 (of 3) futures unfinished");
    assert!(it.next().is_none());
    assert_eq!(it.into_remaining().len(), 2);
}

#[test]
fn as_completed_with_zero_timeout_still_yields_the_finished_ones_first() {
    let (_p, pending) = Promise::<u8>::new();
    let a = Future::ready(Ok(1));
    let b = Future::ready(Ok(2));
    let mut it = as_completed([&a, &pending, &b], Some(Duration::ZERO));
    assert!(it.next().unwrap().is_ok());
    assert!(it.next().unwrap().is_ok());
    assert_eq!(it.next().unwrap().unwrap_err().unfinished, 1);
}

#[test]
fn as_completed_of_nothing_yields_nothing() {
    let none: Vec<Future<u8>> = Vec::new();
    assert!(as_completed(none, None).next().is_none());
}

#[test]
fn as_completed_yields_a_cancelled_future_at_once() {
    let (_p, f) = Promise::<u8>::new();
    f.cancel();
    let got: Vec<_> = as_completed(vec![f], Some(Duration::ZERO)).collect();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got.into_iter().next().unwrap().unwrap().result(),
        Err(TaskError::Cancelled)
    );
}

#[test]
fn as_completed_over_a_pool_returns_every_result_once() {
    let pool = pool(2);
    let futs: Vec<_> = (0..500u64)
        .map(|i| pool.submit(move || i).unwrap())
        .collect();
    let mut got: Vec<u64> = as_completed(futs, Some(Duration::from_secs(60)))
        .map(|f| f.unwrap().result().unwrap())
        .collect();
    got.sort_unstable();
    assert_eq!(got, (0..500).collect::<Vec<_>>());
}
