//! One try of a job: its child process (in a process group of its own),
//! registered so a signal can reach it while it is known unreaped, its
//! output captured in temporary files or copied line by line
//! (`--line-buffer`), and its reaping.

use std::ffi::OsString;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime};

use rustix::process::{Pid, Signal};

use super::{kill_group, Capture, LineOut, Runner, Running};
use crate::captured::{self, Captured};
use crate::report::JobReport;

/// A command that could not be started: a shell's exit status (127 not
/// found, 126 not runnable) and the line `hilo run` says about it.
pub(super) fn not_started(program: &str, e: &io::Error) -> (i32, Vec<u8>) {
    let (code, why) = match e.kind() {
        io::ErrorKind::NotFound => (127, "command not found".to_owned()),
        io::ErrorKind::PermissionDenied => (126, "permission denied".to_owned()),
        _ => (126, e.to_string()),
    };
    (code, format!("hilo run: {program}: {why}\n").into_bytes())
}

impl Runner {
    /// One try of a job; `None` if it was not started after all (a job
    /// queued for the cluster when `hilo run` started stopping).
    pub(super) fn run_once(&self, seq: u64, argv: &[OsString], out: &LineOut) -> Option<JobReport> {
        if let Some(batcher) = &self.batcher {
            return self.run_remote(batcher, seq, argv);
        }
        let start = SystemTime::now();
        let began = Instant::now();
        let mut report = JobReport::started(seq, start);
        let result = match self.settings.capture {
            Capture::Whole => self.run_captured(seq, argv, &mut report),
            Capture::Lines { .. } => self.run_line_buffered(seq, argv, out, &mut report),
        };
        if let Err(e) = result {
            let (code, message) = not_started(&argv[0].to_string_lossy(), &e);
            report.exit = Some(code);
            match self.settings.capture {
                Capture::Whole => report.stderr = Captured::from(message),
                Capture::Lines { .. } => {
                    if let Err(e) = self.emit(out, false, &message) {
                        report.output_error = Some(e);
                    }
                }
            }
        }
        report.runtime = began.elapsed();
        Some(report)
    }

