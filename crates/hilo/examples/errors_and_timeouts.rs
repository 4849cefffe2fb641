//! The lesson's worked example 4, "errors and timeouts": tasks that panic,
//! return errors or run too long, and what hilo tells you about each.
//!
//! 1. a value, an error value and a panic: `TaskError::Panicked`;
//! 2. `result_timeout` runs out: `TaskError::Timeout`, and the task is left
//!    alone (it finishes, and its value can still be had);
//! 3. `as_completed` with a deadline: the fast results, then
//!    `AsCompletedTimeout`; the slow tasks are asked to stop;
//! 4. `wait` with `ReturnWhen::FirstException`: back at the first panic;
//! 5. `cancel()`: pending tasks are cancelled, a running one is not;
//! 6. a `ProcessPool`: a task over its timeout is killed with its worker
//!    (`TaskError::TimedOut`), a worker that exits fails only its own task
//!    (`TaskError::WorkerDied`), and the pool carries on.
//!
//! Every case checks its outcome; the program exits with status 1 if one
//! is not what it should be.
//!
//! Run: `cargo run --release -p hilo --example errors_and_timeouts -- [--small]`
//! (`--small` shortens every sleep 2.5 times).

use std::error::Error;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hilo::process::ProcessPool;
use hilo::{as_completed, wait, ReturnWhen, TaskError, ThreadPool};

#[path = "common/args.rs"]
mod args;

/// Process-pool tasks must be registered functions: a worker process finds
/// them by name.
#[hilo::task]
fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

/// Ends its worker process at once, as a crash or `exit()` in a library
/// would.
#[hilo::task]
fn exit_with(code: i32) -> u64 {
    std::process::exit(code)
}

/// The thread pools' name prefix; the panic hook below recognises them by
/// it.
const POOL_NAME: &str = "demo";

/// Counts the checks that failed, so the run can end with status 1.
struct Checks {
    failed: Vec<String>,
}

impl Checks {
    fn expect(&mut self, ok: bool, what: &str) {
        if !ok {
            println!("   !! unexpected: {what}");
            self.failed.push(what.to_owned());
        }
    }
}

/// Every way a task can fail, and the timeouts, each checked.
#[derive(clap::Parser)]
#[command(name = "errors_and_timeouts")]
struct Args {
    /// Shorter task times, for a quicker run
    #[arg(long)]
    small: bool,
}

fn main() -> ExitCode {
    // In a worker process of the ProcessPool this serves tasks and never
    // returns; it must come before anything else.
    hilo::init();

    // A bad argument: one line and exit status 2.
    let small = match args::parse::<Args>("errors_and_timeouts") {
        Ok(args) => args.small,
        Err(status) => return status,
    };
    let unit = if small {
        Duration::from_millis(40)
    } else {
        Duration::from_millis(100)
    };
    quiet_pool_panics();

    let mut checks = Checks { failed: Vec::new() };
    let start = Instant::now();
    let pool = match ThreadPool::builder()
        .max_workers(4)
        .thread_name_prefix(POOL_NAME)
        .build()
    {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("errors_and_timeouts: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A case that could not run at all (a pool that did not start, …)
    // counts as a failed check.
    let cases = [
        values_errors_and_panics(&pool, unit, &mut checks),
        result_timeout(&pool, unit, &mut checks),
        as_completed_deadline(&pool, unit, &mut checks),
        wait_first_exception(&pool, unit, &mut checks),
        cancel_pending(unit, &mut checks),
        process_timeouts(unit, &mut checks),
    ];
    for case in cases {
        if let Err(e) = case {
            checks.expect(false, &format!("the case runs: {e}"));
        }
    }

    println!("\nall cases in {:.2} s", start.elapsed().as_secs_f64());
    if checks.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "errors_and_timeouts: {} check(s) failed, first: {}",
            checks.failed.len(),
            checks.failed[0]
        );
        ExitCode::FAILURE
    }
}

/// The default panic hook prints every panic to stderr. Panics in our pool
/// threads are caught by the pool and become `TaskError::Panicked` values,
/// which this example prints itself; so it silences those, and only those.
fn quiet_pool_panics() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let prefix = format!("{POOL_NAME}-");
        let in_pool = std::thread::current()
            .name()
            .is_some_and(|n| n.starts_with(&prefix));
        if !in_pool {
            default_hook(info);
        }
    }));
}

