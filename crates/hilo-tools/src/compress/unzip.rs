//! Decompression and `-t`: one stream per file, the files in parallel on
//! the pool; to stdout, one file after another in this thread.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use hilo_work::gzip;
use hilo_work::io_message;
use serde::{Deserialize, Serialize};

use super::placing::{put_in_place, temp_beside};
use super::{check_links, unzip_files, Input, Mode, Opts, Outcome, Progress, Sizes, Skip};
use crate::common::Pool;

/// One file to decompress or test, as a worker (thread or process) gets it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct UnzipJob {
    /// The path's bytes (a path need not be UTF-8).
    path: Vec<u8>,
    test: bool,
    force: bool,
    keep: bool,
    /// `-S`.
    suffix: String,
    /// `-N`: the output's name and time are the ones the header stores.
    names: bool,
}

/// gzip's suffixes and what each becomes (`.tgz`: `.tar`).
const SUFFIXES: [(&str, &str); 7] = [
    (".gz", ""),
    ("-gz", ""),
    (".z", ""),
    ("-z", ""),
    ("_z", ""),
    (".tgz", ".tar"),
    (".taz", ".tar"),
];

/// The suffix `file_name` ends with, after a name of at least one byte,
/// and what it becomes: `custom` (`-S`), then gzip's own, matched
/// ignoring case as gzip does (`.GZ` too).
pub(super) fn known_suffix<'s>(
    file_name: &[u8],
    custom: &'s str,
) -> Option<(&'s str, &'static str)> {
    std::iter::once((custom, ""))
        .chain(SUFFIXES)
        .find(|(suffix, _)| {
            let suffix = suffix.as_bytes();
            file_name.len() > suffix.len()
                && file_name[file_name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
        })
}

pub(super) fn unzipped_name(path: &Path, custom: &str) -> Option<PathBuf> {
    let bytes = path.as_os_str().as_bytes();
    let (suffix, to) = known_suffix(path.file_name()?.as_bytes(), custom)?;
    let mut out = bytes[..bytes.len() - suffix.len()].to_vec();
    out.extend_from_slice(to.as_bytes());
    Some(PathBuf::from(std::ffi::OsString::from_vec(out)))
}

/// Decompresses (or tests) one file into a temporary file beside its
/// output, then puts it in place.
pub(super) fn unzip_file(job: &UnzipJob) -> Result<Sizes, Skip> {
    let path = PathBuf::from(std::ffi::OsString::from_vec(job.path.clone()));
    if !job.test {
        check_links(&path, job.force)?;
    }
    let meta = fs::metadata(&path).map_err(|e| io_message(&e))?;
    if meta.is_dir() {
        return Err(Skip::Warning("is a directory -- ignored".into()));
    }
    let dest = if job.test {
        None
    } else {
        Some(unzipped_name(&path, &job.suffix).ok_or_else(|| {
            Skip::Warning(format!(
                "unknown suffix (not {} or .tgz) -- ignored",
                job.suffix
            ))
        })?)
    };
    let file = File::open(&path).map_err(|e| io_message(&e))?;
    let (dest, mtime) = match dest {
        Some(dest) if job.names => {
            let (dest, mtime) = stored_name(&file, dest)?;
            (Some(dest), mtime)
        }
        dest => (dest, None),
    };
    let Some(dest) = dest else {
        let done = gzip::decompress(file, io::sink()).map_err(|e| io_message(&e))?;
        return Ok(Sizes {
            original: done.bytes,
            compressed: meta.len(),
            trailing_garbage: done.trailing_garbage,
            framing: done.framing,
            stdin: false,
            output: None,
        });
    };
    let mut tmp = temp_beside(&dest, job.force)?;
    let mut out = BufWriter::with_capacity(256 * 1024, tmp.file_mut());
    let done = gzip::decompress(file, &mut out).map_err(|e| io_message(&e))?;
    out.flush().map_err(|e| io_message(&e))?;
    drop(out);
    let remove = (!job.keep).then_some(path.as_path());
    put_in_place(tmp, &dest, Some(&meta), mtime, remove, job.force)?;
    Ok(Sizes {
        original: done.bytes,
        compressed: meta.len(),
        trailing_garbage: done.trailing_garbage,
        framing: done.framing,
        stdin: false,
        output: Some(dest.display().to_string()),
    })
}

/// `-N`: the output `dest` renamed as the header says (in `dest`'s
/// directory: only the stored name's last part counts), and the stored
/// time; what is not stored stays as it was.
fn stored_name(
    file: &File,
    dest: PathBuf,
) -> Result<(PathBuf, Option<std::time::SystemTime>), Skip> {
    let header = gzip::read_header(file).map_err(|e| io_message(&e))?;
    // The decompression reads from the start again.
    let mut rewind = file;
    std::io::Seek::rewind(&mut rewind).map_err(|e| io_message(&e))?;
    let mtime = (header.mtime != 0)
        .then(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(header.mtime.into()));
    let name = header.name.and_then(|n| {
        let last = n.rsplit(|&b| b == b'/').next().unwrap_or(&[]).to_vec();
        (!last.is_empty() && last != b"." && last != b"..").then_some(last)
    });
    let dest = match name {
        Some(name) => dest.with_file_name(std::ffi::OsString::from_vec(name)),
        None => dest,
    };
    Ok((dest, mtime))
}

pub(super) fn decompress_parallel(
    pool: &Pool,
    opts: &Opts,
    inputs: &[Input],
    stop: &AtomicBool,
) -> Outcome {
    let jobs = inputs.iter().filter_map(|input| match input {
        Input::File(p) => Some(UnzipJob {
            path: p.as_os_str().as_bytes().to_vec(),
            test: opts.mode == Mode::Test,
            force: opts.force,
            keep: opts.keep,
            suffix: opts.suffix.clone(),
            names: opts.names,
        }),
        Input::Stdin => None, // handled by decompress_in_order
    });
    let mut outcome = Outcome::new(opts);
    let mut progress = Progress::new(opts.mode.verb(), inputs.len());
    for (input, result) in inputs.iter().zip(unzip_files(pool, jobs)) {
        let name = input.name();
        match result {
            Ok(sizes) => {
                progress.advance(sizes.original, 1);
                outcome.finish(name, sizes);
            }
            Err(e) => outcome.skip(&name, e),
        }
        if stop.load(Ordering::Relaxed) {
            outcome.interrupted = true;
            break;
        }
    }
    outcome
}

/// Decompresses (or tests) to stdout, one input after another, in this
/// thread: the output must come out in order, and may be too big to hold.
pub(super) fn decompress_in_order(opts: &Opts, inputs: &[Input]) -> Outcome {
    let mut outcome = Outcome::new(opts);
    let mut progress = Progress::new(opts.mode.verb(), inputs.len());
    let mut stdout = BufWriter::with_capacity(256 * 1024, io::stdout().lock());
    for input in inputs {
        let name = input.name();
        let (reader, compressed): (Box<dyn Read>, u64) = match input {
            Input::Stdin => (Box::new(io::stdin().lock()), 0),
            Input::File(path) => match File::open(path).and_then(|f| Ok((f.metadata()?, f))) {
                Ok((meta, _)) if meta.is_dir() => {
                    outcome.skip(&name, Skip::Warning("is a directory -- ignored".into()));
                    continue;
                }
                Ok((meta, file)) => (Box::new(file), meta.len()),
                Err(e) => {
                    outcome.fail(&name, &io_message(&e));
                    continue;
                }
            },
        };
        let mut counted = CountingReader {
            inner: reader,
            n: 0,
        };
        let result = if opts.mode == Mode::Test {
            gzip::decompress(&mut counted, io::sink())
        } else {
            gzip::decompress(&mut counted, &mut stdout)
        };
        match result {
            Ok(done) => {
                progress.advance(done.bytes, 1);
                let sizes = Sizes {
                    original: done.bytes,
                    compressed: compressed.max(counted.n),
                    trailing_garbage: done.trailing_garbage,
                    framing: done.framing,
                    stdin: *input == Input::Stdin,
                    output: None,
                };
                outcome.finish(name, sizes);
            }
            Err(e) => outcome.fail(&name, &io_message(&e)),
        }
    }
    if let Err(e) = stdout.flush() {
        outcome.fail("stdout", &io_message(&e));
    }
    outcome
}

struct CountingReader<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}
