//! The lesson's worked example 3, "big CSV files in chunks": statistics of a
//! sales CSV (count, sum, mean, min and max of each number column, and
//! totals per region), computed once in one go and once in chunks on a
//! `ThreadPool`. It checks that both agree and prints the statistics, both
//! times and the speedup.
//!
//! Without a file it first writes its own: 400,000 rows of made-up sales
//! (`date,region,product,units,price`) in a temporary file, removed at the
//! end.
//!
//! Run: `cargo run --release -p hilo --example csv_stats -- [FILE.csv] [--rows N] [--small]`
//!
//! - `FILE.csv`: a CSV with a header naming at least `region`, `units` (a
//!   whole number) and `price` (a decimal); `date` is used if present.
//! - `--rows N`: how many rows to generate (without a file).
//! - `--small`: 20,000 rows, for a run of a second or two.
//!
//! Python's version reads every chunk with pandas in the parent and pickles
//! it to a worker. Here the file is read into memory once, every worker gets
//! the same bytes (shared, not copied) and a range of them to parse itself,
//! so the parsing is parallel too.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use hilo::ThreadPool;

#[path = "common/args.rs"]
mod args;

/// Computes statistics of a CSV file's columns on a ThreadPool and checks
/// them against a sequential pass.
#[derive(clap::Parser)]
#[command(name = "csv_stats")]
struct Args {
    /// The CSV file [default: a generated one]
    file: Option<PathBuf>,
    /// Rows of the generated file
    #[arg(long, value_name = "N", default_value_t = 400_000, value_parser = clap::value_parser!(u64).range(1..))]
    rows: u64,
    /// 20,000 rows, for a run of a second or two (overrides --rows)
    #[arg(long)]
    small: bool,
}

// ---------------------------------------------------------------------------
// The statistics. Money is kept in whole cents: adding floats gives slightly
// different sums in a different order (chunk by chunk vs all at once), and
// this example checks that the two runs agree exactly.
// ---------------------------------------------------------------------------

/// Count, sum, min and max of one number column (the mean follows).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Column {
    count: u64,
    sum: i128,
    min: i64,
    max: i64,
}

impl Column {
    fn add(&mut self, v: i64) {
        self.min = if self.count == 0 { v } else { self.min.min(v) };
        self.max = if self.count == 0 { v } else { self.max.max(v) };
        self.count += 1;
        self.sum += i128::from(v);
    }

    fn merge(&mut self, other: &Column) {
        if other.count == 0 {
            return;
        }
        self.min = if self.count == 0 {
            other.min
        } else {
            self.min.min(other.min)
        };
        self.max = if self.count == 0 {
            other.max
        } else {
            self.max.max(other.max)
        };
        self.count += other.count;
        self.sum += other.sum;
    }

    fn mean(&self) -> f64 {
        self.sum as f64 / self.count.max(1) as f64
    }
}

/// What one region sold.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct RegionTotals {
    rows: u64,
    units: i128,
    revenue_cents: i128,
}

/// Everything we compute over a set of rows; two `Stats` merge into the
/// `Stats` of both sets, which is what makes chunking possible.
#[derive(Debug, Clone, Default, PartialEq)]
struct Stats {
    units: Column,
    price_cents: Column,
    revenue_cents: Column,
    /// Earliest and latest `date` (compared as text: right for ISO dates).
    dates: Option<(String, String)>,
    regions: BTreeMap<String, RegionTotals>,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        self.units.merge(&other.units);
        self.price_cents.merge(&other.price_cents);
        self.revenue_cents.merge(&other.revenue_cents);
        self.dates = match (self.dates.take(), other.dates) {
            (Some((a0, a1)), Some((b0, b1))) => Some((a0.min(b0), a1.max(b1))),
            (a, b) => a.or(b),
        };
        for (region, t) in other.regions {
            let mine = self.regions.entry(region).or_default();
            mine.rows += t.rows;
            mine.units += t.units;
            mine.revenue_cents += t.revenue_cents;
        }
    }
}

/// Where the columns we need are, from the header.
#[derive(Debug, Clone, Copy)]
struct Columns {
    date: Option<usize>,
    region: usize,
    units: usize,
    price: usize,
}

impl Columns {
    fn from_header(header: &[u8]) -> Result<Self, String> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(header);
        let names = match reader.records().next() {
            Some(Ok(record)) => record,
            Some(Err(e)) => return Err(format!("cannot read the header: {e}")),
            None => return Err("the file is empty (no header)".into()),
        };
        let find = |wanted: &str| {
            names
                .iter()
                .position(|n| n.trim().eq_ignore_ascii_case(wanted))
        };
        let need = |wanted: &str| {
            find(wanted).ok_or_else(|| format!("the header has no {wanted:?} column"))
        };
        Ok(Columns {
            date: find("date"),
            region: need("region")?,
            units: need("units")?,
            price: need("price")?,
        })
    }
}

