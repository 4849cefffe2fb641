//! The worker side: what `hilo::init()` does in a process the pool started.
//!
//! It owns the worker's life: read and remove the pool's settings from the
//! environment, take the connection (handed over as stdin), arrange to die
//! with the parent, apply the limits the pool asked for, say `Ready`, then
//! run tasks one at a time until told to exit or the connection closes.
//! Stdout and stderr stay the user's; nothing else of the pool's reaches a
//! process a task starts (no marker variable, no descriptor).

use std::ffi::OsString;
use std::fs::File;
use std::io::BufReader;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::process::{Resource, Rlimit, Signal};

use super::protocol::{
    decode_body, read_body, spin_for_data, write_frame, FrameError, FromWorker, ToWorkerIn,
    WireOutcome, MAX_FRAME,
};
use super::registry;
use crate::error::panic_message;

/// Set in a worker's environment: the pid of the pool's process.
pub(crate) const ENV_WORKER: &str = "HILO_WORKER";
/// Optional: address-space limit in bytes.
pub(crate) const ENV_RLIMIT_AS: &str = "HILO_WORKER_RLIMIT_AS";
/// Optional: CPU-time limit in seconds.
pub(crate) const ENV_RLIMIT_CPU: &str = "HILO_WORKER_RLIMIT_CPU";
/// Optional: niceness increment.
pub(crate) const ENV_NICE: &str = "HILO_WORKER_NICE";
/// Optional: name of a registered task to run once before serving.
pub(crate) const ENV_INIT: &str = "HILO_WORKER_INIT";

/// Every variable the pool sets in a worker's environment.
const ALL_ENV: [&str; 5] = [
    ENV_WORKER,
    ENV_RLIMIT_AS,
    ENV_RLIMIT_CPU,
    ENV_NICE,
    ENV_INIT,
];

/// Set by `init()` in a worker before it serves: the marker itself is gone
/// from the environment by then.
static IN_WORKER: AtomicBool = AtomicBool::new(false);

/// True in a process started as a hilo worker.
pub(crate) fn is_worker_process() -> bool {
    IN_WORKER.load(Ordering::Relaxed) || std::env::var_os(ENV_WORKER).is_some()
}

/// What the pool asked of this worker, read from the environment once.
struct Settings {
    parent: OsString,
    rlimit_as: Option<u64>,
    rlimit_cpu: Option<u64>,
    nice: Option<u64>,
    initializer: Option<String>,
}

impl Settings {
    /// Reads the pool's variables and removes every one of them, so no
    /// program a task starts (hilo itself included) takes itself for a
    /// worker. `None` in a process that is not a worker.
    ///
    /// Called by `init()`, first thing in `main`, while the process has one
    /// thread: nothing can read the environment while it changes.
    fn take() -> Option<Result<Settings, String>> {
        let parent = std::env::var_os(ENV_WORKER)?;
        let settings = (|| {
            Ok(Settings {
                parent,
                rlimit_as: env_u64(ENV_RLIMIT_AS)?,
                rlimit_cpu: env_u64(ENV_RLIMIT_CPU)?,
                nice: env_u64(ENV_NICE)?,
                initializer: std::env::var_os(ENV_INIT)
                    .map(|name| name.to_string_lossy().into_owned()),
            })
        })();
        for var in ALL_ENV {
            std::env::remove_var(var);
        }
        IN_WORKER.store(true, Ordering::Relaxed);
        Some(settings)
    }
}

/// Turns this process into a pool worker if it was started as one, and
/// never returns then; returns at once otherwise.
///
/// Call it first thing in `main` of every program that uses a
/// [`ProcessPool`](crate::process::ProcessPool): the pool's workers are
/// this same program, started again with a marker in the environment.
///
/// ```
/// // The first line of `main`: in a worker process this serves tasks and
/// // exits; in the program itself it returns at once.
/// hilo::init();
/// // ... build a ProcessPool, submit tasks ...
/// ```
pub fn init() {
    let Some(settings) = Settings::take() else {
        return;
    };
    let code = match settings.and_then(|s| serve(&s)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("hilo worker {}: {e}", std::process::id());
            3
        }
    };
    // What tasks printed without a final newline would otherwise be lost.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    std::process::exit(code);
}

