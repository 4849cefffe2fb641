//! Unit tests of `sieve`.

use super::*;
use crate::trial::is_prime;

fn listed(sieve: &Sieve, lo: u64, hi: u64) -> Vec<u64> {
    let mut out = String::new();
    sieve.write_primes(lo, hi, &mut out);
    out.lines().map(|l| l.parse().expect("a number")).collect()
}

#[test]
fn every_small_range_matches_trial_division() {
    let sieve = Sieve::new();
    for lo in 0..=400 {
        for hi in (lo.max(1) - 1)..=400 {
            let want: Vec<u64> = (lo..=hi).filter(|&n| is_prime(n)).collect();
            assert_eq!(sieve.count(lo, hi), want.len() as u64, "[{lo}, {hi}]");
            if hi % 37 == 0 {
                assert_eq!(listed(&sieve, lo, hi), want, "[{lo}, {hi}]");
            }
        }
    }
}

#[test]
fn ranges_across_segments_and_blocks_match_trial_division() {
    // Around the first segment's end and a block boundary, and far
    // enough up that big primes skip whole segments.
    let sieve = Sieve::new();
    for (lo, hi) in [
        (SEGMENT_SPAN - 5_000, SEGMENT_SPAN + 5_000),
        (30 * BLOCK_BYTES as u64 - 999, 30 * BLOCK_BYTES as u64 + 999),
        (3 * SEGMENT_SPAN - 20_000, 3 * SEGMENT_SPAN),
    ] {
        let want: Vec<u64> = (lo..=hi).filter(|&n| is_prime(n)).collect();
        assert_eq!(listed(&sieve, lo, hi), want, "[{lo}, {hi}]");
        assert_eq!(sieve.count(lo, hi), want.len() as u64);
    }
}

#[test]
fn a_count_is_the_sum_of_its_chunks() {
    let (lo, hi) = (1_000, 2 * SEGMENT_SPAN + 12_345);
    let sieve = Sieve::new();
    let whole = sieve.count(lo, hi);
    for size in [1, 7, 30, 1_000_003, SEGMENT_SPAN] {
        if size < 1_000 {
            let sum: u64 = chunks(lo, lo + 50_000, size)
                .map(|(a, b)| sieve.count(a, b))
                .sum();
            assert_eq!(sum, sieve.count(lo, lo + 50_000), "chunk {size}");
        } else {
            let sum: u64 = chunks(lo, hi, size).map(|(a, b)| sieve.count(a, b)).sum();
            assert_eq!(sum, whole, "chunk {size}");
        }
    }
}

#[test]
fn primes_waiting_in_buckets_hit_the_same_as_freshly_placed_ones() {
    // High up, a prime above LARGE_PRIME skips segments: sieving three
    // segments at once (buckets carry it over) must count what small
    // chunks (each placing every prime anew) count.
    let lo = 10_000_000_000_000;
    let hi = lo + 5 * SEGMENT_SPAN / 2;
    let sieve = Sieve::new();
    let pieces: u64 = chunks(lo, hi, 1_000_003)
        .map(|(a, b)| sieve.count(a, b))
        .sum();
    assert_eq!(sieve.count(lo, hi), pieces);
    let edge = lo + SEGMENT_SPAN;
    let want = (edge - 300..=edge + 300).filter(|&n| is_prime(n)).count();
    assert_eq!(sieve.count(edge - 300, edge + 300), want as u64);
}

#[test]
fn block_sizes_change_nothing_but_speed() {
    let (lo, hi) = (SEGMENT_SPAN - 100_000, SEGMENT_SPAN + 100_000);
    let want = (lo..=hi).filter(|&n| is_prime(n)).count() as u64;
    for bytes in [0, 16 * 1024, 48 * 1024, 100_000, 1 << 30] {
        let sieve = Sieve::new().with_l1_cache(bytes);
        assert_eq!(sieve.count(lo, hi), want, "L1 of {bytes} bytes");
    }
}

/// `n · m mod k`, in u128 so that nothing overflows.
fn mul_mod(n: u64, m: u64, k: u64) -> u64 {
    (u128::from(n) * u128::from(m) % u128::from(k)) as u64
}