/// The statistics of the CSV rows in `text` (no header), whose first line
/// is line `first_line` of the file (for error messages). This is the one
/// function both runs use: once on all rows, once on each chunk.
fn stats_of(text: &[u8], cols: Columns, first_line: u64) -> Result<Stats, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text);
    let mut stats = Stats::default();
    let mut record = csv::StringRecord::new();
    loop {
        let line = first_line + reader.position().line() - 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                add_row(&mut stats, &record, cols).map_err(|e| format!("line {line}: {e}"))?
            }
            Err(e) => return Err(format!("line {line}: {e}")),
        }
    }
    Ok(stats)
}

fn add_row(stats: &mut Stats, row: &csv::StringRecord, cols: Columns) -> Result<(), String> {
    let field = |i: usize| row.get(i).map(str::trim).ok_or("a column is missing");
    let (units, price) = (field(cols.units)?, field(cols.price)?);
    let units: i64 = units
        .parse()
        .map_err(|_| format!("units {units:?} is not a whole number"))?;
    let price: f64 = price
        .parse()
        .ok()
        .filter(|p: &f64| p.is_finite())
        .ok_or_else(|| format!("price {price:?} is not a number"))?;
    // Rounded to cents per row, so the result is the same in any order.
    let price_cents = (price * 100.0).round() as i64;
    let revenue_cents = units
        .checked_mul(price_cents)
        .ok_or("units × price is too large")?;

    stats.units.add(units);
    stats.price_cents.add(price_cents);
    stats.revenue_cents.add(revenue_cents);
    if let Some(i) = cols.date {
        let date = field(i)?;
        stats.dates = match stats.dates.take() {
            None => Some((date.to_owned(), date.to_owned())),
            Some((lo, hi)) => Some((
                if date < lo.as_str() {
                    date.to_owned()
                } else {
                    lo
                },
                if date > hi.as_str() {
                    date.to_owned()
                } else {
                    hi
                },
            )),
        };
    }
    let region = stats
        .regions
        .entry(field(cols.region)?.to_owned())
        .or_default();
    region.rows += 1;
    region.units += i128::from(units);
    region.revenue_cents += i128::from(revenue_cents);
    Ok(())
}

/// Splits `body` into about `parts` ranges that end at line ends, each with
/// the file line it starts on.
///
/// This assumes no quoted field holds a line break (true of our file and of
/// most data exports). If one did, a chunk would start mid-record and the
/// parallel statistics would disagree with the sequential ones: the check
/// at the end would catch it.
fn split_lines(body: &[u8], parts: usize, first_line: u64) -> Vec<(Range<usize>, u64)> {
    let mut chunks = Vec::with_capacity(parts);
    let (mut start, mut line) = (0, first_line);
    for i in 1..=parts {
        let target = (body.len() * i / parts).max(start);
        let end = match body[target..].iter().position(|&b| b == b'\n') {
            Some(nl) if i < parts => target + nl + 1,
            _ => body.len(),
        };
        if end > start {
            chunks.push((start..end, line));
            line += body[start..end].iter().filter(|&&b| b == b'\n').count() as u64;
            start = end;
        }
    }
    chunks
}

/// The statistics of the rows from `body_start` on, computed in chunks on
/// a `ThreadPool` and merged; also returns the number of chunks and
/// workers.
///
/// The chunk tasks share the bytes through an `Arc`: a task must own what
/// it uses (as far as the compiler knows it may outlive this function), and
/// cloning an `Arc` copies a pointer, not the file.
fn stats_in_chunks(
    bytes: Arc<Vec<u8>>,
    body_start: usize,
    cols: Columns,
) -> Result<(Stats, usize, usize), String> {
    let pool = ThreadPool::builder()
        .thread_name_prefix("csv")
        .build()
        .map_err(|e| e.to_string())?;
    let workers = pool.max_workers();
    // A few chunks per worker, so a worker that is slowed down (the machine
    // is busy) does not hold everyone up at the end.
    let chunks = split_lines(&bytes[body_start..], 8 * workers, 2);
    let n_chunks = chunks.len();
    let mut stats = Stats::default();
    // Results come back in chunk order. The sums are exact, so the order
    // does not change them; it makes the error reported the first in the
    // file. `??`: the pool's error (a panic), then the chunk's own.
    let results = pool.map(chunks, move |(range, line)| {
        stats_of(&bytes[body_start..][range], cols, line)
    });
    for outcome in results {
        stats.merge(outcome.map_err(|e| e.to_string())??);
    }
    Ok((stats, n_chunks, workers))
}

// ---------------------------------------------------------------------------
// The made-up sales file.
// ---------------------------------------------------------------------------

const REGIONS: [&str; 5] = ["north", "south", "east", "west", "centre"];
const PRODUCTS: [&str; 6] = ["apples", "pears", "figs", "plums", "quinces", "dates"];

/// A tiny deterministic random number generator (SplitMix64): the same file
/// every run, without a dependency for something this small.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

