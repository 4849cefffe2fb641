//! Lower-casing a short run in its key, sixteen bytes at once (SWAR: the
//! bytes are the lanes of a `u128`), for the two kinds of run that make up
//! almost every word of European text that is not already lower-case
//! ASCII: ASCII with capitals (`The`), and Latin-1 letters written
//! `C3 xx` in UTF-8 (`Niño`, `ÉXITO`, `straße`).
//!
//! Latin-1's letters U+00C0–U+00FE (but `×` U+00D7 and `÷` U+00F7, which
//! are not letters) are `C3 80`–`C3 BE`; the capitals U+00C0–U+00DE are
//! `C3 80`–`C3 9E`, and each one's lower case is 0x20 above it, in the
//! second byte, as for ASCII. Any other byte from 0x80 up (`œ`, `Σ`, CJK,
//! `¿`) sends the run to the char-by-char path.

const LANES_1: u128 = u128::MAX / 0xFF;
const LANES_HIGH: u128 = LANES_1 * 0x80;
const LANES_LOW7: u128 = LANES_1 * 0x7F;

/// In each lane, the high bit set where the lane's low seven bits are at
/// least `k` (at most 0x80): adding `128 - k` carries into bit 7 then, and
/// never out of the lane.
#[inline(always)]
fn at_least(x: u128, k: u8) -> u128 {
    ((x & LANES_LOW7) + LANES_1 * u128::from(128 - k)) & LANES_HIGH
}

/// In each lane, the high bit set where the byte is exactly `b`.
#[inline(always)]
fn equal(x: u128, b: u8) -> u128 {
    let t = x ^ (LANES_1 * u128::from(b));
    !(((t & LANES_LOW7) + LANES_LOW7) | t) & LANES_HIGH
}

/// The key of the run `x` (1 to 16 bytes, zero-padded, no ASCII
/// separator) lower-cased, if it is one word of ASCII and Latin-1 letters;
/// `None` for any other run.
#[inline(always)]
pub(super) fn latin(x: u128) -> Option<u128> {
    let high = x & LANES_HIGH;
    let ascii = !high & LANES_HIGH;
    // Where a byte is A–Z (ASCII lanes only).
    let upper = ascii & at_least(x, b'A') & !at_least(x, b'Z' + 1);
    let lead = equal(x, 0xC3);
    // Continuation bytes 0x80–0xBF, each right after a C3 (the next lane
    // is the next byte: lanes are little-endian).
    let second = high & !at_least(x, 0x40);
    let not_letter = equal(x, 0x97) | equal(x, 0xB7);
    if high != lead | second || second != lead << 8 || second & not_letter != 0 {
        return None;
    }
    // Second bytes 0x80–0x9E are capitals; 0x9F (`ß`) is not.
    let capital = second & !at_least(x, 0x1F);
    Some(x | ((upper | capital) >> 2))
}
