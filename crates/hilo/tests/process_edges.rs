//! The process pool at its edges: workers are hermetic (no marker, no
//! descriptor, no signal by a bare pid), big frames cannot deadlock the
//! pipeline, callbacks may drop or shut down the pool, and every future
//! ends whatever panics where (spec section 10).
//!
//! Like `process_pool.rs`, this binary is its own worker program
//! (`harness = false`) and plays helper programs (`--helper NAME`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use hilo::process::ProcessPool;
use hilo::{Shutdown, TaskError};
use serde::{Deserialize, Deserializer, Serialize};

#[path = "common/procs.rs"]
mod procs;
#[path = "common/runner.rs"]
mod runner;
#[path = "common/tasks.rs"]
mod tasks;

use procs::{assert_no_zombies, wait_exit};
use tasks::{env_var, my_pid, rendezvous};

// ---- tasks the workers run ------------------------------------------------

#[hilo::task]
fn noop() {}

/// Runs this program as `--helper NAME` and returns its exit code and what
/// it printed: what any program a task starts would see.
#[hilo::task]
fn run_helper(name: String) -> (Option<i32>, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--helper", &name])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A `sleep 60` with no stdio of ours, started by a task.
fn start_sleep() -> std::process::Child {
    Command::new("sleep")
        .arg("60")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// What a program this task starts has open above stderr: its
/// descriptors' targets, read from /proc while it sleeps.
#[hilo::task]
fn child_descriptors() -> Vec<String> {
    let mut child = start_sleep();
    let fds = descriptors_of(&child.id().to_string());
    child.kill().unwrap();
    child.wait().unwrap();
    fds
}

/// Starts a `sleep` that outlives this worker, writes its pid to
/// `pid_file`, then ends the worker with `code`.
#[hilo::task]
fn orphan_then_exit(pid_file: String, code: i32) {
    let child = start_sleep();
    std::fs::write(pid_file, child.id().to_string()).unwrap();
    std::process::exit(code)
}

/// Hands its argument back: a megabyte in is a megabyte out.
#[hilo::task]
fn echo(text: String) -> String {
    text
}

/// Blocks until the test opens the FIFO `path` for writing, then reads
/// it to the end: a task the test holds running without a sleep.
#[hilo::task]
fn read_fifo(path: String) -> usize {
    let mut text = Vec::new();
    std::fs::File::open(path)
        .unwrap()
        .read_to_end(&mut text)
        .unwrap();
    text.len()
}

/// A value whose decoding (in the pool's process) panics for 13.
#[derive(Debug, PartialEq, Serialize)]
struct Touchy(u8);

impl<'de> Deserialize<'de> for Touchy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = u8::deserialize(d)?;
        assert!(v != 13, "unlucky {v}");
        Ok(Touchy(v))
    }
}

#[hilo::task]
fn touchy(v: u8) -> Touchy {
    Touchy(v)
}

// ---- helpers ----------------------------------------------------------------

fn pool(workers: usize) -> ProcessPool {
    ProcessPool::builder().max_workers(workers).build().unwrap()
}

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("hilo-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
    /// A new FIFO in the directory.
    fn fifo(&self, name: &str) -> String {
        let path = self.path(name);
        let made = Command::new("mkfifo").arg(&path).status().unwrap();
        assert!(made.success(), "mkfifo {path}");
        path
    }
}

/// A pool of `workers` with a `read_fifo` task on it, which runs until the
/// test opens `fifo` (see `open_for_task`) and closes it again.
struct Gated {
    _dir: TempDir,
    fifo: String,
    pool: Arc<ProcessPool>,
    fut: hilo::Future<usize>,
}

fn gated(tag: &str, workers: usize) -> Gated {
    let dir = TempDir::new(tag);
    let fifo = dir.fifo("gate");
    let pool = Arc::new(pool(workers));
    let fut = pool.submit(read_fifo::call(fifo.clone())).unwrap();
    Gated {
        _dir: dir,
        fifo,
        pool,
        fut,
    }
}

/// Opens the FIFO a `read_fifo` task reads: returns once the task runs.
fn open_for_task(fifo: &str) -> std::fs::File {
    std::fs::OpenOptions::new().write(true).open(fifo).unwrap()
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the descriptors above stderr of process `pid` ("self" for this
/// one) point at (`readlink`), without the one used to list them.
fn descriptors_of(pid: &str) -> Vec<String> {
    let dir = format!("/proc/{pid}/fd");
    let listing = Path::new(&dir).canonicalize().unwrap();
    let mut fds = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let n: u32 = entry.file_name().to_str().unwrap().parse().unwrap();
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue; // the listing's own descriptor, closed by now
        };
        if n > 2 && target != listing {
            fds.push(format!("{n} -> {}", target.display()));
        }
    }
    fds
}

