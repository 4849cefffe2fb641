//! A `ThreadPool` runs `#[hilo::task]` calls as a `ProcessPool` does (same
//! values, same errors), on its own threads and without encoding a typed
//! call, so a program can offer both engines through one `Executor`.

use std::sync::atomic::{AtomicUsize, Ordering};

use hilo::process::Call;
use hilo::{Executor, TaskError, ThreadPool};

mod common;

use common::hold;

#[hilo::task]
fn collatz_steps(mut n: u64) -> u32 {
    let mut steps = 0;
    while n > 1 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}

#[hilo::task]
fn where_am_i(tag: String) -> (String, u32, String) {
    let thread = std::thread::current().name().unwrap_or("").to_owned();
    (tag, std::process::id(), thread)
}

#[hilo::task]
fn fails_on(x: u64, bad: u64) -> u64 {
    assert!(x != bad, "task {x} fails on purpose");
    x
}

/// Counts its runs, so a test can tell whether a cancelled call ran.
static RUNS: AtomicUsize = AtomicUsize::new(0);

#[hilo::task]
fn counted(x: u64) -> u64 {
    RUNS.fetch_add(1, Ordering::SeqCst);
    x
}

/// The obvious loop, as the reference.
fn collatz_by_hand(n: u64) -> u32 {
    let (mut n, mut steps) = (n, 0);
    while n != 1 && n != 0 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}

#[test]
fn typed_calls_run_on_the_pools_threads_in_this_process() {
    let pool = ThreadPool::builder()
        .max_workers(3)
        .thread_name_prefix("calls")
        .build()
        .unwrap();
    let got: Vec<_> = hilo::map(&pool, 1..=2_000u64, collatz_steps::call).collect();
    let want: Vec<_> = (1..=2_000u64).map(|n| Ok(collatz_by_hand(n))).collect();
    assert_eq!(got, want);

    let fut = Executor::submit(&pool, where_am_i::call("here".into())).unwrap();
    let (tag, pid, thread) = fut.result().unwrap();
    assert_eq!(tag, "here");
    assert_eq!(pid, std::process::id());
    assert!(thread.starts_with("calls-"), "ran on {thread:?}");
}

#[test]
fn a_panic_fails_its_call_only_as_in_a_process() {
    let pool = ThreadPool::builder().max_workers(2).build().unwrap();
    let got: Vec<_> = hilo::map(&pool, 0..10u64, |x| fails_on::call(x, 7)).collect();
    for (x, r) in (0..10u64).zip(got) {
        match r {
            Ok(v) => assert_eq!(v, x),
            Err(TaskError::Panicked { message }) => {
                assert_eq!(x, 7);
                assert!(message.contains("task 7 fails on purpose"), "{message}");
            }
            Err(other) => panic!("call {x}: {other:?}"),
        }
    }
}

#[test]
fn encoded_calls_go_through_the_registry() {
    let pool = ThreadPool::new();
    let call: Call<u32> = Call::new(collatz_steps::NAME, &(27u64,));
    assert_eq!(Executor::submit(&pool, call).unwrap().result(), Ok(111));

    let unknown: Call<u64> = Call::new("no::such::task", &(1u64,));
    assert_eq!(
        Executor::submit(&pool, unknown).unwrap().result(),
        Err(TaskError::UnknownTask {
            name: "no::such::task".into()
        })
    );

    // The right task, read back as the wrong type: that call fails.
    let wrong: Call<Vec<String>> = Call::new(collatz_steps::NAME, &(27u64,));
    match Executor::submit(&pool, wrong).unwrap().result() {
        Err(TaskError::Failed { message }) => {
            assert!(
                message.contains("cannot decode the task's result"),
                "{message}"
            )
        }
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[test]
fn a_cancelled_call_never_runs() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let held = hold(&pool, 1);
    let before = RUNS.load(Ordering::SeqCst);
    let fut = Executor::submit(&pool, counted::call(5)).unwrap();
    assert!(fut.cancel());
    held.release();
    let after = Executor::submit(&pool, counted::call(6)).unwrap();
    assert_eq!(after.result(), Ok(6));
    assert_eq!(fut.result(), Err(TaskError::Cancelled));
    assert_eq!(
        RUNS.load(Ordering::SeqCst),
        before + 1,
        "the cancelled call ran"
    );
}
