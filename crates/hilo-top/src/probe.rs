//! One reading of `/proc`, through the `procfs` crate: the system's
//! counters and every process's. It only reads and copies numbers; rates
//! (CPU %, switches per second) need two readings and live in `frame`.
//!
//! A process that ends while it is being read is left out of the reading,
//! as `ps` does: it is gone by the time anyone could look at it.

use std::collections::HashMap;
use std::time::Instant;

use procfs::process::{Process, Stat};

use crate::procfile::ProcFile;
use crate::switches::Switches;
use procfs::{Current, CurrentSI, KernelStats, LoadAverage, Meminfo};

pub(crate) use hilo_term::CpuTicks;

/// The system as a whole, from `/proc/loadavg`, `/proc/stat` and
/// `/proc/meminfo`.
#[derive(Debug, Clone)]
pub(crate) struct SystemReading {
    /// Load average over 1, 5 and 15 minutes.
    pub(crate) load: [f32; 3],
    /// One entry per CPU, in the kernel's order.
    pub(crate) cpus: Vec<CpuTicks>,
    /// Context switches since boot.
    pub(crate) switches: u64,
    /// Processes and threads created since boot (forks and clones).
    pub(crate) forks: u64,
    /// Bytes of memory in all, and available for new work.
    pub(crate) mem_total: u64,
    /// Estimated by the kernel (`MemAvailable`).
    pub(crate) mem_available: u64,
    /// Bytes of swap in all, and free.
    pub(crate) swap_total: u64,
    /// Free swap, bytes.
    pub(crate) swap_free: u64,
}

/// One process, as `/proc/PID/stat`, `status` and `cmdline` describe it.
#[derive(Debug, Clone)]
pub(crate) struct ProcReading {
    /// Process id.
    pub(crate) pid: i32,
    /// Parent's process id (0 for the kernel's first processes).
    pub(crate) ppid: i32,
    /// Effective user id (the owner of `/proc/PID/stat`).
    pub(crate) uid: u32,
    /// R, S, D, Z, T, t, I, X (`man 5 proc`).
    pub(crate) state: char,
    /// -20 (most favoured) to 19.
    pub(crate) nice: i64,
    /// Threads in the process.
    pub(crate) threads: i64,
    /// User plus system CPU time of all its threads, in clock ticks.
    pub(crate) ticks: u64,
    /// When it started, in clock ticks after boot: with the pid, who it is
    /// (a pid is reused; a pid and its start time are not).
    pub(crate) start: u64,
    /// Resident memory, bytes.
    pub(crate) rss: u64,
    /// Voluntary context switches of all its threads (it waited).
    pub(crate) voluntary: u64,
    /// Involuntary ones (the scheduler took the CPU away).
    pub(crate) involuntary: u64,
    /// The executable's name as the kernel keeps it (15 bytes at most).
    pub(crate) comm: String,
    /// The command line, or `[comm]` when there is none (kernel threads,
    /// zombies).
    pub(crate) command: String,
}

/// Everything read at one instant.
#[derive(Debug, Clone)]
pub(crate) struct Reading {
    /// When the reading was taken.
    pub(crate) at: Instant,
    /// The system's counters.
    pub(crate) system: SystemReading,
    /// Every process that could be read, in `/proc`'s order.
    pub(crate) procs: Vec<ProcReading>,
}

/// Why `/proc` could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read /proc: {0}")]
pub(crate) struct ProbeError(String);

impl From<procfs::ProcError> for ProbeError {
    fn from(e: procfs::ProcError) -> Self {
        ProbeError(e.to_string())
    }
}

impl From<std::io::Error> for ProbeError {
    fn from(e: std::io::Error) -> Self {
        ProbeError(e.to_string())
    }
}

/// Reads `/proc` again and again, keeping what does not change between
/// readings (command lines) so a refresh reads as little as it can.
#[derive(Default)]
pub(crate) struct Probe {
    /// Command lines (and the name they were read under) by (pid, start):
    /// read once per process and program.
    commands: HashMap<(i32, u64), (String, String)>,
    /// Context switches by thread, read again only when they changed.
    switches: Switches,
    /// The buffer small files are read into.
    file: ProcFile,
}

impl Probe {
    /// A probe with nothing remembered yet.
    pub(crate) fn new() -> Self {
        Probe::default()
    }

    /// Reads the system and every process now.
    ///
    /// # Errors
    /// `/proc` itself (its `stat`, `meminfo`, `loadavg` or the directory)
    /// cannot be read. A single process that cannot be read is skipped.
    pub(crate) fn read(&mut self) -> Result<Reading, ProbeError> {
        let at = Instant::now();
        let system = read_system()?;
        let mut procs = Vec::new();
        for pid in pids("/proc")? {
            if let Some(p) = self.read_process(pid) {
                procs.push(p);
            }
        }
        // Forget the command lines of processes that are gone.
        if self.commands.len() > procs.len() * 2 {
            let alive: std::collections::HashSet<(i32, u64)> =
                procs.iter().map(|p| (p.pid, p.start)).collect();
            self.commands.retain(|k, _| alive.contains(k));
        }
        self.switches.forget_unseen();
        Ok(Reading { at, system, procs })
    }

