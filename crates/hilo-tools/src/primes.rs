//! `hilo primes`: count or list the primes of a range, in chunks spread over
//! a hilo pool (the lesson's exercise 3, done fast).
//!
//! This module owns the command line of `hilo primes`, the cutting of the
//! range into chunks, the choice of engine and the printing; the sieving
//! itself lives in `hilo_work::sieve`, which this file never
//! reimplements. The `#[hilo::task]` functions are here, in the binary,
//! because worker processes can only run tasks linked into it.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::Instant;

use hilo_term::{Align, Failure, ProgressBar};
use hilo_work::sieve::{self, Sieve, SEGMENT_SPAN};

use crate::common::{Engine, Place, Pool};

/// The most segments in a default chunk (6 billion numbers, about a second
/// of work): huge ranges still move the progress bar, and setting up a
/// chunk stays a small part of its work.
const MAX_CHUNK_SEGMENTS: u64 = 96;

/// The most numbers in a chunk of a listing: its text (at most about 3
/// million primes, 45 MB) is held in memory until printed, and must fit in
/// one frame from a worker process (64 MiB).
const MAX_PRINT_CHUNK: u64 = SEGMENT_SPAN * 3 / 4;

/// The numbers in a default chunk of a listing (7.9 million): its text,
/// a few megabytes, waits in memory with a few others until printed.
const PRINT_CHUNK: u64 = SEGMENT_SPAN / 8;

/// Ranges at least this long show a progress bar on a terminal.
const LONG_WORK: u64 = 1_000_000_000;

const AFTER_HELP: &str = "\
Numbers:
  Plain integers or 1e9 notation (2.5e9, 1_000_000 too); both ends included.

Examples:
  hilo primes 1e9                   50847534 (the primes up to 10^9)
  hilo primes 1e12 1000000001000    how many primes lie in [10^12, 10^12 + 1000]
  hilo primes --print 100 200       the primes between 100 and 200, one per line
  hilo primes --compare 1e9         sequential vs threads vs processes, with speedups
  hilo primes --json -j 4 1e10      {\"count\":455052511,\"start\":0,...}

Exit status:
  0  done    1  a worker failed or output could not be written    2  bad input";

/// Count the primes in [START, END], or list them, with a segmented sieve
/// of Eratosthenes spread over the cores.
#[derive(clap::Args, Debug)]
#[command(
    after_help = AFTER_HELP,
    override_usage = "hilo primes [OPTIONS] [START] END"
)]
pub struct Args {
    /// START END, or END alone (START is then 0): the range, both included, up to 2^64 - 1
    #[arg(value_name = "NUMBER", num_args = 1..=2, required = true, allow_negative_numbers = true)]
    range: Vec<String>,

    /// List the primes, one per line, increasing, instead of counting them
    #[arg(short, long, conflicts_with_all = ["compare", "json"])]
    print: bool,

    /// Numbers per chunk (one task each), e.g. --chunk 1e8; by default
    /// about 16 chunks per worker; with --print 7.9 million, at most 47
    /// million
    #[arg(long, value_name = "SIZE")]
    chunk: Option<String>,

    /// Time the sequential version, threads and processes, with speedups
    #[arg(long)]
    compare: bool,

    /// Where the chunks run
    #[arg(long, value_enum, default_value_t = Engine::Threads)]
    engine: Engine,

    #[arg(long, value_name = "URL", conflicts_with_all = ["engine", "compare"], help = crate::common::CLUSTER_HELP)]
    cluster: Option<String>,

    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = hilo_term::parse_jobs, allow_negative_numbers = true,
          help = hilo_term::JOBS_HELP)]
    jobs: Option<hilo_term::Jobs>,

    /// Print the result as JSON: count, start, end, seconds, engine, jobs
    #[arg(long)]
    json: bool,
}

/// The range and how to cut it, once the command line is checked.
#[derive(Debug, Clone, Copy)]
struct Job {
    start: u64,
    end: u64,
    chunk: u64,
    jobs: usize,
}

/// Runs `hilo primes`; returns the exit status.
pub fn main(args: Args) -> u8 {
    hilo_term::exit_status("primes", run(&args))
}

