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
//! - **Cache-sized segments.** A segment of [`SEGMENT_BYTES`] (5.9 million
//!   numbers) stays in the L2 cache; primes small enough to hit an L1-sized
//!   block (see [`Sieve::with_l1_cache`]) at least 8 times are crossed off
//!   block by block so that their stores hit the L1 cache.
//! - **Whole turns of the wheel.** The multiples `p·q` of a sieving prime,
//!   `q` coprime to 30, come 8 per `p` bytes, at offsets and bits that
//!   depend only on `p` and `p % 30`; a prime's state is one offset and a
//!   position on the wheel, and its inner loop clears 8 bytes per turn with
//!   constant masks. Primes are grouped by `p % 30` so that each group runs
//!   one loop specialised to it.
//! - **Buckets for large primes.** A prime larger than a segment hits it a
//!   few times or not at all; it waits in the bucket of the next segment
//!   it hits (`Buckets`) instead of being looked at in every segment.
//! - **Counting by popcount**, 64 bits at a time.
//!
//! END stops at [`MAX_END`]: every chunk places all the sieving primes (up
//! to √END) before it starts, which above 10¹⁴ costs more memory and time
//! than a chunk's work; primesieve goes further with a cheaper placement.

/// The residues mod 30 that bits 0 to 7 of a byte stand for.
pub const RESIDUES: [u64; 8] = [1, 7, 11, 13, 17, 19, 23, 29];

/// The largest END this sieve accepts: its sieving primes (up to
/// √END = 10⁷) and their state stay a few megabytes.
pub const MAX_END: u64 = 100_000_000_000_000;

/// Bytes of one segment: 5,898,240 numbers, sized to stay in L2 with the
/// patterns (measured best among 128 to 512 KB on a 2 MB L2).
pub const SEGMENT_BYTES: usize = 192 * 1024;

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

/// Sieving primes from this one on go into [`Buckets`]: they hit a
/// segment 8 times at most.
const LARGE_PRIME: u32 = SEGMENT_BYTES as u32;

/// A range is sieved in pieces of at most this many bytes, so that every
/// offset inside a piece fits in a `u32`.
const PIECE_BYTES: u64 = 1 << 30;

/// `BIT_OF[n % 30]`: the bit of a number with that residue (or 8 when the
/// residue shares a factor with 30 and has no bit).
const BIT_OF: [u8; 30] = {
    let mut t = [8u8; 30];
    let mut k = 0;
    while k < 8 {
        t[RESIDUES[k] as usize] = k as u8;
        k += 1;
    }
    t
};

/// `MASKS[w][j]`: the AND-mask clearing `p·q` when `p ≡ RESIDUES[w]` and
/// `q ≡ RESIDUES[j]` (mod 30); the bit depends on nothing else.
const MASKS: [[u8; 8]; 8] = {
    let mut t = [[0u8; 8]; 8];
    let mut w = 0;
    while w < 8 {
        let mut j = 0;
        while j < 8 {
            let r = (RESIDUES[w] * RESIDUES[j]) % 30;
            t[w][j] = !(1u8 << BIT_OF[r as usize]);
            j += 1;
        }
        w += 1;
    }
    t
};

/// What a sieve needs for every range ending at or below its `end`: the
/// pre-sieved patterns and the sieving primes. Build it once and share it
/// (it is read-only); each call to `count` or `write_primes` allocates its
/// own segment.
///
/// ```
/// let sieve = hilo_work::sieve::Sieve::new(100);
/// assert_eq!(sieve.count(0, 100), 25);
/// let mut out = String::new();
/// sieve.write_primes(10, 20, &mut out);
/// assert_eq!(out, "11\n13\n17\n19\n");
/// ```
#[derive(Debug)]
pub struct Sieve {
    end: u64,
    patterns: Vec<Vec<u8>>,
    /// The primes above [`LAST_PRESIEVED`] up to √end, increasing.
    primes: Vec<u32>,
    /// Bytes of the L1 blocks.
    block: usize,
}

impl Sieve {
    /// A sieve for ranges ending at or below `end`.
    ///
    /// # Panics
    /// If `end` is above [`MAX_END`].
    pub fn new(end: u64) -> Sieve {
        assert!(end <= MAX_END, "Sieve::new({end}): above MAX_END");
        let patterns = PRESIEVE_GROUPS.iter().map(|g| pattern(g)).collect();
        let primes = small_primes(end.isqrt())
            .into_iter()
            .filter(|&p| u64::from(p) > LAST_PRESIEVED)
            .collect();
        Sieve {
            end,
            patterns,
            primes,
            block: BLOCK_BYTES,
        }
    }

