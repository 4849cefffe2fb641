//! Crossing off the small and medium sieving primes: those that hit a
//! segment several times. Each is walked through the segment in whole
//! turns of the mod-30 wheel, in a loop specialised to its residue.

use super::wheel::{byte_of, first_factor, BIT_OF, CARRY, GAPS, MASKS};

/// One sieving prime's place in the sieve: its next multiple to cross off
/// is `p·q` with `q ≡ RESIDUES[j]` (mod 30), `at` bytes from the current
/// segment's start. The multiples come in turns of the wheel: 8 per `p`
/// bytes, `q` walking the residues in order, so the byte steps from one to
/// the next depend only on `p` ([`step`]) and their bits only on `p % 30`.
#[derive(Debug, Clone)]
pub(super) struct Crosser {
    p: u32,
    at: u32,
    j: u8,
    /// The index of `p % 30` in [`RESIDUES`](super::RESIDUES).
    wheel: u8,
}

impl Crosser {
    /// The crosser for `p` (above 7, with `p² ≤` the piece's last number)
    /// in a piece whose first byte is `first` (see [`first_factor`]).
    pub(super) fn new(p: u32, first: u64) -> Crosser {
        let p64 = u64::from(p);
        let mut q = first_factor(p64, first);
        while BIT_OF[(q % 30) as usize] == 8 {
            q += 1;
        }
        Crosser {
            p,
            // Below 2^32: `p·q` lies within the piece (at most 2^30 bytes),
            // as `p²` does.
            at: (byte_of(p64 / 30, p64 % 30, q) - first) as u32,
            j: BIT_OF[(q % 30) as usize],
            wheel: BIT_OF[(p64 % 30) as usize],
        }
    }
}

/// Sieving primes grouped by `p % 30`, so that crossing off a group runs
/// one loop specialised to it, with no unpredictable jump per prime.
#[derive(Debug, Default)]
pub(super) struct ByWheel([Vec<Crosser>; 8]);

impl ByWheel {
    pub(super) fn push(&mut self, c: Crosser) {
        self.0[c.wheel as usize].push(c);
    }

    /// Crosses off every multiple of every prime before the end of `seg`.
    pub(super) fn cross(&mut self, seg: &mut [u8]) {
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
    pub(super) fn shift(&mut self, len: u32) {
        for c in self.0.iter_mut().flatten() {
            c.at -= len;
        }
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
    // bound checks in the loop. (No division to count the turns: a large
    // p makes few of them.)
    if d.iter().all(|&dk| dk < p) {
        while let Some(turn) = seg.get_mut(at..at + p) {
            turn[d0] &= masks[0];
            turn[d1] &= masks[1];
            turn[d2] &= masks[2];
            turn[d3] &= masks[3];
            turn[d4] &= masks[4];
            turn[d5] &= masks[5];
            turn[d6] &= masks[6];
            turn[d7] &= masks[7];
            at += p;
        }
    }
    // What is left: less than a turn.
    while at < end {
        seg[at] &= masks[j];
        at += step[j];
        j = (j + 1) % 8;
    }
    (at, j)
}