/// Case 1, the lesson's `tarea_impredecible` without the dice: task i is
/// fast, returns an error or panics by `i % 3`, so every run prints the
/// same thing.
fn values_errors_and_panics(
    pool: &ThreadPool,
    unit: Duration,
    checks: &mut Checks,
) -> Result<(), Box<dyn Error>> {
    println!("1. a value, an error value and a panic");
    let mut futs = Vec::new();
    for i in 0..6 {
        futs.push(pool.submit(move || -> Result<String, String> {
            std::thread::sleep(unit);
            match i % 3 {
                0 => Ok(format!("task {i}: ok")),
                1 => Err(format!("task {i} failed on purpose")),
                _ => panic!("task {i} panicked on purpose"),
            }
        })?);
    }
    let (mut ok, mut err, mut panicked) = (0, 0, 0);
    for fut in futs {
        // Two layers: `result()` says whether the task ran to the end
        // (Err(TaskError) if not); its value is the task's own Result.
        match fut.result() {
            Ok(Ok(value)) => {
                ok += 1;
                println!("   ✓ {value}");
            }
            Ok(Err(e)) => {
                err += 1;
                println!("   ✗ returned an error (the task ran fine): {e}");
            }
            Err(e @ TaskError::Panicked { .. }) => {
                panicked += 1;
                println!("   ✗ TaskError::Panicked: {e}");
            }
            Err(e) => println!("   ✗ {e:?}: {e}"),
        }
    }
    checks.expect(
        (ok, err, panicked) == (2, 2, 2),
        "2 values, 2 error values and 2 panics",
    );
    Ok(())
}

/// Case 2: a timed wait that runs out changes nothing about the task.
fn result_timeout(
    pool: &ThreadPool,
    unit: Duration,
    checks: &mut Checks,
) -> Result<(), Box<dyn Error>> {
    println!("\n2. result_timeout runs out; the task is left alone");
    let mut fut = pool.submit(move || {
        std::thread::sleep(unit * 5);
        "the slow value"
    })?;
    let first = fut.result_timeout(unit);
    match &first {
        Err(e) => println!("   after {:?}: {e:?}: {e}", unit),
        Ok(v) => println!("   after {:?}: already {v:?}", unit),
    }
    checks.expect(first == Err(TaskError::Timeout), "the first wait times out");
    println!("   the task is still {}", fut.state());
    let second = fut.result_timeout(unit * 50);
    println!("   waiting again: {second:?}");
    checks.expect(
        second == Ok("the slow value"),
        "the second wait gets the value",
    );
    Ok(())
}

/// Case 3: as_completed with one deadline for all. Python's lesson then
/// calls `cancel()` on the late tasks, which does nothing to a running task
/// (and its `with` block waits for them). Here the slow tasks take a
/// `StopToken` and are asked to stop.
fn as_completed_deadline(
    pool: &ThreadPool,
    unit: Duration,
    checks: &mut Checks,
) -> Result<(), Box<dyn Error>> {
    println!("\n3. as_completed with a deadline of {:?}", unit * 10);
    let mut futs = Vec::new();
    for i in 0..3 {
        futs.push(pool.submit_with_stop(move |_stop| {
            std::thread::sleep(unit);
            format!("fast task {i}: done")
        })?);
    }
    for i in 3..5 {
        futs.push(pool.submit_with_stop(move |stop| {
            // Sleeps up to 100 units, but wakes as soon as it is asked to
            // stop: the cooperative way to end a running thread task.
            if stop.wait_timeout(unit * 100) {
                format!("slow task {i}: stopped early")
            } else {
                format!("slow task {i}: done")
            }
        })?);
    }
    let mut in_time = 0;
    let mut it = as_completed(futs, Some(unit * 10));
    for next in it.by_ref() {
        match next {
            Ok(fut) => {
                in_time += 1;
                println!("   ✓ {}", fut.result().unwrap_or_else(|e| e.to_string()));
            }
            Err(timeout) => println!("   ⏱ AsCompletedTimeout: {timeout}"),
        }
    }
    let late = it.into_remaining();
    for fut in late {
        fut.request_stop();
        println!(
            "   asked to stop → {}",
            fut.result().unwrap_or_else(|e| e.to_string())
        );
    }
    checks.expect(in_time == 3, "the 3 fast tasks finish before the deadline");
    Ok(())
}

