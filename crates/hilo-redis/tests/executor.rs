//! `RedisExecutor` and `serve` against a real `redis-server` and real
//! worker processes (this binary started again as `--helper worker`): the
//! spec's rules for futures, held remotely. Every test needs redis-server.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use hilo::process::ChunkExecutor;
use hilo::{as_completed, wait, Executor, ReturnWhen, State, TaskError};
use hilo_redis::{Level, RedisExecutor};

#[macro_use]
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

/// Kills the worker running it (the pool process's parent): a task no
/// worker survives.
#[hilo::task]
fn kill_my_worker() {
    let worker = rustix::process::getppid().unwrap();
    let _ = rustix::process::kill_process(worker, rustix::process::Signal::KILL);
    std::thread::sleep(Duration::from_secs(60));
}

/// Panics on its first `fails` runs (counted as lines of the file `path`),
/// then returns how many runs it took.
#[hilo::task]
fn flaky(path: String, fails: usize) -> usize {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"run\n").unwrap();
    let runs = std::fs::read_to_string(&path).unwrap().lines().count();
    assert!(runs > fails, "run {runs} fails");
    runs
}

/// `i`'s value after `ms` milliseconds.
#[hilo::task]
fn slow_value(i: u64, ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    i * 3 + 1
}

/// Writes its pid to the FIFO `started`, then waits until the FIFO
/// `release` is opened and closed by the test.
#[hilo::task]
fn hold_until_released(started: String, release: String) -> u32 {
    std::fs::write(&started, std::process::id().to_string()).unwrap();
    let _ = std::fs::read(&release);
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
    // One takes tasks as slots free up, one holds two more than it runs.
    let workers = [
        WorkerProcess::start(&server.url(), 2, LEASE),
        WorkerProcess::start_prefetching(&server.url(), 2, 2, LEASE),
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
    // A chunked map: 10,000 items in chunks of 250, one queued task each.
    let chunked: Vec<u64> = exec
        .map_chunked(0..10_000u64, 250, square::call)
        .map(Result::unwrap)
        .collect();
    assert_eq!(chunked, (0..10_000u64).map(|x| x * x).collect::<Vec<_>>());
    let odd: Vec<_> = exec.map_chunked(0..10u64, 4, panic_if_odd::call).collect();
    for (x, r) in (0..10u64).zip(odd) {
        assert_eq!(r.is_err(), x % 2 == 1, "{x}: {r:?}");
    }
    drop(exec);
    let total: u64 = workers.into_iter().map(|w| w.stop().0).sum();
    assert_eq!(
        total,
        300 + 50 + 100 + 40 + 3,
        "each task's result written once"
    );
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
    let (started, release) = (dir.path().join("started"), dir.path().join("release"));
    mkfifo(&started);
    mkfifo(&release);
    let log = dir.path().join("order").to_string_lossy().into_owned();
    let _worker = WorkerProcess::start(&server.url(), 1, LEASE);
    let exec = executor(&server);
    // The one slot is busy until the test releases it; meanwhile all levels
    // queue.
    let path = |p: &Path| p.to_string_lossy().into_owned();
    let busy = exec
        .submit(hold_until_released::call(path(&started), path(&release)))
        .unwrap();
    let _ = read_pid(&started);
    let mut futs = Vec::new();
    for i in 0..3 {
        for priority in [
            hilo::Priority::LOW,
            hilo::Priority::NORMAL,
            hilo::Priority::HIGH,
        ] {
            let label = format!("{}{i}", Level::of(priority).name());
            futs.push(
                exec.submit_at(priority, append::call(log.clone(), label))
                    .unwrap(),
            );
        }
    }
    drop(
        std::fs::OpenOptions::new()
            .write(true)
            .open(&release)
            .unwrap(),
    );
    busy.result().unwrap();
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
    for level in Level::ALL {
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
        let live = hilo_redis::Presence::live_workers(&mut broker).unwrap();
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
        hilo_redis::Presence::live_workers(&mut broker)
            .unwrap()
            .is_empty(),
        "they left"
    );
}

/// retry, PriorityExecutor and Progress are written over `Executor`: they
/// work on the Redis executor as on a pool, cancel included.
fn the_policies_work_on_it_unchanged() {
    use std::sync::Arc;
    let server = RedisServer::start();
    let _worker = WorkerProcess::start(&server.url(), 2, LEASE);
    let exec = Arc::new(executor(&server));
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs").to_string_lossy().into_owned();
    let policy =
        hilo::RetryPolicy::new(5).backoff(Duration::from_millis(1), Duration::from_millis(10));
    let fut = hilo::retry(Arc::clone(&exec), policy, move || {
        flaky::call(runs.clone(), 2)
    });
    assert_eq!(
        fut.result(),
        Ok(3),
        "two panics retried, the third run's value"
    );
    // A cancel reaches the attempt running on a worker and kills it.
    let fifo = dir.path().join("pid");
    mkfifo(&fifo);
    let path = fifo.to_string_lossy().into_owned();
    let policy = hilo::RetryPolicy::new(3);
    let fut = hilo::retry(Arc::clone(&exec), policy, move || {
        say_pid_then_sleep::call(path.clone())
    });
    let pid = read_pid(&fifo);
    assert!(fut.cancel());
    assert!(
        gone_within(pid, Duration::from_secs(10)),
        "attempt {pid} still runs"
    );
    assert_eq!(fut.result(), Err(TaskError::Cancelled));
    // Priorities kept by the client, and counts.
    let prio = hilo::PriorityExecutor::new(Arc::clone(&exec));
    let futs: Vec<_> = (0..30u64)
        .map(|x| {
            prio.submit(hilo::Priority(x as i32 % 3), square::call(x))
                .unwrap()
        })
        .collect();
    for (x, f) in (0..30u64).zip(futs) {
        assert_eq!(f.result(), Ok(x * x));
    }
    let progress = hilo::Progress::new(Arc::clone(&exec));
    let futs: Vec<_> = (0..25u64)
        .map(|x| progress.submit(panic_if_odd::call(x)).unwrap())
        .collect();
    for f in futs {
        let _ = f.result();
    }
    // Progress counts in done callbacks, which may run a moment after
    // `result()` returns; they are final once the executor has drained.
    exec.shutdown(hilo::Shutdown::default());
    let counts = progress.snapshot();
    assert_eq!((counts.submitted, counts.done, counts.failed), (25, 25, 12));
}

fn a_poison_task_is_given_up_without_stalling_the_others() {
    let server = RedisServer::start();
    let workers: Vec<_> = (0..3)
        .map(|_| WorkerProcess::start(&server.url(), 2, LEASE))
        .collect();
    let exec = RedisExecutor::builder(&server.url())
        .prefix("test")
        .max_deliveries(2)
        .build()
        .unwrap();
    let poison = exec.submit(kill_my_worker::call()).unwrap();
    let others: Vec<_> = (0..60u64)
        .map(|i| exec.submit(slow_value::call(i, 5)).unwrap())
        .collect();
    assert_eq!(poison.result(), Err(TaskError::GaveUp { deliveries: 2 }));
    for (i, f) in (0..60u64).zip(others) {
        assert_eq!(f.result(), Ok(i * 3 + 1));
    }
    // Two workers died of it; the third gave it up and serves on.
    assert_eq!(exec.submit(square::call(9)).unwrap().result(), Ok(81));
    let alive: Vec<_> = workers
        .into_iter()
        .filter(|w| {
            std::fs::metadata(format!("/proc/{}", w.pid())).is_ok_and(|_| !is_zombie(w.pid()))
        })
        .collect();
    assert_eq!(alive.len(), 1);
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
    })
}

