//! When things happen, counted from one start instant: sample `k` is due
//! at `k × interval` (the first at 0), report `n` at `n × report`, the end
//! (with `--duration D`) at `D`, whose last sample is the last one due at
//! or before `D`. Times are computed from the start, never by adding up
//! waits, so a late wake-up does not shift what comes after it. Pure
//! arithmetic: waits on nothing.

use std::time::Duration;

/// The sampling schedule of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Schedule {
    /// Between two samples of one sampler (more than zero).
    pub(crate) interval: Duration,
    /// Between two reports (at least `interval`).
    pub(crate) report: Duration,
    /// When the run ends by itself, if it does.
    pub(crate) end: Option<Duration>,
}

/// What the main thread waits for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Report `n` at this time, on the samples due up to it.
    Report(u32, Duration),
    /// The end, with `--duration`: the final report on everything left.
    End(Duration),
}

impl Schedule {
    /// When sample `tick` is due, from the start.
    pub(crate) fn due(&self, tick: u64) -> Duration {
        let nanos = self.interval.as_nanos().saturating_mul(u128::from(tick));
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// The last sample due at or before `t`.
    pub(crate) fn last_tick_by(&self, t: Duration) -> u64 {
        u64::try_from(t.as_nanos() / self.interval.as_nanos()).unwrap_or(u64::MAX)
    }

    /// The last sample of the run, if it ends by itself.
    pub(crate) fn last_tick(&self) -> Option<u64> {
        self.end.map(|end| self.last_tick_by(end))
    }

    /// What comes after report `done` (0 at the start): report `done + 1`,
    /// or the end if that report would not come before it.
    pub(crate) fn after_report(&self, done: u32) -> Next {
        let n = done.saturating_add(1);
        let at = self.report.saturating_mul(n);
        match self.end {
            Some(end) if at >= end => Next::End(end),
            _ => Next::Report(n, at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn schedule(interval: u64, report: u64, end: Option<u64>) -> Schedule {
        Schedule {
            interval: secs(interval),
            report: secs(report),
            end: end.map(secs),
        }
    }

    /// The reports of a run that ends: (number, time), the end's last.
    fn reports(s: &Schedule) -> Vec<(u32, Duration)> {
        let mut out = Vec::new();
        let mut done = 0;
        loop {
            match s.after_report(done) {
                Next::Report(n, at) => out.push((n, at)),
                Next::End(at) => {
                    out.push((done + 1, at));
                    return out;
                }
            }
            done += 1;
        }
    }

    #[test]
    fn one_second_samples_two_second_reports_for_five_seconds() {
        let s = schedule(1, 2, Some(5));
        // Samples at 0, 1, 2, 3, 4, 5: six.
        assert_eq!(s.last_tick(), Some(5));
        assert_eq!(s.due(5), secs(5));
        // Reports at 2 and 4, the final one at 5.
        assert_eq!(reports(&s), [(1, secs(2)), (2, secs(4)), (3, secs(5))]);
        assert_eq!(s.last_tick_by(secs(2)), 2);
        assert_eq!(s.last_tick_by(secs(4)), 4);
    }

    #[test]
    fn an_end_on_a_report_time_is_that_report() {
        let s = schedule(1, 2, Some(4));
        assert_eq!(reports(&s), [(1, secs(2)), (2, secs(4))]);
        let s = schedule(5, 30, Some(10));
        assert_eq!(reports(&s), [(1, secs(10))]);
        assert_eq!(s.last_tick(), Some(2));
    }

    #[test]
    fn intervals_that_do_not_divide_the_report() {
        let s = schedule(2, 3, None);
        assert_eq!(s.last_tick_by(secs(3)), 1); // samples at 0 and 2
        assert_eq!(s.last_tick_by(secs(6)), 3); // then 4 and 6
        assert_eq!(s.after_report(1), Next::Report(2, secs(6)));
        assert_eq!(s.last_tick(), None);
    }

    #[test]
    fn milliseconds_count_exactly() {
        let s = Schedule {
            interval: Duration::from_millis(100),
            report: Duration::from_millis(300),
            end: Some(Duration::from_millis(300)),
        };
        assert_eq!(s.last_tick(), Some(3));
        assert_eq!(s.due(3), Duration::from_millis(300));
    }
}