    fn read_process(&mut self, pid: i32) -> Option<ProcReading> {
        let dir = format!("/proc/{pid}");
        // The owner of /proc/PID/stat: the process's effective user.
        let (stat, uid): (Stat, u32) = self.file.read_owned(&format!("{dir}/stat")).ok()?;
        let (mut voluntary, mut involuntary) = (0, 0);
        let tids = if stat.num_threads > 1 {
            pids(&format!("{dir}/task")).unwrap_or_default()
        } else {
            vec![pid]
        };
        for tid in tids {
            let task = if tid == pid {
                dir.clone()
            } else {
                format!("{dir}/task/{tid}")
            };
            let (v, i) = self.switches.of(&mut self.file, stat.starttime, tid, &task);
            voluntary += v;
            involuntary += i;
        }
        let key = (stat.pid, stat.starttime);
        // An exec keeps the pid and start time but changes the name: then
        // the command line is read again.
        let command = match self.commands.get(&key) {
            Some((comm, c)) if *comm == stat.comm => c.clone(),
            _ => {
                let args = Process::new(pid)
                    .and_then(|p| p.cmdline())
                    .unwrap_or_default();
                let command = if args.is_empty() {
                    format!("[{}]", stat.comm)
                } else {
                    args.join(" ")
                };
                // A zombie has no command line yet keeps its pid: do not
                // remember "[comm]" for a live process read mid-exec.
                if !args.is_empty() {
                    self.commands
                        .insert(key, (stat.comm.clone(), command.clone()));
                }
                command
            }
        };
        Some(ProcReading {
            pid: stat.pid,
            ppid: stat.ppid,
            uid,
            state: stat.state,
            nice: stat.nice,
            threads: stat.num_threads,
            ticks: stat.utime + stat.stime,
            start: stat.starttime,
            rss: stat.rss * procfs::page_size(),
            voluntary,
            involuntary,
            comm: stat.comm,
            command,
        })
    }
}

/// The numeric entries of a directory (`/proc`'s processes, a process's
/// `task` threads).
fn pids(dir: &str) -> std::io::Result<Vec<i32>> {
    Ok(std::fs::read_dir(dir)?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect())
}

fn read_system() -> Result<SystemReading, procfs::ProcError> {
    let stat = KernelStats::current()?;
    let load = LoadAverage::current()?;
    let mem = Meminfo::current()?;
    Ok(SystemReading {
        load: [load.one, load.five, load.fifteen],
        cpus: stat.cpu_time.iter().map(CpuTicks::of).collect(),
        switches: stat.ctxt,
        forks: stat.processes,
        mem_total: mem.mem_total,
        mem_available: mem.mem_available.unwrap_or(mem.mem_free),
        swap_total: mem.swap_total,
        swap_free: mem.swap_free,
    })
}

/// One thread of a process, from `/proc/PID/task/TID/stat`.
#[derive(Debug, Clone)]
pub(crate) struct ThreadReading {
    /// Thread id.
    pub(crate) tid: i32,
    /// Its name (`comm`; threads may name themselves).
    pub(crate) name: String,
    /// R, S, D, …
    pub(crate) state: char,
    /// User plus system CPU time, clock ticks.
    pub(crate) ticks: u64,
    /// The CPU it last ran on.
    pub(crate) cpu: Option<i32>,
}

/// The threads of process `pid`, now.
///
/// # Errors
/// The process is gone or cannot be read.
pub(crate) fn read_threads(pid: i32) -> Result<(Instant, Vec<ThreadReading>), ProbeError> {
    let at = Instant::now();
    let process = Process::new(pid)?;
    let mut threads = Vec::new();
    for task in process.tasks()?.flatten() {
        if let Ok(stat) = task.stat() {
            threads.push(ThreadReading {
                tid: stat.pid,
                name: stat.comm,
                state: stat.state,
                ticks: stat.utime + stat.stime,
                cpu: stat.processor,
            });
        }
    }
    Ok((at, threads))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    fn command_of(probe: &mut Probe, pid: i32) -> String {
        let reading = probe.read().unwrap();
        reading
            .procs
            .into_iter()
            .find(|p| p.pid == pid)
            .unwrap()
            .command
    }

    #[test]
    fn a_command_line_is_read_again_after_an_exec() {
        let mut child = Command::new("sh")
            .args(["-c", "read line; exec sleep 600"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let mut probe = Probe::new();
        assert_eq!(
            command_of(&mut probe, pid),
            "sh -c read line; exec sleep 600"
        );
        child.stdin.take().unwrap().write_all(b"go\n").unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap() != "sleep\n" {
            assert!(Instant::now() < deadline, "no exec");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(command_of(&mut probe, pid), "sleep 600");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
