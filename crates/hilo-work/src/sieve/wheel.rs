//! The wheels of the sieve: which numbers a byte stands for, and the
//! tables that step a sieving prime from one multiple to the next.
//!
//! A byte stands for the 30 numbers `30·b + 0 … 30·b + 29`, one bit per
//! residue coprime to 30 ([`RESIDUES`]). A prime `p = 30·a + r` has its
//! multiple `p·q` at byte `a·q + ⌊r·q/30⌋`, bit `BIT_OF[r·q mod 30]`; so
//! the step from one multiple to the next depends only on `a`, on `r` and
//! on where `q` is on the wheel, and each table below holds the parts that
//! do not depend on `a`.

/// The residues mod 30 that bits 0 to 7 of a byte stand for.
pub const RESIDUES: [u64; 8] = [1, 7, 11, 13, 17, 19, 23, 29];

/// `BIT_OF[n % 30]`: the bit of a number with that residue (or 8 when the
/// residue shares a factor with 30 and has no bit).
pub(super) const BIT_OF: [u8; 30] = {
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
pub(super) const MASKS: [[u8; 8]; 8] = {
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

/// `RESIDUES[j + 1] - RESIDUES[j]`, the last one wrapping to 31.
pub(super) const GAPS: [usize; 8] = [6, 4, 2, 4, 2, 4, 6, 2];

/// `CARRY[w][j]`: from `p·q` to `p·(q + GAPS[j])`, for `p = 30a + r` with
/// `r = RESIDUES[w]` and `q ≡ RESIDUES[j]`, the byte index moves by
/// `a·GAPS[j] + CARRY[w][j]` (the carry of `(r·q mod 30) + r·GAPS[j]`).
pub(super) const CARRY: [[usize; 8]; 8] = {
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

/// The numbers below 210 = 2·3·5·7 that share no factor with it: the `q`
/// the large primes visit, which skips the multiples of 7 too (48 of
/// every 210 numbers instead of 56).
const R210: [u64; 48] = {
    let mut t = [0u64; 48];
    let (mut n, mut k) = (1, 0);
    while n < 210 {
        if n % 2 != 0 && n % 3 != 0 && n % 5 != 0 && n % 7 != 0 {
            t[k] = n;
            k += 1;
        }
        n += 1;
    }
    t
};

/// One step of a large prime on the mod-210 wheel, for `p ≡ RESIDUES[w]`
/// (mod 30) at the `k`-th residue of [`R210`]: the mask clearing the
/// current multiple, then the byte step `a·gap + carry` to the next one
/// and the index of the step after it. Eight bytes, so that an index is a
/// shift.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(8))]
pub(super) struct Step210 {
    pub mask: u8,
    pub gap: u8,
    pub carry: u8,
    pub next: u16,
}

/// The steps of the mod-210 wheel, `48·w + k` as in [`Step210`]; the table
/// has 512 entries so that any 9-bit index is in bounds (the last 128 are
/// never used).
pub(super) const WHEEL210: [Step210; 512] = {
    let unused = Step210 {
        mask: 0xFF,
        gap: 0,
        carry: 0,
        next: 0,
    };
    let mut t = [unused; 512];
    let mut w = 0;
    while w < 8 {
        let r = RESIDUES[w];
        let mut k = 0;
        while k < 48 {
            let q = R210[k];
            let gap = if k == 47 {
                R210[0] + 210 - q
            } else {
                R210[k + 1] - q
            };
            let s = (r * q) % 30;
            t[w * 48 + k] = Step210 {
                mask: !(1u8 << BIT_OF[s as usize]),
                gap: gap as u8,
                carry: ((s + r * gap) / 30) as u8,
                next: (w * 48 + (k + 1) % 48) as u16,
            };
            k += 1;
        }
        w += 1;
    }
    t
};

/// `NEXT210[q % 210] = (d, k)`: `q + d` is the first number from `q` on
/// that shares no factor with 210, and it is `≡ R210[k]` (mod 210).
pub(super) const NEXT210: [(u8, u8); 210] = {
    let mut t = [(0u8, 0u8); 210];
    let mut n = 0;
    while n < 210 {
        let mut k = 0;
        // The first residue at or after n, else R210[0] + 210.
        while k < 48 && R210[k] < n as u64 {
            k += 1;
        }
        t[n] = if k == 48 {
            ((R210[0] + 210 - n as u64) as u8, 0)
        } else {
            ((R210[k] - n as u64) as u8, k as u8)
        };
        n += 1;
    }
    t
};

/// The `q` of the first multiple `p·q` a piece starting at byte `first`
/// crosses off, before it is moved onto a wheel: from `p²` on (smaller
/// multiples have a smaller factor that crosses them), else from the
/// piece's start.
#[inline]
pub(super) fn first_factor(p: u64, first: u64) -> u64 {
    p.max((first * 30).div_ceil(p))
}

/// The byte of `p·q` for `p = 30a + r`: `a·q + ⌊r·q/30⌋`, which never
/// overflows where `p·q` itself would (`q` ≤ 2⁶⁴ / 163 in the sieve).
#[inline]
pub(super) fn byte_of(a: u64, r: u64, q: u64) -> u64 {
    a * q + (r * q) / 30
}
