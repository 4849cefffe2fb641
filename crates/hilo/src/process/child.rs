//! The pool's side of one worker process: starting it (and its `Ready`
//! handshake), reading its frames with a timeout, and ending and reaping it
//! whichever way it goes.

use std::ffi::OsString;
use std::io::{self, BufReader};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
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

/// A live worker process and its connection.
pub(super) struct Worker {
    pub(super) child: Child,
    pub(super) pid: u32,
    pub(super) reader: BufReader<UnixStream>,
    pub(super) writer: UnixStream,
    pub(super) tasks_done: usize,
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
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start a worker ({}): {e}", config.program.display()))?;
        drop(cmd); // closes our copy of the worker's end
        let writer = ours
            .try_clone()
            .map_err(|e| format!("cannot clone the worker socket: {e}"))?;
        let mut worker = Worker {
            pid: child.id(),
            child,
            reader: BufReader::new(ours),
            writer,
            tasks_done: 0,
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
        let _ = self.child.kill();
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
        if !exited_within(self.pid, Duration::from_secs(1)) {
            let _ = self.child.kill();
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
        if !exited_within(self.pid, Duration::from_secs(2)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Waits up to `timeout` for process `pid` (our child) to exit, woken by
/// the kernel through a pidfd; true if it did. Does not reap it.
fn exited_within(pid: u32, timeout: Duration) -> bool {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let Some(p) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    let Ok(fd) = rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()) else {
        return false; // no pidfd (old kernel): the caller kills and reaps
    };
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let ts = Timespec {
        tv_sec: timeout.as_secs().try_into().unwrap_or(i64::MAX),
        tv_nsec: timeout.subsec_nanos().into(),
    };
    matches!(poll(&mut fds, Some(&ts)), Ok(n) if n > 0)
}

fn describe(status: std::process::ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (_, Some(sig)) => format!("was killed by signal {sig}"),
        (Some(code), None) => format!("exited with status {code}"),
        _ => "ended".to_owned(),
    }
}
