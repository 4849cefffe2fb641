//! The addresses checked: the syntax of each, then each distinct domain
//! looked up once on a hilo `ThreadPool` (`-j` workers, each blocked on
//! its own lookup while the others wait on theirs), and every address's
//! verdict handed to a [`Sink`] in input order as soon as it and every
//! address before it are known. Prints nothing itself.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use hilo::ThreadPool;
use hilo_term::Failure;

use crate::lookup::Checker;
use crate::syntax::{self, SyntaxError};
use crate::verdict::Verdict;

/// Where verdicts go, in input order.
pub(crate) trait Sink {
    /// One address: as written, its domain in ASCII (`None` when its
    /// syntax is bad), its verdict.
    fn row(&mut self, email: &str, domain: Option<&str>, verdict: &Verdict) -> Result<(), Failure>;

    /// Nothing more is ready for now: a good moment to flush.
    fn pause(&mut self) -> Result<(), Failure>;
}

/// The addresses sorted out before any lookup.
struct Sorted {
    /// Per address: the index of its domain in `domains`, or why its
    /// syntax is bad.
    slots: Vec<Result<usize, SyntaxError>>,
    /// The distinct domains, in the order they first appear.
    domains: Vec<String>,
}

fn sort(addresses: &[String]) -> Sorted {
    let mut index = HashMap::new();
    let mut domains = Vec::new();
    let slots = addresses
        .iter()
        .map(|a| {
            let domain = syntax::parse(a)?.domain;
            Ok(*index.entry(domain).or_insert_with_key(|d: &String| {
                domains.push(d.clone());
                domains.len() - 1
            }))
        })
        .collect();
    Sorted { slots, domains }
}

/// Checks `addresses` with `jobs` lookups at once; returns how many
/// distinct domains were looked up. The checker is made only if there is
/// a domain to look up (addresses that all fail the syntax rule need no
/// resolver), and before anything reaches `sink`.
///
/// # Errors
/// The checker or the pool could not be made, or `sink` failed.
pub(crate) fn check_all(
    addresses: &[String],
    checker: impl FnOnce() -> Result<Checker, Failure>,
    jobs: usize,
    sink: &mut dyn Sink,
) -> Result<usize, Failure> {
    let Sorted { slots, domains } = sort(addresses);
    let checker = if domains.is_empty() {
        None
    } else {
        Some(checker()?)
    };
    let mut known: Vec<Option<Verdict>> = vec![None; domains.len()];
    let mut next = 0;
    let mut release = |known: &[Option<Verdict>], sink: &mut dyn Sink| -> Result<(), Failure> {
        while let Some(slot) = slots.get(next) {
            let (domain, verdict) = match slot {
                Err(e) => (None, Verdict::invalid(format!("syntax: {e}"))),
                Ok(d) => match &known[*d] {
                    Some(v) => (Some(domains[*d].as_str()), v.clone()),
                    None => break,
                },
            };
            sink.row(&addresses[next], domain, &verdict)?;
            next += 1;
        }
        sink.pause()
    };
    release(&known, sink)?;
    let Some(checker) = checker else {
        return Ok(0);
    };
    let pool = ThreadPool::builder()
        .max_workers(jobs)
        .thread_name_prefix("hilo-mx")
        .build()
        .map_err(|e| Failure::failed(format!("cannot start the pool: {e}")))?;
    let bar = hilo_term::progress_bar(
        Some(domains.len() as u64),
        "hilo mx {bar:40.cyan/blue} {pos}/{len} domains {elapsed}",
    );
    let checker = Arc::new(checker);
    let lookups = domains.clone().into_iter().enumerate();
    // Unordered: a domain that times out holds one worker, not the
    // window; the order is restored by `release`.
    let verdicts = pool
        .map(lookups, move |(i, domain)| (i, guarded(&checker, &domain)))
        .window(4 * jobs)
        .unordered();
    for done in verdicts {
        let (i, verdict) = done.map_err(|e| Failure::failed(format!("a lookup failed: {e}")))?;
        known[i] = Some(verdict);
        if let Some(bar) = &bar {
            bar.inc(1);
        }
        release(&known, sink)?;
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(domains.len())
}

/// `checker`'s verdict, or unverifiable if the check panicked (a bug in
/// it, reported at its place instead of losing which domain it was).
fn guarded(checker: &Checker, domain: &str) -> Verdict {
    catch_unwind(AssertUnwindSafe(|| checker.check(domain)))
        .unwrap_or_else(|_| Verdict::unverifiable("the lookup panicked (a bug in hilo mx)"))
}
