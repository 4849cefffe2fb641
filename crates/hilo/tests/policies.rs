//! Opt-in policies written over the Executor trait: priority, retry,
//! progress.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use common::{gated, Gate};
use hilo::{
    retry, BoxJob, Priority, PriorityExecutor, Progress, ProgressSnapshot, RetryPolicy, Shutdown,
    TaskError, ThreadPool,
};

fn one_worker() -> Arc<ThreadPool> {
    Arc::new(ThreadPool::builder().max_workers(1).build().unwrap())
}

#[test]
fn priority_runs_higher_first_and_fifo_within_a_level() {
    let pool = one_worker();
    let prio: PriorityExecutor<_, BoxJob<()>> = PriorityExecutor::new(Arc::clone(&pool));
    let gate = Gate::new();
    let (started, on_start) = mpsc::channel();
    let blocker = prio
        .submit(Priority::NORMAL, Box::new(gated(&gate, &started)))
        .unwrap();
    on_start.recv().unwrap();

    let order = Arc::new(Mutex::new(Vec::new()));
    let plan = [
        ("low-1", Priority::LOW),
        ("normal-1", Priority::NORMAL),
        ("high-1", Priority::HIGH),
        ("low-2", Priority::LOW),
        ("high-2", Priority::HIGH),
        ("normal-2", Priority::NORMAL),
    ];
    let futs: Vec<_> = plan
        .iter()
        .map(|&(name, p)| {
            let order = Arc::clone(&order);
            prio.submit(p, Box::new(move || order.lock().unwrap().push(name)))
                .unwrap()
        })
        .collect();
    assert_eq!(prio.queued(), 6);
    gate.open();
    blocker.result().unwrap();
    for f in futs {
        f.result().unwrap();
    }
    assert_eq!(
        *order.lock().unwrap(),
        ["high-1", "high-2", "normal-1", "normal-2", "low-1", "low-2"]
    );
}

/// A job that returns `value`, running on `prio`'s only worker (it has
/// started when this returns) until the gate opens.
fn hold_the_worker<E>(prio: &PriorityExecutor<E, BoxJob<u8>>, value: u8) -> (Gate, hilo::Future<u8>)
where
    E: hilo::Executor<BoxJob<u8>, Output = u8> + Send + Sync + 'static,
{
    let gate = Gate::new();
    let (started, on_start) = mpsc::channel();
    let g = gated(&gate, &started);
    let fut = prio
        .submit(
            Priority::NORMAL,
            Box::new(move || {
                g();
                value
            }),
        )
        .unwrap();
    on_start.recv().unwrap();
    (gate, fut)
}

