//! What `hilo run` prints: each finished job's output whole (tagged or not),
//! or one JSON object per job, or files under `--results`; and the progress
//! bar. Owns our stdout and stderr; never starts or stops a job.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::report::{JobReport, Tally};

/// How finished jobs are shown.
#[derive(Debug, Clone)]
pub(crate) struct Mode {
    pub(crate) tag: bool,
    pub(crate) json: bool,
    pub(crate) results: Option<PathBuf>,
    /// The longest file name the `--results` directory's file system takes
    /// (a longer value is cut to it, as GNU parallel does).
    pub(crate) name_max: usize,
    /// `--line-buffer`: the output is already printed.
    pub(crate) lines_printed_live: bool,
}

/// `--tag`'s prefix: the job's values joined by spaces (as GNU parallel
/// does), then a tab.
pub(crate) fn tag_of(values: &[OsString]) -> Vec<u8> {
    let values: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
    let mut t = values.join(&b' ');
    t.push(b'\t');
    t
}

/// Appends `text` to `out` with `prefix` at the start of every line (a
/// last line without a newline too, as GNU parallel does).
pub(crate) fn prefix_lines(out: &mut Vec<u8>, prefix: &[u8], text: &[u8]) {
    prefix_piece(out, prefix, text, &mut true);
}

/// [`prefix_lines`] for one piece of a text: `line_start` says whether the
/// piece starts a line, and is left saying whether the next one does.
fn prefix_piece(out: &mut Vec<u8>, prefix: &[u8], piece: &[u8], line_start: &mut bool) {
    if prefix.is_empty() {
        out.extend_from_slice(piece);
        return;
    }
    for line in piece.split_inclusive(|&b| b == b'\n') {
        if *line_start {
            out.extend_from_slice(prefix);
        }
        out.extend_from_slice(line);
        *line_start = line.ends_with(b"\n");
    }
}

/// Prints finished jobs.
pub(crate) struct Printer {
    mode: Mode,
    buf: Vec<u8>,
}

impl Printer {
    pub(crate) fn new(mode: Mode) -> Printer {
        Printer {
            mode,
            buf: Vec::new(),
        }
    }

    /// Shows one finished job. `Ok(false)` if its `--results` could not
    /// be saved (said on stderr: the job counts as failed, the run goes
    /// on); `Err` if our output cannot be written.
    pub(crate) fn print(&mut self, job: &JobReport) -> io::Result<bool> {
        let mut saved = true;
        if let Some(dir) = &self.mode.results {
            let path = results_dir(dir, job, self.mode.name_max);
            if let Err(e) = save_results(&path, job) {
                eprintln!(
                    "hilo run: job {}: cannot save its results in {}: {e}",
                    job.seq,
                    path.display()
                );
                saved = false;
            }
        }
        if self.mode.json {
            let mut out = io::stdout().lock();
            serde_json::to_writer(&mut out, &json_of(job)?)?;
            out.write_all(b"\n")?;
            out.flush()?;
            return Ok(saved);
        }
        if self.mode.results.is_some() || self.mode.lines_printed_live {
            return Ok(saved);
        }
        let prefix = if self.mode.tag {
            tag_of(&job.args)
        } else {
            Vec::new()
        };
        for (text, to_stdout) in [(&job.stdout, true), (&job.stderr, false)] {
            let mut line_start = true;
            text.pieces(|piece| {
                self.buf.clear();
                prefix_piece(&mut self.buf, &prefix, piece, &mut line_start);
                super::lines::put(to_stdout, &self.buf)
            })?;
        }
        Ok(saved)
    }
}

fn json_of(job: &JobReport) -> io::Result<serde_json::Value> {
    Ok(serde_json::json!({
        "seq": job.seq,
        "args": job.args.iter().map(|v| v.to_string_lossy()).collect::<Vec<_>>(),
        "command": String::from_utf8_lossy(&job.command),
        "exit": job.exit,
        "signal": job.signal,
        "start": job.start.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64(),
        "runtime": job.runtime.as_secs_f64(),
        "tries": job.tries,
        "timed_out": job.timed_out,
        "stdout": String::from_utf8_lossy(&job.stdout.to_vec()?),
        "stderr": String::from_utf8_lossy(&job.stderr.to_vec()?),
    }))
}