/// Miller–Rabin with the first twelve primes as bases, which is exact for
/// every `u64` (no strong pseudoprime to all of them lies below 3.3·10²⁴):
/// the reference high up, where trial division would take hours.
fn is_prime_mr(n: u64) -> bool {
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if n < 2 {
        return false;
    }
    if let Some(&b) = BASES.iter().find(|&&b| n % b == 0) {
        return n == b;
    }
    let (mut d, mut s) = (n - 1, 0);
    while d % 2 == 0 {
        (d, s) = (d / 2, s + 1);
    }
    BASES.iter().all(|&b| {
        let mut x = 1;
        let (mut base, mut e) = (b, d);
        while e > 0 {
            if e & 1 == 1 {
                x = mul_mod(x, base, n);
            }
            base = mul_mod(base, base, n);
            e >>= 1;
        }
        if x == 1 || x == n - 1 {
            return true;
        }
        (1..s).any(|_| {
            x = mul_mod(x, x, n);
            x == n - 1
        })
    })
}

#[test]
fn the_reference_agrees_with_trial_division() {
    // Carmichael numbers and strong pseudoprimes to small bases included.
    for n in (0..20_000).chain([561, 1_105, 2_047, 3_215_031_751, 4_294_967_291]) {
        assert_eq!(is_prime_mr(n), is_prime(n), "{n}");
    }
}

#[test]
fn the_top_of_u64_matches_miller_rabin() {
    // One call: each near 2^64 sieves and places the 203 million primes
    // below 2^32.
    let (lo, hi) = (u64::MAX - 5_000, u64::MAX);
    let want: Vec<u64> = (lo..=hi).filter(|&n| is_prime_mr(n)).collect();
    assert_eq!(listed(&Sieve::new(), lo, hi), want);
}

#[test]
fn the_last_byte_of_u64_keeps_only_what_is_in_range() {
    // The last byte stands for 30·b + r up to past 2^64 - 1; whatever the
    // range's ends, only the numbers in it stay.
    let last = u64::MAX / 30;
    for hi in (u64::MAX - 40)..=u64::MAX {
        for lo in [last * 30, last * 30 + 7, hi - 3, hi] {
            let mut seg = [0xFFu8];
            fix_edges(&mut seg, last, lo, hi);
            for (k, &r) in RESIDUES.iter().enumerate() {
                let n = u128::from(last) * 30 + u128::from(r);
                let kept = seg[0] & (1 << k) != 0;
                let inside = (u128::from(lo)..=u128::from(hi)).contains(&n);
                assert_eq!(kept, inside, "bit {k} of [{lo}, {hi}]");
            }
        }
    }
}

#[test]
fn windows_high_up_match_miller_rabin() {
    let sieve = Sieve::new();
    for lo in [
        1 << 32,
        10_000_000_000_000_000,
        1_000_000_000_000_000_000,
        (1 << 63) - 10_000,
        18_000_000_000_000_000_000,
    ] {
        let hi = lo + 30_000;
        let want: Vec<u64> = (lo..=hi).filter(|&n| is_prime_mr(n)).collect();
        assert_eq!(listed(&sieve, lo, hi), want, "[{lo}, {hi}]");
    }
}

#[test]
fn primes_in_buckets_high_up_hit_as_freshly_placed_ones() {
    // Around 10^17, sieving primes up to 3·10^8 hit a segment a few times
    // or skip it: one call across three segments (buckets carry them
    // over, the mod-210 wheel steps them) must count what pieces placed
    // anew count.
    let sieve = Sieve::new();
    let lo = 100_000_000_000_000_000;
    let hi = lo + 5 * SEGMENT_SPAN / 2;
    let pieces: u64 = chunks(lo, hi, SEGMENT_SPAN / 3 + 7)
        .map(|(a, b)| sieve.count(a, b))
        .sum();
    assert_eq!(sieve.count(lo, hi), pieces);
    let edge = lo + SEGMENT_SPAN;
    let want = (edge - 3_000..=edge + 3_000)
        .filter(|&n| is_prime_mr(n))
        .count();
    assert_eq!(sieve.count(edge - 3_000, edge + 3_000), want as u64);
}

#[test]
fn chunks_cover_the_range_once() {
    assert_eq!(chunks(5, 5, 10).collect::<Vec<_>>(), vec![(5, 5)]);
    assert_eq!(chunks(6, 5, 10).count(), 0);
    assert_eq!(chunks(0, 5, 0).count(), 6);
    let top = chunks(u64::MAX - 2, u64::MAX, 2).collect::<Vec<_>>();
    assert_eq!(
        top,
        vec![(u64::MAX - 2, u64::MAX - 1), (u64::MAX, u64::MAX)]
    );
}
