//! Helpers shared by the integration tests: gates that hold tasks without
//! sleeping, and a tiny `block_on` for awaiting a Future.
#![allow(dead_code, unreachable_pub)]

use std::future::Future as StdFuture;
use std::pin::pin;
use std::sync::mpsc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use hilo::{Future, StopToken, ThreadPool};

/// A gate tasks block on until the test opens it. Built on a StopToken, so
/// waiting is a condition-variable wait, not a sleep.
#[derive(Clone, Default)]
pub struct Gate(StopToken);

impl Gate {
    pub fn new() -> Self {
        Gate(StopToken::new())
    }
    pub fn open(&self) {
        self.0.request_stop();
    }
    pub fn wait(&self) {
        self.0.wait();
    }
}

/// A task body that reports it started, then blocks until `gate` opens.
pub fn gated(gate: &Gate, started: &mpsc::Sender<()>) -> impl FnOnce() + Send + 'static {
    let gate = gate.clone();
    let started = started.clone();
    move || {
        started.send(()).unwrap();
        gate.wait();
    }
}

/// `n` tasks running on a pool, each blocked until released: a way to hold
/// workers busy without sleeping.
pub struct Held {
    gate: Gate,
    pub futs: Vec<Future<()>>,
}

/// Submits `n` blocked tasks to `pool` and returns once all have started.
pub fn hold(pool: &ThreadPool, n: usize) -> Held {
    let gate = Gate::new();
    let (started, on_start) = mpsc::channel();
    let futs = (0..n)
        .map(|_| pool.submit(gated(&gate, &started)).unwrap())
        .collect();
    for _ in 0..n {
        on_start.recv().unwrap();
    }
    Held { gate, futs }
}

impl Held {
    /// Lets the held tasks finish (without waiting for them).
    pub fn open(&self) {
        self.gate.open();
    }

    /// Lets the held tasks finish and checks that each did.
    pub fn release(self) {
        self.gate.open();
        for f in self.futs {
            assert_eq!(f.result(), Ok(()));
        }
    }
}

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Drives a std future to completion on this thread, parking between polls.
pub fn block_on<F: StdFuture>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        thread::park();
    }
}

/// Names of this process's threads, from /proc/self/task/*/comm.
pub fn thread_names() -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir("/proc/self/task").unwrap() {
        let path = entry.unwrap().path().join("comm");
        if let Ok(name) = std::fs::read_to_string(path) {
            names.push(name.trim_end().to_owned());
        }
    }
    names
}

/// How many threads this process has now.
pub fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}
