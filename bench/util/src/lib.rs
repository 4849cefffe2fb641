//! What the bench programs (`hilo-bench-pool-overhead`,
//! `hilo-bench-process-pool`) share: their command-line parsing, the check
//! that every no-op result came back, medians and the output format (one
//! machine-readable `name key=value ...` line per measurement, then a table),
//! and the CPU-bound workload (counting primes by trial division, checked
//! against a sieve).

use std::fmt::Display;
use std::process::ExitCode;
use std::time::Duration;

/// Runs a bench program: parses its options (clap: `--help` prints them,
/// a bad one is an error with exit status 2), then `run`s it; a failed run
/// prints the error and exits 1.
pub fn main_with<O: clap::Parser>(run: impl FnOnce(O) -> Result<(), String>) -> ExitCode {
    match run(O::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A clap value parser: a whole number of at least 1 (underscores allowed:
/// `1_000_000`).
pub fn positive(value: &str) -> Result<u64, String> {
    let n: u64 = value
        .replace('_', "")
        .parse()
        .map_err(|_| format!("not a whole number: {value:?}"))?;
    if n == 0 {
        return Err("must be at least 1".to_owned());
    }
    Ok(n)
}

/// A clap value parser: a count (a whole number of at least 1).
pub fn count(value: &str) -> Result<usize, String> {
    positive(value).map(to_usize)
}

/// `n` as a `usize`, saturating.
pub fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Counts and sums results as they are collected, so that every contender
/// does the same bookkeeping.
#[derive(Debug, Default)]
pub struct Tally {
    count: u64,
    sum: u64,
}

impl Tally {
    /// Counts one result and adds it to the (wrapping) sum.
    pub fn add(&mut self, v: u64) {
        self.count += 1;
        self.sum = self.sum.wrapping_add(v);
    }

    /// Checks that exactly `0..n` came back (by count and sum); the error
    /// names `who`.
    pub fn check(&self, who: &str, n: u64) -> Result<(), String> {
        let want_sum = expected_sum(n);
        if self.count != n || self.sum != want_sum {
            return Err(format!(
                "{who}: results lost or wrong: got {} results summing to {}, \
                 expected {n} summing to {want_sum}",
                self.count, self.sum
            ));
        }
        Ok(())
    }
}

/// `0 + 1 + ... + (n - 1)`, exact in `u128`, then wrapped like a [`Tally`].
pub fn expected_sum(n: u64) -> u64 {
    let n = u128::from(n);
    (n * n.saturating_sub(1) / 2) as u64
}

/// Median (upper median for an even count) and best of some durations.
///
/// # Panics
///
/// If `times` is empty.
pub fn median_and_best(times: &[Duration]) -> (Duration, Duration) {
    let mut sorted = times.to_vec();
    sorted.sort();
    (sorted[sorted.len() / 2], sorted[0])
}

/// `d` in seconds.
pub fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Every duration in seconds with 4 decimals, joined by commas.
pub fn join_secs(times: &[Duration]) -> String {
    times
        .iter()
        .map(|t| format!("{:.4}", secs(*t)))
        .collect::<Vec<_>>()
        .join(",")
}

/// How many items a measurement handled per run, for its rate.
#[derive(Debug, Clone, Copy)]
pub struct Rate<'a> {
    /// The rate's key in the machine-readable line, e.g. `tasks_per_s`.
    pub key: &'a str,
    /// Items per run.
    pub items: u64,
}

/// The median and best of a measurement's runs, and its rate at the median.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// The median run (upper median for an even count).
    pub median: Duration,
    /// The fastest run.
    pub best: Duration,
    /// Items per second at the median, if the measurement has a rate.
    pub rate: Option<f64>,
}

impl Summary {
    /// This summary as a table row labelled `label`.
    pub fn row(self, label: impl Into<String>) -> Row {
        Row {
            label: label.into(),
            median: self.median,
            best: self.best,
            rate: self.rate,
        }
    }
}

/// Prints one measurement's machine-readable line,
/// `NAME FIELDS runs=N median_s=S best_s=S [KEY=RATE] runs_s=S,S,...`, and
/// returns its summary. `times` holds one duration per run.
///
/// # Panics
///
/// If `times` is empty.
pub fn report(name: &str, fields: &str, times: &[Duration], rate: Option<Rate<'_>>) -> Summary {
    let (median, best) = median_and_best(times);
    let per_s = rate.map(|r| (r.key, r.items as f64 / secs(median)));
    let rate_field = per_s.map_or_else(String::new, |(key, v)| format!(" {key}={v:.0}"));
    println!(
        "{name} {fields} runs={} median_s={:.4} best_s={:.4}{rate_field} runs_s={}",
        times.len(),
        secs(median),
        secs(best),
        join_secs(times),
    );
    Summary {
        median,
        best,
        rate: per_s.map(|(_, v)| v),
    }
}

/// Prints the machine-readable line `cpu_speedup value=X` for the speedup
/// of `faster` over `alone` (both median times), and returns it.
pub fn report_speedup(alone: Duration, faster: Duration) -> f64 {
    let speedup = secs(alone) / secs(faster);
    println!("cpu_speedup value={speedup:.3}");
    speedup
}

/// One row of the table for humans.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured.
    pub label: String,
    /// The median run.
    pub median: Duration,
    /// The fastest run.
    pub best: Duration,
    /// Items (tasks or mapped items) per second at the median, if a rate
    /// means something for this row.
    pub rate: Option<f64>,
}

