//! Each thread's context switches, read from `/proc` as seldom as they
//! can be: `status` (long, costly) only when `schedstat` (three numbers)
//! says the thread was switched since the last reading.

use std::collections::HashMap;

use procfs::process::{Schedstat, Status};

use crate::procfile::ProcFile;

/// Each thread's voluntary and involuntary context switches.
///
/// They are only in `/proc/TID/status`, a long file that is costly to
/// read for every thread every second. Its `schedstat` is three numbers;
/// the third (`pcount`) counts the times the thread was given a CPU, as
/// the switch counts count the times it gave one up. A thread whose
/// `pcount` has not moved since the last reading has not run again: it
/// switched at most once (out, if it was running at that reading), and
/// that switch is counted when it next runs. Its counts are taken from the
/// last reading. (Without schedstat support in the kernel, `status` is
/// read every time.)
#[derive(Default)]
pub(crate) struct Switches {
    known: HashMap<i32, Known>,
}

/// What the last reading of one thread found.
struct Known {
    /// The start time of its process (who the tid belongs to).
    start: u64,
    /// Its `schedstat` pcount.
    pcount: u64,
    /// Its voluntary and involuntary switches.
    voluntary: u64,
    involuntary: u64,
    /// Whether the current reading saw it (the others are forgotten).
    seen: bool,
}

impl Switches {
    /// The switches of thread `tid` (directory `task`) of the process
    /// that started at `start`.
    pub(crate) fn of(
        &mut self,
        file: &mut ProcFile,
        start: u64,
        tid: i32,
        task: &str,
    ) -> (u64, u64) {
        let pcount = file
            .read::<Schedstat>(&format!("{task}/schedstat"))
            .ok()
            .map(|s| s.pcount)
            .filter(|&p| p > 0);
        if let (Some(p), Some(k)) = (pcount, self.known.get_mut(&tid)) {
            if k.start == start && k.pcount == p {
                k.seen = true;
                return (k.voluntary, k.involuntary);
            }
        }
        let Ok(status) = file.read::<Status>(&format!("{task}/status")) else {
            return (0, 0);
        };
        let v = status.voluntary_ctxt_switches.unwrap_or(0);
        let i = status.nonvoluntary_ctxt_switches.unwrap_or(0);
        if let Some(pcount) = pcount {
            let known = Known {
                start,
                pcount,
                voluntary: v,
                involuntary: i,
                seen: true,
            };
            self.known.insert(tid, known);
        }
        (v, i)
    }

    /// Forgets the threads this reading did not see, and starts the next.
    pub(crate) fn forget_unseen(&mut self) {
        self.known.retain(|_, k| std::mem::take(&mut k.seen));
    }
}
