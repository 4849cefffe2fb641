//! Each thread's context switches, read from `/proc` as seldom as they
//! can be: `status` (long, costly) only when `schedstat` (three numbers)
//! says the thread was switched since the last reading.

use std::collections::HashMap;

use procfs::process::{Schedstat, Status};

use crate::procfile::ProcFile;

/// Each thread's voluntary and involuntary context switches.
///
/// They are only in `/proc/TID/status`, a long file that is costly to
/// read for every thread every second. Its `schedstat` is three numbers,
/// and its third (`pcount`, how many times it was given a CPU) moves
/// exactly when the switch counts do: a thread whose `pcount` has not
/// moved since the last reading has not switched, and its counts are
/// taken from the last reading. (Without schedstat support in the
/// kernel, `status` is read every time.)
#[derive(Default)]
pub(crate) struct Switches {
    /// By tid: the process's start time (who it belongs to), `pcount`,
    /// voluntary and involuntary switches, and whether this reading saw it.
    known: HashMap<i32, (u64, u64, u64, u64, bool)>,
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
            if k.0 == start && k.1 == p {
                k.4 = true;
                return (k.2, k.3);
            }
        }
        let Ok(status) = file.read::<Status>(&format!("{task}/status")) else {
            return (0, 0);
        };
        let v = status.voluntary_ctxt_switches.unwrap_or(0);
        let i = status.nonvoluntary_ctxt_switches.unwrap_or(0);
        if let Some(p) = pcount {
            self.known.insert(tid, (start, p, v, i, true));
        }
        (v, i)
    }

    pub(crate) fn forget_unseen(&mut self) {
        self.known.retain(|_, k| std::mem::take(&mut k.4));
    }
}