fn run(args: &Args) -> Result<(), Failure> {
    let job = check(args).map_err(Failure::usage)?;
    let sieve = shared_sieve();
    let place = Place::of(args.engine, args.cluster.as_ref());
    if args.print {
        print(job, &place)
    } else if args.compare {
        compare(sieve, job, args.json)
    } else {
        count_once(sieve, job, &place, args.json)
    }
}

/// Checks the command line: the numbers, their order, -j and --chunk.
fn check(args: &Args) -> Result<Job, String> {
    let (start, end) = match args.range.as_slice() {
        [end] => (0, parse_number("END", end)?),
        [start, end] => (parse_number("START", start)?, parse_number("END", end)?),
        _ => return Err("give [START] END".to_string()),
    };
    if start > end {
        return Err(format!("START ({start}) is greater than END ({end})"));
    }
    let jobs = crate::common::jobs(args.jobs);
    let chunk = match &args.chunk {
        Some(text) => match parse_number("--chunk", text)? {
            0 => return Err("--chunk must be at least 1".to_string()),
            n if args.print => n.min(MAX_PRINT_CHUNK),
            n => n,
        },
        None => default_chunk(start, end, jobs, args.print),
    };
    Ok(Job {
        start,
        end,
        chunk,
        jobs,
    })
}

/// Chunks of whole segments: one per listing (its text is held in memory
/// until printed), else about 16 per worker so that none waits long at the
/// end for the last one, but at most [`MAX_CHUNK_SEGMENTS`]. High up, a
/// chunk's set-up (placing every sieving prime, up to √END of them) is
/// long: chunks then get at least √END · 200 numbers (whole segments),
/// enough to keep it near a tenth of the work, unless that leaves a worker
/// idle.
fn default_chunk(start: u64, end: u64, jobs: usize, print: bool) -> u64 {
    if print {
        return PRINT_CHUNK;
    }
    let span = end - start + 1;
    let balanced = span.div_ceil(16 * jobs as u64).div_ceil(SEGMENT_SPAN);
    let one_each = span.div_ceil(jobs as u64).div_ceil(SEGMENT_SPAN);
    let set_up = (end.isqrt() * 200 / SEGMENT_SPAN).min(one_each);
    balanced.max(set_up).clamp(1, MAX_CHUNK_SEGMENTS) * SEGMENT_SPAN
}

/// A non-negative whole number: digits (with `_` between them allowed),
/// optionally a fraction and an exponent, as in `1e9` or `2.5e9`, as long
/// as the value is whole. `what` names the number in the error.
fn parse_number(what: &str, text: &str) -> Result<u64, String> {
    let bad = || format!("{what} must be a whole number like 1000000 or 1e9, not {text:?}");
    if text.starts_with('-') {
        return Err(format!("{what} must not be negative: {text:?}"));
    }
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, "0"),
    };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    let exponent: u32 = match digits(exponent) {
        Some(e) if e.len() <= 3 => e.parse().map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let whole = digits(whole).ok_or_else(bad)?;
    let fraction = if fraction.is_empty() && mantissa.contains('.') {
        return Err(bad());
    } else if fraction.is_empty() {
        String::new()
    } else {
        digits(fraction).ok_or_else(bad)?
    };
    // value = whole.fraction × 10^exponent: whole as long as the fraction's
    // digits past the exponent are zeros.
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > exponent as usize {
        return Err(format!("{what} must be a whole number, not {text:?}"));
    }
    let scaled = format!("{whole}{fraction}");
    let zeros = exponent as usize - fraction.len();
    let too_big = || {
        format!("{what} is too large: {text:?} (the largest is 2^64 - 1 = 18446744073709551615)")
    };
    let mut value: u64 = scaled.parse().map_err(|_| too_big())?;
    for _ in 0..zeros {
        value = value.checked_mul(10).ok_or_else(too_big)?;
    }
    Ok(value)
}

/// `text` without its `_` separators, if it is digits with `_` only
/// between them.
fn digits(text: &str) -> Option<String> {
    let ok = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && !text.contains("__")
        && !text.starts_with('_')
        && !text.ends_with('_');
    ok.then(|| text.replace('_', ""))
}

