//! Crossing off the large sieving primes, those that hit a segment a few
//! times or not at all: each waits in the bucket of the next segment it
//! hits, so a segment visits only the primes that hit it (a bucket sieve).
//!
//! An entry is 8 bytes: `p / 30`, the offset of the next multiple in its
//! segment and a position on the mod-210 wheel (which skips the multiples
//! of 7 too). A segment's bucket is a chain of fixed blocks of entries
//! in one array, taken from a free list: filing an entry is a store at
//! the segment's next slot, and memory is reused segment after segment.

use super::wheel::{byte_of, first_factor, BIT_OF, NEXT210, WHEEL210};
use super::SEGMENT_BYTES;

/// Entries per block: 8 KB.
const BLOCK: usize = 1024;

/// The offset bits of an entry's low half; the wheel index sits above.
const OFFSET_BITS: u32 = 23;
const _: () = assert!(SEGMENT_BYTES <= 1 << OFFSET_BITS && SEGMENT_BYTES.is_power_of_two());

/// A large prime `p = 30a + r` waiting for a segment: `a` in the high 32
/// bits; in the low ones, the offset of its next multiple in that segment
/// and, above it, its step on the mod-210 wheel (which also says `r`).
/// One `u64`, so that filing it is one store.
type Entry = u64;

fn entry(a: u32, offset: usize, wheel: u32) -> Entry {
    u64::from(a) << 32 | (wheel << OFFSET_BITS) as u64 | offset as u64
}

/// The offset in its segment of an entry's next multiple.
#[inline(always)]
fn offset_of(e: Entry) -> usize {
    // SEGMENT_BYTES is a power of two: the mask keeps the offset (below
    // it) and shows the compiler it is in bounds.
    e as usize & (SEGMENT_BYTES - 1)
}

/// How many entries ahead the segment is prefetched.
const AHEAD: usize = 16;

/// Crosses off the multiple entry `e` stands for in `seg` (the segment
/// `base` bytes into the piece); returns the entry for the next multiple
/// and the segment it lies in.
#[inline(always)]
fn hit(seg: &mut [u8; SEGMENT_BYTES], base: usize, e: Entry) -> (Entry, usize) {
    let (a, low) = ((e >> 32) as usize, e as u32);
    let step = WHEEL210[(low >> OFFSET_BITS) as usize];
    let offset = offset_of(e);
    seg[offset] &= step.mask;
    let next = base + offset + a * usize::from(step.gap) + usize::from(step.carry);
    let e = entry(a as u32, next % SEGMENT_BYTES, u32::from(step.next));
    (e, next / SEGMENT_BYTES)
}

/// The next free slot of a segment's bucket, in [`Buckets::entries`]; a
/// slot at a block boundary means the block is full (or absent) and the
/// next entry starts a fresh one.
type Slot = u32;

/// The slot of a segment that has no block yet.
const EMPTY: Slot = 0;

/// The large primes of one piece, filed by the segment they hit next.
#[derive(Debug)]
pub(super) struct Buckets {
    /// `heads[k]`: the next slot to fill for segment `k` of the piece.
    heads: Vec<Slot>,
    /// The blocks, one after the other, [`BLOCK`] entries each; block 0 is
    /// never used, so that slot 0 can stand for "no block".
    entries: Vec<Entry>,
    /// `earlier[b]`: the (full) block filled for the same segment before
    /// block `b`, or 0 for none.
    earlier: Vec<u32>,
    free: Vec<u32>,
    /// The piece's first byte.
    first: u64,
    /// The piece's length in bytes: a prime whose first multiple is past
    /// it is not filed (later multiples are filed past the end, unread).
    bytes: u64,
    /// The largest `p / 30` filed (0 if none).
    largest: u32,
}

impl Buckets {
    /// Buckets for a piece of `bytes` bytes from byte `first` on.
    pub(super) fn new(first: u64, bytes: u64) -> Buckets {
        let segments = bytes.div_ceil(SEGMENT_BYTES as u64) as usize;
        Buckets {
            heads: vec![EMPTY; segments],
            entries: vec![0; BLOCK],
            earlier: vec![0],
            free: Vec::new(),
            first,
            bytes,
            largest: 0,
        }
    }

    /// Files the prime `p` (above 7; `p²` at most the piece's last number)
    /// under the segment of its first multiple (see [`first_factor`]), if
    /// that lies in the piece.
    #[inline]
    pub(super) fn add(&mut self, p: u32) {
        let p = u64::from(p);
        let (a, r) = (p / 30, p % 30);
        let q = first_factor(p, self.first);
        let (d, k) = NEXT210[(q % 210) as usize];
        let q = q + u64::from(d);
        let at = byte_of(a, r, q) - self.first;
        if at < self.bytes {
            self.largest = self.largest.max(a as u32);
            let wheel = u32::from(BIT_OF[r as usize]) * 48 + u32::from(k);
            let (segment, offset) = (at as usize / SEGMENT_BYTES, at as usize % SEGMENT_BYTES);
            if self.free.is_empty() {
                self.make_room(1);
            }
            self.lists().file(entry(a as u32, offset, wheel), segment);
        }
    }

