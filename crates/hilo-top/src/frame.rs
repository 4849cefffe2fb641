//! What is shown: the header and one row per process, computed from two
//! readings (rates are differences over the time between them). Pure
//! arithmetic on `probe`'s numbers, so it is tested without `/proc`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use serde::Serialize;

use crate::probe::{ProcReading, Reading, SystemReading, ThreadReading};
use crate::users::Users;

/// The system line by line: load, CPUs, memory, tasks, rates.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Header {
    /// Load average over 1, 5 and 15 minutes.
    pub(crate) load: [f32; 3],
    /// Busy percentage of each CPU since the previous reading.
    pub(crate) cpus: Vec<f64>,
    /// Memory in use (total less available) and in all, bytes.
    pub(crate) mem_used: u64,
    /// Total memory, bytes.
    pub(crate) mem_total: u64,
    /// Swap in use, bytes.
    pub(crate) swap_used: u64,
    /// Total swap, bytes.
    pub(crate) swap_total: u64,
    /// Processes by state letter (R, S, D, Z, T, I, …).
    pub(crate) states: BTreeMap<char, usize>,
    /// Context switches per second, the whole system.
    pub(crate) switches_per_s: f64,
    /// Processes and threads created per second.
    pub(crate) forks_per_s: f64,
}

/// One process as a row.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    /// Process id.
    pub(crate) pid: i32,
    /// Parent's process id.
    pub(crate) ppid: i32,
    /// Its effective user's name (or number), as `ps -o user` shows.
    pub(crate) user: String,
    /// R, S, D, Z, T, …
    pub(crate) state: char,
    /// Nice value.
    pub(crate) nice: i64,
    /// Threads.
    pub(crate) threads: i64,
    /// CPU time over wall time since the previous reading, in percent of
    /// one core (a process busy on two cores shows 200).
    pub(crate) cpu: f64,
    /// Resident memory, bytes.
    pub(crate) rss: u64,
    /// Voluntary context switches per second (all its threads).
    pub(crate) voluntary_per_s: f64,
    /// Involuntary context switches per second.
    pub(crate) involuntary_per_s: f64,
    /// The executable's name as the kernel keeps it.
    pub(crate) comm: String,
    /// The command line, or `[comm]`.
    pub(crate) command: String,
    /// When it started, clock ticks after boot (with the pid, who it is).
    #[serde(skip)]
    pub(crate) start: u64,
    /// A zombie's parent: it has a child it has not waited for.
    pub(crate) has_zombie: bool,
}

/// One thread as a row (the threads view).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ThreadRow {
    /// Thread id.
    pub(crate) tid: i32,
    /// Its name.
    pub(crate) name: String,
    /// R, S, D, …
    pub(crate) state: char,
    /// CPU percent of one core since the previous reading.
    pub(crate) cpu: f64,
    /// The CPU it last ran on.
    pub(crate) last_cpu: Option<i32>,
}

/// A header and its rows.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Frame {
    /// The system.
    pub(crate) system: Header,
    /// The processes, in `/proc`'s order (see `order`).
    pub(crate) processes: Vec<Row>,
}

/// Seconds from `from` to `to`, never zero.
fn seconds(from: Instant, to: Instant) -> f64 {
    to.duration_since(from).as_secs_f64().max(f64::EPSILON)
}

fn rate(before: u64, after: u64, secs: f64) -> f64 {
    after.saturating_sub(before) as f64 / secs
}

/// CPU time from `before` to `after` clock ticks over `secs` of wall time,
/// in percent of one core.
fn cpu_percent(before: u64, after: u64, secs: f64, ticks_per_s: f64) -> f64 {
    rate(before, after, secs) / ticks_per_s * 100.0
}

/// The frame of `cur`, with rates since `prev` (all zero without one).
/// `ticks_per_s` is the kernel's clock tick rate (`procfs::ticks_per_second`).
pub(crate) fn frame(
    prev: Option<&Reading>,
    cur: &Reading,
    ticks_per_s: f64,
    users: &mut Users,
) -> Frame {
    let secs = prev.map(|p| seconds(p.at, cur.at));
    let mut states = BTreeMap::new();
    for p in &cur.procs {
        *states.entry(p.state).or_insert(0) += 1;
    }
    let system = header(prev.map(|p| &p.system), &cur.system, secs, states);
    let before: HashMap<(i32, u64), &ProcReading> = prev
        .map(|p| p.procs.iter().map(|r| ((r.pid, r.start), r)).collect())
        .unwrap_or_default();
    let zombie_parents: HashSet<i32> = cur
        .procs
        .iter()
        .filter(|p| p.state == 'Z')
        .map(|p| p.ppid)
        .collect();
    let processes = cur
        .procs
        .iter()
        .map(|p| {
            let was = before.get(&(p.pid, p.start));
            let (cpu, vol, invol) = match (was, secs) {
                (Some(w), Some(s)) => (
                    cpu_percent(w.ticks, p.ticks, s, ticks_per_s),
                    rate(w.voluntary, p.voluntary, s),
                    rate(w.involuntary, p.involuntary, s),
                ),
                _ => (0.0, 0.0, 0.0),
            };
            Row {
                pid: p.pid,
                ppid: p.ppid,
                user: users.name(p.uid),
                state: p.state,
                nice: p.nice,
                threads: p.threads,
                cpu,
                rss: p.rss,
                voluntary_per_s: vol,
                involuntary_per_s: invol,
                comm: p.comm.clone(),
                command: p.command.clone(),
                start: p.start,
                has_zombie: zombie_parents.contains(&p.pid),
            }
        })
        .collect();
    Frame { system, processes }
}

