//! The pool's side of one worker process: starting it (and its `Ready`
//! handshake), reading its frames with a timeout, and ending and reaping it
//! whichever way it goes. Every signal goes through a pidfd opened while the
//! process was still unreaped, so none can reach a process that reused its
//! pid.

use std::ffi::OsString;
use std::io::{self, BufReader};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use super::protocol::{
    read_body, read_frame, spin_for_data, write_frame, FrameError, FromWorker, ToWorker, MAX_FRAME,
};
use super::worker;
use crate::error::TaskError;

/// How long a new worker may take to say `Ready`.
const HANDSHAKE: Duration = Duration::from_secs(2);

/// Settings a worker is started with.
#[derive(Clone, Debug)]
pub(super) struct Config {
    pub(super) program: PathBuf,
    pub(super) env: Vec<(OsString, OsString)>,
    pub(super) rlimit_as: Option<u64>,
    pub(super) rlimit_cpu: Option<u64>,
    pub(super) nice: Option<u32>,
    pub(super) initializer: Option<&'static str>,
    pub(super) timeout: Option<Duration>,
    pub(super) max_tasks_per_child: Option<usize>,
}

/// A handle that names one worker process for as long as anyone holds it
/// (a pidfd), even after the process is reaped and its pid reused: a
/// signal sent through it reaches that process or nobody.
#[derive(Clone, Debug)]
pub(super) struct ProcHandle {
    pid: u32,
    fd: Arc<OwnedFd>,
}

impl ProcHandle {
    /// Opens a handle on `child`, which must not have been reaped (holding
    /// the `Child` unwaited guarantees its pid still names it).
    pub(super) fn open(child: &Child) -> io::Result<ProcHandle> {
        let pid = child.id();
        let raw = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .ok_or_else(|| io::Error::other(format!("bad pid {pid}")))?;
        let fd = rustix::process::pidfd_open(raw, rustix::process::PidfdFlags::empty())?;
        Ok(ProcHandle {
            pid,
            fd: Arc::new(fd),
        })
    }

    /// The process id (for display; never used to signal).
    pub(super) fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends SIGKILL to the process if it has not exited; does nothing to
    /// any other process, whatever has happened to the pid since.
    pub(super) fn kill(&self) {
        let _ = rustix::process::pidfd_send_signal(&*self.fd, rustix::process::Signal::KILL);
    }

    /// Waits up to `timeout` for the process to exit, woken by the kernel;
    /// true if it did. Does not reap it.
    fn exited_within(&self, timeout: Duration) -> bool {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let mut fds = [PollFd::new(&*self.fd, PollFlags::IN)];
        let ts = Timespec {
            tv_sec: timeout.as_secs().try_into().unwrap_or(i64::MAX),
            tv_nsec: timeout.subsec_nanos().into(),
        };
        matches!(poll(&mut fds, Some(&ts)), Ok(n) if n > 0)
    }
}

/// A live worker process and its connection.
pub(super) struct Worker {
    pub(super) child: Child,
    /// Signals go through this, never through the bare pid.
    pub(super) handle: ProcHandle,
    pub(super) reader: BufReader<UnixStream>,
    pub(super) writer: UnixStream,
    pub(super) tasks_done: usize,
    /// The largest task frame sent behind a running task: one the socket
    /// takes in a single write while the worker reads nothing (it may be
    /// busy writing a big answer).
    pub(super) pipeline_limit: usize,
    /// The socket's read timeout as last set (a system call to change).
    pub(super) read_timeout: Option<Duration>,
}

