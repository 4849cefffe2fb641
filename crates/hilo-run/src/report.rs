//! What a finished job leaves behind: its report (status, times, output) as
//! the printer, the job log and `--json` see it, the tally of finished jobs,
//! and the run's exit statuses that follow from them. A leaf: the runner
//! makes reports, the output side reads them.

use std::ffi::OsString;
use std::io;
use std::time::{Duration, SystemTime};

use super::captured::Captured;

/// Exit status for an error that is neither a job's failure nor a bad
/// option (those are 2, as in every hilo tool).
pub const EXIT_ERROR: u8 = 255;

/// A finished job, as printed and logged.
#[derive(Debug)]
pub(crate) struct JobReport {
    pub(crate) seq: u64,
    pub(crate) args: Vec<OsString>,
    /// The command line as run (shell-quoted), for the job log and JSON;
    /// empty without them.
    pub(crate) command: Vec<u8>,
    /// Exit code, `None` if killed by a signal.
    pub(crate) exit: Option<i32>,
    pub(crate) signal: Option<i32>,
    pub(crate) start: SystemTime,
    pub(crate) runtime: Duration,
    /// Empty with `--line-buffer` (already printed).
    pub(crate) stdout: Captured,
    pub(crate) stderr: Captured,
    /// Bytes the job wrote to stdout (the job log's Receive column).
    pub(crate) stdout_bytes: u64,
    pub(crate) tries: u32,
    pub(crate) timed_out: bool,
    /// `--line-buffer`: the job's lines could not be copied to our output.
    pub(crate) output_error: Option<io::Error>,
}

impl JobReport {
    /// The report of a try of job `seq` started at `start`, before anything
    /// is known of how it went.
    pub(crate) fn started(seq: u64, start: SystemTime) -> JobReport {
        JobReport {
            seq,
            args: Vec::new(),
            command: Vec::new(),
            exit: None,
            signal: None,
            start,
            runtime: Duration::ZERO,
            stdout: Captured::default(),
            stderr: Captured::default(),
            stdout_bytes: 0,
            tries: 1,
            timed_out: false,
            output_error: None,
        }
    }

    pub(crate) fn succeeded(&self) -> bool {
        self.exit == Some(0)
    }
}

/// Counts of finished jobs.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    pub(crate) succeeded: u64,
    pub(crate) failed: u64,
}

impl Tally {
    /// Counts a finished job; `kept` is false if what it made was lost (its
    /// `--results` could not be saved), which fails it.
    pub(crate) fn add(&mut self, report: &JobReport, kept: bool) {
        if report.succeeded() && kept {
            self.succeeded += 1;
        } else {
            self.failed += 1;
        }
    }

    /// 0 if every job succeeded, else the number that failed, at most 101.
    pub(crate) fn exit_status(&self) -> u8 {
        u8::try_from(self.failed.min(101)).unwrap_or(101)
    }
}
