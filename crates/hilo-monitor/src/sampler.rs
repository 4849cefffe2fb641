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
