//! `RedisExecutor` and `serve` against a real `redis-server` and real
//! worker processes (this binary started again as `--helper worker`): the
//! spec's rules for futures, held remotely. Every test needs redis-server.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use hilo::{as_completed, wait, Executor, ReturnWhen, State, TaskError};
use hilo_redis::{Priority, RedisExecutor};

mod common;
use common::workers::{serve_until_stdin_closes, WorkerProcess};
use common::RedisServer;

// ---- tasks the workers run ------------------------------------------------

#[hilo::task]
fn square(x: u64) -> u64 {
    x * x
}

#[hilo::task]
fn panic_if_odd(x: u64) -> u64 {
    assert!(x % 2 == 0, "odd: {x}");
    x
}

#[hilo::task]
fn segfault() {
    // The first SIGSEGV goes to Rust's handler, which restores the default.
    for _ in 0..2 {
        let me = rustix::process::getpid();
        let _ = rustix::process::kill_process(me, rustix::process::Signal::SEGV);
    }
    std::process::exit(99)
}

#[hilo::task]
fn sleep_ms(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

/// Appends `label` to the file `path` (one line; O_APPEND keeps lines whole).
#[hilo::task]
fn append(path: String, label: String) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(format!("{label}\n").as_bytes()).unwrap();
}

/// Writes its pid to the FIFO `fifo` (the open blocks until the test reads:
/// then the test knows it runs), then sleeps for a minute.
#[hilo::task]
fn say_pid_then_sleep(fifo: String) -> u32 {
    std::fs::write(&fifo, std::process::id().to_string()).unwrap();
    std::thread::sleep(Duration::from_secs(60));
    std::process::id()
}

// ---- helpers --------------------------------------------------------------

const LEASE: Duration = Duration::from_millis(1500);

fn executor(server: &RedisServer) -> RedisExecutor {
    RedisExecutor::builder(&server.url())
        .prefix("test")
        .build()
        .unwrap()
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

/// The pid the task behind `fifo` writes once it runs.
fn read_pid(fifo: &Path) -> u32 {
    std::fs::read_to_string(fifo).unwrap().parse().unwrap()
}

/// True once process `pid` is gone (or a zombie), within `limit`.
fn gone_within(pid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat)
                if stat
                    .rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('Z')) =>
            {
                return true
            }
            Ok(_) => std::thread::yield_now(),
        }
    }
    false
}

// ---- tests ----------------------------------------------------------------

fn results_come_back_from_worker_processes() {
    let server = RedisServer::start();
    let workers = [
        WorkerProcess::start(&server.url(), 2, LEASE),
        WorkerProcess::start(&server.url(), 2, LEASE),
    ];
    let exec = executor(&server);
    let futs: Vec<_> = (0..300u64)
        .map(|x| exec.submit(square::call(x)).unwrap())
        .collect();
    let done = wait(&futs, None, ReturnWhen::AllCompleted);
    assert_eq!(done.done.len(), 300);
    for (x, f) in (0..300u64).zip(futs) {
        assert_eq!(f.result(), Ok(x * x));
    }
    // as_completed and the lazy map, written for any executor, work as is.
    let futs: Vec<_> = (0..50u64)
        .map(|x| exec.submit(square::call(x)).unwrap())
        .collect();
    let completed: Vec<_> = as_completed(&futs, None).map(Result::unwrap).collect();
    assert_eq!(completed.len(), 50, "each future once");
    assert!(completed.iter().all(|f| f.exception().is_none()));
    let distinct: HashSet<*const _> = completed.iter().map(|f| std::ptr::from_ref(*f)).collect();
    assert_eq!(distinct.len(), 50);
    let mapped: Vec<u64> = hilo::map(&exec, 0..100u64, square::call)
        .map(Result::unwrap)
        .collect();
    assert_eq!(mapped, (0..100u64).map(|x| x * x).collect::<Vec<_>>());
    drop(exec);
    let total: u64 = workers.into_iter().map(|w| w.stop().0).sum();
    assert_eq!(total, 300 + 50 + 100, "each task's result written once");
}

