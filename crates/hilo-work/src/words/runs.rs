//! Finding the runs of word bytes in a chunk without a branch per byte.
//!
//! One pass classifies eight bytes at a time (SWAR: arithmetic on a `u64`
//! whose lanes are the bytes) into two bitmaps, one bit per byte:
//! `sep`, the ASCII bytes that are not letters or digits, which always end
//! a word; and `special`, the bytes a word cannot be counted as it is with
//! (ASCII upper case, and every byte from 0x80 up). Then the runs between
//! separators come from the bitmaps' edges, a few bit operations per run,
//! instead of a test and a mispredicted branch at every byte.
//!
//! A run is a whole word when it has no special byte. Otherwise its
//! characters are looked at one by one by the caller: a run may hold
//! several words, parted by non-ASCII separators (`¿`, `—`, U+FFFD).

const LANES_1: u64 = 0x0101_0101_0101_0101;
const LANES_HIGH: u64 = 0x8080_8080_8080_8080;

/// In each lane of `v` (bytes below 0x80), the high bit set where the byte
/// is at least `k`: adding `128 - k` carries into bit 7 exactly then, and
/// never out of the lane.
#[inline(always)]
fn at_least(v: u64, k: u8) -> u64 {
    (v + LANES_1 * u64::from(128 - k)) & LANES_HIGH
}

/// The high bits of the eight lanes of `x`, as eight bits (lane 0 → bit 0).
#[inline(always)]
fn gather(x: u64) -> u64 {
    ((x & LANES_HIGH) >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// The `sep` and `special` bits of the eight bytes of `x` (little-endian).
#[inline(always)]
fn classify(x: u64) -> (u64, u64) {
    let high = x & LANES_HIGH;
    let v = x & !LANES_HIGH;
    let lower = at_least(v, b'a') & !at_least(v, b'z' + 1);
    let upper = at_least(v, b'A') & !at_least(v, b'Z' + 1);
    let digit = at_least(v, b'0') & !at_least(v, b'9' + 1);
    let word = high | lower | upper | digit;
    (gather(!word), gather(high | upper))
}

/// The bitmaps of one chunk, 64 bytes per word; past the end of the
/// chunk every bit of `sep` is set, so every run ends inside the bitmap.
#[derive(Default)]
pub(super) struct Runs {
    sep: Vec<u64>,
    special: Vec<u64>,
}

impl Runs {
    /// Classifies `bytes`, reusing the bitmaps' memory.
    pub(super) fn classify(&mut self, bytes: &[u8]) {
        self.sep.clear();
        self.special.clear();
        let mut blocks = bytes.chunks_exact(64);
        for block in &mut blocks {
            self.push(block);
        }
        let rest = blocks.remainder();
        let mut last = [b' '; 64];
        last[..rest.len()].copy_from_slice(rest);
        self.push(&last);
    }

    fn push(&mut self, block: &[u8]) {
        let (mut sep, mut special) = (0, 0);
        for (k, lanes) in block.chunks_exact(8).enumerate() {
            let mut x = [0; 8];
            x.copy_from_slice(lanes);
            let (s, p) = classify(u64::from_le_bytes(x));
            sep |= s << (8 * k);
            special |= p << (8 * k);
        }
        self.sep.push(sep);
        self.special.push(special);
    }

    /// Calls `each(start, end, special)` for every run of non-separator
    /// bytes, in order; `special` tells whether the run holds a special
    /// byte. A run starts and ends next to ASCII bytes or at the chunk's
    /// ends, so on UTF-8 text it is whole characters.
    #[inline(always)]
    pub(super) fn each(&self, mut each: impl FnMut(usize, usize, bool)) {
        // The start of a run that goes on past its block.
        let mut open = None;
        let mut prev_word = 0;
        for (blk, &sep) in self.sep.iter().enumerate() {
            let word = !sep;
            let next_word = self.sep.get(blk + 1).map_or(0, |&s| !s & 1);
            // A start bit where a word byte follows a separator; an end
            // bit on the last byte of each run.
            let mut starts = word & !((word << 1) | prev_word);
            let mut ends = word & !((word >> 1) | (next_word << 63));
            prev_word = word >> 63;
            let base = blk * 64;
            while ends != 0 {
                let end = base + ends.trailing_zeros() as usize + 1;
                ends &= ends - 1;
                let start = open.take().unwrap_or_else(|| {
                    let start = base + starts.trailing_zeros() as usize;
                    starts &= starts - 1;
                    start
                });
                each(start, end, self.any_special(start, end));
            }
            if starts != 0 {
                open = Some(base + starts.trailing_zeros() as usize);
            }
        }
    }

    /// Whether any byte of `start..end` (not empty) is special.
    #[inline(always)]
    fn any_special(&self, start: usize, end: usize) -> bool {
        let (first, last) = (start / 64, (end - 1) / 64);
        let from = start % 64;
        let to = (end - 1) % 64;
        // The bits from..=to of one word.
        let upto = |to: usize| u64::MAX >> (63 - to);
        if first == last {
            return (self.special[first] & upto(to)) >> from != 0;
        }
        self.special[first] >> from != 0
            || self.special[first + 1..last].iter().any(|&w| w != 0)
            || self.special[last] & upto(to) != 0
    }
}