/// Entries worker `name` holds, as the server counts them.
fn held_by(con: &mut redis::Connection, name: &str) -> u64 {
    Level::ALL
        .iter()
        .map(|level| {
            let (count, _, _, owners): (u64, redis::Value, redis::Value, Vec<(String, String)>) =
                redis::cmd("XPENDING")
                    .arg(format!("test:tasks:{}", level.name()))
                    .arg("hilo-workers")
                    .query(con)
                    .unwrap_or((0, redis::Value::Nil, redis::Value::Nil, Vec::new()));
            let _ = count;
            owners
                .iter()
                .filter(|(owner, _)| owner == name)
                .map(|(_, n)| n.parse::<u64>().unwrap())
                .sum::<u64>()
        })
        .sum()
}

/// The chaos run: 3 workers, 5,000 tasks; one worker killed with
/// SIGKILL mid-run, another stopped past its lease and continued, Redis
/// killed and restarted (append-only, fsync always). Every future ends
/// with its value, none gets two results, nothing is left behind.
fn chaos_every_future_ends_once_with_its_value() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let mut server = RedisServer::start_persistent();
    let url = server.url();
    let killed = WorkerProcess::start(&url, 2, LEASE);
    let stopped = WorkerProcess::start(&url, 2, LEASE);
    let steady = WorkerProcess::start(&url, 2, LEASE);
    let exec = executor(&server);
    let finished = Arc::new(AtomicUsize::new(0));
    let (tick, ticks) = std::sync::mpsc::channel();
    const N: u64 = 5_000;
    let futs: Vec<_> = (0..N)
        .map(|i| {
            // Mostly short tasks, some long ones, so that workers are mid-task.
            let ms = if i % 100 == 0 { 200 } else { i % 4 };
            let f = exec.submit(slow_value::call(i, ms)).unwrap();
            let (finished, tick) = (Arc::clone(&finished), tick.clone());
            f.add_done_callback(move |_| {
                let n = finished.fetch_add(1, Ordering::SeqCst) + 1;
                let _ = tick.send(n);
            });
            f
        })
        .collect();
    let reach = |n: usize| {
        while ticks
            .recv_timeout(Duration::from_secs(60))
            .expect("progress stalled")
            < n
        {}
    };
    // 1. A worker dies mid-task: it holds two when it runs at all.
    reach(500);
    let killed_name = worker_name(&url, killed.pid());
    let deadline = Instant::now() + Duration::from_secs(60);
    while lock_held(&url, &killed_name) == 0 {
        assert!(Instant::now() < deadline, "the worker never held a task");
    }
    killed.kill();
    let replacement = WorkerProcess::start(&url, 2, LEASE);
    // 2. Another stops past its lease: what it held is taken over; then it
    // goes on, and its late results must be dropped.
    reach(1_500);
    let stopped_name = worker_name(&url, stopped.pid());
    let mut con = server.connection();
    // Stopped while it holds tasks: between a finish and its next take it
    // may hold none for a moment, and then it is let go on and tried again.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        stopped.signal(rustix::process::Signal::STOP);
        if held_by(&mut con, &stopped_name) > 0 {
            break;
        }
        stopped.signal(rustix::process::Signal::CONT);
        assert!(
            Instant::now() < deadline,
            "it never held a task when stopped"
        );
        std::thread::yield_now();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while held_by(&mut con, &stopped_name) > 0 {
        assert!(Instant::now() < deadline, "its tasks were never taken over");
        std::thread::yield_now();
    }
    drop(con);
    stopped.signal(rustix::process::Signal::CONT);
    // 3. Redis dies and comes back with its data.
    reach(3_000);
    server.restart();
    let done = wait(
        &futs,
        Some(Duration::from_secs(180)),
        ReturnWhen::AllCompleted,
    );
    assert_eq!(done.pending.len(), 0, "futures never ended");
    for (i, f) in (0..N).zip(futs) {
        assert_eq!(f.result(), Ok(i * 3 + 1), "task {i}");
    }
    assert_eq!(exec.stray_replies(), 0, "a task got a second result");
    drop(exec);
    let (stopped_done, late) = stopped.stop();
    assert!(late > 0, "the stopped worker's late results were dropped");
    let (steady_done, _) = steady.stop();
    let (replacement_done, _) = replacement.stop();
    eprintln!(
        "chaos: {N} futures all ended with their value, 0 second results; \
         written by the stopped worker {stopped_done} (late and dropped: {late}), \
         the steady one {steady_done}, the replacement {replacement_done}; \
         the rest by the killed one"
    );
    assert_no_zombies();
    assert_nothing_left(&server);
}

