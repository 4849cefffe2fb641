//! `--csv FILE`: every sample taken, one row per metric per sample, written
//! and flushed as each sampler hands in its reading, so an interrupted run
//! loses nothing that was sampled and never leaves half a line. Formats and
//! writes rows; decides nothing about when.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hilo_term::Failure;

use crate::metric::Metric;

/// The first line of the file.
pub(crate) const HEADER: &str = "elapsed_s,unix_s,metric,value";

/// The rows on their way to a file (or any writer, in tests).
pub(crate) struct CsvLog<W: Write = BufWriter<File>> {
    out: W,
}

impl CsvLog {
    /// Creates (or empties) `path` and writes the header.
    ///
    /// # Errors
    /// A usage error naming the file if it cannot be created or written.
    pub(crate) fn create(path: &Path) -> Result<CsvLog, Failure> {
        let refused =
            |e: io::Error| Failure::usage(format!("cannot write {}: {e}", path.display()));
        let file = File::create(path).map_err(refused)?;
        CsvLog::new(BufWriter::new(file)).map_err(refused)
    }
}

impl<W: Write> CsvLog<W> {
    fn new(out: W) -> io::Result<Self> {
        let mut log = CsvLog { out };
        writeln!(log.out, "{HEADER}")?;
        log.out.flush()?;
        Ok(log)
    }

    /// One reading's rows: `due` is its time in the schedule (0, the
    /// interval, twice it...), `taken` the clock's time when it was read.
    /// Flushed before returning.
    pub(crate) fn write(
        &mut self,
        due: Duration,
        taken: SystemTime,
        reading: &[(Metric, f64)],
    ) -> io::Result<()> {
        let unix = taken
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        for (metric, value) in reading {
            // `{}` on an f64 is its shortest exact form: the report's
            // statistics can be recomputed from these digits.
            writeln!(
                self.out,
                "{:.3},{unix:.3},{},{value}",
                due.as_secs_f64(),
                metric.name()
            )?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_follow_the_header_one_per_metric() {
        let mut log = CsvLog::new(Vec::new()).unwrap();
        let taken = UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        log.write(
            Duration::from_millis(1500),
            taken,
            &[(Metric::Memory, 12.5), (Metric::Swap, 0.0)],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(log.out).unwrap(),
            "elapsed_s,unix_s,metric,value\n\
             1.500,1700000000.250,mem_used_pct,12.5\n\
             1.500,1700000000.250,swap_used_pct,0\n"
        );
    }

    #[test]
    fn a_file_in_a_missing_directory_is_a_usage_error() {
        let err = CsvLog::create(Path::new("/no/such/dir/samples.csv"))
            .err()
            .unwrap();
        assert_eq!(err.status(), hilo_term::EXIT_USAGE);
        assert!(
            err.to_string()
                .starts_with("cannot write /no/such/dir/samples.csv: "),
            "{err}"
        );
    }
}
