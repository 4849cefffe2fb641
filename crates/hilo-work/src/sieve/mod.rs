//! Counting and listing the primes of a range with a segmented sieve of
//! Eratosthenes. Owns the arithmetic only: it never starts a thread, prints
//! or parses; callers cut `[start, end]` with [`chunks`] and run
//! [`Sieve::count`] or [`Sieve::write_primes`] on each piece, wherever they
//! like (the `hilo primes` subcommand spreads them over a hilo pool).
//!
//! # How it is fast
//!
//! The ideas are the ones primesieve made well known, written anew here:
//!
//! - **A mod-30 wheel.** Only numbers coprime to 30 can be primes above 5,
//!   and 8 of every 30 numbers are; one byte holds a block of 30 numbers,
//!   one bit per residue in [`RESIDUES`]. The sieve touches 8/30 of the
//!   memory an odd-only sieve would, and counting is a popcount.
//! - **Pre-sieved patterns.** The multiples of 7 to 163 repeat with a period
//!   of their product, so they are crossed off once, into a few patterns,
//!   and each segment starts as a copy of the first pattern ANDed with the
//!   others (vectorised byte operations instead of millions of stores).
//! - **Cache-sized blocks.** A segment is [`SEGMENT_BYTES`] (63 million
//!   numbers); primes small enough to hit an L1-sized block (see
//!   [`Sieve::with_l1_cache`]) at least 8 times are crossed off block by
//!   block so that their stores hit the L1 cache.
//! - **Whole turns of the wheel.** The multiples `p·q` of a sieving prime,
//!   `q` coprime to 30, come 8 per `p` bytes, at offsets and bits that
//!   depend only on `p` and `p % 30`; a prime's state is one offset and a
//!   position on the wheel, and its inner loop clears 8 bytes per turn with
//!   constant masks. Primes are grouped by `p % 30` so that each group runs
//!   one loop specialised to it.
//! - **Buckets for large primes.** A prime a few times larger than a
//!   segment hits it a few times or not at all; it waits in the bucket of
//!   the next segment it hits (`buckets.rs`) instead of being looked at in
//!   every segment, as 8 bytes on a mod-210 wheel.
//! - **Counting by popcount**, 64 bits at a time.
//!
//! # As far as `u64` goes
//!
//! Any range up to 2⁶⁴ − 1 works. The sieving primes up to [`BASE_LIMIT`]
//! are found when the [`Sieve`] is built; those above it (up to 2³², for
//! ranges past 2³²) are sieved with them, piece by piece, and placed as
//! they come, never held in a list. Positions are byte indexes (`n / 30`)
//! computed as `a·q + ⌊r·q/30⌋` for `p = 30a + r`, which stay in `u64`
//! where `p·q` would not.

mod buckets;
mod crossers;
mod wheel;

use buckets::Buckets;
use crossers::{ByWheel, Crosser};
use wheel::BIT_OF;
pub use wheel::RESIDUES;

/// Bytes of one segment: 62,914,560 numbers. A power of two (the buckets
/// find a segment by a shift). 2 MB measured best among 128 KB to 4 MB on
/// a 512 KB L2: π(10¹⁰) takes the same from 512 KB up, and the larger the
/// segment the fewer trips the large primes make through the buckets (a
/// window at 10¹⁸ takes 10% less than with 512 KB).
pub const SEGMENT_BYTES: usize = 2048 * 1024;

/// The numbers one segment covers; chunks that are multiples of it waste
/// no partial segment.
pub const SEGMENT_SPAN: u64 = SEGMENT_BYTES as u64 * 30;

/// Bytes of the blocks small sieving primes are crossed off in, unless
/// [`Sieve::with_l1_cache`] says otherwise: the most common L1 data cache.
pub const BLOCK_BYTES: usize = 32 * 1024;