impl Worker {
    pub(super) fn spawn(config: &Config) -> Result<Worker, String> {
        let (ours, theirs) =
            UnixStream::pair().map_err(|e| format!("cannot create a socket pair: {e}"))?;
        let mut cmd = Command::new(&config.program);
        cmd.env(worker::ENV_WORKER, std::process::id().to_string())
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit());
        for (var, value) in [
            (worker::ENV_RLIMIT_AS, config.rlimit_as),
            (worker::ENV_RLIMIT_CPU, config.rlimit_cpu),
            (worker::ENV_NICE, config.nice.map(u64::from)),
        ] {
            if let Some(v) = value {
                cmd.env(var, v.to_string());
            }
        }
        if let Some(init) = config.initializer {
            cmd.env(worker::ENV_INIT, init);
        }
        cmd.envs(config.env.iter().map(|(k, v)| (k, v)));
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start a worker ({}): {e}", config.program.display()))?;
        drop(cmd); // closes our copy of the worker's end
        let handle = match ProcHandle::open(&child) {
            Ok(handle) => handle,
            Err(e) => {
                // Not reaped yet, so std's kill still names our child.
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "cannot open a pidfd for the worker (Linux 5.3 or later is needed): {e}"
                ));
            }
        };
        let writer = ours
            .try_clone()
            .map_err(|e| format!("cannot clone the worker socket: {e}"))?;
        let pipeline_limit = pipeline_limit(&writer);
        let mut worker = Worker {
            child,
            handle,
            reader: BufReader::new(ours),
            writer,
            tasks_done: 0,
            pipeline_limit,
            read_timeout: None,
        };
        match worker.read(Some(HANDSHAKE)) {
            Ok(FromWorker::Ready { .. }) => Ok(worker),
            Ok(FromWorker::SetupFailed { reason }) => {
                worker.kill_and_reap();
                Err(reason)
            }
            Ok(other) => {
                worker.kill_and_reap();
                Err(format!("the worker sent {other:?} instead of Ready"))
            }
            Err(e) => {
                let status = worker.kill_and_reap();
                Err(format!(
                    "the worker process did not start serving ({e}; it {status}). \
                     Is hilo::init() the first line of main?"
                ))
            }
        }
    }

    fn read(&mut self, timeout: Option<Duration>) -> Result<FromWorker, FrameError> {
        self.set_read_timeout(timeout)?;
        read_frame(&mut self.reader, MAX_FRAME)
    }

    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        // A zero timeout means "none" to the socket; the caller checks its
        // deadline before reading, so round a spent one up to 1 ns.
        let timeout = timeout.map(|t| t.max(Duration::from_nanos(1)));
        if timeout != self.read_timeout {
            self.reader.get_ref().set_read_timeout(timeout)?;
            self.read_timeout = timeout;
        }
        Ok(())
    }

    /// One frame's body, undecoded.
    pub(super) fn read_body(&mut self, timeout: Option<Duration>) -> Result<Vec<u8>, FrameError> {
        if self.reader.buffer().is_empty() {
            spin_for_data(self.reader.get_ref());
        }
        self.set_read_timeout(timeout)?;
        read_body(&mut self.reader, MAX_FRAME)
    }

    /// Kills the worker (if still alive) and reaps it; describes how it
    /// ended.
    pub(super) fn kill_and_reap(&mut self) -> String {
        self.handle.kill();
        match self.child.wait() {
            Ok(status) => describe(status),
            Err(e) => format!("could not be reaped: {e}"),
        }
    }

    /// Reaps a worker whose connection broke and reports how it ended. If
    /// it is somehow still alive, kill it first.
    pub(super) fn reap_dead(&mut self) -> TaskError {
        // The socket closes while the process exits, a moment before it can
        // be reaped: give it a second to finish dying before deciding it
        // lives on (it closed the socket but kept running) and ending it.
        if !self.handle.exited_within(Duration::from_secs(1)) {
            self.handle.kill();
        }
        let status = self.child.wait();
        match status {
            Ok(s) => TaskError::WorkerDied {
                code: s.code(),
                signal: s.signal(),
            },
            Err(_) => TaskError::WorkerDied {
                code: None,
                signal: None,
            },
        }
    }

    /// Asks the worker to exit and reaps it (killing it if it does not
    /// exit in time).
    pub(super) fn retire(mut self) {
        let _ = write_frame(&mut self.writer, &ToWorker::Exit);
        let _ = self.writer.shutdown(std::net::Shutdown::Both);
        if !self.handle.exited_within(Duration::from_secs(2)) {
            self.handle.kill();
        }
        let _ = self.child.wait();
    }
}

/// A frame written into an empty socket in one `write` fits in one buffer
/// (AF_UNIX takes up to half the send buffer at once); a quarter of it,
/// capped at 64 KiB, leaves room for the header and the kernel's overhead.
fn pipeline_limit(socket: &UnixStream) -> usize {
    let sndbuf = rustix::net::sockopt::socket_send_buffer_size(socket).unwrap_or(0);
    (sndbuf / 4).min(64 << 10)
}

fn describe(status: std::process::ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (_, Some(sig)) => format!("was killed by signal {sig}"),
        (Some(code), None) => format!("exited with status {code}"),
        _ => "ended".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Starts `sleep 60` as the process with pid `pid`, by telling the
    /// kernel which pid to hand out next (root only; other processes
    /// starting meanwhile can take it, so the caller retries).
    fn sleep_at_pid(pid: u32) -> Option<Child> {
        std::fs::write("/proc/sys/kernel/ns_last_pid", (pid - 1).to_string()).ok()?;
        let child = Command::new("sleep")
            .arg("60")
            .stdin(Stdio::null())
            .spawn()
            .ok()?;
        if child.id() == pid {
            return Some(child);
        }
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    #[test]
    fn a_handle_never_signals_a_process_that_reused_the_pid() {
        if !rustix::process::geteuid().is_root() {
            eprintln!("skipped: choosing the next pid needs root");
            return;
        }
        for _ in 0..50 {
            let mut gone = Command::new("true").spawn().unwrap();
            let handle = ProcHandle::open(&gone).unwrap();
            gone.wait().unwrap();
            let Some(mut reuser) = sleep_at_pid(handle.pid()) else {
                continue;
            };
            handle.kill();
            // A SIGKILL that reached it would end it within microseconds.
            let reuser_handle = ProcHandle::open(&reuser).unwrap();
            let untouched = !reuser_handle.exited_within(Duration::from_secs(1));
            let _ = reuser.kill();
            let _ = reuser.wait();
            assert!(
                untouched,
                "the kill reached the process that reused the pid"
            );
            return;
        }
        panic!("could not start a process at a reused pid in 50 tries");
    }
}
