//! Process checks shared by the process-pool test binaries.
#![allow(dead_code, unreachable_pub)]

use std::os::fd::OwnedFd;

/// The state letter and the parent's pid of process `pid` ("self" for this
/// one), from `/proc/<pid>/stat`; `None` once it is gone.
pub fn state_and_parent(pid: &str) -> Option<(String, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // pid (comm) state ppid ...; comm may hold spaces: split after ')'.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let state = fields.next()?.to_owned();
    let parent = fields.next()?.parse().ok()?;
    Some((state, parent))
}

/// Threads of this process.
pub fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// Open descriptors of this process (not counting the one that lists
/// them).
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count() - 1
}

/// Children of this process that are zombies (state `Z` in /proc).
pub fn zombie_children() -> Vec<u32> {
    let me = std::process::id();
    let mut zombies = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some((state, parent)) = state_and_parent(&name) {
            if state == "Z" && parent == me {
                zombies.push(name.parse().unwrap_or(0));
            }
        }
    }
    zombies
}

pub fn assert_no_zombies() {
    let z = zombie_children();
    assert!(z.is_empty(), "zombie children: {z:?}");
}

/// A pidfd on process `pid`, if it is still there: what the tests signal
/// and wait on, so a pid reused meanwhile is never hit.
pub fn pidfd(pid: u32) -> Option<OwnedFd> {
    let p = rustix::process::Pid::from_raw(i32::try_from(pid).ok()?)?;
    rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).ok()
}

/// Kills process `pid` through a pidfd if it is still there.
pub fn kill(pid: u32) {
    if let Some(fd) = pidfd(pid) {
        let _ = rustix::process::pidfd_send_signal(&fd, rustix::process::Signal::KILL);
    }
}

/// Blocks until process `pid` has exited (pidfd: woken by the kernel, no
/// polling), or `timeout` passes; true if it exited.
pub fn wait_exit(pid: u32, timeout: std::time::Duration) -> bool {
    let Some(fd) = pidfd(pid) else {
        return !std::path::Path::new(&format!("/proc/{pid}")).exists(); // already gone
    };
    let mut fds = [rustix::event::PollFd::new(
        &fd,
        rustix::event::PollFlags::IN,
    )];
    let ts = rustix::event::Timespec {
        tv_sec: timeout.as_secs() as i64,
        tv_nsec: i64::from(timeout.subsec_nanos()),
    };
    matches!(rustix::event::poll(&mut fds, Some(&ts)), Ok(n) if n > 0)
}
