//! What `hilo fetch` prints: a line per download as it ends (completion
//! order) — saved files on stdout, failures on stderr; with `--scrape`, a
//! ✓/✗ line per page on stdout and `ok N/M` at the end; with `--json`, one
//! object per URL — and the summary on stderr.

use std::time::Duration;

use crate::download::{Kept, Outcome};
use crate::input::LineError;

/// The printer and its counts.
pub struct Report {
    json: bool,
    scrape: bool,
    pub ok: u64,
    pub failed: u64,
    pub bytes: u64,
}

impl Report {
    pub fn new(json: bool, scrape: bool) -> Report {
        Report {
            json,
            scrape,
            ok: 0,
            failed: 0,
            bytes: 0,
        }
    }

    /// A line that asks for no download: counted as failed.
    pub fn bad_line(&mut self, e: &LineError) {
        self.failed += 1;
        eprintln!("hilo fetch: {e}");
    }

    /// One download's end.
    pub fn outcome(&mut self, o: &Outcome) {
        match &o.result {
            Ok(saved) => {
                self.ok += 1;
                self.bytes += saved.bytes;
            }
            Err(_) => self.failed += 1,
        }
        if self.json {
            println!("{}", json(o));
        } else if self.scrape {
            println!("{}", scrape_line(o));
        } else {
            print_line(o);
        }
    }

    /// The counts, bytes and time on stderr; with `--scrape`, `ok N/M` on
    /// stdout first.
    pub fn summary(&self, took: Duration) {
        if self.scrape && !self.json {
            println!("ok {}/{}", self.ok, self.ok + self.failed);
        }
        eprintln!(
            "hilo fetch: {} {}, {} failed, {} in {:.2} s",
            self.ok,
            if self.scrape { "fetched" } else { "saved" },
            self.failed,
            size(self.bytes),
            took.as_secs_f64()
        );
    }
}

fn json(o: &Outcome) -> serde_json::Value {
    let mut v = serde_json::json!({
        "url": o.request.url,
        "priority": o.request.level.name(),
        "ok": o.result.is_ok(),
        "tries": o.tries,
        "seconds": o.elapsed.as_secs_f64(),
    });
    match &o.result {
        Ok(saved) => {
            v["status"] = saved.status.into();
            v["bytes"] = saved.bytes.into();
            v["md5"] = saved.md5.clone().into();
            match &saved.kept {
                Kept::File { path, existed } => {
                    v["file"] = path.to_string_lossy().into_owned().into();
                    v["existed"] = (*existed).into();
                }
                Kept::Page { title } => v["title"] = title.clone().into(),
            }
        }
        Err(f) => {
            v["status"] = f.status.into();
            v["error"] = f.error.clone().into();
        }
    }
    v
}

/// `✓ 200  15.2 kB  0.12 s  URL  Title` or `✗ 404  0.05 s  URL  why`.
fn scrape_line(o: &Outcome) -> String {
    let secs = o.elapsed.as_secs_f64();
    match &o.result {
        Ok(saved) => {
            let title = match &saved.kept {
                Kept::Page { title: Some(t) } => t.as_str(),
                _ => "(no title)",
            };
            format!(
                "✓ {}  {:>9}  {secs:.2} s  {}  {title}",
                saved.status,
                size(saved.bytes),
                o.request.url
            )
        }
        Err(f) => {
            let status = f.status.map_or_else(|| "---".to_owned(), |s| s.to_string());
            format!(
                "✗ {status}  {:>9}  {secs:.2} s  {}  {}",
                "", o.request.url, f.error
            )
        }
    }
}

fn print_line(o: &Outcome) {
    match &o.result {
        Ok(saved) => {
            if let Kept::File { path, existed } = &saved.kept {
                println!(
                    "{} {} ({}, {:.2} s) <- {}",
                    if *existed { "same as" } else { "saved" },
                    path.display(),
                    size(saved.bytes),
                    o.elapsed.as_secs_f64(),
                    o.request.url
                );
            }
        }
        Err(f) => eprintln!(
            "hilo fetch: {}: {} ({} {})",
            o.request.url,
            f.error,
            o.tries,
            if o.tries == 1 { "try" } else { "tries" }
        ),
    }
}

/// Bytes for a person: `512 B`, `15.2 kB`, `3.1 MB` (powers of 1000).
pub fn size(bytes: u64) -> String {
    hilo_term::decimal_size(bytes as f64)
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_read_as_a_person_would() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1000), "1.0 kB");
        assert_eq!(size(15_240), "15.2 kB");
        assert_eq!(size(999_999), "1.0 MB");
        assert_eq!(size(3_100_000_000), "3.1 GB");
    }
}