    /// Makes sure `n` blocks are free.
    fn make_room(&mut self, n: usize) {
        while self.free.len() < n {
            self.free.push(self.earlier.len() as u32);
            self.earlier.push(0);
        }
        self.entries.resize(self.earlier.len() * BLOCK, 0);
    }

    fn lists(&mut self) -> Lists<'_> {
        Lists {
            heads: &mut self.heads,
            entries: &mut self.entries,
            earlier: &mut self.earlier,
            free: &mut self.free,
        }
    }

    /// Whether no prime waits in the buckets.
    pub(super) fn is_empty(&self) -> bool {
        self.largest == 0
    }

    /// Ends the adding: makes room for the segments past the piece's end
    /// a multiple can be filed under (the farthest step is about `a·10`
    /// bytes). What is filed there is never read, and no step of
    /// [`Buckets::cross`] needs a check.
    pub(super) fn added_all(&mut self) {
        let reach = (self.largest as usize * 10 + 10) / SEGMENT_BYTES + 2;
        self.heads.resize(self.heads.len() + reach, EMPTY);
    }

    /// Crosses off the multiples the primes filed under `segment` have in
    /// `seg` (that segment; its bytes past the piece's end are never
    /// touched), and files each under the segment of its next multiple.
    /// All the primes are added ([`Buckets::added_all`]).
    pub(super) fn cross(&mut self, segment: usize, seg: &mut [u8; SEGMENT_BYTES]) {
        let base = segment * SEGMENT_BYTES;
        // A block's entries go to at most this many fresh blocks.
        let room = self.heads.len().min(BLOCK);
        let mut reading = [0 as Entry; BLOCK];
        // A prime may hit this segment again: what is filed under it while
        // its bucket is read is read next.
        loop {
            let slot = std::mem::replace(&mut self.heads[segment], EMPTY) as usize;
            if slot == EMPTY as usize {
                return;
            }
            // The last block is filled up to `slot`, earlier ones fully.
            let (mut block, mut end) = ((slot - 1) / BLOCK, slot);
            while block != 0 {
                self.make_room(room);
                let mut lists = self.lists();
                // A copy to read from, so that the block is free at once
                // (and refilled while still in cache).
                let entries = &mut reading[..end - block * BLOCK];
                entries.copy_from_slice(&lists.entries[block * BLOCK..end]);
                lists.free.push(block as u32);
                let before = lists.earlier[block] as usize;
                // Two entries at a time, so that the work of one overlaps
                // the other's wait for memory.
                let n = entries.len();
                let mut k = 0;
                while k + 1 < n {
                    // The segment is larger than L2 and the entries stream
                    // through the caches: fetch the bytes entries a little
                    // ahead will clear.
                    if let Some(&[x, y]) = entries.get(k + AHEAD..k + AHEAD + 2) {
                        crate::cache::prefetch(&seg[offset_of(x)]);
                        crate::cache::prefetch(&seg[offset_of(y)]);
                    }
                    let (a, next) = hit(seg, base, entries[k]);
                    let (b, after) = hit(seg, base, entries[k + 1]);
                    lists.file(a, next);
                    lists.file(b, after);
                    k += 2;
                }
                if k < n {
                    let (a, next) = hit(seg, base, entries[k]);
                    lists.file(a, next);
                }
                block = before;
                end = (block + 1) * BLOCK;
            }
        }
    }
}

/// The buckets' arrays, borrowed for the length of a block: filing into
/// them takes a free block when a segment's is full, and never grows them
/// (the caller has made room first).
struct Lists<'b> {
    heads: &'b mut [Slot],
    entries: &'b mut [Entry],
    earlier: &'b mut [u32],
    free: &'b mut Vec<u32>,
}

impl Lists<'_> {
    #[inline(always)]
    fn file(&mut self, e: Entry, segment: usize) {
        let mut slot = self.heads[segment];
        if slot as usize % BLOCK == 0 {
            slot = self.new_block(slot);
        }
        self.entries[slot as usize] = e;
        self.heads[segment] = slot + 1;
    }

    /// A free block chained after the full one that ends at `slot` (or
    /// after none): its first slot.
    #[cold]
    fn new_block(&mut self, slot: Slot) -> Slot {
        let block = self.free.pop().expect("room was made before filing");
        // The full block ends just before `slot`; none if `slot` is 0.
        self.earlier[block as usize] = (slot as usize / BLOCK).saturating_sub(1) as u32;
        block * BLOCK as u32
    }
}
