//! ThreadPool behaviour (spec sections 5 and 6, and section 9).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use common::{hold, thread_names};
use hilo::{BuildError, Shutdown, SubmitError, TaskError, ThreadPool};

#[test]
fn submit_after_shutdown_is_an_error_not_a_panic() {
    let pool = ThreadPool::new();
    pool.shutdown(Shutdown::default());
    assert_eq!(pool.submit(|| 1).unwrap_err(), SubmitError::Shutdown);
    assert_eq!(
        pool.submit_with_stop(|_| 1).unwrap_err(),
        SubmitError::Shutdown
    );
    assert_eq!(
        SubmitError::Shutdown.to_string(),
        "cannot submit: the executor has been shut down"
    );
}

#[test]
fn shutdown_is_idempotent() {
    let pool = ThreadPool::new();
    pool.submit(|| ()).unwrap().result().unwrap();
    pool.shutdown(Shutdown::default());
    pool.shutdown(Shutdown {
        wait: false,
        cancel_pending: true,
    });
    pool.shutdown(Shutdown::default());
    assert!(pool.is_shutdown());
}

#[test]
fn shutdown_without_wait_returns_at_once_and_queued_work_still_runs() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let held = hold(&pool, 1);
    let queued: Vec<_> = (0..5).map(|i| pool.submit(move || i).unwrap()).collect();
    // Returns although the worker is blocked: it did not wait.
    pool.shutdown(Shutdown {
        wait: false,
        cancel_pending: false,
    });
    held.release();
    let got: Vec<_> = queued.into_iter().map(|f| f.result().unwrap()).collect();
    assert_eq!(got, vec![0, 1, 2, 3, 4]);
}

#[test]
fn shutdown_with_cancel_pending_cancels_the_queue_and_signals_running_tokens() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let (started, on_start) = mpsc::channel();
    let running = pool
        .submit_with_stop(move |stop| {
            started.send(()).unwrap();
            stop.wait();
            "stopped on request"
        })
        .unwrap();
    on_start.recv().unwrap();
    let callbacks = Arc::new(AtomicUsize::new(0));
    let queued: Vec<_> = (0..3)
        .map(|i| {
            let f = pool.submit(move || i).unwrap();
            let c = Arc::clone(&callbacks);
            f.add_done_callback(move |r| {
                assert_eq!(r, &Err(TaskError::Cancelled));
                c.fetch_add(1, Ordering::SeqCst);
            });
            f
        })
        .collect();
    pool.shutdown(Shutdown {
        wait: true,
        cancel_pending: true,
    });
    assert_eq!(running.result(), Ok("stopped on request"));
    assert!(queued.iter().all(|f| f.cancelled()));
    assert_eq!(callbacks.load(Ordering::SeqCst), 3);
}

#[test]
fn request_stop_reaches_only_that_task() {
    let pool = ThreadPool::builder().max_workers(2).build().unwrap();
    let (started, on_start) = mpsc::channel();
    let futs: Vec<_> = (0..2)
        .map(|i| {
            let started = started.clone();
            pool.submit_with_stop(move |stop| {
                started.send(()).unwrap();
                stop.wait();
                i
            })
            .unwrap()
        })
        .collect();
    on_start.recv().unwrap();
    on_start.recv().unwrap();
    assert!(futs[1].request_stop());
    assert!(!futs[0].stop_token().unwrap().is_stop_requested());
    let mut futs = futs.into_iter();
    let (first, second) = (futs.next().unwrap(), futs.next().unwrap());
    assert_eq!(second.result(), Ok(1));
    assert!(first.running());
    first.request_stop();
    assert_eq!(first.result(), Ok(0));
}

#[test]
fn worker_threads_carry_the_prefix_in_proc() {
    let pool = ThreadPool::builder()
        .max_workers(2)
        .thread_name_prefix("hilotest")
        .build()
        .unwrap();
    let held = hold(&pool, 2);
    let names = thread_names();
    assert!(names.contains(&"hilotest-0".to_owned()), "{names:?}");
    assert!(names.contains(&"hilotest-1".to_owned()), "{names:?}");
    held.release();
}

#[test]
fn threads_start_on_demand_and_are_reused() {
    let pool = ThreadPool::builder().max_workers(4).build().unwrap();
    assert_eq!(pool.started_workers(), 0);
    for i in 0..50 {
        assert_eq!(pool.submit(move || i).unwrap().result(), Ok(i));
    }
    assert_eq!(pool.started_workers(), 1, "sequential use needs one thread");
}

#[test]
fn never_more_than_max_workers_run_at_once() {
    let pool = ThreadPool::builder().max_workers(3).build().unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let futs: Vec<_> = (0..300)
        .map(|_| {
            let (running, peak) = (Arc::clone(&running), Arc::clone(&peak));
            pool.submit(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                std::hint::black_box((0..2000u64).sum::<u64>());
                running.fetch_sub(1, Ordering::SeqCst);
            })
            .unwrap()
        })
        .collect();
    for f in futs {
        f.result().unwrap();
    }
    assert!(peak.load(Ordering::SeqCst) <= 3);
    assert!(pool.started_workers() <= 3);
}