/// The primes the patterns remove, grouped so that each group's product
/// (the pattern's length in bytes) stays under 400 KB.
const PRESIEVE_GROUPS: [&[u64]; 14] = [
    &[7, 11, 13, 17],
    &[19, 23, 29, 31],
    &[37, 41, 43],
    &[47, 53, 59],
    &[61, 67, 71],
    &[73, 79],
    &[83, 89],
    &[97, 101],
    &[103, 107],
    &[109, 113],
    &[127, 131],
    &[137, 139],
    &[149, 151],
    &[157, 163],
];

/// The largest pre-sieved prime; sieving primes start above it.
const LAST_PRESIEVED: u64 = 163;

/// Patterns are ANDed into a segment this many bytes at a time, so that
/// the bytes stay in L1 from the first pattern to the last.
const PRESIEVE_BLOCK: usize = 8 * 1024;

/// A range is sieved in pieces of at most this many bytes, so that every
/// offset inside a piece fits in a `u32`.
const PIECE_BYTES: u64 = 1 << 30;

/// The sieving primes up to this one are found once, when the [`Sieve`] is
/// built; those above it (needed from 2³² on), piece by piece, by sieving
/// with them: its square, 2³², is past every sieving prime of `u64`.
pub const BASE_LIMIT: u64 = 1 << 16;

/// Sieving primes from this one on go into [`Buckets`]: they hit a
/// segment 2 or 3 times at most.
const MEDIUM_LIMIT: u32 = 3 * SEGMENT_BYTES as u32;

/// What every range needs: the pre-sieved patterns and the sieving primes
/// up to [`BASE_LIMIT`] (the others are sieved with them when a range
/// needs them). Build it once and share it (it is read-only); each call to
/// `count` or `write_primes` allocates its own segment.
///
/// ```
/// let sieve = hilo_work::sieve::Sieve::new();
/// assert_eq!(sieve.count(0, 100), 25);
/// let mut out = String::new();
/// sieve.write_primes(10, 20, &mut out);
/// assert_eq!(out, "11\n13\n17\n19\n");
/// // As far up as u64 goes: the largest prime below 2^64.
/// let mut top = String::new();
/// sieve.write_primes(u64::MAX - 60, u64::MAX, &mut top);
/// assert_eq!(top, "18446744073709551557\n");
/// ```
#[derive(Debug)]
pub struct Sieve {
    patterns: Vec<Vec<u8>>,
    /// The primes above [`LAST_PRESIEVED`] up to [`BASE_LIMIT`], increasing.
    base: Vec<u32>,
    /// Bytes of the L1 blocks.
    block: usize,
}

impl Default for Sieve {
    fn default() -> Sieve {
        Sieve::new()
    }
}

impl Sieve {
    /// A sieve for any range of `u64`.
    pub fn new() -> Sieve {
        let patterns = PRESIEVE_GROUPS.iter().map(|g| pattern(g)).collect();
        let base = small_primes(BASE_LIMIT)
            .into_iter()
            .filter(|&p| u64::from(p) > LAST_PRESIEVED)
            .collect();
        Sieve {
            patterns,
            base,
            block: BLOCK_BYTES,
        }
    }

    /// Sizes the blocks small primes are crossed off in to an L1 data
    /// cache of `bytes` (clamped to 16 KB to 1 MB; the answer is the same
    /// whatever the size, only the speed changes).
    ///
    /// ```
    /// let sieve = hilo_work::sieve::Sieve::new().with_l1_cache(48 * 1024);
    /// assert_eq!(sieve.count(0, 1000), 168);
    /// ```
    pub fn with_l1_cache(mut self, bytes: usize) -> Sieve {
        self.block = bytes.clamp(16 * 1024, 1024 * 1024);
        self
    }

    /// How many primes lie in `[lo, hi]` (both included; 0 if `lo > hi`).
    pub fn count(&self, lo: u64, hi: u64) -> u64 {
        let mut n = small_in(lo, hi).count() as u64;
        self.sieve(lo, hi, |seg, _| n += popcount(seg));
        n
    }