fn failures_cross_as_themselves_and_the_worker_lives_on() {
    let server = RedisServer::start();
    let _worker = WorkerProcess::start(&server.url(), 1, LEASE);
    let exec = executor(&server);
    let odd = exec
        .submit(panic_if_odd::call(3))
        .unwrap()
        .result()
        .unwrap_err();
    assert!(
        odd.is_panic() && odd.to_string().contains("odd: 3"),
        "{odd}"
    );
    let died = exec.submit(segfault::call()).unwrap().result();
    assert_eq!(
        died,
        Err(TaskError::WorkerDied {
            code: None,
            signal: Some(11)
        })
    );
    let unknown = hilo::process::Call::<u64>::new("no::such::task", &(1u64,));
    assert_eq!(
        exec.submit(unknown).unwrap().result(),
        Err(TaskError::UnknownTask {
            name: "no::such::task".into()
        })
    );
    let started = Instant::now();
    let timed = exec
        .submit(sleep_ms::call(60_000).timeout(Duration::from_millis(300)))
        .unwrap()
        .result();
    assert_eq!(
        timed,
        Err(TaskError::TimedOut {
            after: Duration::from_millis(300)
        })
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    // The same worker serves on.
    assert_eq!(exec.submit(square::call(12)).unwrap().result(), Ok(144));
}

fn cancel_of_a_queued_task_removes_it() {
    let server = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let exec = executor(&server);
    // No worker yet: the task waits in the queue.
    let path = marker.to_string_lossy().into_owned();
    let fut = exec
        .submit(append::call(path.clone(), "cancelled".into()))
        .unwrap();
    assert_eq!(fut.state(), State::Pending);
    assert!(fut.cancel());
    assert!(fut.cancel(), "cancelled stays cancelled");
    assert_eq!(fut.state(), State::Cancelled);
    let worker = WorkerProcess::start(&server.url(), 1, LEASE);
    exec.submit(append::call(path, "ran".into()))
        .unwrap()
        .result()
        .unwrap();
    assert_eq!(fut.result(), Err(TaskError::Cancelled));
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap(),
        "ran\n",
        "the cancelled task never ran"
    );
    drop(exec);
    assert_eq!(worker.stop(), (1, 0));
}

fn cancel_of_a_running_task_kills_its_process_only() {
    let server = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pid");
    mkfifo(&fifo);
    let worker = WorkerProcess::start(&server.url(), 1, LEASE);
    let exec = executor(&server);
    let fut = exec
        .submit(say_pid_then_sleep::call(
            fifo.to_string_lossy().into_owned(),
        ))
        .unwrap();
    let pid = read_pid(&fifo);
    assert!(
        fut.cancel(),
        "a running remote task is cancelled by killing it"
    );
    assert_eq!(fut.state(), State::Cancelled);
    assert!(
        gone_within(pid, Duration::from_secs(10)),
        "task process {pid} still runs"
    );
    // Its worker lives on and serves the next task.
    assert_eq!(exec.submit(square::call(5)).unwrap().result(), Ok(25));
    assert_eq!(fut.result(), Err(TaskError::Cancelled));
    drop(exec);
    assert_eq!(
        worker.stop(),
        (1, 1),
        "one result written, the cancelled one dropped"
    );
}

fn higher_priorities_run_first() {
    let server = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    mkfifo(&gate);
    let log = dir.path().join("order").to_string_lossy().into_owned();
    let _worker = WorkerProcess::start(&server.url(), 1, LEASE);
    let exec = executor(&server);
    // The one slot is busy until the gate opens; meanwhile all levels queue.
    let busy = exec
        .submit(
            say_pid_then_sleep::call(gate.to_string_lossy().into_owned())
                .timeout(Duration::from_millis(1)),
        )
        .unwrap();
    let _ = read_pid(&gate);
    let mut futs = Vec::new();
    for i in 0..3 {
        for level in [Priority::Low, Priority::Medium, Priority::High] {
            let label = format!("{}{i}", level.name());
            futs.push(
                exec.submit_at(level, append::call(log.clone(), label))
                    .unwrap(),
            );
        }
    }
    assert!(matches!(busy.result(), Err(TaskError::TimedOut { .. })));
    for f in futs {
        f.result().unwrap();
    }
    let order = std::fs::read_to_string(&log).unwrap();
    let want: Vec<String> = ["high", "medium", "low"]
        .iter()
        .flat_map(|l| (0..3).map(move |i| format!("{l}{i}")))
        .collect();
    assert_eq!(order.lines().collect::<Vec<_>>(), want);
}