#[test]
fn initializer_runs_once_in_each_thread_before_its_tasks() {
    let inits = Arc::new(AtomicUsize::new(0));
    let i = Arc::clone(&inits);
    let pool = ThreadPool::builder()
        .max_workers(2)
        .initializer(move || {
            i.fetch_add(1, Ordering::SeqCst);
            Ok::<(), String>(())
        })
        .build()
        .unwrap();
    let held = hold(&pool, 2);
    assert_eq!(inits.load(Ordering::SeqCst), 2);
    held.release();
    for _ in 0..20 {
        pool.submit(|| ()).unwrap().result().unwrap();
    }
    assert_eq!(inits.load(Ordering::SeqCst), 2);
}

#[test]
fn failing_initializer_breaks_the_pool_with_a_clear_error() {
    let pool = ThreadPool::builder()
        .max_workers(1)
        .initializer(|| Err::<(), _>("cannot open the database"))
        .build()
        .unwrap();
    let futs: Vec<_> = (0..5).map(|i| pool.submit(move || i)).collect();
    for f in futs {
        // Either refused at submit (already broken) or failed in the queue.
        let err = match f {
            Ok(fut) => fut.result().unwrap_err(),
            Err(e) => TaskError::from(e),
        };
        match err {
            TaskError::Broken { reason } => {
                assert!(reason.contains("cannot open the database"), "{reason}")
            }
            other => panic!("expected Broken, got {other:?}"),
        }
    }
    match pool.submit(|| 0) {
        Err(SubmitError::Broken { reason }) => assert!(reason.contains("initializer failed")),
        other => panic!("expected a Broken submit error, got {other:?}"),
    }
}

#[test]
fn panicking_initializer_breaks_the_pool_too() {
    let pool = ThreadPool::builder()
        .max_workers(1)
        .initializer(|| -> Result<(), String> { panic!("init exploded") })
        .build()
        .unwrap();
    let f = pool.submit(|| 1).unwrap();
    match f.result() {
        Err(TaskError::Broken { reason }) => assert!(reason.contains("init exploded")),
        other => panic!("expected Broken, got {other:?}"),
    }
}

#[test]
fn dropping_the_pool_runs_queued_tasks_then_joins() {
    let done = Arc::new(AtomicUsize::new(0));
    {
        let pool = ThreadPool::builder().max_workers(2).build().unwrap();
        for _ in 0..100 {
            let d = Arc::clone(&done);
            pool.submit(move || {
                d.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        }
    }
    assert_eq!(done.load(Ordering::SeqCst), 100);
}

#[test]
fn shutdown_from_inside_a_task_does_not_deadlock() {
    let pool = Arc::new(ThreadPool::builder().max_workers(2).build().unwrap());
    let p = Arc::clone(&pool);
    let fut = pool
        .submit(move || {
            p.shutdown(Shutdown::default());
            "shut down from a worker"
        })
        .unwrap();
    assert_eq!(fut.result(), Ok("shut down from a worker"));
    assert!(pool.is_shutdown());
}

#[test]
fn a_callback_that_submits_and_waits_gets_a_thread_of_its_own() {
    // The worker running the callback is not idle: the nested task must
    // start a second thread, as Python's idle semaphore would.
    let pool = Arc::new(ThreadPool::builder().max_workers(2).build().unwrap());
    let gate = common::Gate::new();
    let g = gate.clone();
    let fut = pool.submit(move || g.wait()).unwrap();
    let (tx, nested) = mpsc::channel();
    let p = Arc::clone(&pool);
    fut.add_done_callback(move |_| {
        let inner = p.submit(|| 2).unwrap();
        tx.send(inner.result()).unwrap();
    });
    gate.open();
    assert_eq!(
        nested.recv_timeout(std::time::Duration::from_secs(20)),
        Ok(Ok(2)),
        "the nested task never ran"
    );
    assert_eq!(pool.started_workers(), 2);
}

#[test]
fn sequential_submit_and_result_with_a_callback_keeps_working() {
    // With callbacks the worker is idle only after them; a result() woken
    // before that may start a second thread, never more than max_workers.
    let pool = ThreadPool::builder().max_workers(3).build().unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    for i in 0..200 {
        let fut = pool.submit(move || i).unwrap();
        let r = Arc::clone(&ran);
        fut.add_done_callback(move |_| {
            r.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(fut.result(), Ok(i));
    }
    pool.shutdown(Shutdown::default());
    assert_eq!(ran.load(Ordering::SeqCst), 200);
    assert!(pool.started_workers() <= 3);
}

#[test]
fn zero_workers_is_a_build_error() {
    let err = ThreadPool::builder().max_workers(0).build().unwrap_err();
    assert!(matches!(err, BuildError::ZeroWorkers));
    let err = ThreadPool::builder()
        .thread_name_prefix("a\0b")
        .build()
        .unwrap_err();
    assert!(matches!(err, BuildError::BadThreadName));
}

#[test]
fn default_max_workers_is_the_available_parallelism() {
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(ThreadPool::new().max_workers(), cores);
}
