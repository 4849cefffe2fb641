//! What the server saw: the questions per name, and how many it was
//! answering at once. Counts; answers nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::zone::key;

/// The counters, shared by the handler and the `DnsServer` handle.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Questions per name (table key), every type and transport.
    asked: Mutex<HashMap<String, usize>>,
    /// Questions being answered now (received, reply not yet sent).
    in_flight: AtomicUsize,
    /// The most `in_flight` ever was.
    max_in_flight: AtomicUsize,
}

/// Counts one question in flight until dropped.
pub(crate) struct Busy<'a>(&'a Stats);

impl Stats {
    pub(crate) fn busy(&self, name: &str) -> Busy<'_> {
        *self
            .asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key(name))
            .or_default() += 1;
        // SeqCst throughout: a few counters touched once per question,
        // read by another thread; no cheaper ordering is worth arguing.
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Busy(self)
    }

    pub(crate) fn asked(&self, name: &str) -> usize {
        let asked = self.asked.lock().unwrap_or_else(|e| e.into_inner());
        asked.get(&key(name)).copied().unwrap_or(0)
    }

    pub(crate) fn asked_in_all(&self) -> usize {
        let asked = self.asked.lock().unwrap_or_else(|e| e.into_inner());
        asked.values().sum()
    }

    pub(crate) fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}