    /// Sizes the blocks small primes are crossed off in to an L1 data
    /// cache of `bytes` (clamped to 16 KB to 1 MB; the answer is the same
    /// whatever the size, only the speed changes).
    ///
    /// ```
    /// let sieve = hilo_work::sieve::Sieve::new(1000).with_l1_cache(48 * 1024);
    /// assert_eq!(sieve.count(0, 1000), 168);
    /// ```
    pub fn with_l1_cache(mut self, bytes: usize) -> Sieve {
        self.block = bytes.clamp(16 * 1024, 1024 * 1024);
        self
    }

    /// The largest number this sieve can reach.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// How many primes lie in `[lo, hi]` (both included; 0 if `lo > hi`).
    ///
    /// # Panics
    /// If `hi` is above the sieve's `end`.
    pub fn count(&self, lo: u64, hi: u64) -> u64 {
        let mut n = small_in(lo, hi).count() as u64;
        self.sieve(lo, hi, |seg, _| n += popcount(seg));
        n
    }

    /// Appends the primes in `[lo, hi]` to `out`, one per line, increasing.
    ///
    /// # Panics
    /// If `hi` is above the sieve's `end`.
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
        assert!(hi <= self.end, "sieve up to {hi} past its end {}", self.end);
        let mut lo = lo.max(7);
        while lo <= hi {
            let piece_hi = hi.min((lo / 30 + PIECE_BYTES) * 30 - 1);
            self.sieve_piece(lo, piece_hi, &mut visit);
            lo = piece_hi + 1;
        }
    }

    /// [`Sieve::sieve`] for a range of at most [`PIECE_BYTES`] bytes.
    fn sieve_piece(&self, lo: u64, hi: u64, visit: &mut impl FnMut(&[u8], u64)) {
        let (first, last) = (lo / 30, hi / 30);
        let sieving_end = self
            .primes
            .partition_point(|&p| u64::from(p) * u64::from(p) <= hi);
        let segments = (last - first) as usize / SEGMENT_BYTES + 1;
        // Primes that hit an L1 block at least 8 times go block by block;
        // for the others, a call per block would cost more than it saves.
        // Primes above LARGE_PRIME hit a segment a few times at most: they
        // wait in buckets for the segments they hit.
        let (mut small, mut medium) = (ByWheel::default(), ByWheel::default());
        let mut large = Buckets::new(segments);
        for &p in &self.primes[..sieving_end] {
            let c = Crosser::new(p, first);
            if (p as usize) < self.block / 8 {
                small.push(c);
            } else if p < LARGE_PRIME {
                medium.push(c);
            } else {
                large.file(c, 0);
            }
        }
        let mut seg = vec![0u8; SEGMENT_BYTES.min((last - first + 1) as usize)];
        for k in 0..segments {
            let byte = first + (k * SEGMENT_BYTES) as u64;
            let len = SEGMENT_BYTES.min((last - byte + 1) as usize);
            let seg = &mut seg[..len];
            self.presieve(seg, byte);
            let mut block_end = 0;
            while block_end < len {
                block_end = len.min(block_end + self.block);
                small.cross(&mut seg[..block_end]);
            }
            medium.cross(seg);
            large.cross(k, seg);
            small.shift(len as u32);
            medium.shift(len as u32);
            fix_edges(seg, byte, lo, hi);
            visit(seg, byte);
        }
    }

    /// Fills `seg` (starting at byte `byte`) with the patterns: every bit
    /// set except the multiples of the pre-sieved primes.
    fn presieve(&self, seg: &mut [u8], byte: u64) {
        for (k, block) in seg.chunks_mut(PRESIEVE_BLOCK).enumerate() {
            let first = byte + (k * PRESIEVE_BLOCK) as u64;
            for (i, pat) in self.patterns.iter().enumerate() {
                let mut at = (first % pat.len() as u64) as usize;
                let mut done = 0;
                while done < block.len() {
                    let n = (block.len() - done).min(pat.len() - at);
                    let (dst, src) = (&mut block[done..done + n], &pat[at..at + n]);
                    if i == 0 {
                        dst.copy_from_slice(src);
                    } else {
                        dst.iter_mut().zip(src).for_each(|(d, s)| *d &= s);
                    }
                    done += n;
                    at = 0;
                }
            }
        }
    }
}

