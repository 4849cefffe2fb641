//! Where finished jobs go: put in input order with `-k`, printed, logged,
//! counted, shown on the progress bar — in whichever thread finished the
//! job, under one lock, so the main thread is not woken once per job (with
//! millisecond jobs that wake-up was a few percent of the run). The main
//! thread sleeps in [`Sink::wait`] until the run is over. Owns the end of
//! the run: knowing when every submitted job has been accounted for.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use super::feed::Event;
use super::joblog::JobLog;
use super::lines::Lines;
use super::output::{Printer, Progress};
use super::report::{JobReport, Tally, EXIT_ERROR};

/// How the run ended, as [`Sink::wait`] reports it.
pub(crate) struct Ended {
    pub(crate) tally: Tally,
    /// The inputs could not be read to the end.
    pub(crate) input_error: Option<String>,
    /// The output or the job log could not be written: `Ok(status)` to end
    /// quietly (stdout closed), `Err(message)` otherwise.
    pub(crate) broken: Option<Result<u8, String>>,
}

struct State {
    printer: Printer,
    joblog: Option<JobLog>,
    progress: Progress,
    tally: Tally,
    /// `-k`: reports waiting for the jobs before them.
    keep_order: bool,
    next: u64,
    waiting: BTreeMap<u64, Option<JobReport>>,
    /// `-k --line-buffer`: told which job prints live as `next` moves on.
    lines: Option<Arc<Lines>>,
    /// Jobs accounted for (finished or never started).
    received: u64,
    /// Jobs submitted in all, once the inputs ended.
    submitted: Option<u64>,
    /// `hilo run` is stopping: the jobs submitted so far are all there is.
    stopping: bool,
    input_error: Option<String>,
    broken: Option<Result<u8, String>>,
}

/// The shared end point of every job.
pub(crate) struct Sink {
    state: Mutex<State>,
    /// Signalled when the run may be over.
    changed: Condvar,
}

impl Sink {
    pub(crate) fn new(
        printer: Printer,
        joblog: Option<JobLog>,
        progress: Progress,
        keep_order: bool,
        lines: Option<Arc<Lines>>,
    ) -> Sink {
        Sink {
            state: Mutex::new(State {
                printer,
                joblog,
                progress,
                tally: Tally::default(),
                keep_order,
                next: 0,
                waiting: BTreeMap::new(),
                lines,
                received: 0,
                submitted: None,
                stopping: false,
                input_error: None,
                broken: None,
            }),
            changed: Condvar::new(),
        }
    }

    /// Takes one event from the feeder, a job's thread or the runner.
    /// Returns `Some(())` when the run has to stop because the output
    /// broke (the caller halts the jobs).
    pub(crate) fn deliver(&self, event: Event) -> Option<()> {
        let mut st = self.state.lock();
        let mut broke = false;
        match event {
            Event::Finished { order, report } => {
                st.received += 1;
                broke = st.take(order, report);
            }
            Event::Crashed { order, error } => {
                eprintln!("hilo run: a job thread failed: {error}");
                st.received += 1;
                st.tally.failed += 1;
                broke = st.take(order, None);
            }
            Event::InputError(e) => st.input_error = Some(e),
            Event::InputEnd { submitted } => st.submitted = Some(submitted),
            Event::Stopping => st.stopping = true,
        }
        // Wake the main thread only when the run may have ended; it checks.
        if broke || st.submitted.is_some_and(|n| n == st.received) || st.stopping {
            self.changed.notify_all();
        }
        broke.then_some(())
    }

    /// Blocks until every submitted job is accounted for (or, once
    /// stopping, every job `submitted_so_far()` says was submitted), or the
    /// output broke.
    pub(crate) fn wait(&self, submitted_so_far: impl Fn() -> u64) -> Ended {
        let mut st = self.state.lock();
        loop {
            if st.broken.is_some() {
                break;
            }
            let all_in = st.submitted.or_else(|| st.stopping.then(&submitted_so_far));
            if all_in == Some(st.received) {
                break;
            }
            self.changed.wait(&mut st);
        }
        st.progress.finish();
        Ended {
            tally: st.tally,
            input_error: st.input_error.take(),
            broken: st.broken.take(),
        }
    }
}

impl State {
    /// Job `order` ended (`None`: never started): hands over what is due.
    /// True if the output or the log broke.
    fn take(&mut self, order: u64, report: Option<JobReport>) -> bool {
        if !self.keep_order {
            return report.is_some_and(|r| !self.show(&r));
        }
        self.waiting.insert(order, report);
        loop {
            // Job `next` is the oldest not reported: its held lines first.
            let turn = self.lines.as_ref().map(|l| l.make_head(self.next));
            if let Some(Err(e)) = turn {
                self.broken.get_or_insert(broken_by(&e));
                return true;
            }
            let Some(report) = self.waiting.remove(&self.next) else {
                return false;
            };
            self.next += 1;
            if report.is_some_and(|r| !self.show(&r)) {
                return true;
            }
        }
    }

    /// Prints, logs and counts one job; false (and `broken` set) if the
    /// output or the log could not be written.
    fn show(&mut self, report: &JobReport) -> bool {
        if self.broken.is_some() {
            return false;
        }
        let printed = match &report.output_error {
            Some(e) => Err(broken_by(e)),
            None => self.printer.print(report).map_err(|e| broken_by(&e)),
        };
        let saved = match printed {
            Ok(saved) => saved,
            Err(broken) => {
                self.broken = Some(broken);
                return false;
            }
        };
        if report.timed_out {
            eprintln!(
                "hilo run: Warning: This job was killed because it timed out:\n\
                 hilo run: Warning: {}",
                String::from_utf8_lossy(&report.command)
            );
        }
        if let Some(log) = &mut self.joblog {
            if let Err(e) = log.record(report) {
                self.broken = Some(Err(format!("cannot write the job log: {e}")));
                return false;
            }
        }
        // A job whose results could not be saved failed, whatever it did.
        self.tally.add(report, saved);
        self.progress.update(&self.tally);
        true
    }
}

/// How the run ends when our output cannot be written.
fn broken_by(e: &std::io::Error) -> Result<u8, String> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        // Whoever read our output is gone (`| head`): stop quietly.
        Ok(EXIT_ERROR)
    } else {
        Err(format!("cannot write the output: {e}"))
    }
}
