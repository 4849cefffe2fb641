//! The Future's rules (spec section 1, and section 9 where hilo differs),
//! observed through a real ThreadPool or a Promise.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use common::{block_on, hold, Gate};
use hilo::{Future, Promise, State, TaskError, ThreadPool};

fn one_worker(name: &str) -> ThreadPool {
    ThreadPool::builder()
        .max_workers(1)
        .thread_name_prefix(name)
        .build()
        .unwrap()
}

#[test]
fn cancel_of_pending_task_returns_true_and_the_task_never_runs() {
    let pool = one_worker("cancel");
    let held = hold(&pool, 1);

    let ran = Arc::new(AtomicBool::new(false));
    let r = Arc::clone(&ran);
    let queued = pool
        .submit(move || r.store(true, Ordering::SeqCst))
        .unwrap();
    assert_eq!(queued.state(), State::Pending);
    assert!(queued.cancel());
    assert!(queued.cancelled() && queued.done() && !queued.running());

    held.release();
    pool.shutdown(Default::default());
    assert!(!ran.load(Ordering::SeqCst), "a cancelled task ran");
    assert_eq!(queued.result(), Err(TaskError::Cancelled));
}

#[test]
fn cancel_of_running_task_returns_false_and_it_finishes() {
    let pool = one_worker("running");
    let held = hold(&pool, 1);
    let fut = &held.futs[0];
    assert_eq!(fut.state(), State::Running);
    assert!(!fut.cancel());
    assert!(fut.running() && !fut.cancelled());
    held.release();
}

#[test]
fn cancel_of_finished_future_returns_false() {
    let fut = Future::ready(Ok::<_, TaskError>(1));
    assert!(!fut.cancel());
    assert_eq!(fut.state(), State::Finished);
    assert_eq!(fut.result(), Ok(1));
}

