//! loom model checks of the Future state machine: every interleaving of the
//! racing operations is explored, and each assertion must hold in all.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p hilo --release --test loom_future`
#![cfg(loom)]

use std::time::Duration;

use hilo::{wait, Promise, ReturnWhen, TaskError};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

/// Exactly one of `cancel()` and `set_running()` wins, and the outcome
/// matches the winner.
#[test]
fn cancel_racing_start_has_exactly_one_winner() {
    loom::model(|| {
        let (promise, fut) = Promise::<u32>::new();
        let worker = thread::spawn(move || {
            if promise.set_running() {
                promise.complete(Ok(1));
                true
            } else {
                false
            }
        });
        let cancelled = fut.cancel();
        let ran = worker.join().unwrap();
        assert_ne!(cancelled, ran, "cancel and start must not both win");
        match fut.result() {
            Ok(1) => assert!(ran),
            Err(TaskError::Cancelled) => assert!(cancelled),
            other => panic!("unexpected outcome {other:?}"),
        }
    });
}

/// A callback added while the future completes runs exactly once, whichever
/// side gets there first.
#[test]
fn completion_racing_add_done_callback_runs_it_once() {
    loom::model(|| {
        let (promise, fut) = Promise::<u32>::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let completer = thread::spawn(move || {
            promise.complete(Ok(7));
        });
        let c = Arc::clone(&calls);
        fut.add_done_callback(move |r| {
            assert!(r.is_ok());
            c.fetch_add(1, Ordering::SeqCst);
        });
        completer.join().unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(fut.result(), Ok(7));
    });
}

/// A timed wait racing completion either sees the value or times out, and
/// a timeout leaves the future usable with the value intact.
#[test]
fn completion_racing_timed_wait_loses_nothing() {
    loom::model(|| {
        let (promise, mut fut) = Promise::<u32>::new();
        let completer = thread::spawn(move || {
            promise.complete(Ok(3));
        });
        match fut.result_timeout(Duration::from_millis(50)) {
            Ok(v) => assert_eq!(v, 3),
            Err(TaskError::Timeout) => {
                completer.join().unwrap();
                assert_eq!(fut.result(), Ok(3));
                return;
            }
            Err(e) => panic!("unexpected error {e:?}"),
        }
        completer.join().unwrap();
    });
}

/// `wait` registering its waiter while the future completes is always woken.
#[test]
fn completion_racing_wait_registration_is_never_lost() {
    loom::model(|| {
        let (promise, fut) = Promise::<u32>::new();
        let completer = thread::spawn(move || {
            promise.complete(Ok(1));
        });
        let w = wait([&fut], None, ReturnWhen::AllCompleted);
        assert_eq!(w.done.len(), 1);
        completer.join().unwrap();
    });
}

/// Cancel racing completion: terminal exactly once, callbacks exactly once.
#[test]
fn cancel_racing_complete_notifies_once() {
    loom::model(|| {
        let (promise, fut) = Promise::<u32>::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        fut.add_done_callback(move |_| {
            c.fetch_add(1, Ordering::SeqCst);
        });
        let completer = thread::spawn(move || promise.complete(Ok(5)));
        let cancelled = fut.cancel();
        let completed = completer.join().unwrap();
        assert_ne!(cancelled, completed);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    });
}

/// A thread blocked in `result()` is always woken by the completion (the
/// condvar notify is skipped only when nobody sleeps).
#[test]
fn a_blocked_result_is_always_woken() {
    loom::model(|| {
        let (promise, fut) = Promise::<u32>::new();
        let completer = thread::spawn(move || {
            promise.complete(Ok(2));
        });
        assert_eq!(fut.result(), Ok(2));
        completer.join().unwrap();
    });
}

/// Same for a cancel from another thread.
#[test]
fn a_blocked_result_is_woken_by_cancel() {
    loom::model(|| {
        let (promise, fut) = Promise::<u32>::new();
        let fut = Arc::new(fut);
        let canceller = {
            let fut = Arc::clone(&fut);
            thread::spawn(move || assert!(fut.cancel()))
        };
        assert_eq!(fut.exception(), Some(TaskError::Cancelled));
        canceller.join().unwrap();
        drop(promise);
    });
}
