//! The three samplers' readings, each from the kernel through `procfs`
//! (and `statvfs(2)` for the disk's space): CPU from `/proc/stat`, memory
//! and swap from `/proc/meminfo`, the disk's used space and its reads and
//! writes from `/proc/diskstats`. Owns the counters a rate needs between
//! two readings; knows nothing of time, threads or storage.

use std::path::{Path, PathBuf};
use std::time::Instant;

use hilo_term::{CpuTicks, Failure};
use procfs::{Current, CurrentSI};

use crate::metric::Metric;

/// The values of one reading, one per metric the source owns.
pub(crate) type Reading = Vec<(Metric, f64)>;

/// One sampler's source of readings. Made (and read once, so a rate has a
/// starting point) on the main thread, then moved to its worker.
pub(crate) trait Source: Send {
    /// What it reads, for error messages: `cpu`, `memory`, `disk`.
    fn name(&self) -> &'static str;

    /// A reading now. Rates are over the time since the previous reading.
    fn read(&mut self) -> Result<Reading, String>;
}

/// The three sources, in the order of [`Metric::ALL`]: CPU, memory, disk
/// (whose used % is of the filesystem holding `path`).
///
/// # Errors
/// A usage error if `path` cannot be looked at; a failure if the kernel's
/// files cannot be read.
pub(crate) fn sources(path: &Path) -> Result<Vec<Box<dyn Source>>, Failure> {
    Ok(vec![
        Box::new(Cpu::new().map_err(Failure::failed)?),
        Box::new(Memory::new().map_err(Failure::failed)?),
        Box::new(Disk::new(path)?),
    ])
}

/// `cpu_pct`: the share of ticks not idle between two readings of the
/// `cpu` line of `/proc/stat`.
struct Cpu {
    last: CpuTicks,
    /// The value given when no tick passed since the last reading.
    last_pct: f64,
}

impl Cpu {
    fn new() -> Result<Cpu, String> {
        Ok(Cpu {
            last: cpu_ticks()?,
            last_pct: 0.0,
        })
    }
}

impl Source for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn read(&mut self) -> Result<Reading, String> {
        let now = cpu_ticks()?;
        self.last_pct = now.busy_percent_since(self.last).unwrap_or(self.last_pct);
        self.last = now;
        Ok(vec![(Metric::Cpu, self.last_pct)])
    }
}

fn cpu_ticks() -> Result<CpuTicks, String> {
    let stat =
        procfs::KernelStats::current().map_err(|e| format!("cannot read /proc/stat: {e}"))?;
    Ok(CpuTicks::of(&stat.total))
}

/// `mem_used_pct` and `swap_used_pct` from `/proc/meminfo`.
struct Memory;

impl Memory {
    fn new() -> Result<Memory, String> {
        let mut memory = Memory;
        memory.read()?;
        Ok(memory)
    }
}

impl Source for Memory {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn read(&mut self) -> Result<Reading, String> {
        let m =
            procfs::Meminfo::current().map_err(|e| format!("cannot read /proc/meminfo: {e}"))?;
        // Before Linux 3.14 there is no MemAvailable: free + buffers + cache.
        let available = m.mem_available.unwrap_or(m.mem_free + m.buffers + m.cached);
        Ok(vec![
            (Metric::Memory, used_percent(m.mem_total, available)),
            (Metric::Swap, used_percent(m.swap_total, m.swap_free)),
        ])
    }
}

/// The percent of `total` not `free` (0 when `total` is 0: no swap).
fn used_percent(total: u64, free: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    100.0 * total.saturating_sub(free) as f64 / total as f64
}

/// Bytes read and written, summed over the counted disks, and when.
#[derive(Debug, Clone, Copy)]
struct Io {
    at: Instant,
    read: u64,
    written: u64,
}

/// `disk_used_pct` of the filesystem holding `path`, and
/// `disk_read_bytes_per_s` / `disk_write_bytes_per_s` of the machine's
/// physical disks.
struct Disk {
    path: PathBuf,
    /// The whole, physical disks of `/proc/diskstats` (not partitions,
    /// loop, RAM or device-mapper devices, whose I/O the disks under them
    /// already count).
    disks: Vec<String>,
    last: Io,
}

impl Disk {
    fn new(path: &Path) -> Result<Disk, Failure> {
        used_space(path).map_err(Failure::usage)?;
        let disks: Vec<String> = diskstats()
            .map_err(Failure::failed)?
            .into_iter()
            .map(|d| d.name)
            .filter(|n| is_physical_disk(n))
            .collect();
        let last = io(&disks).map_err(Failure::failed)?;
        Ok(Disk {
            path: path.to_owned(),
            disks,
            last,
        })
    }
}

impl Source for Disk {
    fn name(&self) -> &'static str {
        "disk"
    }

    fn read(&mut self) -> Result<Reading, String> {
        let used = used_space(&self.path)?;
        let now = io(&self.disks)?;
        let secs = now.at.duration_since(self.last.at).as_secs_f64();
        let rate = |after: u64, before: u64| {
            if secs > 0.0 {
                after.saturating_sub(before) as f64 / secs
            } else {
                0.0
            }
        };
        let reading = vec![
            (Metric::DiskUsed, used),
            (Metric::DiskRead, rate(now.read, self.last.read)),
            (Metric::DiskWrite, rate(now.written, self.last.written)),
        ];
        self.last = now;
        Ok(reading)
    }
}

/// The percent of the filesystem's space in use, as `df` computes it:
/// used / (used + available to unprivileged users).
fn used_space(path: &Path) -> Result<f64, String> {
    let fs = rustix::fs::statvfs(path)
        .map_err(|e| format!("cannot look at the filesystem of {}: {e}", path.display()))?;
    let used = fs.f_blocks.saturating_sub(fs.f_bfree);
    Ok(used_percent(used + fs.f_bavail, fs.f_bavail))
}

fn diskstats() -> Result<Vec<procfs::DiskStat>, String> {
    procfs::diskstats().map_err(|e| format!("cannot read /proc/diskstats: {e}"))
}

/// A whole disk (`/sys/block/NAME` exists) backed by a device (it has a
/// `device` link, which loop, RAM, zram and device-mapper devices lack).
fn is_physical_disk(name: &str) -> bool {
    Path::new("/sys/block").join(name).join("device").exists()
}

fn io(disks: &[String]) -> Result<Io, String> {
    // /proc/diskstats counts 512-byte sectors, whatever the device's own
    // sector size.
    const SECTOR: u64 = 512;
    let at = Instant::now();
    let (mut read, mut written) = (0, 0);
    for d in diskstats()?.iter().filter(|d| disks.contains(&d.name)) {
        read += d.sectors_read * SECTOR;
        written += d.sectors_written * SECTOR;
    }
    Ok(Io { at, read, written })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn used_percent_of_nothing_is_zero() {
        assert_eq!(used_percent(0, 0), 0.0);
        assert_eq!(used_percent(200, 50), 75.0);
        assert_eq!(used_percent(200, 300), 0.0);
    }

    #[test]
    fn every_source_reads_each_of_its_metrics_once() {
        let mut seen = Vec::new();
        for mut source in sources(Path::new("/")).unwrap() {
            seen.extend(source.read().unwrap().into_iter().map(|(m, _)| m));
        }
        assert_eq!(seen, Metric::ALL);
    }

    #[test]
    fn a_path_that_is_not_there_is_a_usage_error() {
        let err = Disk::new(Path::new("/no/such/dir")).err().unwrap();
        assert_eq!(err.status(), hilo_term::EXIT_USAGE);
        assert!(err.to_string().contains("/no/such/dir"), "{err}");
    }
}