fn shutdown_cancels_what_is_queued_and_refuses_more() {
    let server = RedisServer::start();
    let exec = executor(&server);
    let futs: Vec<_> = (0..20u64)
        .map(|x| exec.submit(square::call(x)).unwrap())
        .collect();
    exec.shutdown(hilo::Shutdown {
        wait: true,
        cancel_pending: true,
    });
    assert!(futs.iter().all(hilo::Future::cancelled));
    assert_eq!(
        Executor::submit(&exec, square::call(1)).unwrap_err(),
        hilo::SubmitError::Shutdown
    );
    // Nothing is left queued for a worker to run.
    let mut con = server.connection();
    for level in Priority::ALL {
        let len: u64 = redis::cmd("XLEN")
            .arg(format!("test:tasks:{}", level.name()))
            .query(&mut con)
            .unwrap();
        assert_eq!(len, 0);
    }
}

fn heartbeats_name_the_live_workers() {
    let server = RedisServer::start();
    let workers = [
        WorkerProcess::start(&server.url(), 2, LEASE),
        WorkerProcess::start(&server.url(), 3, LEASE),
    ];
    let exec = executor(&server);
    // Both have served a task, so both have beaten.
    let futs: Vec<_> = (0..40u64)
        .map(|x| exec.submit(sleep_ms::call(x % 3)).unwrap())
        .collect();
    for f in futs {
        f.result().unwrap();
    }
    let mut broker = hilo_redis::Streams::connect(&server.url(), "test").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let live = loop {
        let live = hilo_redis::Broker::live_workers(&mut broker).unwrap();
        if live.len() == 2 || Instant::now() > deadline {
            break live;
        }
        std::thread::yield_now();
    };
    let pids: HashSet<u32> = live.iter().map(|w| w.pid).collect();
    let want: HashSet<u32> = workers.iter().map(WorkerProcess::pid).collect();
    assert_eq!(pids, want);
    let mut slots: Vec<u32> = live.iter().map(|w| w.slots).collect();
    slots.sort_unstable();
    assert_eq!(slots, vec![2, 3]);
    // A new client sizes itself from them.
    assert_eq!(executor(&server).max_workers(), 5);
    for w in workers {
        w.stop();
    }
    assert!(
        hilo_redis::Broker::live_workers(&mut broker)
            .unwrap()
            .is_empty(),
        "they left"
    );
}

fn main() {
    hilo::init();
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--helper") {
        assert_eq!(args.get(i + 1).map(String::as_str), Some("worker"));
        serve_until_stdin_closes(&args[i + 2..]);
        return;
    }
    common::run_needing_redis(&[
        (
            "results_come_back_from_worker_processes",
            results_come_back_from_worker_processes,
        ),
        (
            "failures_cross_as_themselves_and_the_worker_lives_on",
            failures_cross_as_themselves_and_the_worker_lives_on,
        ),
        (
            "cancel_of_a_queued_task_removes_it",
            cancel_of_a_queued_task_removes_it,
        ),
        (
            "cancel_of_a_running_task_kills_its_process_only",
            cancel_of_a_running_task_kills_its_process_only,
        ),
        ("higher_priorities_run_first", higher_priorities_run_first),
        (
            "shutdown_cancels_what_is_queued_and_refuses_more",
            shutdown_cancels_what_is_queued_and_refuses_more,
        ),
        (
            "heartbeats_name_the_live_workers",
            heartbeats_name_the_live_workers,
        ),
    ]);
}