#[test]
fn cancel_twice_is_true_and_fires_callbacks_once() {
    let (_promise, fut) = Promise::<u8>::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    fut.add_done_callback(move |r| {
        assert_eq!(r, &Err(TaskError::Cancelled));
        c.fetch_add(1, Ordering::SeqCst);
    });
    assert!(fut.cancel());
    assert!(fut.cancel());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn complete_after_cancel_is_refused_and_the_future_stays_cancelled() {
    let (promise, fut) = Promise::<u8>::new();
    assert!(fut.cancel());
    assert!(!promise.set_running());
    assert!(!promise.complete(Ok(1)));
    assert_eq!(fut.result(), Err(TaskError::Cancelled));
}

#[test]
fn result_timeout_leaves_the_task_alone_and_the_future_usable() {
    let pool = one_worker("timeout");
    let gate = Gate::new();
    let (started, on_start) = mpsc::channel();
    let g = gate.clone();
    let mut fut = pool
        .submit(move || {
            started.send(()).unwrap();
            g.wait();
            99
        })
        .unwrap();
    on_start.recv().unwrap();
    assert_eq!(
        fut.result_timeout(Duration::from_millis(20)),
        Err(TaskError::Timeout)
    );
    assert!(fut.running(), "a timed-out wait must not touch the task");
    gate.open();
    assert_eq!(fut.result_timeout(Duration::from_secs(60)), Ok(99));
    assert_eq!(
        fut.result_timeout(Duration::ZERO),
        Err(TaskError::AlreadyTaken)
    );
}

#[test]
fn zero_timeout_does_not_block() {
    let (_promise, mut fut) = Promise::<u8>::new();
    assert_eq!(fut.result_timeout(Duration::ZERO), Err(TaskError::Timeout));
    assert!(!fut.wait_timeout(Duration::ZERO));
    assert_eq!(fut.state(), State::Pending);
}

#[test]
fn result_of_cancelled_future_wakes_a_blocked_waiter() {
    let (_promise, fut) = Promise::<u8>::new();
    let fut = Arc::new(fut);
    let waiter = {
        let fut = Arc::clone(&fut);
        std::thread::spawn(move || fut.exception())
    };
    assert!(fut.cancel());
    assert_eq!(waiter.join().unwrap(), Some(TaskError::Cancelled));
}

#[test]
fn callback_added_before_completion_runs_in_the_completing_worker() {
    let pool = one_worker("cbpool");
    let held = hold(&pool, 1);
    let fut = &held.futs[0];
    let (tx, rx) = mpsc::channel();
    fut.add_done_callback(move |r| {
        let name = std::thread::current().name().map(str::to_owned);
        tx.send((name, r.clone())).unwrap();
    });
    held.open();
    let (name, outcome) = rx.recv().unwrap();
    assert_eq!(name.as_deref(), Some("cbpool-0"));
    assert_eq!(outcome, Ok(()));
}

#[test]
fn callback_added_after_completion_runs_at_once_in_the_caller() {
    let fut = Future::ready(Err::<u8, _>(TaskError::Panicked {
        message: "x".into(),
    }));
    let me = std::thread::current().id();
    let seen = Arc::new(Mutex::new(None));
    let s = Arc::clone(&seen);
    fut.add_done_callback(move |r| {
        *s.lock().unwrap() = Some((std::thread::current().id(), r.clone()));
    });
    let (thread, outcome) = seen
        .lock()
        .unwrap()
        .take()
        .expect("callback did not run at once");
    assert_eq!(thread, me);
    assert!(outcome.unwrap_err().is_panic());
}

#[test]
fn callbacks_run_in_insertion_order() {
    let (promise, fut) = Promise::<u8>::new();
    let order = Arc::new(Mutex::new(Vec::new()));
    for i in 0..5 {
        let o = Arc::clone(&order);
        fut.add_done_callback(move |_| o.lock().unwrap().push(i));
    }
    promise.complete(Ok(1));
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
}

#[test]
fn panicking_callback_is_skipped_the_rest_run_and_the_worker_lives() {
    let pool = one_worker("cbpanic");
    let held = hold(&pool, 1);
    let fut = &held.futs[0];
    let (tx, rx) = mpsc::channel();
    fut.add_done_callback(|_| panic!("callback bug"));
    fut.add_done_callback(move |_| tx.send("second ran").unwrap());
    held.open();
    assert_eq!(rx.recv().unwrap(), "second ran");
    let next = pool
        .submit(|| std::thread::current().name().map(str::to_owned))
        .unwrap();
    assert_eq!(next.result(), Ok(Some("cbpanic-0".to_owned())));
    assert_eq!(pool.started_workers(), 1, "the worker was replaced");
}

#[test]
fn callback_may_submit_to_the_same_pool() {
    let pool = Arc::new(one_worker("resubmit"));
    let (tx, rx) = mpsc::channel();
    let p = Arc::clone(&pool);
    pool.submit(|| 20).unwrap().on_complete(move |r| {
        let n = r.unwrap();
        tx.send(p.submit(move || n + 1).unwrap()).unwrap();
    });
    let second = rx.recv().unwrap();
    assert_eq!(second.result(), Ok(21));
}

#[test]
fn on_complete_hands_over_the_value() {
    let pool = ThreadPool::new();
    let (tx, rx) = mpsc::channel();
    pool.submit(|| vec![1, 2, 3])
        .unwrap()
        .on_complete(move |r| tx.send(r).unwrap());
    assert_eq!(rx.recv().unwrap(), Ok(vec![1, 2, 3]));
}

#[test]
fn panicking_task_is_an_error_and_its_worker_keeps_serving() {
    let pool = one_worker("panics");
    let bad = pool.submit(|| -> u8 { panic!("bad {}", 7) }).unwrap();
    assert_eq!(
        bad.exception(),
        Some(TaskError::Panicked {
            message: "bad 7".into()
        })
    );
    assert_eq!(
        bad.result(),
        Err(TaskError::Panicked {
            message: "bad 7".into()
        })
    );
    for i in 0..10 {
        assert_eq!(pool.submit(move || i).unwrap().result(), Ok(i));
    }
    assert_eq!(pool.started_workers(), 1);
}

#[test]
fn exception_is_none_for_a_value_and_leaves_it_in_place() {
    let fut = Future::ready(Ok::<_, TaskError>("v"));
    assert_eq!(fut.exception(), None);
    assert_eq!(fut.result(), Ok("v"));
}

#[test]
fn states_go_pending_running_finished() {
    let pool = one_worker("states");
    let held = hold(&pool, 1);
    let first = &held.futs[0];
    let second = pool.submit(|| ()).unwrap();
    assert_eq!(second.state(), State::Pending);
    assert_eq!(first.state(), State::Running);
    held.open();
    assert!(second.wait_timeout(Duration::from_secs(60)));
    assert_eq!(second.state(), State::Finished);
    assert_eq!(format!("{:?}", second), "Future { state: Finished }");
}

#[test]
fn dropped_promise_fails_its_future_instead_of_hanging() {
    let (promise, fut) = Promise::<u8>::new();
    drop(promise);
    assert_eq!(fut.result(), Err(TaskError::Abandoned));
}

#[test]
fn future_can_be_awaited() {
    let pool = ThreadPool::new();
    let gate = Gate::new();
    let g = gate.clone();
    let fut = pool
        .submit(move || {
            g.wait();
            "awaited"
        })
        .unwrap();
    let opener = std::thread::spawn(move || gate.open());
    assert_eq!(block_on(fut), Ok("awaited"));
    opener.join().unwrap();
    let cancelled = {
        let (_p, f) = Promise::<u8>::new();
        f.cancel();
        block_on(f)
    };
    assert_eq!(cancelled, Err(TaskError::Cancelled));
}

#[test]
fn error_messages_say_what_happened() {
    assert_eq!(TaskError::Cancelled.to_string(), "the task was cancelled");
    assert_eq!(
        TaskError::Timeout.to_string(),
        "timed out waiting for the result; the task was left running"
    );
    assert!(TaskError::Broken {
        reason: "init failed".into()
    }
    .to_string()
    .contains("init failed"));
}
