//! ProcessPool behaviour, with its crash matrix (spec sections 7 and 9).
//!
//! This test binary is its own worker program, so it has its own `main`
//! (`harness = false`): `hilo::init()` first, then the tests in order. It
//! also plays helper programs for the tests that need a separate process
//! (`--helper NAME`).

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hilo::process::{Call, ProcessPool};
use hilo::{BuildError, Shutdown, SubmitError, TaskError};
use rustix::process::Signal;

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
fn square(x: u64) -> u64 {
    x * x
}

#[hilo::task]
fn boom(message: String) -> u64 {
    panic!("{message}")
}

#[hilo::task]
fn exit_with(code: i32) {
    std::process::exit(code)
}

#[hilo::task]
fn abort_now() {
    std::process::abort()
}

#[hilo::task]
fn segfault() {
    // Rust's runtime handles SIGSEGV to report stack overflows; for a
    // signal that is not a fault its handler restores the default action
    // and returns, so the second one kills.
    for _ in 0..2 {
        let _ = rustix::process::kill_process(rustix::process::getpid(), Signal::SEGV);
    }
    std::process::exit(99)
}

#[hilo::task]
fn sleep_ms(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

/// Opens `fifo` for reading (so the test knows the task runs), then
/// sleeps for a minute.
#[hilo::task]
fn signal_then_sleep(fifo: String) {
    let _ = std::fs::File::open(&fifo);
    std::thread::sleep(Duration::from_secs(60));
}

#[hilo::task]
fn allocate_mb(mb: usize) -> usize {
    let v = vec![1u8; mb << 20];
    v.iter().map(|&b| usize::from(b)).sum()
}

#[hilo::task]
fn spin_forever() {
    let mut x = 0u64;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

#[hilo::task]
fn print_lots(mb: usize) -> usize {
    let line = "x".repeat(1023) + "\n";
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    for _ in 0..mb * 1024 {
        out.write_all(line.as_bytes()).unwrap();
        err.write_all(line.as_bytes()).unwrap();
    }
    mb * 1024 * 1024
}

#[hilo::task]
fn panic_if_odd(x: u64) -> u64 {
    assert!(x % 2 == 0, "odd {x}");
    x
}

#[hilo::task]
fn exit_if(x: u64, bad: u64) -> u64 {
    if x == bad {
        std::process::exit(4);
    }
    x
}

static INITIALIZED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[hilo::task]
fn mark_initialized() {
    INITIALIZED.store(true, std::sync::atomic::Ordering::SeqCst);
}

#[hilo::task]
fn failing_initializer() {
    panic!("no database")
}

#[hilo::task]
fn initialized() -> bool {
    INITIALIZED.load(std::sync::atomic::Ordering::SeqCst)
}

/// This process's nice value, field 19 of /proc/self/stat.
#[hilo::task]
fn my_nice() -> i64 {
    nice_of("self")
}

fn nice_of(pid: &str) -> i64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = stat.rsplit_once(')').unwrap().1;
    rest.split_whitespace().nth(16).unwrap().parse().unwrap()
}

// ---- helpers ----------------------------------------------------------------

fn pool(workers: usize) -> ProcessPool {
    ProcessPool::builder().max_workers(workers).build().unwrap()
}

/// One short task, after which the worker is sent a second task behind
/// its running one (a fresh worker is not: see the supervisor's docs).
fn warm_up(pool: &ProcessPool) {
    assert_eq!(pool.submit(square::call(3)).unwrap().result(), Ok(9));
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The pool still works: the next 100 tasks succeed with the right values.
fn next_hundred_succeed(pool: &ProcessPool) {
    let futs: Vec<_> = (0..100u64)
        .map(|i| pool.submit(square::call(i)).unwrap())
        .collect();
    for (i, f) in futs.into_iter().enumerate() {
        let i = i as u64;
        assert_eq!(f.result(), Ok(i * i));
    }
}

// ---- tests --------------------------------------------------------------------

fn results_come_back_from_worker_processes() {
    let pool = pool(2);
    let futs: Vec<_> = (0..200u64)
        .map(|i| pool.submit(square::call(i)).unwrap())
        .collect();
    let got: Vec<u64> = futs.into_iter().map(|f| f.result().unwrap()).collect();
    assert_eq!(got, (0..200u64).map(|i| i * i).collect::<Vec<_>>());
    let pid = pool.submit(my_pid::call()).unwrap().result().unwrap();
    assert_ne!(pid, std::process::id(), "the task ran in the parent");
    assert!(pool.worker_pids().contains(&pid));
}

fn long_tasks_submitted_right_after_build_run_side_by_side() {
    // Each worker holds a second task behind its running one, but not while
    // another slot is idle: with two slots, two tasks must run at once, even
    // when submitted before the second supervisor has started.
    for round in 0..5 {
        let dir = std::env::temp_dir().join(format!("hilo-rdv-{}-{round}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pool = pool(2);
        let futs: Vec<_> = (0..2)
            .map(|_| {
                pool.submit(rendezvous::call(dir.display().to_string(), 2))
                    .unwrap()
            })
            .collect();
        for f in futs {
            assert_eq!(
                f.result(),
                Ok(true),
                "round {round}: the tasks ran one after the other"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

fn a_panicking_task_is_an_error_and_its_worker_keeps_serving() {
    let pool = pool(1);
    let before = pool.submit(my_pid::call()).unwrap().result().unwrap();
    let err = pool
        .submit(boom::call("bad input".into()))
        .unwrap()
        .result();
    assert_eq!(
        err,
        Err(TaskError::Panicked {
            message: "bad input".into()
        })
    );
    let after = pool.submit(my_pid::call()).unwrap().result().unwrap();
    assert_eq!(before, after, "a panic must not cost the worker");
    next_hundred_succeed(&pool);
}

fn crash(
    name: &str,
    pool: &ProcessPool,
    call: impl FnOnce() -> Result<TaskError, ()>,
    check: impl Fn(&TaskError) -> bool,
) {
    let err = call().unwrap_or_else(|()| panic!("{name}: the task did not fail"));
    assert!(check(&err), "{name}: unexpected error {err:?}");
    next_hundred_succeed(pool);
    assert_no_zombies();
}

fn fail_of<R: serde::de::DeserializeOwned + Send + 'static + std::fmt::Debug>(
    pool: &ProcessPool,
    call: Call<R>,
) -> Result<TaskError, ()> {
    pool.submit(call)
        .unwrap()
        .result()
        .map(|_| ())
        .err()
        .ok_or(())
}

fn crash_matrix_each_crash_fails_only_its_task() {
    let pool = ProcessPool::builder().max_workers(2).build().unwrap();
    crash(
        "exit(3)",
        &pool,
        || fail_of(&pool, exit_with::call(3)),
        |e| {
            *e == TaskError::WorkerDied {
                code: Some(3),
                signal: None,
            }
        },
    );
    crash(
        "abort",
        &pool,
        || fail_of(&pool, abort_now::call()),
        |e| {
            matches!(
                e,
                TaskError::WorkerDied {
                    signal: Some(6),
                    ..
                }
            )
        },
    );
    crash(
        "SIGSEGV",
        &pool,
        || fail_of(&pool, segfault::call()),
        |e| {
            matches!(
                e,
                TaskError::WorkerDied {
                    signal: Some(11),
                    ..
                }
            )
        },
    );

    // kill -9 from outside, on a one-worker pool so we know the pid.
    let one = ProcessPool::builder().max_workers(1).build().unwrap();
    let pid = one.worker_pids()[0];
    let fut = one.submit(sleep_ms::call(60_000)).unwrap();
    let status = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let err = fut.result().unwrap_err();
    assert!(
        matches!(
            err,
            TaskError::WorkerDied {
                signal: Some(9),
                ..
            }
        ),
        "kill -9: {err:?}"
    );
    assert!(wait_exit(pid, Duration::from_secs(5)));
    next_hundred_succeed(&one);
    assert_no_zombies();

    // RLIMIT_AS: allocating past it aborts the worker.
    let limited = ProcessPool::builder()
        .max_workers(1)
        .memory_limit(256 << 20)
        .build()
        .unwrap();
    let err = fail_of(&limited, allocate_mb::call(1024)).expect("the allocation succeeded");
    assert!(
        matches!(err, TaskError::WorkerDied { .. }),
        "RLIMIT_AS: {err:?}"
    );
    assert_eq!(
        limited.submit(allocate_mb::call(8)).unwrap().result(),
        Ok(8 << 20)
    );
    next_hundred_succeed(&limited);
    assert_no_zombies();

    // RLIMIT_CPU: a spinning task is killed by SIGXCPU (or SIGKILL at the hard limit).
    let cpu = ProcessPool::builder()
        .max_workers(1)
        .cpu_limit(1)
        .build()
        .unwrap();
    let err = fail_of(&cpu, spin_forever::call()).expect("spin_forever returned");
    assert!(
        matches!(
            err,
            TaskError::WorkerDied {
                signal: Some(24 | 9),
                ..
            }
        ),
        "RLIMIT_CPU: {err:?}"
    );
    next_hundred_succeed(&cpu);
    assert_no_zombies();
}

fn a_timeout_kills_the_task_and_its_worker() {
    let pool = pool(1);
    let pid = pool.worker_pids()[0];
    let start = Instant::now();
    let fut = pool
        .submit(sleep_ms::call(60_000).timeout(Duration::from_millis(200)))
        .unwrap();
    assert_eq!(
        fut.result(),
        Err(TaskError::TimedOut {
            after: Duration::from_millis(200)
        })
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    assert!(!pid_alive(pid), "the timed-out worker {pid} is still there");
    next_hundred_succeed(&pool);
    assert_no_zombies();
}

fn a_timeout_too_far_off_to_reach_is_no_timeout() {
    let pool = ProcessPool::builder()
        .max_workers(1)
        .timeout(Duration::MAX)
        .build()
        .unwrap();
    for call in [square::call(7), square::call(7).timeout(Duration::MAX)] {
        let mut fut = pool.submit(call).unwrap();
        assert_eq!(fut.result_timeout(Duration::from_secs(10)), Ok(49));
    }
}

fn the_pool_default_timeout_applies_to_every_task() {
    let pool = ProcessPool::builder()
        .max_workers(1)
        .timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let err = pool.submit(sleep_ms::call(60_000)).unwrap().result();
    assert!(matches!(err, Err(TaskError::TimedOut { .. })));
    // A call's own timeout wins over the pool's.
    let ok = pool.submit(sleep_ms::call(300).timeout(Duration::from_secs(30)));
    assert_eq!(ok.unwrap().result(), Ok(300));
}

fn cancel_of_a_running_task_kills_its_worker() {
    let pool = pool(1);
    let dir = std::env::temp_dir().join(format!("hilo-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("started");
    let _ = std::fs::remove_file(&fifo);
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let pid = pool.worker_pids()[0];
    let fut = pool
        .submit(signal_then_sleep::call(fifo.to_string_lossy().into_owned()))
        .unwrap();
    // Opening the FIFO for writing blocks until the task opens it: then it runs.
    drop(std::fs::OpenOptions::new().write(true).open(&fifo).unwrap());
    assert!(fut.running());
    assert!(
        fut.cancel(),
        "cancel of a running process task must kill it"
    );
    assert_eq!(fut.result(), Err(TaskError::Cancelled));
    assert!(
        wait_exit(pid, Duration::from_secs(5)),
        "worker {pid} survived the cancel"
    );
    next_hundred_succeed(&pool);
    assert_no_zombies();
    let _ = std::fs::remove_dir_all(&dir);
}

fn an_unknown_task_name_fails_that_task_only() {
    let pool = pool(1);
    let call: Call<u64> = Call::new("no::such::task", &(1u64,));
    assert_eq!(
        pool.submit(call).unwrap().result(),
        Err(TaskError::UnknownTask {
            name: "no::such::task".into()
        })
    );
    next_hundred_succeed(&pool);
}

/// What a remote worker runs: calls that arrive as a name and bytes, run by
/// name, their values handed back still encoded.
fn encoded_calls_run_by_name_and_keep_their_values_encoded() {
    let pool = pool(2);
    let calls: Vec<_> = (0..5u64).map(panic_if_odd::call).collect();
    let name = calls[0].task_name();
    let args = calls.iter().map(|c| c.encoded_args().unwrap()).collect();
    let values = pool
        .submit_encoded(name, args, None)
        .unwrap()
        .result()
        .unwrap();
    assert_eq!(values.len(), 5);
    for (x, value) in (0..5u64).zip(values) {
        match value {
            Ok(bytes) => assert_eq!(hilo::process::decode_result::<u64>(&bytes), Ok(x)),
            Err(e) => assert!(x % 2 == 1 && e.is_panic(), "{x}: {e}"),
        }
    }
    // A name nobody registered fails every call without a worker.
    let unknown = pool
        .submit_encoded("no::such::task", vec![vec![1], vec![2]], None)
        .unwrap()
        .result()
        .unwrap();
    let want = TaskError::UnknownTask {
        name: "no::such::task".into(),
    };
    assert_eq!(unknown, vec![Err(want.clone()), Err(want)]);
    // The timeout travels with the bytes and kills as a call's would.
    let slow = sleep_ms::call(10_000);
    let args = vec![slow.encoded_args().unwrap()];
    let started = Instant::now();
    let timed = pool
        .submit_encoded(slow.task_name(), args, Some(Duration::from_millis(200)))
        .unwrap()
        .result()
        .unwrap();
    assert!(
        matches!(timed[..], [Err(TaskError::TimedOut { .. })]),
        "{timed:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    next_hundred_succeed(&pool);
}

fn max_tasks_per_child_replaces_workers_without_deadlock() {
    let pool = ProcessPool::builder()
        .max_workers(1)
        .max_tasks_per_child(3)
        .build()
        .unwrap();
    let pids: Vec<u32> = (0..9)
        .map(|_| pool.submit(my_pid::call()).unwrap())
        .collect::<Vec<_>>()
        .into_iter()
        .map(|f| f.result().unwrap())
        .collect();
    let distinct: HashSet<_> = pids.iter().collect();
    assert_eq!(distinct.len(), 3, "{pids:?}");
    for chunk in pids.chunks(3) {
        assert!(chunk.iter().all(|p| *p == chunk[0]), "{pids:?}");
    }
    // The last worker is retired after its third answer: joined by shutdown.
    pool.shutdown(Shutdown::default());
    assert_no_zombies();
}

fn shutdown_reaps_every_worker_and_refuses_new_tasks() {
    let pool = pool(2);
    let futs: Vec<_> = (0..10u64)
        .map(|i| pool.submit(square::call(i)).unwrap())
        .collect();
    let pids = pool.worker_pids();
    pool.shutdown(Shutdown::default());
    for (i, f) in futs.into_iter().enumerate() {
        assert_eq!(
            f.result(),
            Ok((i * i) as u64),
            "queued work runs before shutdown"
        );
    }
    assert!(matches!(
        pool.submit(square::call(1)),
        Err(SubmitError::Shutdown)
    ));
    for pid in pids {
        assert!(!pid_alive(pid), "worker {pid} outlived shutdown");
    }
    assert_no_zombies();
}

fn terminate_kills_running_work() {
    let pool = pool(1);
    let fut = pool.submit(sleep_ms::call(60_000)).unwrap();
    let queued = pool.submit(square::call(2)).unwrap();
    let start = Instant::now();
    pool.terminate();
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(fut.result().is_err());
    assert_eq!(queued.result(), Err(TaskError::Cancelled));
    assert_no_zombies();
}

fn map_runs_over_the_process_pool_unchanged() {
    let pool = pool(2);
    let out: Vec<u64> = hilo::map(&pool, 0..50u64, square::call)
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, (0..50u64).map(|i| i * i).collect::<Vec<_>>());
}

fn chunked_map_gives_one_result_per_item_in_order() {
    let pool = pool(2);
    let out: Vec<u64> = pool
        .map_chunked(0..10_000u64, 100, square::call)
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, (0..10_000u64).map(|i| i * i).collect::<Vec<_>>());
    // Chunk size 1 and a chunk larger than the input work too.
    let small: Vec<_> = pool.map_chunked(0..3u64, 1, square::call).collect();
    assert_eq!(small, vec![Ok(0), Ok(1), Ok(4)]);
    let big: Vec<_> = pool.map_chunked(0..3u64, 1000, square::call).collect();
    assert_eq!(big, vec![Ok(0), Ok(1), Ok(4)]);
}

fn a_panic_in_a_chunk_fails_only_its_item() {
    let pool = pool(2);
    let out: Vec<_> = pool.map_chunked(0..40u64, 8, panic_if_odd::call).collect();
    for (i, r) in out.into_iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(r, Ok(i as u64));
        } else {
            assert_eq!(
                r,
                Err(TaskError::Panicked {
                    message: format!("odd {i}")
                })
            );
        }
    }
}

fn a_worker_death_in_a_chunk_fails_that_chunk_only() {
    let pool = pool(2);
    let out: Vec<_> = pool
        .map_chunked(0..40u64, 10, |x| exit_if::call(x, 25))
        .collect();
    for (i, r) in out.into_iter().enumerate() {
        if (20..30).contains(&i) {
            assert_eq!(
                r,
                Err(TaskError::WorkerDied {
                    code: Some(4),
                    signal: None
                }),
                "item {i}"
            );
        } else {
            assert_eq!(r, Ok(i as u64), "item {i}");
        }
    }
    next_hundred_succeed(&pool);
}

fn the_initializer_runs_in_every_worker_before_tasks() {
    let plain = pool(1);
    assert_eq!(
        plain.submit(initialized::call()).unwrap().result(),
        Ok(false)
    );
    let pool = ProcessPool::builder()
        .max_workers(2)
        .initializer(mark_initialized::NAME)
        .build()
        .unwrap();
    for f in (0..10)
        .map(|_| pool.submit(initialized::call()).unwrap())
        .collect::<Vec<_>>()
    {
        assert_eq!(f.result(), Ok(true));
    }
    let err = ProcessPool::builder()
        .initializer(failing_initializer::NAME)
        .build()
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("failing_initializer") && msg.contains("no database"),
        "{msg}"
    );
    assert_no_zombies();
}

fn workers_get_extra_env_vars_and_nice() {
    let pool = ProcessPool::builder()
        .max_workers(1)
        .env("HILO_TEST_VAR", "42")
        .nice(5)
        .build()
        .unwrap();
    let var = pool.submit(env_var::call("HILO_TEST_VAR".into())).unwrap();
    assert_eq!(var.result(), Ok(Some("42".to_owned())));
    let nice = pool.submit(my_nice::call()).unwrap().result().unwrap();
    let ours = nice_of("self");
    assert_eq!(nice, (ours + 5).min(19));
}

fn a_cancelled_task_that_waits_behind_another_never_returns_a_value() {
    let pool = pool(1);
    warm_up(&pool);
    let busy = pool.submit(sleep_ms::call(300)).unwrap();
    // Queued in the pool, or already sent to the busy worker (which holds
    // the next task): either way it can be cancelled, and it is.
    let next = pool.submit(my_pid::call()).unwrap();
    assert!(matches!(
        next.state(),
        hilo::State::Pending | hilo::State::Running
    ));
    assert!(next.cancel());
    assert_eq!(busy.result(), Ok(300), "the running task is left alone");
    assert_eq!(next.result(), Err(TaskError::Cancelled));
    next_hundred_succeed(&pool);
    assert_no_zombies();
}

fn tasks_held_by_a_worker_that_dies_run_on_the_next_one() {
    let pool = pool(1);
    warm_up(&pool);
    let pid = pool.worker_pids()[0];
    // The first task kills its worker; the second was sent to the same
    // worker behind it and must run on the replacement, not fail.
    let dies = pool.submit(exit_with::call(5)).unwrap();
    let after: Vec<_> = (0..20u64)
        .map(|i| pool.submit(square::call(i)).unwrap())
        .collect();
    assert_eq!(
        dies.result(),
        Err(TaskError::WorkerDied {
            code: Some(5),
            signal: None
        })
    );
    for (i, f) in after.into_iter().enumerate() {
        assert_eq!(f.result(), Ok((i * i) as u64));
    }
    assert!(!pool.worker_pids().contains(&pid));
    assert_no_zombies();
}

fn a_result_of_the_wrong_type_is_a_clear_error() {
    let pool = pool(1);
    // Built by hand with a result type the task does not return.
    let call: Call<Vec<String>> = Call::new(square::NAME, &(3u64,));
    match pool.submit(call).unwrap().result() {
        Err(TaskError::Failed { message }) => {
            assert!(
                message.contains("cannot decode the task's result"),
                "{message}"
            )
        }
        other => panic!("expected a decode failure, got {other:?}"),
    }
    next_hundred_succeed(&pool);
}

fn zero_workers_is_a_build_error() {
    let err = ProcessPool::builder().max_workers(0).build().unwrap_err();
    assert!(matches!(err, BuildError::ZeroWorkers));
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(ProcessPool::builder().build().unwrap().max_workers(), cores);
}

fn a_program_without_init_gets_a_clear_error_quickly() {
    for program in ["/bin/true", "/bin/cat"] {
        let start = Instant::now();
        let err = ProcessPool::builder().program(program).build().unwrap_err();
        assert!(
            matches!(err, BuildError::Worker { .. }),
            "{program}: {err:?}"
        );
        assert!(err.to_string().contains("hilo::init()"), "{err}");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{program}: {:?}",
            start.elapsed()
        );
    }
    assert_no_zombies();
}

fn megabytes_on_stdout_and_stderr_do_not_disturb_the_pool() {
    // In a helper process whose output goes to /dev/null, to keep the log small.
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--helper", "spam"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the spam helper failed: {status}");
}

fn workers_die_with_their_parent() {
    let mut helper = Command::new(std::env::current_exe().unwrap())
        .args(["--helper", "parent"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(helper.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pids: Vec<u32> = line
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2, "helper said {line:?}");
    helper.kill().unwrap(); // SIGKILL
    helper.wait().unwrap();
    for pid in pids {
        assert!(
            wait_exit(pid, Duration::from_secs(10)),
            "worker {pid} outlived its parent"
        );
    }
}

// ---- helper programs ------------------------------------------------------------

fn helper(name: &str) {
    match name {
        "spam" => {
            let pool = pool(1);
            let fut = pool.submit(print_lots::call(4)).unwrap();
            assert_eq!(fut.result(), Ok(4 << 20));
            next_hundred_succeed(&pool);
        }
        "parent" => {
            let pool = pool(2);
            // Make sure both slots have a worker.
            let futs: Vec<_> = (0..2)
                .map(|_| pool.submit(sleep_ms::call(300)).unwrap())
                .collect();
            for f in futs {
                f.result().unwrap();
            }
            let pids = pool.worker_pids();
            println!(
                "{}",
                pids.iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            std::io::stdout().flush().unwrap();
            // Wait to be killed (read stdin until EOF: it never comes).
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
            std::thread::sleep(Duration::from_secs(60));
        }
        other => panic!("unknown helper {other}"),
    }
}

fn main() {
    let tests: &[(&str, fn())] = tests![
        results_come_back_from_worker_processes,
        long_tasks_submitted_right_after_build_run_side_by_side,
        a_panicking_task_is_an_error_and_its_worker_keeps_serving,
        crash_matrix_each_crash_fails_only_its_task,
        a_timeout_kills_the_task_and_its_worker,
        the_pool_default_timeout_applies_to_every_task,
        a_timeout_too_far_off_to_reach_is_no_timeout,
        cancel_of_a_running_task_kills_its_worker,
        an_unknown_task_name_fails_that_task_only,
        encoded_calls_run_by_name_and_keep_their_values_encoded,
        max_tasks_per_child_replaces_workers_without_deadlock,
        shutdown_reaps_every_worker_and_refuses_new_tasks,
        terminate_kills_running_work,
        map_runs_over_the_process_pool_unchanged,
        chunked_map_gives_one_result_per_item_in_order,
        a_panic_in_a_chunk_fails_only_its_item,
        a_worker_death_in_a_chunk_fails_that_chunk_only,
        the_initializer_runs_in_every_worker_before_tasks,
        workers_get_extra_env_vars_and_nice,
        a_cancelled_task_that_waits_behind_another_never_returns_a_value,
        tasks_held_by_a_worker_that_dies_run_on_the_next_one,
        a_result_of_the_wrong_type_is_a_clear_error,
        zero_workers_is_a_build_error,
        a_program_without_init_gets_a_clear_error_quickly,
        megabytes_on_stdout_and_stderr_do_not_disturb_the_pool,
        workers_die_with_their_parent,
    ];
    runner::main(helper, tests);
}
