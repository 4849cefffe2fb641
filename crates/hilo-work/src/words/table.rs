//! The counting table of one chunk: word → count, built to be looked up
//! millions of times with the next lookups' memory already on its way.
//!
//! A chunk of real text has tens of thousands of distinct words, more than
//! a core's L2 cache holds, so a lookup of a rare word waits for memory.
//! `hashbrown` (std's `HashMap`) has no way to ask for a slot before
//! looking it up, and reads two places per lookup (its control bytes, then
//! the entry). Here a word of up to 16 bytes (almost every word) is its
//! own key: its bytes as a `u128`, zero-padded (a word has no NUL byte, NUL
//! separates words). A lookup is one slot, compared as two integers, and
//! the caller fetches the slot ([`Table::prefetch`]) several words before
//! it looks it up, so the waits overlap instead of adding up. Longer words
//! go to a plain `HashMap` beside the table.
//!
//! Open addressing with linear probing over a power-of-two array of slots,
//! at most half full; a zero key marks an empty slot. Nothing is removed.

use super::{Counts, Word};

/// The longest word kept in the table; longer ones go to `long`.
pub(super) const KEY_BYTES: usize = 16;

/// A word's bytes, zero-padded, little-endian.
pub(super) type Key = u128;

/// A key kept as two halves (a `u128` field would align the slot to 16
/// bytes and make it 32), and its count.
#[derive(Clone, Copy, Default)]
struct Slot {
    key: (u64, u64),
    count: u64,
}

/// A key's halves, as a slot keeps them.
#[inline(always)]
fn halves(key: Key) -> (u64, u64) {
    (key as u64, (key >> 64) as u64)
}

pub(super) struct Table {
    slots: Vec<Slot>,
    /// `64 - log2(slots.len())`: a hash's top bits pick its first slot.
    shift: u32,
    len: usize,
    long: Counts,
}

impl Table {
    /// A table for about `words` distinct words before it first grows.
    pub(super) fn with_capacity(words: usize) -> Table {
        let size = (2 * words).next_power_of_two().max(16);
        Table {
            slots: vec![Slot::default(); size],
            shift: 64 - size.trailing_zeros(),
            len: 0,
            long: Counts::default(),
        }
    }

    /// The key of `word` (1 to [`KEY_BYTES`] bytes, no NUL), found at
    /// `start` of `bytes`: read straight from `bytes` when 16 bytes are
    /// there, else copied.
    #[inline(always)]
    pub(super) fn key(bytes: &[u8], start: usize, len: usize) -> Key {
        let raw = match bytes.get(start..start + KEY_BYTES) {
            Some(window) => {
                let mut raw = [0; KEY_BYTES];
                raw.copy_from_slice(window);
                u128::from_le_bytes(raw)
            }
            None => {
                let mut raw = [0; KEY_BYTES];
                raw[..len].copy_from_slice(&bytes[start..start + len]);
                u128::from_le_bytes(raw)
            }
        };
        let keep = if len >= KEY_BYTES {
            u128::MAX
        } else {
            (1 << (8 * len)) - 1
        };
        raw & keep
    }

    /// A key's hash: a multiply mixes every byte into the top bits, which
    /// pick the slot.
    #[inline(always)]
    pub(super) fn hash(key: Key) -> u64 {
        let (lo, hi) = halves(key);
        (lo ^ hi.wrapping_mul(0xC2B2_AE3D_27D4_EB4F).rotate_left(31))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    /// Starts fetching the slot a key of hash `hash` is looked up in, so
    /// that a [`Table::bump`] some words later finds it in cache.
    #[inline(always)]
    pub(super) fn prefetch(&self, hash: u64) {
        crate::cache::prefetch(&self.slots[(hash >> self.shift) as usize]);
    }

    /// Adds one to the count of the word `key`, whose hash is `hash`.
    #[inline(always)]
    pub(super) fn bump(&mut self, key: Key, hash: u64) {
        let key = halves(key);
        let mask = self.slots.len() - 1;
        let mut i = (hash >> self.shift) as usize;
        loop {
            let slot = &mut self.slots[i];
            if slot.key == key {
                slot.count += 1;
                return;
            }
            if slot.key.0 == 0 {
                *slot = Slot { key, count: 1 };
                self.len += 1;
                if 2 * self.len > self.slots.len() {
                    self.grow();
                }
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds one to the count of `word`, longer than [`KEY_BYTES`].
    pub(super) fn bump_long(&mut self, word: &str) {
        match self.long.get_mut(word) {
            Some(n) => *n += 1,
            None => {
                self.long.insert(Word::from(word), 1);
            }
        }
    }

    /// Doubles the slots and places every word again.
    #[cold]
    fn grow(&mut self) {
        let mut bigger = Table::with_capacity(self.slots.len());
        let mask = bigger.slots.len() - 1;
        for slot in self.slots.iter().filter(|s| s.key.0 != 0) {
            let key = Key::from(slot.key.0) | Key::from(slot.key.1) << 64;
            let mut i = (Table::hash(key) >> bigger.shift) as usize;
            while bigger.slots[i].key.0 != 0 {
                i = (i + 1) & mask;
            }
            bigger.slots[i] = *slot;
        }
        self.slots = bigger.slots;
        self.shift = bigger.shift;
    }

    /// How many distinct words.
    pub(super) fn len(&self) -> usize {
        self.len + self.long.len()
    }

    /// Every word and its count, in no particular order.
    pub(super) fn into_counts(self) -> impl Iterator<Item = (Word, u64)> {
        let short = self.slots.into_iter().filter(|s| s.key.0 != 0).map(|s| {
            let raw = (Key::from(s.key.1) << 64 | Key::from(s.key.0)).to_le_bytes();
            let len = raw.iter().position(|&b| b == 0).unwrap_or(KEY_BYTES);
            // A key holds whole characters of a `str`: always UTF-8 (the
            // lossy branch is never taken, but costs nothing to keep).
            let word = match std::str::from_utf8(&raw[..len]) {
                Ok(word) => Word::from(word),
                Err(_) => Word::from_utf8_lossy(&raw[..len]),
            };
            (word, s.count)
        });
        short.chain(self.long)
    }
}