    /// Appends the primes in `[lo, hi]` to `out`, one per line, increasing.
    pub fn write_primes(&self, lo: u64, hi: u64, out: &mut String) {
        let mut digits = itoa::Buffer::new();
        for p in small_in(lo, hi) {
            out.push_str(digits.format(p));
            out.push('\n');
        }
        self.sieve(lo, hi, |seg, first_byte| {
            for_each_set(seg, first_byte, |p| {
                out.push_str(digits.format(p));
                out.push('\n');
            });
        });
    }

    /// Sieves the numbers above 5 in `[lo, hi]` and hands each finished
    /// segment (one bit per candidate, set for the primes, nothing outside
    /// the range) to `visit` with the index of its first byte.
    fn sieve(&self, lo: u64, hi: u64, mut visit: impl FnMut(&[u8], u64)) {
        let mut lo = lo.max(7);
        while lo <= hi {
            // In u128: near 2^64 the piece's nominal end is past u64.
            let piece_end = (u128::from(lo / 30) + u128::from(PIECE_BYTES)) * 30 - 1;
            let piece_hi = hi.min(u64::try_from(piece_end).unwrap_or(u64::MAX));
            self.sieve_piece(lo, piece_hi, &mut visit);
            match piece_hi.checked_add(1) {
                Some(next) => lo = next,
                None => break,
            }
        }
    }

    /// [`Sieve::sieve`] for a range of at most [`PIECE_BYTES`] bytes: its
    /// sieving primes up to `√hi` are the base ones, then those above
    /// [`BASE_LIMIT`], found by sieving up to `√hi` with the base ones.
    fn sieve_piece(&self, lo: u64, hi: u64, visit: &mut impl FnMut(&[u8], u64)) {
        let root = hi.isqrt();
        let mut piece = Piece::new(self, lo, hi);
        piece.add_base(root);
        if root > BASE_LIMIT {
            let (from, to) = (BASE_LIMIT + 1, root);
            let mut sieving = Piece::new(self, from, to);
            sieving.add_base(to.isqrt());
            sieving.run(&mut |seg, byte| {
                // At most √(2^64) < 2^32.
                for_each_set(seg, byte, |p| piece.add(p as u32));
            });
        }
        piece.run(visit);
    }
}

/// One piece of a range being sieved: its bounds and its sieving primes,
/// each in the structure that crosses it off fastest.
struct Piece<'s> {
    sieve: &'s Sieve,
    lo: u64,
    hi: u64,
    /// The piece's first byte.
    first: u64,
    /// Primes that hit an L1 block at least 8 times: crossed off block by
    /// block.
    small: ByWheel,
    /// Primes that hit a segment several times: crossed off segment by
    /// segment.
    medium: ByWheel,
    /// The others ([`MEDIUM_LIMIT`] and above): in buckets.
    large: Buckets,
}