#[test]
fn priority_skips_a_job_cancelled_while_it_waited() {
    let pool = one_worker();
    let prio: PriorityExecutor<_, BoxJob<u8>> = PriorityExecutor::new(Arc::clone(&pool));
    let (gate, blocker) = hold_the_worker(&prio, 0);
    let ran = Arc::new(AtomicU32::new(0));
    let r = Arc::clone(&ran);
    let victim = prio
        .submit(
            Priority::HIGH,
            Box::new(move || {
                r.fetch_add(1, Ordering::SeqCst);
                1
            }),
        )
        .unwrap();
    let after = prio.submit(Priority::LOW, Box::new(|| 2)).unwrap();
    assert!(victim.cancel());
    gate.open();
    assert_eq!(blocker.result(), Ok(0));
    assert_eq!(after.result(), Ok(2));
    assert_eq!(victim.result(), Err(TaskError::Cancelled));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

fn fast_policy<T>(attempts: u32) -> RetryPolicy<T> {
    RetryPolicy::new(attempts).backoff(Duration::from_millis(1), Duration::from_millis(5))
}

#[test]
fn retry_gives_up_after_max_attempts_with_the_last_error() {
    let pool = Arc::new(ThreadPool::new());
    let calls = Arc::new(AtomicU32::new(0));
    let c = Arc::clone(&calls);
    let fut = retry(pool, fast_policy(3), move || {
        let c = Arc::clone(&c);
        move || -> u8 {
            let n = c.fetch_add(1, Ordering::SeqCst) + 1;
            panic!("attempt {n} failed")
        }
    });
    assert_eq!(
        fut.result(),
        Err(TaskError::Panicked {
            message: "attempt 3 failed".into()
        })
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[test]
fn a_panicking_make_job_ends_the_retry_with_panicked() {
    let pool = Arc::new(ThreadPool::new());
    let calls = Arc::new(AtomicU32::new(0));
    let c = Arc::clone(&calls);
    // The first job fails; making the second one panics on the timer thread.
    let mut fut = retry(pool, fast_policy(3), move || {
        let n = c.fetch_add(1, Ordering::SeqCst) + 1;
        assert!(n < 2, "cannot make attempt {n}");
        move || -> u8 { panic!("attempt {n} failed") }
    });
    match fut.result_timeout(Duration::from_secs(20)) {
        Err(TaskError::Panicked { message }) => {
            assert!(message.contains("cannot make attempt 2"), "{message}")
        }
        other => panic!("expected the make_job panic, got {other:?}"),
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn a_panicking_retry_if_ends_the_retry_with_panicked() {
    let pool = Arc::new(ThreadPool::new());
    let policy = fast_policy::<u8>(3).retry_if(|_| panic!("cannot judge"));
    let mut fut = retry(pool, policy, || || 7u8);
    match fut.result_timeout(Duration::from_secs(20)) {
        Err(TaskError::Panicked { message }) => {
            assert!(message.contains("cannot judge"), "{message}")
        }
        other => panic!("expected the retry_if panic, got {other:?}"),
    }
}

#[test]
fn retry_stops_at_the_first_success() {
    let pool = Arc::new(ThreadPool::new());
    let calls = Arc::new(AtomicU32::new(0));
    let c = Arc::clone(&calls);
    let fut = retry(pool, fast_policy(10).on_err(), move || {
        let c = Arc::clone(&c);
        move || {
            if c.fetch_add(1, Ordering::SeqCst) < 3 {
                Err("flaky")
            } else {
                Ok("data")
            }
        }
    });
    assert_eq!(fut.result(), Ok(Ok("data")));
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[test]
fn retry_does_not_retry_what_the_predicate_accepts() {
    let pool = Arc::new(ThreadPool::new());
    let calls = Arc::new(AtomicU32::new(0));
    let c = Arc::clone(&calls);
    // Default predicate: only panics are retried, an Err value is a result.
    let fut = retry(pool, fast_policy(5), move || {
        let c = Arc::clone(&c);
        move || {
            c.fetch_add(1, Ordering::SeqCst);
            Err::<u8, _>("not found")
        }
    });
    assert_eq!(fut.result(), Ok(Err("not found")));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn retry_waits_at_least_the_backoff_between_attempts() {
    let pool = Arc::new(ThreadPool::new());
    let times = Arc::new(Mutex::new(Vec::new()));
    let t = Arc::clone(&times);
    let policy = RetryPolicy::new(4)
        .backoff(Duration::from_millis(20), Duration::from_millis(60))
        .no_jitter();
    let fut = retry(pool, policy, move || {
        let t = Arc::clone(&t);
        move || -> () {
            t.lock().unwrap().push(Instant::now());
            panic!("down")
        }
    });
    assert!(fut.result().unwrap_err().is_panic());
    let times = times.lock().unwrap();
    assert_eq!(times.len(), 4);
    let expected = [20, 40, 60];
    for (pair, ms) in times.windows(2).zip(expected) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(ms), "gap {gap:?} < {ms} ms");
    }
}

/// A failed attempt that names its own delay (a `Retry-After`) waits that
/// long, not the backoff's 1 ms; one that names none waits the backoff.
#[test]
fn retry_waits_the_delay_an_attempt_asks_for() {
    let pool = Arc::new(ThreadPool::new());
    let times = Arc::new(Mutex::new(Vec::new()));
    let t = Arc::clone(&times);
    let policy = RetryPolicy::<Result<u8, Option<u64>>>::new(3)
        .backoff(Duration::from_millis(1), Duration::from_millis(1))
        .no_jitter()
        .on_err()
        .delay_from(|r| match r {
            Ok(Err(Some(ms))) => Some(Duration::from_millis(*ms)),
            _ => None,
        });
    let fut = retry(pool, policy, move || {
        let t = Arc::clone(&t);
        move || {
            let mut t = t.lock().unwrap();
            t.push(Instant::now());
            match t.len() {
                1 => Err(Some(300)), // "retry after 300 ms"
                2 => Err(None),
                _ => Ok(7),
            }
        }
    });
    assert_eq!(fut.result(), Ok(Ok(7)));
    let times = times.lock().unwrap();
    assert_eq!(times.len(), 3);
    let asked = times[1] - times[0];
    assert!(asked >= Duration::from_millis(300), "waited only {asked:?}");
    let backoff = times[2] - times[1];
    assert!(
        backoff < Duration::from_millis(300),
        "waited {backoff:?} for a 1 ms backoff"
    );
}

/// `at(level)` submits at that level into the one queue: a retried job
/// goes back in at its own priority.
#[test]
fn at_submits_into_the_shared_queue_at_its_level() {
    let pool = one_worker();
    let prio: PriorityExecutor<_, BoxJob<u8>> = PriorityExecutor::new(Arc::clone(&pool));
    let (gate, blocker) = hold_the_worker(&prio, 0);
    let order = Arc::new(Mutex::new(Vec::new()));
    let job = |name: &'static str| -> BoxJob<u8> {
        let order = Arc::clone(&order);
        Box::new(move || {
            order.lock().unwrap().push(name);
            0
        })
    };
    let low = hilo::Executor::submit(&prio.at(Priority::LOW), job("low")).unwrap();
    let normal = prio.submit(Priority::NORMAL, job("normal")).unwrap();
    let high = hilo::Executor::submit(&prio.at(Priority::HIGH), job("high")).unwrap();
    assert_eq!(prio.queued(), 3);
    gate.open();
    for f in [blocker, low, normal, high] {
        f.result().unwrap();
    }
    assert_eq!(*order.lock().unwrap(), ["high", "normal", "low"]);
}

#[test]
fn jittered_delays_stay_in_the_upper_half() {
    let p = RetryPolicy::<()>::new(10).backoff(Duration::from_millis(100), Duration::from_secs(10));
    for attempt in 1..=6 {
        let full = Duration::from_millis(100 * (1 << (attempt - 1)));
        for _ in 0..50 {
            let d = p.delay(attempt);
            assert!(
                d >= full / 2 && d <= full,
                "attempt {attempt}: {d:?} vs {full:?}"
            );
        }
    }
}

#[test]
fn cancelling_a_retried_future_stops_the_retries() {
    let pool = Arc::new(ThreadPool::new());
    let calls = Arc::new(AtomicU32::new(0));
    let (ran, on_run) = mpsc::channel();
    let ran = Mutex::new(ran);
    let c = Arc::clone(&calls);
    let policy = RetryPolicy::new(5).backoff(Duration::from_secs(30), Duration::from_secs(30));
    let fut = retry(pool, policy, move || {
        let c = Arc::clone(&c);
        let ran = ran.lock().unwrap().clone();
        move || -> u8 {
            c.fetch_add(1, Ordering::SeqCst);
            ran.send(()).unwrap();
            panic!("fails")
        }
    });
    on_run.recv().unwrap();
    // While the attempt runs on its thread, cancel() is refused (threads
    // cannot be stopped); once it has failed, the 30 s backoff begins and
    // a cancel succeeds.
    while !fut.cancel() {
        std::thread::yield_now();
    }
    assert_eq!(fut.result(), Err(TaskError::Cancelled));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn cancel_of_a_retry_whose_attempt_runs_on_a_thread_is_refused() {
    let pool = Arc::new(ThreadPool::new());
    let gate = Gate::new();
    let (started, on_start) = mpsc::channel();
    let job = Mutex::new(Some(gated(&gate, &started)));
    let fut = retry(pool, fast_policy(3), move || {
        job.lock().unwrap().take().unwrap()
    });
    on_start.recv().unwrap();
    assert!(!fut.cancel(), "a running thread attempt cannot be stopped");
    assert!(fut.running());
    gate.open();
    assert_eq!(fut.result(), Ok(()));
}

#[test]
fn priority_cancel_of_a_job_running_on_a_thread_is_refused_and_of_a_queued_one_accepted() {
    let pool = one_worker();
    let prio: PriorityExecutor<_, BoxJob<u8>> = PriorityExecutor::new(Arc::clone(&pool));
    let (gate, running) = hold_the_worker(&prio, 1);
    let queued = prio.submit(Priority::HIGH, Box::new(|| 2)).unwrap();
    assert!(!running.cancel());
    assert!(queued.cancel());
    gate.open();
    assert_eq!(running.result(), Ok(1));
    assert_eq!(queued.result(), Err(TaskError::Cancelled));
}

#[test]
fn progress_counts_submitted_done_and_failed() {
    let seen = Arc::new(Mutex::new(Vec::<ProgressSnapshot>::new()));
    let s = Arc::clone(&seen);
    let pool = Progress::with_hook(
        ThreadPool::builder().max_workers(2).build().unwrap(),
        move |snap| s.lock().unwrap().push(snap),
    );
    let futs: Vec<_> = (0..30u32)
        .map(|i| {
            pool.submit(move || {
                assert!(i % 10 != 3, "task {i} fails");
                i
            })
            .unwrap()
        })
        .collect();
    let ok = futs.into_iter().filter_map(|f| f.result().ok()).count();
    assert_eq!(ok, 27);
    pool.inner().shutdown(Shutdown::default());
    assert_eq!(
        pool.snapshot(),
        ProgressSnapshot {
            submitted: 30,
            done: 30,
            failed: 3
        }
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 60, "one report per submit and per completion");
    assert!(seen
        .iter()
        .all(|s| s.failed <= s.done && s.done <= s.submitted));
}

#[test]
fn progress_counts_a_refused_job_as_failed() {
    let pool = Progress::new(ThreadPool::new());
    pool.inner().shutdown(Shutdown::default());
    assert!(pool.submit(|| 1).is_err());
    assert_eq!(
        pool.snapshot(),
        ProgressSnapshot {
            submitted: 1,
            done: 1,
            failed: 1
        }
    );
}

#[test]
fn progress_works_under_map() {
    let pool = Progress::new(ThreadPool::builder().max_workers(2).build().unwrap());
    let total: u64 = hilo::map(&pool, 0..100u64, |i| move || i)
        .map(Result::unwrap)
        .sum();
    assert_eq!(total, 4950);
    pool.inner().shutdown(Shutdown::default());
    assert_eq!(pool.snapshot().done, 100);
}
