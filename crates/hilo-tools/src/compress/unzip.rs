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

use super::write::{put_in_place, temp_beside};
use super::{unzip_files, Input, Mode, Opts, Outcome, Progress, Sizes};
use crate::common::Pool;

/// One file to decompress or test, as a worker (thread or process) gets it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct UnzipJob {
    /// The path's bytes (a path need not be UTF-8).
    path: Vec<u8>,
    test: bool,
    force: bool,
    keep: bool,
}

/// gzip's suffixes and what each becomes.
const SUFFIXES: [(&str, &str); 2] = [(".gz", ""), (".tgz", ".tar")];

fn unzipped_name(path: &Path) -> Option<PathBuf> {
    let bytes = path.as_os_str().as_bytes();
    let file_name = path.file_name()?.as_bytes();
    SUFFIXES.iter().find_map(|(suffix, to)| {
        let stem_len = file_name.len().checked_sub(suffix.len())?;
        if stem_len == 0 || !file_name.ends_with(suffix.as_bytes()) {
            return None;
        }
        let mut out = bytes[..bytes.len() - suffix.len()].to_vec();
        out.extend_from_slice(to.as_bytes());
        Some(PathBuf::from(std::ffi::OsString::from_vec(out)))
    })
}

/// Decompresses (or tests) one file into a temporary file beside its
/// output, then puts it in place.
pub(super) fn unzip_file(job: &UnzipJob) -> Result<Sizes, String> {
    let path = PathBuf::from(std::ffi::OsString::from_vec(job.path.clone()));
    let meta = fs::metadata(&path).map_err(|e| io_message(&e))?;
    if meta.is_dir() {
        return Err("is a directory -- ignored".into());
    }
    let dest = if job.test {
        None
    } else {
        Some(unzipped_name(&path).ok_or("unknown suffix (not .gz or .tgz) -- ignored")?)
    };
    let file = File::open(&path).map_err(|e| io_message(&e))?;
    let Some(dest) = dest else {
        let original = gzip::decompress(file, io::sink()).map_err(|e| io_message(&e))?;
        return Ok(Sizes {
            original,
            compressed: meta.len(),
        });
    };
    let mut tmp = temp_beside(&dest, job.force)?;
    let mut out = BufWriter::with_capacity(256 * 1024, tmp.as_file_mut());
    let original = gzip::decompress(file, &mut out).map_err(|e| io_message(&e))?;
    out.flush().map_err(|e| io_message(&e))?;
    drop(out);
    let remove = (!job.keep).then_some(path.as_path());
    put_in_place(tmp, &dest, Some(&meta), remove, job.force)?;
    Ok(Sizes {
        original,
        compressed: meta.len(),
    })
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
        }),
        Input::Stdin => None, // handled by decompress_in_order
    });
    let mut outcome = Outcome::default();
    let mut progress = Progress::new(opts.mode.verb(), inputs.len());
    for (input, result) in inputs.iter().zip(unzip_files(pool, jobs)) {
        let name = input.name();
        match result {
            Ok(sizes) => {
                progress.advance(sizes.original, 1);
                outcome.done.push((name, sizes));
            }
            Err(e) => outcome.fail(&name, &e),
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
    let mut outcome = Outcome::default();
    let mut progress = Progress::new(opts.mode.verb(), inputs.len());
    let mut stdout = BufWriter::with_capacity(256 * 1024, io::stdout().lock());
    for input in inputs {
        let name = input.name();
        let (reader, compressed): (Box<dyn Read>, u64) = match input {
            Input::Stdin => (Box::new(io::stdin().lock()), 0),
            Input::File(path) => match File::open(path).and_then(|f| Ok((f.metadata()?, f))) {
                Ok((meta, _)) if meta.is_dir() => {
                    outcome.fail(&name, "is a directory -- ignored");
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
            Ok(original) => {
                progress.advance(original, 1);
                let compressed = compressed.max(counted.n);
                outcome.done.push((
                    name,
                    Sizes {
                        original,
                        compressed,
                    },
                ));
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