impl<'s> Piece<'s> {
    fn new(sieve: &'s Sieve, lo: u64, hi: u64) -> Piece<'s> {
        let (first, last) = (lo / 30, hi / 30);
        Piece {
            sieve,
            lo,
            hi,
            first,
            small: ByWheel::default(),
            medium: ByWheel::default(),
            large: Buckets::new(first, last - first + 1),
        }
    }

    /// Adds the base primes up to `root`.
    fn add_base(&mut self, root: u64) {
        let base = self.sieve.base.as_slice();
        let end = base.partition_point(|&p| u64::from(p) <= root);
        for &p in &base[..end] {
            self.add(p);
        }
    }

    /// Adds the sieving prime `p` (above [`LAST_PRESIEVED`], `p²` at most
    /// the piece's last number).
    fn add(&mut self, p: u32) {
        if (p as usize) < self.sieve.block / 8 {
            self.small.push(Crosser::new(p, self.first));
        } else if p < MEDIUM_LIMIT {
            self.medium.push(Crosser::new(p, self.first));
        } else {
            self.large.add(p);
        }
    }

    /// Sieves the piece segment by segment, handing each to `visit`.
    fn run(mut self, visit: &mut impl FnMut(&[u8], u64)) {
        let bytes = (self.hi / 30 - self.first + 1) as usize;
        // Whole segments for the buckets, which take a fixed size.
        let mut buf = match self.large.is_empty() {
            true => vec![0u8; SEGMENT_BYTES.min(bytes)],
            false => vec![0u8; SEGMENT_BYTES],
        };
        let block = self.sieve.block;
        self.large.added_all();
        for (k, start) in (0..bytes).step_by(SEGMENT_BYTES).enumerate() {
            let byte = self.first + start as u64;
            let len = SEGMENT_BYTES.min(bytes - start);
            self.sieve.presieve(&mut buf[..len], byte);
            let mut block_end = 0;
            while block_end < len {
                block_end = len.min(block_end + block);
                self.small.cross(&mut buf[..block_end]);
            }
            self.medium.cross(&mut buf[..len]);
            if let Ok(whole) = <&mut [u8; SEGMENT_BYTES]>::try_from(buf.as_mut_slice()) {
                self.large.cross(k, whole);
            }
            let seg = &mut buf[..len];
            self.small.shift(seg.len() as u32);
            self.medium.shift(seg.len() as u32);
            fix_edges(seg, byte, self.lo, self.hi);
            visit(seg, byte);
        }
    }
}

impl Sieve {
    /// Fills `seg` (starting at byte `byte`) with the patterns: every bit
    /// set except the multiples of the pre-sieved primes.
    fn presieve(&self, seg: &mut [u8], byte: u64) {
        for (k, block) in seg.chunks_mut(PRESIEVE_BLOCK).enumerate() {
            let first = byte + (k * PRESIEVE_BLOCK) as u64;
            // Two patterns per pass over the block: half the loads and
            // stores of the block.
            for (i, pair) in self.patterns.chunks(2).enumerate() {
                let (x, y) = (&pair[0], pair.get(1).unwrap_or(&pair[0]));
                let mut at_x = (first % x.len() as u64) as usize;
                let mut at_y = (first % y.len() as u64) as usize;
                let mut done = 0;
                while done < block.len() {
                    let n = (block.len() - done).min(x.len() - at_x).min(y.len() - at_y);
                    let dst = block[done..done + n].iter_mut();
                    let src = x[at_x..at_x + n].iter().zip(&y[at_y..at_y + n]);
                    if i == 0 {
                        dst.zip(src).for_each(|(d, (a, b))| *d = a & b);
                    } else {
                        dst.zip(src).for_each(|(d, (a, b))| *d &= a & b);
                    }
                    done += n;
                    at_x = (at_x + n) % x.len();
                    at_y = (at_y + n) % y.len();
                }
            }
        }
    }
}

/// The pattern of one group: a byte per 30 numbers, with the multiples of
/// the group's primes cleared; it repeats every (product of the group)
/// bytes.
fn pattern(group: &[u64]) -> Vec<u8> {
    let len: u64 = group.iter().product();
    let mut pat = vec![0xFFu8; len as usize];
    for &p in group {
        for (k, &r) in RESIDUES.iter().enumerate() {
            // The multiples of p in this residue class are p bytes apart.
            let Some(b0) = (0..p).find(|b| (30 * b + r) % p == 0) else {
                continue;
            };
            for b in (b0..len).step_by(p as usize) {
                pat[b as usize] &= !(1 << k);
            }
        }
    }
    pat
}

/// Clears what the sieve marks but is no prime or is out of range (1, the
/// numbers outside `[lo, hi]` in the first and last bytes) and sets back
/// the pre-sieved primes the patterns crossed off.
fn fix_edges(seg: &mut [u8], byte: u64, lo: u64, hi: u64) {
    let last = byte + seg.len() as u64 - 1;
    // In u128: the last byte of u64 has bits for numbers past 2^64 - 1.
    let past_hi = |r: u64| u128::from(last) * 30 + u128::from(r) > u128::from(hi);
    if byte * 30 <= LAST_PRESIEVED {
        for p in PRESIEVE_GROUPS.iter().flat_map(|g| g.iter()) {
            if (byte..=last).contains(&(p / 30)) {
                seg[(p / 30 - byte) as usize] |= 1 << BIT_OF[(p % 30) as usize];
            }
        }
    }
    if byte == 0 {
        seg[0] &= !1; // the number 1
    }
    for (k, &r) in RESIDUES.iter().enumerate() {
        if u128::from(byte) * 30 + u128::from(r) < u128::from(lo) {
            seg[0] &= !(1 << k);
        }
        if past_hi(r) {
            seg[seg.len() - 1] &= !(1 << k);
        }
    }
}

/// The primes 2, 3 and 5 (which have no bit) that lie in `[lo, hi]`.
fn small_in(lo: u64, hi: u64) -> impl Iterator<Item = u64> {
    [2, 3, 5].into_iter().filter(move |p| (lo..=hi).contains(p))
}

/// The number of set bits in `seg`.
fn popcount(seg: &[u8]) -> u64 {
    let mut words = seg.chunks_exact(8);
    let mut n: u64 = 0;
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        n += u64::from(u64::from_le_bytes(b).count_ones());
    }
    n + words
        .remainder()
        .iter()
        .map(|b| u64::from(b.count_ones()))
        .sum::<u64>()
}