fn header(
    prev: Option<&SystemReading>,
    cur: &SystemReading,
    secs: Option<f64>,
    states: BTreeMap<char, usize>,
) -> Header {
    let cpus = cur
        .cpus
        .iter()
        .enumerate()
        .map(|(i, now)| {
            let was = prev
                .and_then(|p| p.cpus.get(i))
                .copied()
                .unwrap_or_default();
            now.busy_percent_since(was).unwrap_or(0.0)
        })
        .collect();
    let (switches_per_s, forks_per_s) = match (prev, secs) {
        (Some(p), Some(s)) => (
            rate(p.switches, cur.switches, s),
            rate(p.forks, cur.forks, s),
        ),
        _ => (0.0, 0.0),
    };
    Header {
        load: cur.load,
        cpus,
        mem_used: cur.mem_total.saturating_sub(cur.mem_available),
        mem_total: cur.mem_total,
        swap_used: cur.swap_total.saturating_sub(cur.swap_free),
        swap_total: cur.swap_total,
        states,
        switches_per_s,
        forks_per_s,
    }
}

/// The threads' rows, with CPU % since the previous reading of the same
/// process's threads.
pub(crate) fn thread_rows(
    prev: Option<&(Instant, Vec<ThreadReading>)>,
    cur: &(Instant, Vec<ThreadReading>),
    ticks_per_s: f64,
) -> Vec<ThreadRow> {
    let before: HashMap<i32, u64> = prev
        .map(|(_, ts)| ts.iter().map(|t| (t.tid, t.ticks)).collect())
        .unwrap_or_default();
    let secs = prev.map(|(at, _)| seconds(*at, cur.0));
    cur.1
        .iter()
        .map(|t| ThreadRow {
            tid: t.tid,
            name: t.name.clone(),
            state: t.state,
            cpu: match (before.get(&t.tid), secs) {
                (Some(&was), Some(s)) => cpu_percent(was, t.ticks, s, ticks_per_s),
                _ => 0.0,
            },
            last_cpu: t.cpu,
        })
        .collect()
}

/// A row for the tests: user root, state S, one thread, `rss` also as
/// its involuntary switches per second, started at `pid` × 10.
#[cfg(test)]
pub(crate) fn test_row(pid: i32, ppid: i32, cpu: f64, rss: u64, command: &str) -> Row {
    Row {
        pid,
        ppid,
        user: "root".into(),
        state: 'S',
        nice: 0,
        threads: 1,
        cpu,
        rss,
        voluntary_per_s: 0.0,
        involuntary_per_s: rss as f64,
        comm: command.into(),
        command: command.into(),
        start: pid as u64 * 10,
        has_zombie: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::CpuTicks;
    use std::time::{Duration, Instant};

    fn system(busy: u64, total: u64, switches: u64, forks: u64) -> SystemReading {
        SystemReading {
            load: [0.5, 0.25, 0.125],
            cpus: vec![CpuTicks { busy, total }],
            switches,
            forks,
            mem_total: 1000,
            mem_available: 400,
            swap_total: 100,
            swap_free: 100,
        }
    }

    fn proc_(pid: i32, ppid: i32, state: char, ticks: u64, start: u64) -> ProcReading {
        ProcReading {
            pid,
            ppid,
            uid: 0,
            state,
            nice: 0,
            threads: 1,
            ticks,
            start,
            rss: 4096,
            voluntary: ticks * 10,
            involuntary: ticks,
            comm: format!("p{pid}"),
            command: format!("p{pid} --flag"),
        }
    }

    #[test]
    fn rates_are_differences_over_the_time_between_readings() {
        let t0 = Instant::now();
        let prev = Reading {
            at: t0,
            system: system(100, 1000, 5000, 70),
            procs: vec![proc_(10, 1, 'R', 100, 7), proc_(11, 1, 'S', 0, 8)],
        };
        let cur = Reading {
            at: t0 + Duration::from_secs(2),
            system: system(250, 1200, 9000, 80),
            // 10 used 100 ticks more; 11 was replaced by a new process
            // with the same pid (another start): no rate for it.
            procs: vec![proc_(10, 1, 'R', 200, 7), proc_(11, 1, 'Z', 50, 9)],
        };
        let f = frame(Some(&prev), &cur, 100.0, &mut Users::default());
        assert_eq!(f.system.cpus, vec![75.0]);
        assert_eq!(f.system.switches_per_s, 2000.0);
        assert_eq!(f.system.forks_per_s, 5.0);
        assert_eq!(f.system.mem_used, 600);
        assert_eq!(f.system.states, BTreeMap::from([('R', 1), ('Z', 1)]));
        let p10 = &f.processes[0];
        assert_eq!(p10.cpu, 50.0, "100 ticks at 100/s over 2 s");
        assert_eq!(p10.voluntary_per_s, 500.0);
        assert_eq!(p10.involuntary_per_s, 50.0);
        assert!(!p10.has_zombie);
        assert_eq!(f.processes[1].cpu, 0.0);
        let first = frame(None, &cur, 100.0, &mut Users::default());
        assert_eq!(first.processes[0].cpu, 0.0);
    }

    #[test]
    fn a_zombie_marks_its_parent() {
        let cur = Reading {
            at: Instant::now(),
            system: system(0, 0, 0, 0),
            procs: vec![proc_(20, 1, 'S', 0, 1), proc_(21, 20, 'Z', 0, 2)],
        };
        let f = frame(None, &cur, 100.0, &mut Users::default());
        assert!(f.processes[0].has_zombie);
        assert!(!f.processes[1].has_zombie);
    }
}
