//! `--log FILE`: one JSON line per try (time, url, priority, attempt,
//! HTTP status, bytes, milliseconds, error), written as each try ends.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::download::Tried;
use crate::input::Request;

/// The log file.
pub struct Log {
    /// The file, and the first error writing it.
    out: Mutex<(BufWriter<File>, Option<io::Error>)>,
}

/// One try, as logged.
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    /// When the try ended (RFC 3339, UTC).
    pub time: String,
    pub url: &'a str,
    pub priority: &'static str,
    pub attempt: u32,
    pub status: Option<u16>,
    pub bytes: u64,
    pub ms: u64,
    pub error: Option<&'a str>,
}

impl<'a> Record<'a> {
    pub fn of(request: &'a Request, attempt: u32, took: Duration, tried: &'a Tried) -> Self {
        let (status, bytes, error) = match tried {
            Ok(saved) => (Some(saved.status), saved.bytes, None),
            Err(f) => (f.status, f.bytes, Some(f.error.as_str())),
        };
        Record {
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            url: &request.url,
            priority: request.level.name(),
            attempt,
            status,
            bytes,
            ms: took.as_millis() as u64,
            error,
        }
    }
}

impl Log {
    /// Creates (or truncates) `path`.
    ///
    /// # Errors
    /// It cannot be created.
    pub fn create(path: &Path) -> io::Result<Log> {
        Ok(Log {
            out: Mutex::new((BufWriter::new(File::create(path)?), None)),
        })
    }

    /// Appends `record` as one line, flushed at once (a crash loses no
    /// finished try). A log that cannot be written is not worth failing a
    /// download for: the first error is kept for `finish`.
    pub fn write(&self, record: &Record<'_>) {
        let mut guard = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        let (out, failed) = &mut *guard;
        let written = serde_json::to_writer(&mut *out, record)
            .map_err(io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
        if let Err(e) = written {
            failed.get_or_insert(e);
        }
    }

    /// Flushes to disk; the first error of any write, if one failed.
    ///
    /// # Errors
    /// The file could not be written.
    pub fn finish(&self) -> io::Result<()> {
        let mut guard = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        let (out, failed) = &mut *guard;
        if let Some(e) = failed.take() {
            return Err(e);
        }
        out.flush()?;
        out.get_ref().sync_data()
    }
}