/// Calls `f` with the number of every set bit of `seg`, increasing.
fn for_each_set(seg: &[u8], first_byte: u64, mut f: impl FnMut(u64)) {
    let mut base = first_byte * 30;
    let mut words = seg.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        let mut bits = u64::from_le_bytes(b);
        while bits != 0 {
            let i = bits.trailing_zeros() as u64;
            f(base + 30 * (i / 8) + RESIDUES[(i % 8) as usize]);
            bits &= bits - 1;
        }
        // Wrapping: past the last word of u64's last segment, unused.
        base = base.wrapping_add(240);
    }
    for &byte in words.remainder() {
        for (k, &r) in RESIDUES.iter().enumerate() {
            if byte & (1 << k) != 0 {
                f(base + r);
            }
        }
        base = base.wrapping_add(30);
    }
}

/// Every prime up to `limit` ([`BASE_LIMIT`] here), by a plain
/// odd-only sieve: small enough that speed does not matter.
fn small_primes(limit: u64) -> Vec<u32> {
    if limit < 2 {
        return Vec::new();
    }
    let limit = limit as usize;
    // composite[i] is about the odd number 2i + 1.
    let mut composite = vec![false; limit / 2 + 1];
    let mut i = 3;
    while i * i <= limit {
        if !composite[i / 2] {
            for m in (i * i..=limit).step_by(2 * i) {
                composite[m / 2] = true;
            }
        }
        i += 2;
    }
    let mut primes = vec![2u32];
    primes.extend(
        (3..=limit)
            .step_by(2)
            .filter(|m| !composite[m / 2])
            .map(|m| m as u32),
    );
    primes
}

/// Cuts `[start, end]` into consecutive ranges of `size` numbers (the last
/// one shorter), as `(lo, hi)` pairs with both ends included; nothing if
/// `start > end`. `size` 0 counts as 1.
///
/// ```
/// let parts: Vec<_> = hilo_work::sieve::chunks(0, 10, 4).collect();
/// assert_eq!(parts, vec![(0, 3), (4, 7), (8, 10)]);
/// ```
pub fn chunks(start: u64, end: u64, size: u64) -> impl Iterator<Item = (u64, u64)> {
    let size = size.max(1);
    let mut next = (start <= end).then_some(start);
    std::iter::from_fn(move || {
        let lo = next?;
        let hi = lo.saturating_add(size - 1).min(end);
        next = if hi < end { Some(hi + 1) } else { None };
        Some((lo, hi))
    })
}

#[cfg(test)]
mod tests;
