//! Unit tests of `sieve`.

use super::*;

fn is_prime(n: u64) -> bool {
    n == 2
        || (n >= 3
            && n % 2 == 1
            && (3..)
                .step_by(2)
                .take_while(|d| d * d <= n)
                .all(|d| n % d != 0))
}

fn listed(sieve: &Sieve, lo: u64, hi: u64) -> Vec<u64> {
    let mut out = String::new();
    sieve.write_primes(lo, hi, &mut out);
    out.lines().map(|l| l.parse().expect("a number")).collect()
}

#[test]
fn every_small_range_matches_trial_division() {
    let sieve = Sieve::new(400);
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
    let sieve = Sieve::new(3 * SEGMENT_SPAN);
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
    let sieve = Sieve::new(hi);
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
    let sieve = Sieve::new(hi);
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
        let sieve = Sieve::new(hi).with_l1_cache(bytes);
        assert_eq!(sieve.count(lo, hi), want, "L1 of {bytes} bytes");
    }
}

#[test]
fn near_the_largest_end_matches_trial_division() {
    let sieve = Sieve::new(MAX_END);
    let (lo, hi) = (MAX_END - 200, MAX_END);
    let want: Vec<u64> = (lo..=hi).filter(|&n| is_prime(n)).collect();
    assert_eq!(listed(&sieve, lo, hi), want);
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