/// A value as a directory name under `--results`, as GNU parallel writes
/// it: `\` becomes `\\`, a tab `\t` and `/` becomes `\_`; then cut to
/// `name_max` bytes, the longest name the file system takes.
fn path_part(value: &[u8], name_max: usize) -> OsString {
    let mut part = Vec::with_capacity(value.len());
    for &b in value {
        match b {
            b'\\' => part.extend_from_slice(b"\\\\"),
            b'\t' => part.extend_from_slice(b"\\t"),
            b'/' => part.extend_from_slice(b"\\_"),
            _ => part.push(b),
        }
    }
    part.truncate(name_max.max(1));
    OsString::from_vec(part)
}

/// `DIR/1/VALUE1/2/VALUE2/...`, where job's results go.
fn results_dir(dir: &Path, job: &JobReport, name_max: usize) -> PathBuf {
    let mut path = dir.to_path_buf();
    for (i, v) in job.args.iter().enumerate() {
        path.push((i + 1).to_string());
        path.push(path_part(v.as_bytes(), name_max));
    }
    path
}

/// Writes `{seq,stdout,stderr}` into `path`, made first.
fn save_results(path: &Path, job: &JobReport) -> io::Result<()> {
    fs::create_dir_all(path)?;
    fs::write(path.join("seq"), format!("{}\n", job.seq))?;
    for (name, text) in [("stdout", &job.stdout), ("stderr", &job.stderr)] {
        let mut file = fs::File::create(path.join(name))?;
        text.pieces(|piece| file.write_all(piece))?;
    }
    Ok(())
}

/// The `--progress` bar on stderr, when stderr is a terminal.
pub(crate) struct Progress {
    bar: Option<hilo_term::ProgressBar>,
}

impl Progress {
    pub(crate) fn new(wanted: bool, total: Option<u64>) -> Progress {
        let template = match total {
            Some(_) => "{bar:30} {pos}/{len} jobs  {msg}  {per_sec}  ETA {eta}",
            None => "{spinner} {pos} jobs  {msg}  {per_sec}",
        };
        let bar = wanted
            .then(|| hilo_term::progress_bar(total, template))
            .flatten();
        Progress { bar }
    }

    pub(crate) fn update(&mut self, tally: &Tally) {
        if let Some(bar) = &self.bar {
            bar.set_position(tally.succeeded + tally.failed);
            bar.set_message(format!("{} failed", tally.failed));
        }
    }

    pub(crate) fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_gets_the_prefix_even_an_unfinished_one() {
        let mut out = Vec::new();
        prefix_lines(&mut out, b"a\t", b"one\ntwo\nthree");
        assert_eq!(out, b"a\tone\na\ttwo\na\tthree");
        let mut out = Vec::new();
        prefix_lines(&mut out, b"", b"x\n");
        assert_eq!(out, b"x\n");
    }

    #[test]
    fn results_paths_escape_like_gnu_parallel() {
        assert_eq!(path_part(b"a/b", 255), "a\\_b");
        assert_eq!(path_part(b"x\\y", 255), "x\\\\y");
        assert_eq!(path_part(b"a\tb", 255), "a\\tb");
        assert_eq!(path_part(b"plain", 255), "plain");
        assert_eq!(path_part(b"caf\xe9/x", 255).as_bytes(), b"caf\xe9\\_x");
        // Cut after escaping, as GNU parallel cuts.
        assert_eq!(path_part(b"ab/cd", 4), "ab\\_");
    }

    /// A piece of a text may end inside a line: the next piece's first
    /// line is not prefixed again.
    #[test]
    fn prefixes_across_pieces_are_those_of_the_whole() {
        let text = b"one\ntwo\nthree\nfour";
        for cut in 0..=text.len() {
            let mut out = Vec::new();
            let mut line_start = true;
            prefix_piece(&mut out, b"t\t", &text[..cut], &mut line_start);
            prefix_piece(&mut out, b"t\t", &text[cut..], &mut line_start);
            let mut whole = Vec::new();
            prefix_lines(&mut whole, b"t\t", text);
            assert_eq!(out, whole, "cut at {cut}");
        }
    }
}
