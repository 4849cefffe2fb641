//! One sampler's life on a pool worker: take a reading when each tick of
//! the schedule is due, hand it to the store, and between ticks wait on the
//! task's [`StopToken`], so a stop wakes it at once. A tick taken late is
//! still taken, once, and the ones after it keep their times. Owns the
//! loop; the readings are `sample`'s and the samples the store's.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use hilo::StopToken;

use crate::sample::Source;
use crate::schedule::Schedule;
use crate::store::Store;

/// What a worker runs: sampler number `index` reading `source` from
/// `start` on, until its last tick or a stop. A failure stops the run;
/// however the task ends (a panic too), the store learns it is finished.
pub(crate) fn task(
    mut source: Box<dyn Source>,
    index: usize,
    start: Instant,
    schedule: Schedule,
    store: Arc<Store>,
) -> impl FnOnce(&StopToken) + Send + 'static {
    move |stop: &StopToken| {
        let _finished = Finished {
            store: &store,
            index,
        };
        if let Err(why) = run(source.as_mut(), index, start, schedule, &store, stop) {
            store.fail(format!("{} sampler: {why}", source.name()));
        }
    }
}

/// Marks its sampler finished when dropped.
struct Finished<'a> {
    store: &'a Store,
    index: usize,
}

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.store.finish(self.index);
    }
}

fn run(
    source: &mut dyn Source,
    index: usize,
    start: Instant,
    schedule: Schedule,
    store: &Store,
    stop: &StopToken,
) -> Result<(), String> {
    let last = schedule.last_tick().unwrap_or(u64::MAX);
    for tick in 0..=last {
        let due = schedule.due(tick);
        let left = (start + due).saturating_duration_since(Instant::now());
        // `wait_timeout` is true when a stop was requested, at once.
        if stop.wait_timeout(left) || stop.is_stop_requested() {
            break;
        }
        let reading = source.read()?;
        store.record(index, tick, due, SystemTime::now(), &reading)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::metric::Metric;
    use crate::sample::Reading;

    /// A source whose first read takes `slow` (the work of a loaded
    /// machine), then fails after `fails_after` reads if given.
    struct Fake {
        reads: u32,
        slow: Duration,
        fails_after: Option<u32>,
    }

    impl Source for Fake {
        fn name(&self) -> &'static str {
            "fake"
        }

        fn read(&mut self) -> Result<Reading, String> {
            if self.reads == 0 {
                std::thread::sleep(self.slow);
            }
            if Some(self.reads) == self.fails_after {
                return Err("boom".into());
            }
            self.reads += 1;
            Ok(vec![(Metric::Cpu, f64::from(self.reads))])
        }
    }

    fn schedule(end_ms: u64) -> Schedule {
        Schedule {
            interval: Duration::from_millis(100),
            report: Duration::from_millis(100),
            end: Some(Duration::from_millis(end_ms)),
        }
    }

    #[test]
    fn late_ticks_are_each_taken_once_and_keep_their_times() {
        let store = Arc::new(Store::new(1, None));
        let source = Fake {
            reads: 0,
            slow: Duration::from_millis(250),
            fails_after: None,
        };
        let start = Instant::now();
        task(
            Box::new(source),
            0,
            start,
            schedule(400),
            Arc::clone(&store),
        )(&StopToken::new());
        // The first read overran ticks 1 and 2: they are taken late, once
        // each, and tick 4 is still not taken before its time.
        assert!(start.elapsed() >= Duration::from_millis(400));
        let got: Vec<(u64, Duration)> = store
            .take_through(None)
            .iter()
            .map(|s| (s.tick, s.due))
            .collect();
        let want: Vec<(u64, Duration)> = (0..=4)
            .map(|k| (k, Duration::from_millis(k * 100)))
            .collect();
        assert_eq!(got, want);
        assert!(store.wait_through(u64::MAX), "finished");
    }

    #[test]
    fn a_failing_source_stops_the_run_with_its_reason() {
        let store = Arc::new(Store::new(1, None));
        let source = Fake {
            reads: 0,
            slow: Duration::ZERO,
            fails_after: Some(2),
        };
        task(
            Box::new(source),
            0,
            Instant::now(),
            schedule(60_000),
            Arc::clone(&store),
        )(&StopToken::new());
        assert_eq!(store.failure().as_deref(), Some("fake sampler: boom"));
        assert!(store.stop_token().is_stop_requested());
        assert_eq!(store.take_through(None).len(), 2);
    }

    #[test]
    fn a_stop_ends_the_wait_at_once() {
        let store = Arc::new(Store::new(1, None));
        let source = Fake {
            reads: 0,
            slow: Duration::ZERO,
            fails_after: None,
        };
        let stop = StopToken::new();
        let run = {
            let (store, stop) = (Arc::clone(&store), stop.clone());
            std::thread::spawn(move || {
                task(
                    Box::new(source),
                    0,
                    Instant::now(),
                    schedule(3_600_000),
                    store,
                )(&stop)
            })
        };
        // Tick 0 is recorded, then the sampler waits an hour for tick 1.
        assert!(store.wait_through(0));
        let asked = Instant::now();
        stop.request_stop();
        run.join().unwrap();
        assert!(asked.elapsed() < Duration::from_secs(10));
        assert_eq!(store.take_through(None).len(), 1);
    }
}
