//! loom model checks of the policies' hand-off: `PriorityExecutor`
//! dispatching a job and relaying a cancel to it, and `retry` relaying a
//! cancel to its attempt, each racing the job's completion on another
//! thread. In every interleaving the future ends once, with the outcome
//! the winner of the race says, and the priority queue's slot is freed.
//!
//! The inner executor here is a model of a thread pool: `submit` queues a
//! promise the test hands to a worker thread; a running job cannot be
//! cancelled, a queued one can.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p hilo --release --test loom_policies`
#![cfg(loom)]

use std::collections::VecDeque;
use std::sync::Arc;

use hilo::{
    retry, Executor, Future, Priority, PriorityExecutor, Promise, RetryPolicy, SubmitError,
};
use hilo::{State, TaskError};
use loom::sync::Mutex;
use loom::thread;

/// Every job produces 5 (the job value itself is not used); promises wait
/// in a queue for the test to hand them to a worker.
#[derive(Default)]
struct ModelPool {
    queue: Mutex<VecDeque<Promise<u32>>>,
}

impl ModelPool {
    fn take(&self) -> Option<Promise<u32>> {
        self.queue.lock().unwrap().pop_front()
    }
}

impl Executor<u32> for ModelPool {
    type Output = u32;

    fn submit(&self, _job: u32) -> Result<Future<u32>, SubmitError> {
        let (promise, fut) = Promise::new();
        self.queue.lock().unwrap().push_back(promise);
        Ok(fut)
    }

    fn max_workers(&self) -> usize {
        1
    }
}

/// A worker: runs the job (value 5) unless it was cancelled first.
fn work(promise: Promise<u32>) -> bool {
    if promise.set_running() {
        promise.complete(Ok(5));
        true
    } else {
        false
    }
}

/// The future of a cancel that raced the job: cancelled if and only if the
/// cancel won, and then the job never ran.
fn check(cancelled: bool, ran: bool, fut: Future<u32>) {
    match fut.result() {
        Ok(5) => assert!(!cancelled && ran),
        Err(TaskError::Cancelled) => assert!(cancelled && !ran),
        other => panic!("unexpected outcome {other:?} (cancelled {cancelled}, ran {ran})"),
    }
}

#[test]
fn priority_cancel_racing_the_job_ends_it_once_and_frees_the_slot() {
    loom::model(|| {
        let pool = Arc::new(ModelPool::default());
        let prio = PriorityExecutor::new(Arc::clone(&pool));
        let fut = prio.submit(Priority::NORMAL, 5).unwrap();
        let promise = pool.take().expect("dispatched at once");
        let worker = thread::spawn(move || work(promise));
        let cancelled = fut.cancel();
        let ran = worker.join().unwrap();
        check(cancelled, ran, fut);
        // The slot is free again: the next job is handed over at once.
        let next = prio.submit(Priority::HIGH, 6).unwrap();
        let p = pool.take().expect("the slot was not freed");
        assert!(work(p));
        assert_eq!(next.result(), Ok(5));
        assert_eq!(prio.queued(), 0);
    });
}

#[test]
fn priority_cancel_racing_the_dispatch_skips_or_relays() {
    loom::model(|| {
        let pool = Arc::new(ModelPool::default());
        let prio = PriorityExecutor::new(Arc::clone(&pool));
        // Occupy the only slot, so the second job waits in the heap.
        let first = prio.submit(Priority::NORMAL, 1).unwrap();
        let second = prio.submit(Priority::NORMAL, 2).unwrap();
        let p1 = pool.take().unwrap();
        // Finishing the first dispatches the second, racing its cancel.
        let finisher = thread::spawn(move || work(p1));
        let cancelled = second.cancel();
        assert!(finisher.join().unwrap());
        assert_eq!(first.result(), Ok(5));
        // Dispatched or not, a cancelled job never runs.
        let ran = pool.take().is_some_and(work);
        check(cancelled, ran, second);
    });
}

#[test]
fn retry_cancel_racing_its_attempt_ends_it_once() {
    loom::model(|| {
        let pool = Arc::new(ModelPool::default());
        // One attempt: no backoff, so no timer thread in the model.
        let fut = retry(Arc::clone(&pool), RetryPolicy::new(1), || 5);
        assert_eq!(fut.state(), State::Running);
        let promise = pool.take().expect("the attempt was submitted");
        let worker = thread::spawn(move || work(promise));
        let cancelled = fut.cancel();
        let ran = worker.join().unwrap();
        check(cancelled, ran, fut);
    });
}