fn worker_name(url: &str, pid: u32) -> String {
    let mut broker = hilo_redis::Streams::connect(url, "test").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let live = hilo_redis::Presence::live_workers(&mut broker).unwrap();
        if let Some(w) = live.into_iter().find(|w| w.pid == pid) {
            return w.name;
        }
        assert!(Instant::now() < deadline, "worker {pid} never beat");
        std::thread::yield_now();
    }
}

fn lock_held(url: &str, name: &str) -> u64 {
    let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
    held_by(&mut con, name)
}

fn assert_no_zombies() {
    let me = std::process::id().to_string();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        assert!(
            !(fields[0] == "Z" && fields[1] == me),
            "zombie child {:?}",
            entry.file_name()
        );
    }
}

/// Only the queues (empty, nothing pending), the name and finished
/// counters and the workers' set stay; every other key expires within the documented TTL.
fn assert_nothing_left(server: &RedisServer) {
    let mut con = server.connection();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
    for key in keys {
        if let Some(level) = key.strip_prefix("test:tasks:") {
            let len: u64 = redis::cmd("XLEN").arg(&key).query(&mut con).unwrap();
            assert_eq!(len, 0, "{level} queue not empty");
            let pending: (u64, redis::Value, redis::Value, redis::Value) = redis::cmd("XPENDING")
                .arg(&key)
                .arg("hilo-workers")
                .query(&mut con)
                .unwrap();
            assert_eq!(pending.0, 0, "{level}: tasks still held");
        } else if !["test:names", "test:workers", "test:finished"].contains(&key.as_str()) {
            let ttl: i64 = redis::cmd("TTL").arg(&key).query(&mut con).unwrap();
            assert!(
                ttl > 0 && ttl as u64 <= hilo_redis::INBOX_TTL.as_secs(),
                "{key} has TTL {ttl}"
            );
        }
    }
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
        test!(results_come_back_from_worker_processes),
        test!(failures_cross_as_themselves_and_the_worker_lives_on),
        test!(cancel_of_a_queued_task_removes_it),
        test!(cancel_of_a_running_task_kills_its_process_only),
        test!(higher_priorities_run_first),
        test!(shutdown_cancels_what_is_queued_and_refuses_more),
        test!(heartbeats_name_the_live_workers),
        test!(the_policies_work_on_it_unchanged),
        test!(a_poison_task_is_given_up_without_stalling_the_others),
        test!(chaos_every_future_ends_once_with_its_value),
    ]);
}