/// Day `day` (0-based) of 2024 as `2024-MM-DD`.
fn date_2024(mut day: u64) -> String {
    const MONTHS: [u64; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    for (m, len) in MONTHS.iter().enumerate() {
        if day < *len {
            return format!("2024-{:02}-{:02}", m + 1, day + 1);
        }
        day -= len;
    }
    "2024-12-31".into()
}

fn write_sales(path: &Path, rows: u64) -> Result<(), String> {
    let fail = |e: csv::Error| format!("cannot write {}: {e}", path.display());
    let mut out = csv::Writer::from_path(path).map_err(fail)?;
    out.write_record(["date", "region", "product", "units", "price"])
        .map_err(fail)?;
    let mut rng = Rng(2024);
    for _ in 0..rows {
        let cents = 50 + rng.below(4951);
        out.write_record([
            date_2024(rng.below(366)),
            REGIONS[rng.below(5) as usize].to_owned(),
            PRODUCTS[rng.below(6) as usize].to_owned(),
            (1 + rng.below(50)).to_string(),
            format!("{}.{:02}", cents / 100, cents % 100),
        ])
        .map_err(fail)?;
    }
    out.flush()
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A file in the system's temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        // Best effort: a leftover temporary file is not worth failing for.
        let _ = std::fs::remove_file(&self.0);
    }
}

// ---------------------------------------------------------------------------
// The run.
// ---------------------------------------------------------------------------

fn run(args: Args) -> Result<(), String> {
    // Keep the temporary file until the end of `run`.
    let mut _generated = None;
    let path = match args.file {
        Some(path) => path,
        None => {
            let tmp = TempFile(
                std::env::temp_dir().join(format!("hilo-sales-{}.csv", std::process::id())),
            );
            write_sales(&tmp.0, args.rows)?;
            println!(
                "wrote {} rows of made-up sales to a temporary CSV",
                args.rows
            );
            let path = tmp.0.clone();
            _generated = Some(tmp);
            path
        }
    };
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    println!("{}: {:.1} MB", path.display(), bytes.len() as f64 / 1e6);

    let header_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| i + 1);
    let cols = Columns::from_header(&bytes[..header_end])?;

    // One go: every row, in this thread.
    let start = Instant::now();
    let sequential = stats_of(&bytes[header_end..], cols, 2)?;
    let seq_time = start.elapsed();

    // In chunks on a pool.
    let start = Instant::now();
    let (parallel, n_chunks, workers) = stats_in_chunks(Arc::new(bytes), header_end, cols)?;
    let par_time = start.elapsed();

    if parallel != sequential {
        return Err("the chunked statistics differ from the sequential ones".into());
    }
    print_stats(&sequential);
    println!("both runs agree ({n_chunks} chunks on the pool)");
    println!("one go, one thread      {:>8.3} s", seq_time.as_secs_f64());
    println!(
        "chunks, {workers:>2} workers      {:>8.3} s",
        par_time.as_secs_f64()
    );
    println!(
        "speedup                 {:>8.2}x",
        seq_time.as_secs_f64() / par_time.as_secs_f64()
    );
    Ok(())
}

/// Whole cents as `1234.56`, exactly.
fn money(cents: i128) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn print_stats(s: &Stats) {
    print!("\n{} rows", s.units.count);
    if let Some((first, last)) = &s.dates {
        print!(", dates {first} .. {last}");
    }
    println!("\n");
    println!(
        "{:<8} {:>8} {:>16} {:>10} {:>10} {:>10}",
        "column", "count", "sum", "mean", "min", "max"
    );
    let u = &s.units;
    println!(
        "{:<8} {:>8} {:>16} {:>10.2} {:>10} {:>10}",
        "units",
        u.count,
        u.sum,
        u.mean(),
        u.min,
        u.max
    );
    for (name, c) in [("price", &s.price_cents), ("revenue", &s.revenue_cents)] {
        println!(
            "{:<8} {:>8} {:>16} {:>10} {:>10} {:>10}",
            name,
            c.count,
            money(c.sum),
            format!("{:.2}", c.mean() / 100.0),
            money(c.min.into()),
            money(c.max.into())
        );
    }
    println!(
        "\n{:<12} {:>8} {:>10} {:>16}",
        "region", "rows", "units", "revenue"
    );
    for (region, t) in &s.regions {
        println!(
            "{:<12} {:>8} {:>10} {:>16}",
            region,
            t.rows,
            t.units,
            money(t.revenue_cents)
        );
    }
    println!();
}

fn main() -> ExitCode {
    // Exit codes: 2 for bad arguments, 1 for a failed run or check.
    // A bad argument: one line and exit status 2.
    let mut args = match args::parse::<Args>("csv_stats") {
        Ok(args) => args,
        Err(status) => return status,
    };
    if args.small {
        args.rows = 20_000;
    }
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("csv_stats: {e}");
            ExitCode::FAILURE
        }
    }
}
