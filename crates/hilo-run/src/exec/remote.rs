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
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use rustix::process::{Pid, Signal};
use serde::{Deserialize, Serialize};

use super::{Runner, KILL_GRACE};
use crate::captured::{self, Captured};
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
/// past `timeout_ms` the group gets TERM, then KILL a second later.
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
    if let Err(e) = run_here(&argv, timeout_ms.map(Duration::from_millis), &mut job) {
        let name = argv
            .first()
            .map_or_else(String::new, |a| String::from_utf8_lossy(a).into_owned());
        let (code, why) = match e.kind() {
            std::io::ErrorKind::NotFound => (127, "command not found".to_owned()),
            std::io::ErrorKind::PermissionDenied => (126, "permission denied".to_owned()),
            _ => (126, e.to_string()),
        };
        job.exit = Some(code);
        job.stderr = format!("hilo run: {name}: {why}\n").into_bytes();
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
    let (mut out, mut err) = (captured::file()?, captured::file()?);
    let mut command = Command::new(OsString::from_vec(program.clone()));
    command
        .args(args.iter().map(|a| std::ffi::OsStr::from_bytes(a)))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(err.try_clone()?)
        .process_group(0);
    // SAFETY: between fork and exec only async-signal-safe calls are
    // allowed; `prctl(PR_SET_PDEATHSIG)` is one system call, touching no
    // memory of the parent. It makes the job die with the worker process
    // running it (a cancel kills that process).
    unsafe {
        command.pre_exec(|| {
            rustix::process::set_parent_process_death_signal(Some(Signal::KILL))
                .map_err(std::io::Error::from)
        });
    }
    let mut child = command.spawn()?;
    let pid = Pid::from_child(&child);
    // The pidfd says when the job exits, without reaping it: until it is
    // reaped its group id names nobody else.
    let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())?;
    if let Some(limit) = timeout {
        if !exited_within(&pidfd, limit) {
            job.timed_out = true;
            let _ = rustix::process::kill_process_group(pid, Signal::TERM);
            if !exited_within(&pidfd, KILL_GRACE) {
                let _ = rustix::process::kill_process_group(pid, Signal::KILL);
            }
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

/// True if the process behind `pidfd` exits within `limit`.
fn exited_within(pidfd: &impl AsFd, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut fds = [rustix::event::PollFd::new(
            pidfd,
            rustix::event::PollFlags::IN,
        )];
        let timeout = rustix::event::Timespec::try_from(left).unwrap_or(rustix::event::Timespec {
            tv_sec: i64::MAX,
            tv_nsec: 0,
        });
        match rustix::event::poll(&mut fds, Some(&timeout)) {
            Ok(n) if n > 0 => return true,
            Ok(_) => return false,
            Err(rustix::io::Errno::INTR) if !left.is_zero() => {}
            Err(_) => return false,
        }
    }
}

impl Runner {
    /// One try of job `seq` on the cluster.
    pub(super) fn run_remote(
        &self,
        exec: &hilo_redis::RedisExecutor,
        seq: u64,
        argv: &[OsString],
    ) -> JobReport {
        let mut report = JobReport {
            seq,
            args: Vec::new(),
            command: Vec::new(),
            exit: None,
            signal: None,
            start: SystemTime::now(),
            runtime: Duration::ZERO,
            stdout: Captured::default(),
            stderr: Captured::default(),
            stdout_bytes: 0,
            tries: 1,
            timed_out: false,
            output_error: None,
        };
        let argv = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
        let timeout_ms = self.settings.timeout.map(|t| t.as_millis() as u64);
        let outcome = exec
            .submit(run_job::call(argv, timeout_ms))
            .map_err(hilo::TaskError::from)
            .and_then(|fut| {
                // Wait, but kill it on a second Ctrl+C or `--halt now`.
                while !fut.wait_timeout(Duration::from_millis(100)) {
                    if self.interrupts.load(Ordering::SeqCst) > 1
                        || self.terminating.load(Ordering::SeqCst)
                    {
                        fut.cancel();
                    }
                }
                fut.result()
            });
        match outcome {
            Ok(job) => {
                report.exit = job.exit;
                report.signal = job.signal;
                report.start = SystemTime::UNIX_EPOCH + Duration::from_nanos(job.start_ns);
                report.runtime = Duration::from_nanos(job.runtime_ns);
                report.stdout_bytes = job.stdout.len() as u64;
                report.stdout = Captured::from(job.stdout);
                report.stderr = Captured::from(job.stderr);
                report.timed_out = job.timed_out;
            }
            Err(hilo::TaskError::Cancelled) => report.signal = Some(Signal::KILL.as_raw()),
            Err(e) => {
                report.exit = Some(255);
                report.stderr = Captured::from(
                    format!("hilo run: the job could not run on the cluster: {e}\n").into_bytes(),
                );
            }
        }
        report
    }
}