// ---- hermetic workers ---------------------------------------------------------

fn no_marker_reaches_a_task_or_a_program_it_starts() {
    // Every setting the pool passes in the environment, set at once.
    let pool = ProcessPool::builder()
        .max_workers(1)
        .memory_limit(64 << 30)
        .cpu_limit(3600)
        .nice(1)
        .initializer(noop::NAME)
        .build()
        .unwrap();
    for var in [
        "HILO_WORKER",
        "HILO_WORKER_RLIMIT_AS",
        "HILO_WORKER_RLIMIT_CPU",
        "HILO_WORKER_NICE",
        "HILO_WORKER_INIT",
    ] {
        let seen = pool.submit(env_var::call(var.into())).unwrap().result();
        assert_eq!(seen, Ok(None), "a task sees {var}");
    }
    // A hilo program started by a task does its own work instead of taking
    // itself for a worker of a pool that is not its parent.
    let (code, out) = pool
        .submit(run_helper::call("hello".into()))
        .unwrap()
        .result()
        .unwrap();
    assert_eq!((code, out.as_str()), (Some(0), "hello\n"));
}

fn a_program_a_task_starts_inherits_no_descriptor() {
    let pool = pool(1);
    let fds = pool.submit(child_descriptors::call()).unwrap().result();
    assert_eq!(fds, Ok(vec![]), "descriptors a task's child inherited");
}

fn a_worker_that_dies_while_its_grandchild_lives_fails_its_task() {
    let dir = TempDir::new("orphan");
    let pool = pool(1);
    let mut fut = pool
        .submit(orphan_then_exit::call(dir.path("pid"), 7))
        .unwrap();
    // The grandchild lives on for a minute: the pool must not wait for it.
    let outcome = fut.result_timeout(Duration::from_secs(20));
    if let Ok(pid) = std::fs::read_to_string(dir.path("pid")) {
        procs::kill(pid.trim().parse().unwrap());
    }
    assert_eq!(
        outcome,
        Err(TaskError::WorkerDied {
            code: Some(7),
            signal: None
        })
    );
    assert_eq!(pool.submit(noop::call()).unwrap().result(), Ok(()));
}

fn every_worker_is_held_through_a_pidfd() {
    let pool = pool(2);
    // Two tasks side by side: both slots have a worker.
    let dir = TempDir::new("pidfd");
    let futs: Vec<_> = (0..2)
        .map(|_| {
            pool.submit(rendezvous::call(dir.0.display().to_string(), 2))
                .unwrap()
        })
        .collect();
    for f in futs {
        assert_eq!(f.result(), Ok(true));
    }
    let pidfds = descriptors_of("self")
        .iter()
        .filter(|d| d.ends_with("anon_inode:[pidfd]"))
        .count();
    assert_eq!(pidfds, pool.worker_pids().len());
    assert_eq!(pidfds, 2);
}

// ---- big frames -----------------------------------------------------------------

fn megabytes_each_way_on_short_tasks_never_deadlock() {
    // While a worker writes a big answer it reads nothing; if the pool were
    // blocked writing it a big next task at that moment, neither would
    // ever move. Short tasks make the pool send a second one behind the
    // running one.
    let pool = pool(1);
    assert_eq!(pool.submit(noop::call()).unwrap().result(), Ok(()));
    let megabyte: String = "0123456789abcdef".repeat(1 << 16);
    let futs: Vec<_> = (0..16)
        .map(|i| {
            let text = format!("{i:02}{megabyte}");
            pool.submit(echo::call(text)).unwrap()
        })
        .collect();
    for (i, mut fut) in futs.into_iter().enumerate() {
        let back = fut.result_timeout(Duration::from_secs(60));
        let back = back.unwrap_or_else(|e| panic!("task {i} of 16: {e:?}"));
        assert_eq!(back.len(), 2 + megabyte.len());
        assert!(back.starts_with(&format!("{i:02}0123")), "task {i}");
    }
}

// ---- reuse ----------------------------------------------------------------------