/// Case 4: wait(FirstException) returns at the first task that fails with a
/// TaskError (a panic here), not when all are done.
fn wait_first_exception(
    pool: &ThreadPool,
    unit: Duration,
    checks: &mut Checks,
) -> Result<(), Box<dyn Error>> {
    println!("\n4. wait(ReturnWhen::FirstException)");
    let mut futs = Vec::new();
    futs.push(pool.submit_with_stop(move |_stop| -> u32 {
        std::thread::sleep(unit * 2);
        panic!("the first task failed")
    })?);
    // Five slow tasks on four workers: three run beside the failing one,
    // two wait in the queue (one may start on the failing one's worker
    // before we cancel it: so 1 or 2 are cancelled below).
    for i in 1..6 {
        futs.push(pool.submit_with_stop(move |stop| {
            stop.wait_timeout(unit * 100);
            i
        })?);
    }
    let start = Instant::now();
    let w = wait(&futs, Some(unit * 50), ReturnWhen::FirstException);
    println!(
        "   returned after {:.2} s: {} done, {} pending",
        start.elapsed().as_secs_f64(),
        w.done.len(),
        w.pending.len()
    );
    for fut in &w.done {
        if let Some(e) = fut.exception() {
            println!("   the done one failed: {e}");
        }
    }
    checks.expect(
        w.done.len() == 1 && w.done[0].exception().is_some_and(|e| e.is_panic()),
        "wait returns with just the panicked task done",
    );
    // Now give up on the rest. Cancel every task that has not started
    // first, and only then ask the running ones to stop: the other way round,
    // each stopped task frees a worker that starts the next queued one.
    let cancelled = w.pending.iter().filter(|f| f.cancel()).count();
    let mut stopped = 0;
    for fut in w.pending.iter().filter(|f| !f.cancelled()) {
        fut.request_stop();
        stopped += 1;
    }
    println!("   gave up on the rest: {cancelled} cancelled before they started,");
    println!("   {stopped} running ones asked to stop");
    checks.expect(cancelled + stopped == 5, "5 tasks were pending");
    // Four workers, five slow tasks: at least one never started.
    checks.expect(cancelled >= 1, "a queued task is cancelled");
    drop(w);
    let outcomes: Vec<String> = futs
        .into_iter()
        .map(|f| match f.result() {
            Ok(v) => format!("Ok({v})"),
            Err(e) => format!("{e:?}"),
        })
        .collect();
    println!("   outcomes: {}", outcomes.join(", "));
    Ok(())
}

/// Case 5: cancel() works on pending tasks only. One worker, kept busy until
/// we say so, makes "pending" certain.
fn cancel_pending(unit: Duration, checks: &mut Checks) -> Result<(), Box<dyn Error>> {
    println!("\n5. cancel() of pending and running tasks");
    let pool = ThreadPool::builder()
        .max_workers(1)
        .thread_name_prefix(POOL_NAME)
        .build()?;
    let release = hilo::StopToken::new();
    let hold = release.clone();
    let (started_tx, started) = mpsc::channel();
    let busy = pool.submit(move || {
        // Cannot fail: `started` is alive until the task has been seen to start.
        let _ = started_tx.send(());
        hold.wait_timeout(unit * 100)
    })?;
    let mut queued = Vec::new();
    for i in 0..3 {
        queued.push(pool.submit(move || i)?);
    }
    // Make sure the worker has picked up `busy`, so that its cancel() below
    // is the "running" case.
    started.recv()?;
    println!("   running task: cancel() = {}", busy.cancel());
    let all_cancelled = queued.iter().all(|f| f.cancel());
    println!("   3 queued tasks: cancel() = {all_cancelled}");
    release.request_stop();
    checks.expect(
        busy.result() == Ok(true),
        "the running task finishes normally",
    );
    for fut in queued {
        let r = fut.result();
        println!("   a cancelled task's result: {r:?}");
        checks.expect(
            r == Err(TaskError::Cancelled),
            "a cancelled task never runs",
        );
    }
    Ok(())
}

/// Case 6: processes can be killed, so their timeouts really end the task.
/// A thread cannot be killed (in Python neither): that is why timeouts that
/// must stop the work go to a ProcessPool.
fn process_timeouts(unit: Duration, checks: &mut Checks) -> Result<(), Box<dyn Error>> {
    println!("\n6. ProcessPool: a timeout kills, a dead worker fails one task");
    let pool = ProcessPool::builder().max_workers(2).build()?;
    let ms = |d: Duration| d.as_millis() as u64;
    let calls = [
        (
            "nap 100 units, timeout 3",
            nap::call(ms(unit * 100)).timeout(unit * 3),
        ),
        ("exit(3) in the worker", exit_with::call(3)),
        ("nap 1 unit afterwards", nap::call(ms(unit))),
    ];
    let mut outcomes = Vec::new();
    for (what, call) in calls {
        let outcome = pool.submit(call)?.result();
        match &outcome {
            Ok(v) => println!("   {what}: Ok({v})"),
            Err(e) => println!("   {what}: {e:?}\n      {e}"),
        }
        outcomes.push(outcome);
    }
    checks.expect(
        matches!(outcomes[0], Err(TaskError::TimedOut { .. })),
        "the long task is killed by its timeout",
    );
    checks.expect(
        matches!(
            outcomes[1],
            Err(TaskError::WorkerDied { code: Some(3), .. })
        ),
        "the exiting worker fails its task with WorkerDied",
    );
    checks.expect(outcomes[2] == Ok(ms(unit)), "the pool carries on");
    Ok(())
}