/// One counting run's result.
#[derive(Debug, serde::Serialize)]
struct Report {
    count: u64,
    start: u64,
    end: u64,
    seconds: f64,
    engine: &'static str,
    jobs: usize,
}

/// How the chunks run: in this thread, or on one of the pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run<'a> {
    Sequential,
    On(&'a Place),
}

impl Run<'_> {
    fn name(self) -> &'static str {
        match self {
            Run::Sequential => "sequential",
            Run::On(place) => place.name(),
        }
    }
}

fn count_once(sieve: &Sieve, job: Job, place: &Place, json: bool) -> Result<(), Failure> {
    let report = timed_count(sieve, job, Run::On(place))?;
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", to_json(&report)?).map_err(Failure::output)?;
    } else {
        writeln!(out, "{}", report.count).map_err(Failure::output)?;
    }
    Ok(())
}

/// The exercise's "compare with the sequential version": the same chunks
/// in this thread alone, on threads and on processes.
fn compare(sieve: &Sieve, job: Job, json: bool) -> Result<(), Failure> {
    let (threads, processes) = (Place::Here(Engine::Threads), Place::Here(Engine::Processes));
    let runs = [Run::Sequential, Run::On(&threads), Run::On(&processes)];
    let mut reports = Vec::new();
    for run in runs {
        reports.push(timed_count(sieve, job, run)?);
    }
    if let Some(r) = reports.iter().find(|r| r.count != reports[0].count) {
        return Err(Failure::failed(format!(
            "the engines disagree: sequential counted {}, {} counted {}",
            reports[0].count, r.engine, r.count
        )));
    }
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", to_json(&reports)?).map_err(Failure::output)?;
        return Ok(());
    }
    let base = reports[0].seconds;
    let rows = reports.iter().map(|r| {
        vec![
            r.engine.to_owned(),
            r.jobs.to_string(),
            r.count.to_string(),
            format!("{:.3}", r.seconds),
            format!("{:.2}x", base / r.seconds.max(1e-9)),
        ]
    });
    let mut align = [Align::Right; 5];
    align[0] = Align::Left;
    let header = ["engine", "jobs", "primes", "seconds", "speedup"];
    writeln!(out, "{}", hilo_term::table(&align, header, rows)).map_err(Failure::output)?;
    Ok(())
}

fn to_json(value: &impl serde::Serialize) -> Result<String, Failure> {
    serde_json::to_string(value).map_err(|e| Failure::failed(format!("cannot write JSON: {e}")))
}