fn serve(settings: &Settings) -> Result<(), String> {
    die_with_parent(&settings.parent)?;
    let chan = take_connection()?;
    let mut writer = &chan;
    let setup = apply_limits(settings).and_then(|()| run_initializer(settings));
    if let Err(reason) = setup {
        // Tell the pool why, so its error names the cause.
        let _ = write_frame(
            &mut writer,
            &FromWorker::SetupFailed {
                reason: reason.clone(),
            },
        );
        return Err(reason);
    }
    write_frame(
        &mut writer,
        &FromWorker::Ready {
            pid: std::process::id(),
        },
    )
    .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(&chan);
    loop {
        if reader.buffer().is_empty() {
            spin_for_data(&chan);
        }
        let body = match read_body(&mut reader, MAX_FRAME) {
            Ok(body) => body,
            Err(FrameError::Closed) => return Ok(()),
            Err(e) => return Err(format!("bad message from the pool: {e}")),
        };
        match decode_body::<ToWorkerIn<'_>>(&body) {
            Ok(ToWorkerIn::Run { id, task, args }) => {
                let entry = registry::find(task);
                let outcomes = args.iter().map(|a| run_entry(entry, task, a)).collect();
                write_frame(&mut writer, &FromWorker::Done { id, outcomes })
                    .map_err(|e| e.to_string())?;
            }
            Ok(ToWorkerIn::Exit) => return Ok(()),
            Err(e) => return Err(format!("bad message from the pool: {e}")),
        }
    }
}

/// Runs the initializer task the pool named, if any.
fn run_initializer(settings: &Settings) -> Result<(), String> {
    let Some(name) = &settings.initializer else {
        return Ok(());
    };
    match run_task(name, &encode_unit()) {
        WireOutcome::Value(_) => Ok(()),
        WireOutcome::Panicked(m) => Err(format!("the initializer {name} panicked: {m}")),
        WireOutcome::UnknownTask(n) => Err(format!("the initializer {n} is not a registered task")),
        WireOutcome::Failed(m) => Err(format!("the initializer {name} failed: {m}")),
    }
}

fn encode_unit() -> Vec<u8> {
    super::protocol::to_bytes(&()).unwrap_or_default()
}

/// Asks the kernel to kill this process when the thread that started it
/// exits, then checks the parent did not die before that took effect.
fn die_with_parent(parent: &OsString) -> Result<(), String> {
    rustix::process::set_parent_process_death_signal(Some(Signal::KILL))
        .map_err(|e| format!("cannot arrange to die with the pool: {e}"))?;
    let expected = parent.to_string_lossy();
    let actual = rustix::process::getppid().map(|p| p.as_raw_nonzero().get().to_string());
    if actual.as_deref() != Some(expected.as_ref()) {
        // The pool is already gone: nothing to serve.
        std::process::exit(0);
    }
    Ok(())
}

/// The pool hands the connection over as stdin; keep it on a new
/// close-on-exec descriptor and give stdin `/dev/null`, so a task that reads
/// stdin cannot steal frames and a process a task starts does not hold the
/// connection open after the worker dies (the pool would never see it
/// close). Every other descriptor the worker inherited is made
/// close-on-exec too: the pool's program may have inherited some itself.
fn take_connection() -> Result<UnixStream, String> {
    let stdin = std::io::stdin();
    let fd = rustix::io::fcntl_dupfd_cloexec(stdin.as_fd(), 3)
        .map_err(|e| format!("cannot take the pool connection: {e}"))?;
    let devnull = File::open("/dev/null").map_err(|e| format!("cannot open /dev/null: {e}"))?;
    rustix::stdio::dup2_stdin(&devnull).map_err(|e| format!("cannot replace stdin: {e}"))?;
    super::fds::close_inherited_on_exec();
    Ok(UnixStream::from(fd))
}

fn env_u64(name: &str) -> Result<Option<u64>, String> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .map(Some)
            .map_err(|_| format!("{name}={v:?} is not a number")),
        Err(_) => Ok(None),
    }
}

fn apply_limits(settings: &Settings) -> Result<(), String> {
    for (limit, resource, what) in [
        (settings.rlimit_as, Resource::As, "memory"),
        (settings.rlimit_cpu, Resource::Cpu, "CPU time"),
    ] {
        if let Some(limit) = limit {
            let lim = Rlimit {
                current: Some(limit),
                maximum: Some(limit),
            };
            rustix::process::setrlimit(resource, lim)
                .map_err(|e| format!("cannot set the {what} limit to {limit}: {e}"))?;
        }
    }
    if let Some(inc) = settings.nice {
        let inc = i32::try_from(inc).map_err(|_| format!("nice value {inc} is too large"))?;
        rustix::process::nice(inc).map_err(|e| format!("cannot set nice {inc}: {e}"))?;
    }
    Ok(())
}

/// Runs one registered task, catching its panic.
fn run_task(name: &str, args: &[u8]) -> WireOutcome {
    run_entry(registry::find(name), name, args)
}

/// Runs the task `entry` (looked up once for a whole chunk).
fn run_entry(entry: Option<&registry::TaskEntry>, name: &str, args: &[u8]) -> WireOutcome {
    let Some(entry) = entry else {
        return WireOutcome::UnknownTask(name.to_owned());
    };
    match catch_unwind(AssertUnwindSafe(|| entry.run(args))) {
        Ok(Ok(value)) => WireOutcome::Value(value),
        Ok(Err(message)) => WireOutcome::Failed(message),
        Err(payload) => WireOutcome::Panicked(panic_message(&*payload)),
    }
}
