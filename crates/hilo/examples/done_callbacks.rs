//! The lesson's worked example 5, "a pool with callbacks": ten tasks of one
//! to three seconds on three workers, one in five failing; callbacks report
//! each task as it finishes, and nobody blocks on a result.
//!
//! - `add_done_callback` counts finished and failed tasks and prints a
//!   progress line (it sees `Ok(())` or the error, not the value);
//! - `on_complete` takes the value itself (the lesson's
//!   `on_tarea_completa`) and prints it, or the error.
//!
//! Callbacks run in the worker thread that finished the task, the moment it
//! does; a callback added to a future that is already done runs at once in
//! the caller's thread. At the end: what the run would have taken one task
//! after another, what it took on the pool, and the speedup.
//!
//! Run: `cargo run --release -p hilo --example done_callbacks -- [--small]`
//! (`--small` makes every task 20 times shorter).

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hilo::{Future, TaskError, ThreadPool};

#[path = "common/args.rs"]
mod args;

const TASKS: usize = 10;
const WORKERS: usize = 3;
/// The pool's thread-name prefix; the panic hook below recognises it.
const POOL_NAME: &str = "cb";

/// What a task reports: the lesson's `{"id": id, "duracion": duracion}`.
#[derive(Debug)]
struct Report {
    id: usize,
    took: Duration,
}

/// How long task `id` takes: 1 to 3 `scale`s. The lesson rolls dice
/// (`random.uniform(1, 3)`); arithmetic makes every run print the same.
fn duration_of(id: usize, scale: Duration) -> Duration {
    scale.mul_f64(1.0 + ((id * 37) % 21) as f64 / 10.0)
}

/// The lesson's `tarea`: sleeps, then fails if `id % 5 == 3` (one task in
/// five, as the lesson's `random() < 0.2`).
fn task(id: usize, scale: Duration) -> Report {
    let took = duration_of(id, scale);
    std::thread::sleep(took);
    if id % 5 == 3 {
        panic!("task {id} failed");
    }
    Report { id, took }
}

/// Ten tasks on three workers, reported by done callbacks as each ends.
#[derive(clap::Parser)]
#[command(name = "done_callbacks")]
struct Args {
    /// Every task 20 times shorter
    #[arg(long)]
    small: bool,
}

fn main() -> ExitCode {
    // A bad argument: one line and exit status 2.
    let small = match args::parse::<Args>("done_callbacks") {
        Ok(args) => args.small,
        Err(status) => return status,
    };
    let scale = if small {
        Duration::from_millis(50)
    } else {
        Duration::from_secs(1)
    };
    quiet_pool_panics();
    match run(scale) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("done_callbacks: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(scale: Duration) -> Result<(), Box<dyn std::error::Error>> {
    let pool = ThreadPool::builder()
        .max_workers(WORKERS)
        .thread_name_prefix(POOL_NAME)
        .build()?;

    // Shared by the callbacks, which run on the workers: counters for the
    // progress line, and the values the tasks produced (the lesson's "save
    // it to a database").
    let done = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let reports = Arc::new(Mutex::new(Vec::new()));

    let start = Instant::now();
    for id in 0..TASKS {
        let fut = pool.submit(move || task(id, scale))?;

        watch(fut, id, &done, &failed, &reports);
    }
    println!("{TASKS} tasks submitted to {WORKERS} workers; main is free, waiting for them...");

    // Dropping the pool waits for every queued and running task (Python's
    // `with` block does the same on exit); the callbacks have all run when
    // it returns.
    drop(pool);
    let wall = start.elapsed();

    // A callback added to a future that is already done runs at once, here.
    Future::ready(Ok::<(), TaskError>(())).add_done_callback(|_| {
        let thread = std::thread::current();
        println!(
            "a callback on a finished future ran at once, on thread {}",
            thread.name().unwrap_or("?")
        );
    });

    let reports = reports.lock().unwrap_or_else(|e| e.into_inner());
    let (done, failed) = (done.load(Ordering::SeqCst), failed.load(Ordering::SeqCst));
    println!(
        "\nall tasks processed: {} ok, {failed} failed",
        reports.len()
    );
    let one_by_one: Duration = (0..TASKS).map(|id| duration_of(id, scale)).sum();
    println!(
        "one after another      {:>7.2} s (the tasks' sleeps added up)",
        one_by_one.as_secs_f64()
    );
    println!(
        "pool, {WORKERS} workers        {:>7.2} s",
        wall.as_secs_f64()
    );
    println!(
        "speedup                {:>7.2}x",
        one_by_one.as_secs_f64() / wall.as_secs_f64()
    );

    let expected_failures = (0..TASKS).filter(|id| id % 5 == 3).count();
    if done != TASKS || failed != expected_failures || reports.len() + failed != TASKS {
        return Err(format!(
            "expected {TASKS} callbacks with {expected_failures} failures, saw {done} with {failed}"
        )
        .into());
    }
    Ok(())
}

/// Adds task `id`'s two callbacks to `fut`: the progress line, and the
/// report that goes to `reports` (or the error that is printed).
fn watch(
    fut: Future<Report>,
    id: usize,
    done: &Arc<AtomicUsize>,
    failed: &Arc<AtomicUsize>,
    reports: &Arc<Mutex<Vec<Report>>>,
) {
    // Added first, so it runs first: callbacks run in the order added.
    let (done, failed) = (Arc::clone(done), Arc::clone(failed));
    fut.add_done_callback(move |outcome: &Result<(), TaskError>| {
        if outcome.is_err() {
            failed.fetch_add(1, Ordering::SeqCst);
        }
        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
        println!("[{n:>2}/{TASKS}] task {id} finished");
    });

    // `on_complete` consumes the future: the value goes to the callback.
    let reports = Arc::clone(reports);
    fut.on_complete(move |outcome: Result<Report, TaskError>| {
        let thread = std::thread::current();
        let on = thread.name().unwrap_or("?");
        match outcome {
            Ok(report) => {
                println!(
                    "        ✓ task {} took {:.2} s (callback on thread {on})",
                    report.id,
                    report.took.as_secs_f64()
                );
                // A poisoned lock only means another callback panicked
                // while holding it; the Vec itself is fine.
                reports
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(report);
            }
            Err(e) => println!("        ✗ task {id}: {e}"),
        }
    });
}

/// The default panic hook prints every panic to stderr. Panics in the pool's
/// threads are caught by the pool and become `TaskError::Panicked` values,
/// which the callbacks print; so it silences those, and only those.
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
