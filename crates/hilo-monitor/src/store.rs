//! The store the samplers and the main thread share: the samples taken and
//! not yet reported, how far each sampler has got, the run's stop flag
//! (raised by a signal, by a failing sampler or by the end) and the first
//! failure. Every sample goes to the CSV under the same lock as it enters
//! the store, so the file's rows are whole and in the store's order.
//! Never reads the kernel and never prints.
//!
//! Invariant: the stop flag is set before the lock is taken to wake the
//! waiters, and waiters check it under the lock, so a stop is never missed
//! between a waiter's check and its sleep.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use hilo::StopToken;

use crate::csv::CsvLog;
use crate::metric::Metric;

/// One value of one metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sample {
    /// Its place in the schedule: 0 for the first sample.
    pub(crate) tick: u64,
    /// When it was due, from the start.
    pub(crate) due: Duration,
    pub(crate) metric: Metric,
    pub(crate) value: f64,
}

/// See the module's docs.
pub(crate) struct Store {
    state: Mutex<State>,
    changed: Condvar,
    stop: StopToken,
}

struct State {
    samples: Vec<Sample>,
    samplers: Vec<Progress>,
    csv: Option<CsvLog>,
    failure: Option<String>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Progress {
    /// Readings recorded: the next tick this sampler will hand in.
    taken: u64,
    /// It has returned (its last tick, a stop, or a failure).
    finished: bool,
}

impl Store {
    /// A store for `samplers` samplers, writing to `csv` if given.
    pub(crate) fn new(samplers: usize, csv: Option<CsvLog>) -> Store {
        Store {
            state: Mutex::new(State {
                samples: Vec::new(),
                samplers: vec![Progress::default(); samplers],
                csv,
                failure: None,
            }),
            changed: Condvar::new(),
            stop: StopToken::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A sampler that panicked holding the lock left whole rows only
        // (each is written before its samples enter the list).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The run's stop flag: the main thread waits on it between reports.
    pub(crate) fn stop_token(&self) -> &StopToken {
        &self.stop
    }

    /// Asks the run to stop and wakes the main thread wherever it waits.
    pub(crate) fn stop(&self) {
        self.stop.request_stop();
        let _state = self.lock();
        self.changed.notify_all();
    }

    /// Records why the run cannot go on (the first reason is kept) and
    /// stops it.
    pub(crate) fn fail(&self, why: String) {
        self.lock().failure.get_or_insert(why);
        self.stop();
    }

    /// The first failure, if any.
    pub(crate) fn failure(&self) -> Option<String> {
        self.lock().failure.clone()
    }

    /// Sampler `sampler`'s reading for `tick`, due at `due`, read at
    /// `taken`: into the CSV (flushed), then into the store.
    ///
    /// # Errors
    /// The CSV could not be written.
    pub(crate) fn record(
        &self,
        sampler: usize,
        tick: u64,
        due: Duration,
        taken: SystemTime,
        reading: &[(Metric, f64)],
    ) -> Result<(), String> {
        let mut state = self.lock();
        if let Some(csv) = &mut state.csv {
            csv.write(due, taken, reading)
                .map_err(|e| format!("cannot write the CSV file: {e}"))?;
        }
        state
            .samples
            .extend(reading.iter().map(|&(metric, value)| Sample {
                tick,
                due,
                metric,
                value,
            }));
        state.samplers[sampler].taken = tick + 1;
        self.changed.notify_all();
        Ok(())
    }

    /// Sampler `sampler` has returned: it hands in nothing more.
    pub(crate) fn finish(&self, sampler: usize) {
        self.lock().samplers[sampler].finished = true;
        self.changed.notify_all();
    }

    /// Waits until every sampler has recorded `tick` or returned; false if
    /// the run was stopped first.
    pub(crate) fn wait_through(&self, tick: u64) -> bool {
        let mut state = self.lock();
        loop {
            if self.stop.is_stop_requested() {
                return false;
            }
            if state.samplers.iter().all(|p| p.finished || p.taken > tick) {
                return true;
            }
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Removes and returns the samples up to `tick` (all with `None`), in
    /// the order they were recorded.
    pub(crate) fn take_through(&self, tick: Option<u64>) -> Vec<Sample> {
        let mut state = self.lock();
        let (taken, kept) = state
            .samples
            .drain(..)
            .partition(|s| tick.is_none_or(|t| s.tick <= t));
        state.samples = kept;
        taken
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn record(store: &Store, sampler: usize, tick: u64, value: f64) {
        let due = Duration::from_secs(tick);
        store
            .record(
                sampler,
                tick,
                due,
                SystemTime::now(),
                &[(Metric::Cpu, value)],
            )
            .unwrap();
    }

    #[test]
    fn a_report_waits_for_every_sampler_to_reach_its_tick() {
        let store = Arc::new(Store::new(2, None));
        record(&store, 0, 0, 1.0);
        record(&store, 0, 1, 2.0);
        let waiter = {
            let store = Arc::clone(&store);
            std::thread::spawn(move || store.wait_through(1))
        };
        record(&store, 1, 0, 3.0);
        // Sampler 0 is already at tick 2: kept for the next report.
        record(&store, 0, 2, 9.0);
        record(&store, 1, 1, 4.0);
        assert!(waiter.join().unwrap());
        let values: Vec<f64> = store
            .take_through(Some(1))
            .iter()
            .map(|s| s.value)
            .collect();
        assert_eq!(values, [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(store.take_through(None).len(), 1);
    }

    #[test]
    fn a_finished_sampler_is_not_waited_for() {
        let store = Store::new(2, None);
        record(&store, 0, 0, 1.0);
        store.finish(1);
        assert!(store.wait_through(0));
    }

    #[test]
    fn a_stop_wakes_the_waiter() {
        let store = Arc::new(Store::new(1, None));
        let waiter = {
            let store = Arc::clone(&store);
            std::thread::spawn(move || store.wait_through(5))
        };
        store.fail("broken".into());
        assert!(!waiter.join().unwrap());
        assert_eq!(store.failure().as_deref(), Some("broken"));
        assert!(store.stop_token().is_stop_requested());
    }
}
