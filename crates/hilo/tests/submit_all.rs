//! `ThreadPool::submit_all`: batches of tasks behave as the same tasks
//! submitted one by one (order, panics, cancel, shutdown, broken pools),
//! and idle workers share a batch.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use common::hold;
use hilo::{Shutdown, SubmitError, TaskError, ThreadPool};

/// How long a test waits for something that must happen before it calls
/// it a hang.
const HANG: Duration = Duration::from_secs(20);

/// A cheap function with a different value for every input.
fn mix(i: u64) -> u64 {
    i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) ^ i
}

#[test]
fn results_come_back_in_input_order() {
    let pool = ThreadPool::builder().max_workers(3).build().unwrap();
    // Not a multiple of the batch size, so the last batch is partial.
    let n = 10_007u64;
    let futs = pool.submit_all((0..n).map(|i| move || mix(i))).unwrap();
    assert_eq!(futs.len(), n as usize);
    let got: Vec<u64> = futs.into_iter().map(|f| f.result().unwrap()).collect();
    let want: Vec<u64> = (0..n).map(mix).collect();
    assert_eq!(got, want);
}

#[test]
fn an_empty_batch_gives_no_futures_and_starts_no_thread() {
    let pool = ThreadPool::new();
    let futs = pool.submit_all(std::iter::empty::<fn() -> u8>()).unwrap();
    assert!(futs.is_empty());
    assert_eq!(pool.started_workers(), 0);
}

#[test]
fn a_panic_fails_only_its_own_task() {
    let pool = ThreadPool::builder().max_workers(2).build().unwrap();
    let futs = pool
        .submit_all((0..200u32).map(|i| {
            move || {
                assert!(i % 7 != 3, "task {i} fails");
                i
            }
        }))
        .unwrap();
    for (i, fut) in (0..200u32).zip(futs) {
        match fut.result() {
            Ok(v) => assert_eq!(v, i),
            Err(TaskError::Panicked { message }) => {
                assert_eq!(i % 7, 3, "task {i} failed: {message}");
                assert!(message.contains(&format!("task {i} fails")), "{message}");
            }
            Err(other) => panic!("task {i}: {other:?}"),
        }
    }
}

/// Threads that wait (up to [`HANG`]) until `n` of them have arrived.
struct Meeting {
    arrived: Mutex<usize>,
    all_here: Condvar,
}

impl Meeting {
    fn new() -> Arc<Self> {
        Arc::new(Meeting {
            arrived: Mutex::new(0),
            all_here: Condvar::new(),
        })
    }

    /// True if `n` threads met; false if the others did not come in time.
    fn arrive(&self, n: usize) -> bool {
        let mut arrived = self.arrived.lock().unwrap();
        *arrived += 1;
        self.all_here.notify_all();
        let (arrived, _) = self
            .all_here
            .wait_timeout_while(arrived, HANG, |a| *a < n)
            .unwrap();
        *arrived >= n
    }
}

/// Every task of one batch waits for all the others: only if every worker
/// takes part in the batch do they all meet. A worker that puts the batch
/// back must not count itself idle then, or the pool never starts the
/// worker the last task needs (this failed about one run in 25 under
/// load, so each pool size is tried in 20 fresh pools).
#[test]
fn idle_workers_share_one_batch() {
    for workers in [2usize, 3, 4].repeat(20) {
        let pool = ThreadPool::builder().max_workers(workers).build().unwrap();
        let meeting = Meeting::new();
        let futs = pool
            .submit_all((0..workers).map(|_| {
                let meeting = Arc::clone(&meeting);
                move || meeting.arrive(workers)
            }))
            .unwrap();
        for f in futs {
            assert_eq!(
                f.result(),
                Ok(true),
                "{workers} workers did not share the batch"
            );
        }
        assert_eq!(pool.started_workers(), workers);
    }
}

#[test]
fn shutdown_with_cancel_pending_cancels_every_queued_task_of_a_batch() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let held = hold(&pool, 1);
    let ran = Arc::new(AtomicUsize::new(0));
    let mut futs = pool
        .submit_all((0..300).map(|_| {
            let ran = Arc::clone(&ran);
            move || ran.fetch_add(1, Ordering::SeqCst)
        }))
        .unwrap();
    pool.shutdown(Shutdown {
        wait: false,
        cancel_pending: true,
    });
    held.release();
    pool.shutdown(Shutdown::default());
    for f in &mut futs {
        assert_eq!(f.result_timeout(HANG), Err(TaskError::Cancelled));
    }
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

