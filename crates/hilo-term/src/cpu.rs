//! CPU time as `/proc/stat` counts it (read through procfs): the busy and
//! total clock ticks of one of its `cpu` lines, and the busy share between
//! two readings. `hilo top`, `hilo monitor` and `hilo bench` count alike.

/// Clock ticks of a CPU (or of all of them): spent working, and in all.
///
/// ```
/// use hilo_term::CpuTicks;
///
/// let before = CpuTicks { busy: 100, total: 1000 };
/// let after = CpuTicks { busy: 175, total: 1100 };
/// assert_eq!(after.busy_percent_since(before), Some(75.0));
/// assert_eq!(after.busy_percent_since(after), None); // no tick passed
/// // A counter that went backwards is no negative time.
/// let odd = CpuTicks { busy: 90, total: 1100 };
/// assert_eq!(odd.busy_percent_since(before), Some(0.0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTicks {
    /// User, nice, system, irq, softirq and steal time (guest time is
    /// already inside user and nice, so it is not added twice).
    pub busy: u64,
    /// `busy` plus idle and iowait.
    pub total: u64,
}

impl CpuTicks {
    /// The ticks of one `cpu` line of `/proc/stat`.
    pub fn of(t: &procfs::CpuTime) -> Self {
        let busy = t.user
            + t.nice
            + t.system
            + t.irq.unwrap_or(0)
            + t.softirq.unwrap_or(0)
            + t.steal.unwrap_or(0);
        CpuTicks {
            busy,
            total: busy + t.idle + t.iowait.unwrap_or(0),
        }
    }

    /// The percent of the ticks since `before` that were busy; `None` when
    /// no tick passed. Counters that went backwards (iowait can) count as
    /// zero.
    pub fn busy_percent_since(self, before: CpuTicks) -> Option<f64> {
        let total = self.total.saturating_sub(before.total);
        let busy = self.busy.saturating_sub(before.busy).min(total);
        (total > 0).then(|| 100.0 * busy as f64 / total as f64)
    }
}
