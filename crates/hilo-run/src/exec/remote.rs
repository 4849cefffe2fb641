//! `hilo run --cluster`: a try of a job on a cluster worker. The client
//! renders the command line and keeps everything else (retries, `--halt`,
//! order, the job log, `--results`); a worker runs the command (the
//! `run_job` task) and sends back its status, times and output.

use std::ffi::OsString;
use std::io::{Read, Seek};
use std::os::fd::AsFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use rustix::process::{Pid, Signal};
use serde::{Deserialize, Serialize};

use super::batch::{Batcher, Sent};
use super::{Programs, Runner, KILL_GRACE};
use crate::captured::Captured;
use crate::report::JobReport;

/// A job's try as the worker saw it.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct RemoteJob {
    exit: Option<i32>,
    signal: Option<i32>,
    /// Start, in nanoseconds since the Unix epoch (the worker's clock).
    start_ns: u64,
    runtime_ns: u64,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    timed_out: bool,
}

/// Runs `argv` on this machine (a cluster worker) as `hilo run` runs a job:
/// stdin from /dev/null, in a process group of its own, output captured;
/// past `timeout_ms`, or when its stop token says so, the group gets TERM,
/// then KILL a second later. Served on a worker's threads
/// ([`job_task_name`]).
#[hilo::task]
pub(super) fn run_job(argv: Vec<Vec<u8>>, timeout_ms: Option<u64>) -> RemoteJob {
    let start = SystemTime::now();
    let began = Instant::now();
    let mut job = RemoteJob {
        exit: None,
        signal: None,
        start_ns: start
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
        runtime_ns: 0,
        stdout: Vec::new(),
        stderr: Vec::new(),
        timed_out: false,
    };
    if hilo::StopToken::current().is_some_and(|t| t.is_stop_requested()) {
        // Its batch was cancelled (or taken from this worker) before its
        // turn came: it never starts. Nobody waits for this answer.
        job.signal = Some(Signal::KILL.as_raw());
        return job;
    }
    if let Err(e) = run_here(&argv, timeout_ms.map(Duration::from_millis), &mut job) {
        let name = argv
            .first()
            .map_or_else(String::new, |a| String::from_utf8_lossy(a).into_owned());
        let (code, message) = super::child::not_started(&name, &e);
        job.exit = Some(code);
        job.stderr = message;
    }
    job.runtime_ns = began.elapsed().as_nanos() as u64;
    job
}

fn run_here(
    argv: &[Vec<u8>],
    timeout: Option<Duration>,
    job: &mut RemoteJob,
) -> std::io::Result<()> {
    let Some((program, args)) = argv.split_first() else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "empty command",
        ));
    };
    let (mut out, mut err) = (memory_file("stdout")?, memory_file("stderr")?);
    // Looked up once per name in this worker process, as here.
    static PROGRAMS: std::sync::LazyLock<Programs> = std::sync::LazyLock::new(Programs::default);
    let name = OsString::from_vec(program.clone());
    let mut command = Command::new(PROGRAMS.resolve(&name));
    command
        .arg0(&name)
        .args(args.iter().map(|a| std::ffi::OsStr::from_bytes(a)))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(err.try_clone()?)
        .process_group(0);
    let mut child = command.spawn()?;
    let pid = Pid::from_child(&child);
    // The pidfd says when the job exits, without reaping it: until it is
    // reaped its group id names nobody else.
    let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())?;
    // Run on a worker's thread, the task learns of a cancel (or a lost
    // lease) through its stop token: the job is then stopped as at a
    // timeout.
    let stop = hilo::StopToken::current();
    let deadline = timeout.map(|t| Instant::now() + t);
    let stopped = wait_exit(&pidfd, deadline, stop.as_ref());
    if stopped != Waited::Exited {
        job.timed_out = stopped == Waited::TimedOut;
        let _ = rustix::process::kill_process_group(pid, Signal::TERM);
        let grace = Some(Instant::now() + KILL_GRACE);
        if wait_exit(&pidfd, grace, None) != Waited::Exited {
            let _ = rustix::process::kill_process_group(pid, Signal::KILL);
        }
    }
    let status = child.wait()?;
    job.exit = status.code();
    job.signal = status.signal();
    for (file, into) in [(&mut out, &mut job.stdout), (&mut err, &mut job.stderr)] {
        file.rewind()?;
        file.read_to_end(into)?;
    }
    Ok(())
}

