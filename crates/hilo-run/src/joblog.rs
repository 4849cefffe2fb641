//! `--joblog` and `--resume`: one line per finished job in GNU parallel's
//! tab-separated columns, written as each job ends (so a killed run can be
//! resumed), and read back to skip what was done.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::report::JobReport;

const HEADER: &str = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n";

/// Why the job log could not be used; names the file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JobLogError {
    #[error("cannot write the job log {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot read the job log {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "{path} line {line} is not a job log line (Seq, Host, Starttime, ... separated by tabs)"
    )]
    Malformed { path: PathBuf, line: usize },
}

/// An open job log: a file, or our stdout for `--joblog -`.
pub(crate) struct JobLog {
    file: Option<File>,
    path: PathBuf,
}

impl JobLog {
    /// Creates `path` with a header, or with `append` adds to it (a header
    /// only if it is empty or missing).
    pub(crate) fn open(path: &Path, append: bool) -> Result<JobLog, JobLogError> {
        let err = |source| JobLogError::Write {
            path: path.to_owned(),
            source,
        };
        if path == Path::new("-") {
            super::lines::put(true, HEADER.as_bytes()).map_err(err)?;
            return Ok(JobLog {
                file: None,
                path: path.to_owned(),
            });
        }
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(path)
            .map_err(err)?;
        if file.metadata().map_err(err)?.len() == 0 {
            file.write_all(HEADER.as_bytes()).map_err(err)?;
        }
        Ok(JobLog {
            file: Some(file),
            path: path.to_owned(),
        })
    }

    /// Appends the job's line (one write, so a crash leaves whole lines).
    pub(crate) fn record(&mut self, job: &JobReport) -> Result<(), JobLogError> {
        let start = job
            .start
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let mut line = format!(
            "{}\t:\t{:.3}\t{:10.3}\t0\t{}\t{}\t{}\t",
            job.seq,
            start,
            job.runtime.as_secs_f64(),
            job.stdout_bytes,
            // GNU parallel's -1: killed by --timeout.
            if job.timed_out {
                -1
            } else {
                job.exit.unwrap_or(0)
            },
            job.signal.unwrap_or(0),
        )
        .into_bytes();
        // The command as bytes (a Latin-1 value stays as it was), on one line.
        line.extend(
            job.command
                .iter()
                .map(|&b| if b == b'\n' { b' ' } else { b }),
        );
        line.push(b'\n');
        match &mut self.file {
            Some(file) => file.write_all(&line),
            None => super::lines::put(true, &line),
        }
        .map_err(|source| JobLogError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

/// The jobs `path` lists as done: every job in it, or with `rerun_failed`
/// only those that succeeded (exit 0, no signal). A missing file lists
/// none (the first run of a resumable job).
pub(crate) fn done_jobs(path: &Path, rerun_failed: bool) -> Result<HashSet<u64>, JobLogError> {
    let read_err = |source| JobLogError::Read {
        path: path.to_owned(),
        source,
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(read_err(e)),
    };
    let mut done = HashSet::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(read_err)?;
        if i == 0 && line.starts_with("Seq\t") || line.is_empty() {
            continue;
        }
        let malformed = || JobLogError::Malformed {
            path: path.to_owned(),
            line: i + 1,
        };
        let cols: Vec<&str> = line.splitn(9, '\t').collect();
        if cols.len() < 9 {
            return Err(malformed());
        }
        let seq: u64 = cols[0].parse().map_err(|_| malformed())?;
        let exit: i64 = cols[6].trim().parse().map_err(|_| malformed())?;
        let signal: i64 = cols[7].trim().parse().map_err(|_| malformed())?;
        if !rerun_failed || (exit == 0 && signal == 0) {
            done.insert(seq);
        } else {
            // A later line for the same job (a rerun) decides.
            done.remove(&seq);
        }
    }
    Ok(done)
}