fn an_idle_worker_is_reused_before_a_process_starts() {
    let pool = pool(5);
    let first = pool.worker_pids();
    assert_eq!(first.len(), 1, "build starts one worker");
    for round in 0..10 {
        let pid = pool.submit(my_pid::call()).unwrap().result().unwrap();
        assert_eq!(vec![pid], first, "round {round}: a new process served");
        assert_eq!(pool.worker_pids(), first, "round {round}");
    }
}

// ---- one cancel rule --------------------------------------------------------------

/// `cancel()` of a policy's future whose work runs on a process: the
/// process is killed and the future cancelled.
fn assert_cancel_kills(name: &str, pool: &ProcessPool, fut: hilo::Future<usize>, fifo: &str) {
    let _writer = open_for_task(fifo); // the task runs now
    let worker = pool.worker_pids();
    assert_eq!(worker.len(), 1);
    assert!(fut.cancel(), "{name}: cancel refused");
    assert_eq!(fut.result(), Err(TaskError::Cancelled), "{name}");
    assert!(
        wait_exit(worker[0], Duration::from_secs(10)),
        "{name}: the worker running the task was not killed"
    );
    assert_eq!(pool.submit(noop::call()).unwrap().result(), Ok(()));
}

fn cancel_of_a_retry_kills_its_running_process_attempt() {
    let dir = TempDir::new("retry-kill");
    let fifo = dir.fifo("gate");
    let pool = Arc::new(pool(1));
    let f = fifo.clone();
    let policy = hilo::RetryPolicy::new(3);
    let fut = hilo::retry(Arc::clone(&pool), policy, move || {
        read_fifo::call(f.clone())
    });
    assert_cancel_kills("retry", &pool, fut, &fifo);
}

fn cancel_of_a_priority_job_kills_its_running_process_task() {
    let dir = TempDir::new("prio-kill");
    let fifo = dir.fifo("gate");
    let pool = Arc::new(pool(1));
    let prio = hilo::PriorityExecutor::new(Arc::clone(&pool));
    let fut = prio
        .submit(hilo::Priority::HIGH, read_fifo::call(fifo.clone()))
        .unwrap();
    assert_cancel_kills("priority", &pool, fut, &fifo);
}

/// Reads a map's first item (its task let through by a writer thread),
/// then drops the map while its second item's task runs, and lets that task
/// finish.
fn drop_while_the_second_runs(
    how: &str,
    fifo: &str,
    mut it: impl Iterator<Item = Result<usize, TaskError>>,
) {
    let writer = std::thread::spawn({
        let fifo = fifo.to_owned();
        move || open_for_task(&fifo).write_all(b"go").unwrap()
    });
    assert_eq!(it.next(), Some(Ok(2)), "{how}");
    writer.join().unwrap();
    let running = open_for_task(fifo);
    drop(it);
    drop(running);
}

fn dropping_a_map_lets_its_running_process_task_finish() {
    let dir = TempDir::new("map-drop");
    let fifo = dir.fifo("gate");
    let pool = pool(1);
    let worker = pool.worker_pids();
    for (how, chunked) in [("map", false), ("map_chunked", true)] {
        let f = fifo.clone();
        let items = 0..4;
        // Two items in flight: the first, read below, and the second, which
        // runs once the first is done.
        if chunked {
            let it = pool.map_chunked(items, 1, move |_| read_fifo::call(f.clone()));
            drop_while_the_second_runs(how, &fifo, it.window(2));
        } else {
            let it = hilo::map(&pool, items, move |_| read_fifo::call(f.clone()));
            drop_while_the_second_runs(how, &fifo, it.window(2));
        }
        // The running task read its EOF and finished on the same worker.
        let pid = pool.submit(my_pid::call()).unwrap().result().unwrap();
        assert_eq!(
            vec![pid],
            worker,
            "{how}: the running task's worker was killed"
        );
    }
}

// ---- callbacks -----------------------------------------------------------------

fn a_callback_may_drop_the_pool_when_a_running_task_is_cancelled() {
    let Gated {
        _dir,
        fifo,
        pool,
        fut,
    } = gated("cb-drop", 1);
    let held = Arc::new(Mutex::new(Some(pool)));
    let (tx, dropped) = mpsc::channel();
    let h = Arc::clone(&held);
    fut.add_done_callback(move |outcome| {
        let pool = h.lock().unwrap().take();
        drop(pool); // shutdown(wait): joins the supervisor
        tx.send(outcome.clone()).unwrap();
    });
    let _writer = open_for_task(&fifo);
    // The cancel kills the worker and runs the callback in this thread.
    let canceller = std::thread::spawn(move || fut.cancel());
    let outcome = dropped.recv_timeout(Duration::from_secs(20));
    assert_eq!(outcome, Ok(Err(TaskError::Cancelled)), "the cancel hung");
    assert!(canceller.join().unwrap());
    assert_no_zombies();
}