/// The one worker is running the batch's first task when the pool shuts
/// down with `cancel_pending`: the rest of the batch, in the worker's hands
/// rather than in the queue (another task was queued when the worker took
/// the batch, so it did not put the batch back), is cancelled too.
#[test]
fn shutdown_with_cancel_pending_cancels_the_rest_of_a_batch_being_run() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let held = hold(&pool, 1);
    let (started, on_start) = std::sync::mpsc::channel();
    let (open, gate) = std::sync::mpsc::channel::<()>();
    let gate = Arc::new(Mutex::new(gate));
    let ran = Arc::new(AtomicUsize::new(0));
    let mut futs = pool
        .submit_all((0..50).map(|i| {
            let (started, gate, ran) = (started.clone(), Arc::clone(&gate), Arc::clone(&ran));
            move || {
                if i == 0 {
                    started.send(()).unwrap();
                    let _ = gate.lock().unwrap().recv_timeout(HANG);
                } else {
                    ran.fetch_add(1, Ordering::SeqCst);
                }
            }
        }))
        .unwrap();
    let behind = pool.submit(|| ()).unwrap();
    held.release();
    on_start
        .recv_timeout(HANG)
        .expect("the first task did not start");
    pool.shutdown(Shutdown {
        wait: false,
        cancel_pending: true,
    });
    open.send(()).unwrap();
    pool.shutdown(Shutdown::default());
    assert_eq!(futs[0].result_timeout(HANG), Ok(()));
    assert!(behind.cancelled());
    for f in &mut futs[1..] {
        assert_eq!(f.result_timeout(HANG), Err(TaskError::Cancelled));
    }
    assert_eq!(
        ran.load(Ordering::SeqCst),
        0,
        "tasks ran after the shutdown"
    );
}

/// The iterator shuts the pool down after the first batch is queued: the
/// call fails, and the queued batch is cancelled rather than left to run
/// with nobody holding its futures.
#[test]
fn a_shutdown_part_way_fails_the_call_and_cancels_what_was_queued() {
    let pool = Arc::new(ThreadPool::builder().max_workers(1).build().unwrap());
    let held = hold(&pool, 1);
    let ran = Arc::new(AtomicUsize::new(0));
    let jobs = (0..200).map({
        let (pool, ran) = (Arc::clone(&pool), Arc::clone(&ran));
        move |i| {
            if i == 100 {
                pool.shutdown(Shutdown {
                    wait: false,
                    cancel_pending: false,
                });
            }
            let ran = Arc::clone(&ran);
            move || ran.fetch_add(1, Ordering::SeqCst)
        }
    });
    assert_eq!(pool.submit_all(jobs).unwrap_err(), SubmitError::Shutdown);
    held.release();
    pool.shutdown(Shutdown::default());
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn after_shutdown_nothing_is_queued() {
    let pool = ThreadPool::new();
    pool.shutdown(Shutdown::default());
    let ran = Arc::new(AtomicUsize::new(0));
    let r = pool.submit_all((0..10).map(|_| {
        let ran = Arc::clone(&ran);
        move || ran.fetch_add(1, Ordering::SeqCst)
    }));
    assert_eq!(r.unwrap_err(), SubmitError::Shutdown);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn a_broken_pool_fails_every_task_of_a_batch() {
    let pool = ThreadPool::builder()
        .max_workers(2)
        .initializer(|| Err::<(), _>("no database"))
        .build()
        .unwrap();
    match pool.submit_all((0..150).map(|i| move || i)) {
        Ok(futs) => {
            for mut f in futs {
                match f.result_timeout(HANG) {
                    Err(TaskError::Broken { reason }) => assert!(reason.contains("no database")),
                    other => panic!("expected Broken, got {other:?}"),
                }
            }
        }
        Err(SubmitError::Broken { reason }) => assert!(reason.contains("no database")),
        Err(other) => panic!("expected Broken, got {other:?}"),
    }
}

#[test]
fn one_task_at_a_time_needs_one_thread() {
    let pool = ThreadPool::builder().max_workers(4).build().unwrap();
    for i in 0..50u32 {
        let futs = pool.submit_all([move || i]).unwrap();
        let got: Vec<_> = futs.into_iter().map(|f| f.result()).collect();
        assert_eq!(got, vec![Ok(i)]);
    }
    assert_eq!(pool.started_workers(), 1, "sequential use needs one thread");
}