/// One sieving prime's place in the sieve: its next multiple to cross off
/// is `p·q` with `q ≡ RESIDUES[j]` (mod 30), `at` bytes from the current
/// segment's start. The multiples come in turns of the wheel: 8 per `p`
/// bytes, `q` walking the residues in order, so the byte steps from one to
/// the next depend only on `p` ([`step`]) and their bits only on `p % 30`.
#[derive(Debug, Clone)]
struct Crosser {
    p: u32,
    at: u32,
    j: u8,
    /// The index of `p % 30` in [`RESIDUES`].
    wheel: u8,
}

impl Crosser {
    /// The crosser for `p` in a piece whose first byte is `first`: from
    /// `p²` on (smaller multiples have a smaller factor that crosses them),
    /// else from the piece's start.
    fn new(p: u32, first: u64) -> Crosser {
        let p64 = u64::from(p);
        let mut q = p64.max((first * 30).div_ceil(p64));
        while BIT_OF[(q % 30) as usize] == 8 {
            q += 1;
        }
        Crosser {
            p,
            // Below 2^32: within a piece, and `p²` ≤ the piece's end.
            at: ((p64 * q) / 30 - first) as u32,
            j: BIT_OF[(q % 30) as usize],
            wheel: BIT_OF[(p64 % 30) as usize],
        }
    }
}

/// Sieving primes grouped by `p % 30`, so that crossing off a group runs
/// one loop specialised to it, with no unpredictable jump per prime.
#[derive(Debug, Default)]
struct ByWheel([Vec<Crosser>; 8]);

impl ByWheel {
    fn push(&mut self, c: Crosser) {
        self.0[c.wheel as usize].push(c);
    }

    /// Crosses off every multiple of every prime before the end of `seg`.
    fn cross(&mut self, seg: &mut [u8]) {
        let [c0, c1, c2, c3, c4, c5, c6, c7] = &mut self.0;
        cross_all::<0>(c0, seg);
        cross_all::<1>(c1, seg);
        cross_all::<2>(c2, seg);
        cross_all::<3>(c3, seg);
        cross_all::<4>(c4, seg);
        cross_all::<5>(c5, seg);
        cross_all::<6>(c6, seg);
        cross_all::<7>(c7, seg);
    }

    /// Makes the offsets relative to the next segment, `len` bytes on.
    fn shift(&mut self, len: u32) {
        for c in self.0.iter_mut().flatten() {
            c.at -= len;
        }
    }
}

/// Sieving primes of [`LARGE_PRIME`] and above, each filed under the
/// segment of its next multiple (a bucket sieve): a segment visits only
/// the primes that hit it instead of all of them.
#[derive(Debug)]
struct Buckets {
    /// `by_segment[k]`: the crossers whose next multiple lies in segment
    /// `k` of the piece, their offsets relative to that segment's start.
    by_segment: Vec<Vec<Crosser>>,
    /// Emptied buckets, kept to refill without allocating.
    spare: Vec<Vec<Crosser>>,
}

impl Buckets {
    fn new(segments: usize) -> Buckets {
        Buckets {
            by_segment: vec![Vec::new(); segments],
            spare: Vec::new(),
        }
    }

    /// Files `c`, whose offset is relative to the start of `segment`, under
    /// the segment it hits next; drops it if that is past the piece.
    fn file(&mut self, mut c: Crosser, segment: usize) {
        let k = segment + c.at as usize / SEGMENT_BYTES;
        if let Some(bucket) = self.by_segment.get_mut(k) {
            if bucket.capacity() == 0 {
                *bucket = self.spare.pop().unwrap_or_default();
            }
            c.at %= SEGMENT_BYTES as u32;
            bucket.push(c);
        }
    }

    /// Crosses off the multiples the primes filed under `segment` have in
    /// `seg` (that segment), and files each under its next segment.
    fn cross(&mut self, segment: usize, seg: &mut [u8]) {
        let Some(bucket) = self.by_segment.get_mut(segment) else {
            return;
        };
        let mut list = std::mem::take(bucket);
        for mut c in list.drain(..) {
            let (w, a) = (c.wheel as usize, c.p as usize / 30);
            let (mut at, mut j) = (c.at as usize, c.j as usize);
            while at < seg.len() {
                seg[at] &= MASKS[w][j];
                at += a * GAPS[j] + CARRY[w][j];
                j = (j + 1) % 8;
            }
            // Below 2^32: past the segment's end by less than p.
            (c.at, c.j) = (at as u32, j as u8);
            self.file(c, segment);
        }
        self.spare.push(list);
    }
}

