//! The summary (table or JSON) and `--compare`'s sequential run.

use std::fs::File;
use std::io;
use std::time::Instant;

use hilo_term::Align;
use hilo_work::gzip;

use super::{Input, Mode, Opts, Outcome, Sizes};

/// --compare: the seconds the sequential path takes over every readable
/// input file (one thread, one deflate stream or one inflate per file,
/// output discarded). Unreadable files are skipped here; the real run
/// reports them.
pub(super) fn sequential_secs(opts: &Opts, inputs: &[Input]) -> f64 {
    let started = Instant::now();
    for input in inputs {
        let Input::File(path) = input else { continue };
        let Ok(file) = File::open(path) else { continue };
        // Errors are the real run's to report.
        let _ = match opts.mode {
            Mode::Compress => gzip::compress_stream(file, io::sink(), opts.level).map(|_| ()),
            Mode::Decompress | Mode::Test | Mode::List => {
                gzip::decompress(file, io::sink()).map(|_| ())
            }
        };
    }
    started.elapsed().as_secs_f64()
}

/// What a run did, for the summary: its options, outcome, seconds, and the
/// sequential run's seconds with `--compare`.
pub(super) struct Report<'a> {
    pub(super) opts: &'a Opts,
    pub(super) outcome: &'a Outcome,
    pub(super) secs: f64,
    pub(super) sequential: Option<f64>,
}

impl Report<'_> {
    fn totals(&self) -> Sizes {
        let mut t = Sizes::default();
        for (_, s) in &self.outcome.done {
            t.original += s.original;
            t.compressed += s.compressed;
        }
        t
    }

    /// The mean of the per-file ratios (files of 0 bytes have none).
    fn average_ratio(&self) -> Option<f64> {
        let ratios: Vec<f64> = self
            .outcome
            .done
            .iter()
            .filter_map(|(_, s)| ratio(s))
            .collect();
        (!ratios.is_empty()).then(|| ratios.iter().sum::<f64>() / ratios.len() as f64)
    }

    fn throughput(&self) -> f64 {
        // Throughput is of the uncompressed side, whichever way we went.
        self.totals().original as f64 / 1e6 / self.secs.max(1e-9)
    }

    pub(super) fn table(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let done = &self.outcome.done;
        if done.is_empty() && self.sequential.is_none() {
            return s;
        }
        let row = |sizes: &Sizes, what: String| {
            vec![
                human(sizes.original),
                human(sizes.compressed),
                percent(ratio(sizes)),
                what,
            ]
        };
        let t = self.totals();
        let total = format!(
            "total: {} {} file{}, average ratio {}, {:.2} s, {:.0} MB/s, {} {}",
            self.opts.mode.verb(),
            done.len(),
            if done.len() == 1 { "" } else { "s" },
            percent(self.average_ratio()),
            self.secs,
            self.throughput(),
            self.opts.jobs,
            self.opts.engine.name(),
        );
        let rows = done
            .iter()
            .map(|(name, sizes)| row(sizes, name.clone()))
            .chain(std::iter::once(row(&t, total)));
        let align = [Align::Right, Align::Right, Align::Right, Align::Left];
        let header = ["original", "compressed", "ratio", "file"];
        let _ = writeln!(s, "{}", hilo_term::table(&align, header, rows));
        if let Some(seq) = self.sequential {
            let _ = writeln!(
                s,
                "compare: sequential (1 thread, one stream) {seq:.2} s, parallel {:.2} s: speedup {:.2}x",
                self.secs,
                seq / self.secs.max(1e-9)
            );
        }
        s
    }

    pub(super) fn json(&self) -> serde_json::Value {
        let files: Vec<_> = self
            .outcome
            .done
            .iter()
            .map(|(name, s)| {
                serde_json::json!({
                    "file": name,
                    "original": s.original,
                    "compressed": s.compressed,
                    "ratio": ratio(s),
                })
            })
            .collect();
        let failed: Vec<_> = self
            .outcome
            .errors
            .iter()
            .map(|(name, error)| serde_json::json!({ "file": name, "error": error }))
            .collect();
        let t = self.totals();
        let mut v = serde_json::json!({
            "mode": self.opts.mode.verb(),
            "engine": self.opts.engine.name(),
            "jobs": self.opts.jobs,
            "level": self.opts.level,
            "files": files,
            "failed": failed,
            "original": t.original,
            "compressed": t.compressed,
            "ratio": ratio(&t),
            "average_ratio": self.average_ratio(),
            "seconds": self.secs,
            "mb_per_s": self.throughput(),
            "interrupted": self.outcome.interrupted,
        });
        if let Some(seq) = self.sequential {
            v["compare"] = serde_json::json!({
                "sequential_seconds": seq,
                "parallel_seconds": self.secs,
                "speedup": seq / self.secs.max(1e-9),
            });
        }
        v
    }
}

/// Compressed over original, as gzip -l shows it (smaller is better).
fn ratio(s: &Sizes) -> Option<f64> {
    (s.original > 0).then(|| s.compressed as f64 / s.original as f64)
}

fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_string(), |r| format!("{:.1}%", r * 100.0))
}

/// Bytes in decimal units, as the MB/s figures are.
fn human(n: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}