    fn command(&self, argv: &[OsString]) -> Command {
        let mut cmd = Command::new(self.programs.resolve(&argv[0]));
        cmd.arg0(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .process_group(0);
        cmd
    }

    /// Runs with stdout and stderr in temporary files, collected when it
    /// ends.
    fn run_captured(&self, seq: u64, argv: &[OsString], report: &mut JobReport) -> io::Result<()> {
        let file = || captured::file().map_err(|e| io::Error::other(captured::no_file(&e)));
        let (out, err) = (file()?, file()?);
        let child = self
            .command(argv)
            .stdout(out.try_clone()?)
            .stderr(err.try_clone()?)
            .spawn()?;
        self.wait_child(seq, child, report)?;
        report.stdout = Captured::collect(out, &self.budget)?;
        report.stderr = Captured::collect(err, &self.budget)?;
        report.stdout_bytes = report.stdout.len();
        Ok(())
    }

    /// Runs with pipes, printing each complete line as soon as it arrives.
    fn run_line_buffered(
        &self,
        seq: u64,
        argv: &[OsString],
        lines: &LineOut,
        report: &mut JobReport,
    ) -> io::Result<()> {
        let mut child = self
            .command(argv)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let out = child.stdout.take().map(OwnedFd::from);
        let err = child.stderr.take().map(OwnedFd::from);
        // Registered first, so a timeout can kill a job that never closes
        // its output.
        let pid = self.register(seq, &child);
        // A copy that fails (our stdout closed) drops the pipes first, so
        // the job is not left blocked on a full one.
        let copied = self.copy_lines(out, err, pid, lines);
        self.reap(seq, pid, child, report)?;
        match copied {
            Ok(n) => report.stdout_bytes = n,
            Err(e) => report.output_error = Some(e),
        }
        Ok(())
    }

    /// Copies lines from the job's pipes to our stdout / stderr until both
    /// close, or until the job (`pid`) has exited and what it wrote is
    /// read: a background process it left holding the pipes (`sleep 60 &`)
    /// does not keep the job running, as it does not in the default mode.
    /// Returns the bytes read from stdout.
    fn copy_lines(
        &self,
        out: Option<OwnedFd>,
        err: Option<OwnedFd>,
        pid: Pid,
        lines: &LineOut,
    ) -> io::Result<u64> {
        use rustix::event::{poll, PollFd, PollFlags};
        // Readable once the job exits (no pidfd on old kernels: then the
        // pipes' end is waited for).
        let mut exited =
            rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok();
        let mut streams = [
            (out, Vec::new(), true),  // stdout
            (err, Vec::new(), false), // stderr
        ];
        let mut stdout_bytes = 0u64;
        let mut buf = vec![0u8; 64 << 10];
        // The job has exited: read what is left without waiting.
        let mut draining = false;
        loop {
            let (open, mut fds): (Vec<usize>, Vec<PollFd<'_>>) = streams
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.0.as_ref().map(|fd| (i, PollFd::new(fd, PollFlags::IN))))
                .chain(
                    exited
                        .as_ref()
                        .map(|fd| (usize::MAX, PollFd::new(fd, PollFlags::IN))),
                )
                .unzip();
            if open.iter().all(|&i| i == usize::MAX) {
                return Ok(stdout_bytes);
            }
            match poll(&mut fds, None) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
            let ready: Vec<usize> = open
                .iter()
                .zip(&fds)
                .filter(|(_, f)| !f.revents().is_empty())
                .map(|(&i, _)| i)
                .collect();
            drop(fds);
            if ready.contains(&usize::MAX) {
                // The job is gone: everything it wrote is in the pipes.
                // Read that without waiting, then let the pipes go.
                exited = None;
                draining = true;
                for (fd, _, _) in &streams {
                    if let Some(fd) = fd {
                        rustix::io::ioctl_fionbio(fd, true)?;
                    }
                }
            }
            for (i, (fd, pending, is_stdout)) in streams.iter_mut().enumerate() {
                if !draining && !ready.contains(&i) {
                    continue;
                }
                loop {
                    let n = match fd.as_ref().map(|fd| rustix::io::read(fd, &mut buf[..])) {
                        Some(Ok(n)) => n,
                        Some(Err(rustix::io::Errno::INTR)) => continue,
                        Some(Err(rustix::io::Errno::AGAIN)) | None => {
                            if draining {
                                // All the job wrote is read.
                                *fd = None;
                                if !pending.is_empty() {
                                    self.emit(lines, *is_stdout, pending)?;
                                    pending.clear();
                                }
                            }
                            break;
                        }
                        Some(Err(e)) => return Err(e.into()),
                    };
                    if n == 0 {
                        *fd = None;
                        if !pending.is_empty() {
                            self.emit(lines, *is_stdout, pending)?;
                            pending.clear();
                        }
                        break;
                    }
                    if *is_stdout {
                        stdout_bytes += n as u64;
                    }
                    pending.extend_from_slice(&buf[..n]);
                    if let Some(last_nl) = pending.iter().rposition(|&b| b == b'\n') {
                        let rest = pending.split_off(last_nl + 1);
                        self.emit(lines, *is_stdout, pending)?;
                        *pending = rest;
                    }
                    if !draining {
                        // One read per wake-up; poll says when there is more.
                        break;
                    }
                }
            }
        }
    }

    /// Hands complete lines (each prefixed) to our stdout or stderr, in
    /// one piece so no other job's line lands inside them.
    fn emit(&self, out: &LineOut, to_stdout: bool, lines: &[u8]) -> io::Result<()> {
        let mut block = Vec::with_capacity(lines.len() + out.prefix.len() * 4);
        crate::output::prefix_lines(&mut block, &out.prefix, lines);
        self.settings.lines.write(out.order, to_stdout, &block)
    }

    fn register(&self, seq: u64, child: &Child) -> Pid {
        let pid = Pid::from_child(child);
        let deadline = self.settings.timeout.map(|t| Instant::now() + t);
        let mut running = self.running.lock();
        // The child runs already: a Ctrl+C or `--halt now` that came since
        // the spawn walked the map without it, so it gets what the others
        // got. Read under the lock the walks take, after the flags they
        // set first.
        let term_sent = self.terminating.load(Ordering::SeqCst).then(Instant::now);
        running.insert(
            seq,
            Running {
                pgid: pid,
                deadline,
                term_sent,
                timed_out: false,
            },
        );
        if term_sent.is_some() {
            kill_group(pid, Signal::TERM);
        }
        match self.interrupts.load(Ordering::SeqCst) {
            0 => {}
            1 => kill_group(pid, self.forwarded()),
            _ => kill_group(pid, Signal::KILL),
        }
        drop(running);
        if deadline.is_some() || term_sent.is_some() {
            self.watchdog.notify_all();
        }
        pid
    }

    fn wait_child(&self, seq: u64, child: Child, report: &mut JobReport) -> io::Result<()> {
        let pid = self.register(seq, &child);
        self.reap(seq, pid, child, report)
    }

    /// Waits for the child to exit, forgets it (so nothing signals its
    /// group any more), then reaps it: its pid cannot be reused before.
    fn reap(&self, seq: u64, pid: Pid, mut child: Child, report: &mut JobReport) -> io::Result<()> {
        use rustix::process::{waitid, WaitId, WaitIdOptions};
        loop {
            match waitid(
                WaitId::Pid(pid),
                WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
            ) {
                Ok(_) => break,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(r) = self.running.lock().remove(&seq) {
            report.timed_out = r.timed_out;
            // A job that was told to stop (timeout, halt, Ctrl+C) takes
            // its whole group with it: a background `sleep 100 &` ignores
            // SIGINT and would outlive us. The group id is still ours: the
            // leader is not reaped yet.
            if r.term_sent.is_some() || self.interrupted.load(Ordering::SeqCst) {
                kill_group(r.pgid, Signal::KILL);
            }
        }
        let status = child.wait()?;
        report.exit = status.code();
        report.signal = status.signal();
        Ok(())
    }
}
