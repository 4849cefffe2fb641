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

/// The `sep` and `special` bits of the 64 bytes from `at` (past the end
/// of `bytes`, separators: every run ends before them).
#[inline(always)]
fn block(bytes: &[u8], at: usize) -> (u64, u64) {
    let mut padded = [b' '; 64];
    let lanes: &[u8] = match bytes.get(at..at + 64) {
        Some(whole) => whole,
        None => {
            let rest = &bytes[at.min(bytes.len())..];
            padded[..rest.len()].copy_from_slice(rest);
            &padded
        }
    };
    let (mut sep, mut special) = (0, 0);
    for (k, eight) in lanes.chunks_exact(8).enumerate() {
        let mut x = [0; 8];
        x.copy_from_slice(eight);
        let (s, p) = classify(u64::from_le_bytes(x));
        sep |= s << (8 * k);
        special |= p << (8 * k);
    }
    (sep, special)
}

/// Calls `each(start, end, special)` for every run of non-separator bytes
/// of `bytes`, in order; `special` tells whether the run holds a special
/// byte. A run starts and ends next to ASCII bytes or at the ends of
/// `bytes`, so on UTF-8 text it is whole characters. Each block of 64
/// bytes is classified once, as the walk reaches it: no memory but two
/// blocks' bits.
#[inline(always)]
pub(super) fn each(bytes: &[u8], mut each: impl FnMut(usize, usize, bool)) {
    // The bits from..=to of a block.
    let upto = |to: u32| u64::MAX >> (63 - to);
    // A run that goes on past its block: its start, and whether it has
    // had a special byte so far.
    let mut open: Option<(usize, bool)> = None;
    let mut prev_word = 0;
    let mut next = block(bytes, 0);
    let mut base = 0;
    while base <= bytes.len() {
        let (sep, special) = next;
        next = block(bytes, base + 64);
        let word = !sep;
        // A start bit where a word byte follows a separator; an end bit
        // on the last byte of each run.
        let mut starts = word & !((word << 1) | prev_word);
        let mut ends = word & !((word >> 1) | ((!next.0 & 1) << 63));
        prev_word = word >> 63;
        while ends != 0 {
            let to = ends.trailing_zeros();
            ends &= ends - 1;
            let (start, is_special) = match open.take() {
                Some((start, before)) => (start, before || special & upto(to) != 0),
                None => {
                    let from = starts.trailing_zeros();
                    starts &= starts - 1;
                    (base + from as usize, (special & upto(to)) >> from != 0)
                }
            };
            each(start, base + to as usize + 1, is_special);
        }
        if starts != 0 {
            let from = starts.trailing_zeros();
            open = Some((base + from as usize, special >> from != 0));
        } else if let Some((_, seen)) = &mut open {
            // The whole block is inside the open run.
            *seen |= special != 0;
        }
        base += 64;
    }
}