/// Counts the job's range on `run`, timing it (pool start-up included:
/// it is part of what using that engine costs).
fn timed_count(sieve: &Sieve, job: Job, run: Run<'_>) -> Result<Report, Failure> {
    let began = Instant::now();
    let bar = bar_for(job, false);
    let ranges = sieve::chunks(job.start, job.end, job.chunk);
    let tick = |n: u64| {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
        n
    };
    let (count, jobs) = match run {
        Run::Sequential => (ranges.map(|(lo, hi)| tick(sieve.count(lo, hi))).sum(), 1),
        Run::On(place) => {
            let pool = pool(place, job.jobs)?;
            let count = hilo::map(&pool, ranges, |(lo, hi)| count_chunk::call(lo, hi))
                .unordered()
                .map(|n| n.map(tick).map_err(worker_failed))
                .sum::<Result<u64, Failure>>()?;
            (count, pool.jobs())
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(Report {
        count,
        start: job.start,
        end: job.end,
        seconds: began.elapsed().as_secs_f64(),
        engine: run.name(),
        jobs,
    })
}

/// Lists the primes chunk by chunk, in order: at most 2 × -j chunks are
/// sieved ahead of the one being written, so memory stays bounded however
/// large the range.
fn print(job: Job, place: &Place) -> Result<(), Failure> {
    // On a terminal the list itself shows progress; a bar would garble it.
    let bar = bar_for(job, std::io::stdout().is_terminal());
    let ranges = sieve::chunks(job.start, job.end, job.chunk);
    let mut out = std::io::stdout().lock();
    let mut write = |text: Result<String, hilo::TaskError>| -> Result<(), Failure> {
        out.write_all(text.map_err(worker_failed)?.as_bytes())
            .map_err(Failure::output)?;
        if let Some(bar) = &bar {
            bar.inc(1);
        }
        Ok(())
    };
    let pool = pool(place, job.jobs)?;
    hilo::map(&pool, ranges, |(lo, hi)| list_chunk::call(lo, hi)).try_for_each(&mut write)?;
    out.flush().map_err(Failure::output)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(())
}

fn list(sieve: &Sieve, lo: u64, hi: u64) -> String {
    let mut out = String::new();
    sieve.write_primes(lo, hi, &mut out);
    out
}

/// A bar counting chunks, for long work on a terminal only.
fn bar_for(job: Job, hide: bool) -> Option<ProgressBar> {
    if hide || job.end - job.start < LONG_WORK {
        return None;
    }
    let chunks = (job.end - job.start) / job.chunk + 1;
    hilo_term::progress_bar(
        Some(chunks),
        "hilo primes {bar:40.cyan/blue} {pos}/{len} chunks {elapsed}",
    )
}

fn pool(place: &Place, jobs: usize) -> Result<Pool, Failure> {
    Pool::new(place, jobs, "primes").map_err(Failure::failed)
}

fn worker_failed(e: hilo::TaskError) -> Failure {
    Failure::failed(format!("a chunk failed: {e}"))
}

/// The primes in `[lo, hi]`, counted (on either engine).
#[hilo::task]
fn count_chunk(lo: u64, hi: u64) -> u64 {
    shared_sieve().count(lo, hi)
}

/// The primes in `[lo, hi]`, listed one per line (on either engine).
#[hilo::task]
fn list_chunk(lo: u64, hi: u64) -> String {
    list(shared_sieve(), lo, hi)
}

/// The sieve, built once per process and shared by every chunk: by the
/// main thread and the pool's threads, or by one worker process's chunks.
/// Its blocks are sized to this machine's L1 data cache.
fn shared_sieve() -> &'static Sieve {
    static SIEVE: OnceLock<Sieve> = OnceLock::new();
    SIEVE.get_or_init(|| match l1_data_cache() {
        Some(bytes) => Sieve::new().with_l1_cache(bytes),
        None => Sieve::new(),
    })
}

/// The first CPU's L1 data cache in bytes, as Linux reports it in sysfs
/// (`None` elsewhere: the sieve then assumes the common 32 KB).
fn l1_data_cache() -> Option<usize> {
    let dir = std::path::Path::new("/sys/devices/system/cpu/cpu0/cache");
    std::fs::read_dir(dir).ok()?.flatten().find_map(|entry| {
        let read = |name: &str| std::fs::read_to_string(entry.path().join(name)).ok();
        if read("level")?.trim() != "1" || read("type")?.trim() != "Data" {
            return None;
        }
        let size = read("size")?;
        let kib: usize = size.trim().strip_suffix('K')?.parse().ok()?;
        Some(kib * 1024)
    })
}

#[cfg(test)]
mod tests {
    use super::parse_number;

    #[test]
    fn numbers_in_plain_and_exponent_notation() {
        let ok = |t: &str| parse_number("END", t);
        assert_eq!(ok("0"), Ok(0));
        assert_eq!(ok("1000000"), Ok(1_000_000));
        assert_eq!(ok("1_000_000"), Ok(1_000_000));
        assert_eq!(ok("1e9"), Ok(1_000_000_000));
        assert_eq!(ok("1E+3"), Ok(1_000));
        assert_eq!(ok("2.5e9"), Ok(2_500_000_000));
        assert_eq!(ok("12.50e1"), Ok(125));
        assert_eq!(ok("18446744073709551615"), Ok(u64::MAX));
    }

    #[test]
    fn bad_numbers_say_why() {
        let err = |t: &str| parse_number("END", t).unwrap_err();
        assert!(err("-5").contains("negative"));
        assert!(err("1.5").contains("whole number"));
        assert!(err("2.55e1").contains("whole number"));
        assert!(err("1e20").contains("too large"));
        assert!(err("18446744073709551616").contains("too large"));
        for garbage in [
            "", "abc", "1e", "e9", "1.", ".5", "1__0", "_1", "0x10", "1e-3", " 1",
        ] {
            assert!(err(garbage).contains("whole number"), "{garbage:?}");
        }
    }
}
