//! `--line-buffer`'s output: complete lines written while jobs run, each
//! block in one piece so no other job's line lands inside it. With `-k`,
//! only the oldest job not yet reported (the head) prints live; the lines
//! of the jobs after it wait in memory until their turn, so jobs never mix
//! and come out in input order (GNU parallel's `-k --line-buffer`). Owns
//! our stdout and stderr while jobs run.

use std::collections::HashMap;
use std::io::{self, Write};

use parking_lot::Mutex;

/// Where every `--line-buffer` job writes.
pub(crate) struct Lines {
    keep_order: bool,
    state: Mutex<Held>,
}

/// With `-k`: the job that prints live, and what the others wrote so far.
#[derive(Default)]
struct Held {
    head: u64,
    /// Per job (by submission order), blocks for stdout (true) or stderr.
    blocks: HashMap<u64, Vec<(bool, Vec<u8>)>>,
}

impl Lines {
    pub(crate) fn new(keep_order: bool) -> Lines {
        Lines {
            keep_order,
            state: Mutex::new(Held::default()),
        }
    }

    /// Job `order` (its place among submitted jobs) wrote `block`, whole
    /// lines: written now, or held until it is the head.
    pub(crate) fn write(&self, order: u64, to_stdout: bool, block: &[u8]) -> io::Result<()> {
        let mut held = self.state.lock();
        if self.keep_order && order != held.head {
            held.blocks
                .entry(order)
                .or_default()
                .push((to_stdout, block.to_vec()));
            return Ok(());
        }
        put(to_stdout, block)
    }

    /// Every job before `order` has been reported: what `order` wrote so
    /// far is written now, and from now on it prints live.
    pub(crate) fn make_head(&self, order: u64) -> io::Result<()> {
        let mut held = self.state.lock();
        held.head = order;
        for (to_stdout, block) in held.blocks.remove(&order).unwrap_or_default() {
            put(to_stdout, &block)?;
        }
        Ok(())
    }
}

/// Writes `block` to our stdout (flushed) or stderr, in one piece.
pub(super) fn put(to_stdout: bool, block: &[u8]) -> io::Result<()> {
    if to_stdout {
        let mut out = io::stdout().lock();
        out.write_all(block)?;
        out.flush()
    } else {
        io::stderr().lock().write_all(block)
    }
}