/// Gives the gated task a done callback running `body` with its pool (on
/// the supervisor thread that completes it), lets the task finish, and
/// returns what `body` returned, or an error if it never returned in 20 s.
fn after_callback<R: Send + 'static>(
    g: &Gated,
    body: impl FnOnce(&ProcessPool) -> R + Send + 'static,
) -> Result<R, mpsc::RecvTimeoutError> {
    let (tx, report) = mpsc::channel();
    let pool = Arc::clone(&g.pool);
    g.fut.add_done_callback(move |_| {
        let _ = tx.send(body(&pool));
    });
    open_for_task(&g.fifo).write_all(b"go").unwrap();
    report.recv_timeout(Duration::from_secs(20))
}

fn a_callback_on_a_supervisor_thread_may_shut_the_pool_down() {
    let g = gated("cb-shutdown", 2);
    let shut = after_callback(&g, |pool| pool.shutdown(Shutdown::default()));
    assert_eq!(shut, Ok(()), "shutdown from the callback failed");
    // The callback's own supervisor is joined from here.
    g.pool.shutdown(Shutdown::default());
    assert!(g.pool.worker_pids().is_empty());
    assert_no_zombies();
}

fn a_callback_may_submit_to_the_same_process_pool_and_wait() {
    let g = gated("cb-submit", 2);
    // The callback's slot is not idle until it returns: another must serve.
    let pid = after_callback(&g, |pool| pool.submit(my_pid::call()).unwrap().result());
    assert!(
        matches!(pid, Ok(Ok(_))),
        "the nested task never ran: {pid:?}"
    );
}

// ---- every future ends ---------------------------------------------------------

fn a_result_whose_decoding_panics_fails_only_that_task() {
    let pool = pool(1);
    assert_eq!(
        pool.submit(touchy::call(1)).unwrap().result(),
        Ok(Touchy(1))
    );
    let worker = pool.worker_pids();
    let mut bad = pool.submit(touchy::call(13)).unwrap();
    match bad.result_timeout(Duration::from_secs(20)) {
        Err(TaskError::Panicked { message }) => {
            assert!(message.contains("unlucky 13"), "{message}")
        }
        other => panic!("expected a panic in decoding, got {other:?}"),
    }
    let after: Vec<_> = (0..20)
        .map(|v| pool.submit(touchy::call(v)).unwrap())
        .collect();
    for (v, f) in after.into_iter().enumerate() {
        let mut f = f;
        let want = if v == 13 { None } else { Some(Touchy(v as u8)) };
        match (f.result_timeout(Duration::from_secs(20)), want) {
            (Ok(got), Some(want)) => assert_eq!(got, want),
            (Err(TaskError::Panicked { .. }), None) => {}
            (other, want) => panic!("task {v}: {other:?}, wanted {want:?}"),
        }
    }
    assert_eq!(pool.worker_pids(), worker, "the slot lost its worker");
    drop(pool);
    assert_no_zombies();
}

// ---- helper programs ------------------------------------------------------------

fn helper(name: &str) {
    let mut out = std::io::stdout().lock();
    match name {
        "hello" => writeln!(out, "hello").unwrap(),
        other => panic!("unknown helper {other}"),
    }
}

fn main() {
    runner::main(
        helper,
        tests![
            no_marker_reaches_a_task_or_a_program_it_starts,
            a_program_a_task_starts_inherits_no_descriptor,
            a_worker_that_dies_while_its_grandchild_lives_fails_its_task,
            every_worker_is_held_through_a_pidfd,
            megabytes_each_way_on_short_tasks_never_deadlock,
            an_idle_worker_is_reused_before_a_process_starts,
            cancel_of_a_retry_kills_its_running_process_attempt,
            cancel_of_a_priority_job_kills_its_running_process_task,
            dropping_a_map_lets_its_running_process_task_finish,
            a_callback_may_drop_the_pool_when_a_running_task_is_cancelled,
            a_callback_on_a_supervisor_thread_may_shut_the_pool_down,
            a_callback_may_submit_to_the_same_process_pool_and_wait,
            a_result_whose_decoding_panics_fails_only_that_task,
        ],
    );
}