/// [`cross_from`] for every crosser of `list` (all `≡ RESIDUES[W]`).
fn cross_all<const W: usize>(list: &mut [Crosser], seg: &mut [u8]) {
    for c in list {
        let (at, j) = cross_from::<W>(seg, c.p as usize, c.at as usize, c.j as usize);
        // Below 2^32: past the segment's end by less than p.
        (c.at, c.j) = (at as u32, j as u8);
    }
}

/// `RESIDUES[j + 1] - RESIDUES[j]`, the last one wrapping to 31.
const GAPS: [usize; 8] = [6, 4, 2, 4, 2, 4, 6, 2];

/// `CARRY[w][j]`: from `p·q` to `p·(q + GAPS[j])`, for `p = 30a + r` with
/// `r = RESIDUES[w]` and `q ≡ RESIDUES[j]`, the byte index moves by
/// `a·GAPS[j] + CARRY[w][j]` (the carry of `(r·q mod 30) + r·GAPS[j]`).
const CARRY: [[usize; 8]; 8] = {
    let mut t = [[0usize; 8]; 8];
    let mut w = 0;
    while w < 8 {
        let mut j = 0;
        while j < 8 {
            let r = RESIDUES[w] as usize;
            t[w][j] = ((r * RESIDUES[j] as usize) % 30 + r * GAPS[j]) / 30;
            j += 1;
        }
        w += 1;
    }
    t
};

/// The byte steps between consecutive multiples of `p` (`p ≡
/// RESIDUES[W]`) in one turn of the wheel; they add up to `p`.
#[inline(always)]
fn step<const W: usize>(p: usize) -> [usize; 8] {
    let a = p / 30;
    std::array::from_fn(|j| a * GAPS[j] + CARRY[W][j])
}

/// Crosses off the multiples of `p` (`≡ RESIDUES[W]`) in `seg` from offset
/// `at`, wheel position `j`; returns the position after the last one.
/// `W` is a constant so that the masks and carries are immediates and the
/// 8 offsets of a turn, the pointer and the stride stay in registers.
#[inline(always)]
fn cross_from<const W: usize>(
    seg: &mut [u8],
    p: usize,
    mut at: usize,
    mut j: usize,
) -> (usize, usize) {
    let masks = MASKS[W];
    let step = step::<W>(p);
    let end = seg.len();
    // The rest of the current turn.
    while j != 0 {
        if at >= end {
            return (at, j);
        }
        seg[at] &= masks[j];
        at += step[j];
        j = (j + 1) % 8;
    }
    // Whole turns, 8 at once: offsets `d` from the turn's first multiple.
    let mut d = [0usize; 8];
    for k in 1..8 {
        d[k] = d[k - 1] + step[k - 1];
    }
    let [d0, d1, d2, d3, d4, d5, d6, d7] = d;
    // Always true (the steps add up to p); it lets the compiler drop the
    // bound checks in the loop.
    if at < end && d.iter().all(|&dk| dk < p) {
        let turns = seg[at..].chunks_exact_mut(p);
        let crossed = turns.len() * p;
        for turn in turns {
            turn[d0] &= masks[0];
            turn[d1] &= masks[1];
            turn[d2] &= masks[2];
            turn[d3] &= masks[3];
            turn[d4] &= masks[4];
            turn[d5] &= masks[5];
            turn[d6] &= masks[6];
            turn[d7] &= masks[7];
        }
        at += crossed;
    }
    // What is left: less than a turn.
    while at < end {
        seg[at] &= masks[j];
        at += step[j];
        j = (j + 1) % 8;
    }
    (at, j)
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
        if byte * 30 + r < lo {
            seg[0] &= !(1 << k);
        }
        if last * 30 + r > hi {
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
        base += 240;
    }
    for &byte in words.remainder() {
        for (k, &r) in RESIDUES.iter().enumerate() {
            if byte & (1 << k) != 0 {
                f(base + r);
            }
        }
        base += 30;
    }
}

/// Every prime up to `limit` (at most √[`MAX_END`] here), by a plain
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
