//! Readings turned into frames, one refresh after another: keeps the
//! previous reading (rates are taken between the two) and the user names.

use std::time::Instant;

use crate::frame::{self, Frame, ThreadRow};
use crate::probe::{self, Probe, ProbeError, Reading, ThreadReading};
use crate::users::Users;

/// Successive frames of the system.
pub(crate) struct Sampler {
    probe: Probe,
    users: Users,
    ticks_per_s: f64,
    prev: Option<Reading>,
    prev_threads: Option<(i32, (Instant, Vec<ThreadReading>))>,
}

impl Sampler {
    /// A sampler that has read nothing yet.
    pub(crate) fn new() -> Self {
        Sampler {
            probe: Probe::new(),
            users: Users::default(),
            ticks_per_s: procfs::ticks_per_second() as f64,
            prev: None,
            prev_threads: None,
        }
    }

    /// Reads `/proc` and gives the frame, with rates since the previous
    /// call (zero on the first).
    ///
    /// # Errors
    /// `/proc` cannot be read.
    pub(crate) fn next(&mut self) -> Result<Frame, ProbeError> {
        let cur = self.probe.read()?;
        let f = frame::frame(self.prev.as_ref(), &cur, self.ticks_per_s, &mut self.users);
        self.prev = Some(cur);
        Ok(f)
    }

    /// The threads of `pid` now, with CPU % since the previous call for
    /// the same pid; `None` once the process is gone.
    pub(crate) fn threads(&mut self, pid: i32) -> Option<Vec<ThreadRow>> {
        let cur = probe::read_threads(pid).ok()?;
        let prev = self
            .prev_threads
            .as_ref()
            .filter(|(p, _)| *p == pid)
            .map(|(_, r)| r);
        let rows = frame::thread_rows(prev, &cur, self.ticks_per_s);
        self.prev_threads = Some((pid, cur));
        Some(rows)
    }
}
