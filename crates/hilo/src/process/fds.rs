//! Descriptor hygiene in a worker: nothing the worker inherited reaches a
//! process one of its tasks starts.
//!
//! The only `unsafe` in the crate lives here, so it can be reviewed in one
//! place.
#![allow(unsafe_code)]

use std::os::fd::{BorrowedFd, RawFd};

use rustix::io::FdFlags;

/// Marks every descriptor above stderr close-on-exec. A worker keeps them
/// (its program may use what it inherited), but a task's child process gets
/// only stdin, stdout and stderr and what the task itself hands it.
///
/// Called from `hilo::init()` in a worker, before it serves, while the
/// process has a single thread.
pub(super) fn close_inherited_on_exec() {
    for fd in open_descriptors() {
        if fd <= 2 {
            continue;
        }
        // SAFETY: `fd` was listed in /proc/self/fd a moment ago, and the
        // process has one thread (this runs in `hilo::init()`, first thing in
        // `main`), so nothing can have closed it or put another file under
        // its number since; the borrow ends with this statement. If the
        // number is no longer open (the directory handle used to list them),
        // fcntl fails with EBADF and nothing happens.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        if let Ok(flags) = rustix::io::fcntl_getfd(borrowed) {
            let _ = rustix::io::fcntl_setfd(borrowed, flags | FdFlags::CLOEXEC);
        }
    }
}

/// The descriptor numbers open in this process.
fn open_descriptors() -> Vec<RawFd> {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .collect()
}
