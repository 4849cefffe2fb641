//! A single background thread that runs short actions at given instants;
//! the retry policy uses it to resubmit after a backoff without blocking a
//! worker. It must never run long work: actions only resubmit or complete.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Instant;

use crate::sync::{lock_std as lock, wait_std, wait_timeout_std};

type Action = Box<dyn FnOnce() + Send>;

struct Entry {
    at: Instant,
    seq: u64,
    action: Action,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Default)]
struct Queue {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

struct Timer {
    queue: Mutex<Queue>,
    wake: Condvar,
}

/// The process-wide timer, started on first use; `None` if its thread
/// could not be started (the system is out of threads).
fn timer() -> Option<&'static Timer> {
    static TIMER: OnceLock<Option<&'static Timer>> = OnceLock::new();
    *TIMER.get_or_init(|| {
        let t: &'static Timer = Box::leak(Box::new(Timer {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
        }));
        let started = std::thread::Builder::new()
            .name("hilo-timer".into())
            .spawn(move || t.run());
        match started {
            Ok(_) => Some(t),
            Err(e) => {
                eprintln!("hilo: cannot start the timer thread ({e}); retries will not wait");
                None
            }
        }
    })
}

impl Timer {
    fn run(&self) {
        let mut q = lock(&self.queue);
        loop {
            let now = Instant::now();
            match q.heap.peek() {
                Some(Reverse(e)) if e.at <= now => {
                    let Some(Reverse(entry)) = q.heap.pop() else {
                        continue;
                    };
                    drop(q);
                    if let Err(p) =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(entry.action))
                    {
                        crate::error::log_callback_panic(&*p);
                    }
                    q = lock(&self.queue);
                }
                Some(Reverse(e)) => {
                    let wait = e.at - now;
                    q = wait_timeout_std(&self.wake, q, wait);
                }
                None => q = wait_std(&self.wake, q),
            }
        }
    }
}

/// Runs `action` on the timer thread at (or soon after) `at`; at once, in
/// this thread, if there is no timer thread.
pub(crate) fn schedule(at: Instant, action: impl FnOnce() + Send + 'static) {
    let Some(t) = timer() else {
        action();
        return;
    };
    let mut q = lock(&t.queue);
    q.seq += 1;
    let seq = q.seq;
    q.heap.push(Reverse(Entry {
        at,
        seq,
        action: Box::new(action),
    }));
    drop(q);
    t.wake.notify_one();
}