/// An anonymous file in memory for a job's output: the whole of it goes
/// back in the reply anyway, and it costs no inode on a disk.
fn memory_file(name: &str) -> std::io::Result<std::fs::File> {
    let fd = rustix::fs::memfd_create(name, rustix::fs::MemfdFlags::CLOEXEC)?;
    Ok(std::fs::File::from(fd))
}

/// How a wait for a job's exit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waited {
    Exited,
    TimedOut,
    Stopped,
}

/// Waits until the process behind `pidfd` exits, `deadline` passes, or
/// `stop` is requested (looked at every 50 ms).
fn wait_exit(
    pidfd: &impl AsFd,
    deadline: Option<Instant>,
    stop: Option<&hilo::StopToken>,
) -> Waited {
    const LOOK: Duration = Duration::from_millis(50);
    loop {
        if stop.is_some_and(hilo::StopToken::is_stop_requested) {
            return Waited::Stopped;
        }
        let mut slice = if stop.is_some() {
            LOOK
        } else {
            Duration::from_secs(3600)
        };
        if let Some(at) = deadline {
            let left = at.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Waited::TimedOut;
            }
            slice = slice.min(left);
        }
        let timeout = rustix::event::Timespec::try_from(slice).unwrap_or(rustix::event::Timespec {
            tv_sec: 3600,
            tv_nsec: 0,
        });
        let mut fds = [rustix::event::PollFd::new(
            pidfd,
            rustix::event::PollFlags::IN,
        )];
        match rustix::event::poll(&mut fds, Some(&timeout)) {
            Ok(n) if n > 0 => return Waited::Exited,
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            // Cannot wait on it: let the caller reap it.
            Err(_) => return Waited::Exited,
        }
    }
}

/// The name the `run_job` task is registered under: what `hilo worker`
/// runs on its own threads (a job is a process of its own already).
pub fn job_task_name() -> &'static str {
    run_job::call(Vec::new(), None).task_name()
}

impl RemoteJob {
    /// How long the job ran.
    pub(super) fn runtime(&self) -> Duration {
        Duration::from_nanos(self.runtime_ns)
    }
}

impl Runner {
    /// One try of job `seq` on the cluster; `None` if it was still queued
    /// here when `hilo run` started stopping.
    pub(super) fn run_remote(
        &self,
        batcher: &Batcher,
        seq: u64,
        argv: &[OsString],
    ) -> Option<JobReport> {
        let mut report = JobReport::started(seq, SystemTime::now());
        let argv = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
        match batcher.run(argv) {
            Sent::Ran(job) => {
                report.exit = job.exit;
                report.signal = job.signal;
                report.start = SystemTime::UNIX_EPOCH + Duration::from_nanos(job.start_ns);
                report.runtime = job.runtime();
                report.stdout_bytes = job.stdout.len() as u64;
                report.stdout = Captured::from(job.stdout);
                report.stderr = Captured::from(job.stderr);
                report.timed_out = job.timed_out;
            }
            Sent::NotStarted => return None,
            Sent::Failed(hilo::TaskError::Cancelled) => report.signal = Some(Signal::KILL.as_raw()),
            Sent::Failed(e) => {
                report.exit = Some(255);
                report.stderr = Captured::from(
                    format!("hilo run: the job could not run on the cluster: {e}\n").into_bytes(),
                );
            }
        }
        Some(report)
    }
}