/// The headers of a table's columns, and how the time per item is shown.
#[derive(Debug, Clone, Copy)]
pub struct Columns {
    /// Header of the label column.
    pub label: &'static str,
    /// Header of the rate column (items per second).
    pub rate: &'static str,
    /// Header of the time-per-item column.
    pub per_item: &'static str,
    /// Units of the time-per-item column in a second (1e9 for ns, 1e6 for us).
    pub per_item_units: f64,
    /// Decimals of the time-per-item column.
    pub per_item_decimals: usize,
}

/// Prints the table's header and one line per row (`-` where a row has no
/// rate), each indented by two spaces.
pub fn print_rows(rows: &[Row], cols: &Columns) {
    let lines = rows.iter().map(|r| {
        let (rate, per_item) = match r.rate {
            Some(rate) => (
                format!("{rate:.0}"),
                format!("{:.*}", cols.per_item_decimals, cols.per_item_units / rate),
            ),
            None => ("-".to_owned(), "-".to_owned()),
        };
        vec![
            r.label.clone(),
            format!("{:.4}", secs(r.median)),
            format!("{:.4}", secs(r.best)),
            rate,
            per_item,
        ]
    });
    let mut align = [hilo_term::Align::Right; 5];
    align[0] = hilo_term::Align::Left;
    let header = [cols.label, "median s", "best s", cols.rate, cols.per_item];
    println!("{}", hilo_term::table(&align, header, lines));
}

/// The CPU-bound workload: primes in `[lo, hi)` by trial division.
pub use hilo_work::trial::count as count_primes;

/// Sums task results, taking them in order; the first failed task is the
/// error (`hilo: task failed: ...`).
pub fn sum_results<E: Display>(
    results: impl IntoIterator<Item = Result<u64, E>>,
) -> Result<u64, String> {
    let mut sum = 0;
    for r in results {
        sum += r.map_err(|e| format!("hilo: task failed: {e}"))?;
    }
    Ok(sum)
}

/// Primes below `n`, from the sieve behind `hilo primes` (tested against
/// a slow obvious count and primesieve): the reference the trial-division
/// workload is checked with.
pub fn sieve_count(n: u64) -> u64 {
    if n < 3 {
        return 0;
    }
    hilo_work::sieve::Sieve::new().count(0, n - 1)
}

/// Splits `0..below` into `chunks` consecutive ranges `(lo, hi)`.
pub fn ranges(below: u64, chunks: u64) -> impl Iterator<Item = (u64, u64)> {
    (0..chunks).map(move |c| (below * c / chunks, below * (c + 1) / chunks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_whole_and_at_least_one() {
        assert_eq!(positive("1_000"), Ok(1000));
        assert_eq!(count("3"), Ok(3));
        assert_eq!(positive("0"), Err("must be at least 1".to_owned()));
        assert_eq!(positive("x"), Err("not a whole number: \"x\"".to_owned()));
        assert!(positive("-1").is_err());
    }

    #[test]
    fn tally_checks_count_and_sum() {
        let mut t = Tally::default();
        (0..10).for_each(|i| t.add(i));
        assert_eq!(t.check("t", 10), Ok(()));
        assert!(t.check("t", 11).is_err());
        assert_eq!(expected_sum(0), 0);
        assert_eq!(expected_sum(1), 0);
    }

    #[test]
    fn median_is_the_upper_one() {
        let t = [3, 1, 4, 2].map(Duration::from_secs);
        assert_eq!(
            median_and_best(&t),
            (Duration::from_secs(3), Duration::from_secs(1))
        );
        assert_eq!(join_secs(&t[..2]), "3.0000,1.0000");
    }

    #[test]
    fn sum_results_stops_at_the_first_failure() {
        assert_eq!(sum_results([Ok::<u64, &str>(2), Ok(3)]), Ok(5));
        assert_eq!(
            sum_results([Ok(2), Err("boom"), Ok(3)]),
            Err("hilo: task failed: boom".to_owned())
        );
    }

    #[test]
    fn trial_division_agrees_with_the_sieve() {
        assert_eq!(count_primes(0, 10_000), sieve_count(10_000));
        let split: u64 = ranges(10_000, 7).map(|(lo, hi)| count_primes(lo, hi)).sum();
        assert_eq!(split, 1229);
        assert_eq!(sieve_count(2), 0);
        assert_eq!(sieve_count(3), 1);
    }
}
