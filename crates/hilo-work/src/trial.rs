//! Trial division: the slow, obvious prime test. It is the CPU-bound
//! workload the lab (`hilo bench speedup`) and the benchmarks time (pure
//! arithmetic, no memory traffic), and a reference to check a sieve with.

/// True if `n` is prime, by trial division with odd divisors.
///
/// ```
/// use hilo_work::trial::is_prime;
/// let primes: Vec<u64> = (0..20).filter(|&n| is_prime(n)).collect();
/// assert_eq!(primes, [2, 3, 5, 7, 11, 13, 17, 19]);
/// ```
pub fn is_prime(n: u64) -> bool {
    if n < 4 {
        return n >= 2;
    }
    if n % 2 == 0 {
        return false;
    }
    let mut d = 3;
    while d * d <= n {
        if n % d == 0 {
            return false;
        }
        d += 2;
    }
    true
}

/// How many primes lie in `[lo, hi)`, each tested by trial division.
///
/// ```
/// assert_eq!(hilo_work::trial::count(0, 100), 25);
/// ```
pub fn count(lo: u64, hi: u64) -> u64 {
    (lo..hi).filter(|&n| is_prime(n)).count() as u64
}
