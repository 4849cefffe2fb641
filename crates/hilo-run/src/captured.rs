//! A job's captured stdout or stderr, as GNU parallel keeps it: the job
//! writes into a temporary file under `$TMPDIR` (unlinked from the start,
//! so nothing is left behind whatever happens), at its own pace, never
//! blocked on a full pipe. When the job ends, a small output is read into
//! memory and its file closed; a large one stays in its file and is
//! copied from there, in pieces, when it is printed or saved. Either way
//! it is never held in memory twice, and all the outputs held in memory
//! at once (finished jobs waiting for their turn under `-k`) stay under
//! a budget. A leaf: the runner captures, the output side reads.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The largest output read into memory when its job ends.
const SMALL: u64 = 1 << 20;
/// At most this many bytes of outputs in memory at once, over all jobs.
const BUDGET: u64 = 64 << 20;
/// The piece an output in a file is copied in.
const PIECE: usize = 1 << 16;

/// Bytes of captured output held in memory, over all finished jobs.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    held: AtomicU64,
}

impl Budget {
    /// Takes `bytes` from the budget, if they fit.
    fn take(self: &Arc<Self>, bytes: u64) -> Option<Held> {
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                (held + bytes <= BUDGET).then_some(held + bytes)
            })
            .ok()
            .map(|_| Held {
                budget: Arc::clone(self),
                bytes,
            })
    }
}

/// Bytes taken from a [`Budget`], given back when dropped.
#[derive(Debug)]
struct Held {
    budget: Arc<Budget>,
    bytes: u64,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.held.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// One captured stream of one job.
#[derive(Debug, Default)]
pub(crate) struct Captured(Kept);

#[derive(Debug, Default)]
enum Kept {
    #[default]
    Empty,
    /// In memory, and what it takes from the budget (`None` for hilo's
    /// own one-line messages, not counted).
    Memory { bytes: Vec<u8>, _held: Option<Held> },
    /// The first `len` bytes of a temporary file.
    File(File, u64),
}

/// Where the temporary files go: `$TMPDIR`, else `/tmp`.
pub(crate) fn temp_dir() -> PathBuf {
    std::env::temp_dir()
}

/// A new temporary file for a job to write into: unlinked, closed on exec
/// (the job gets its own copy of the descriptor).
pub(crate) fn file() -> io::Result<File> {
    tempfile::tempfile_in(temp_dir())
}

/// The one-line error for a temporary file [`file`] could not make.
pub(crate) fn no_file(e: &io::Error) -> String {
    format!(
        "cannot make a temporary file in {} (set TMPDIR to a writable directory): {e}",
        temp_dir().display()
    )
}

impl Captured {
    /// What the job wrote into `file` (made by [`file`]) by the time it
    /// ended; in memory if small and `budget` allows.
    pub(crate) fn collect(file: File, budget: &Arc<Budget>) -> io::Result<Captured> {
        // The job's writes moved its own offset, which `file` shares: the
        // size says how much there is.
        let len = file.metadata()?.len();
        if len == 0 {
            return Ok(Captured(Kept::Empty));
        }
        if len <= SMALL {
            if let Some(held) = budget.take(len) {
                let mut bytes = vec![0; len as usize];
                file.read_exact_at(&mut bytes, 0)?;
                return Ok(Captured(Kept::Memory {
                    bytes,
                    _held: Some(held),
                }));
            }
        }
        Ok(Captured(Kept::File(file, len)))
    }

    /// How many bytes.
    pub(crate) fn len(&self) -> u64 {
        match &self.0 {
            Kept::Empty => 0,
            Kept::Memory { bytes, .. } => bytes.len() as u64,
            Kept::File(_, len) => *len,
        }
    }

    /// Calls `each` with the bytes in order, in pieces of at most 64 KiB
    /// when they are in a file; stops at its first error.
    pub(crate) fn pieces(&self, mut each: impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        match &self.0 {
            Kept::Empty => Ok(()),
            Kept::Memory { bytes, .. } => each(bytes),
            Kept::File(file, len) => {
                let mut buf = vec![0; PIECE.min(*len as usize)];
                let mut at = 0;
                while at < *len {
                    let n = PIECE.min((*len - at) as usize);
                    file.read_exact_at(&mut buf[..n], at)?;
                    each(&buf[..n])?;
                    at += n as u64;
                }
                Ok(())
            }
        }
    }

    /// All the bytes in memory (for `--json`, which prints them in one
    /// string).
    pub(crate) fn to_vec(&self) -> io::Result<Vec<u8>> {
        let mut all = Vec::with_capacity(self.len().try_into().unwrap_or(0));
        self.pieces(|piece| {
            all.extend_from_slice(piece);
            Ok(())
        })?;
        Ok(all)
    }
}

impl From<Vec<u8>> for Captured {
    fn from(bytes: Vec<u8>) -> Captured {
        Captured(Kept::Memory { bytes, _held: None })
    }
}
