//! Where a job's arguments come from: lines of stdin, `:::` lists, `::::`
//! files and `-a` files, split by `-0` and `--colsep`, combined in GNU
//! parallel's order. Owns reading and splitting; never runs anything.
//!
//! The rules, each checked against GNU parallel 20221122:
//! - A record ends with `\n` (or NUL with `-0`); the terminator is removed
//!   and nothing else: a `\r` before it stays, an empty line is a job with
//!   an empty value, a last record without terminator still counts.
//! - Several sources give every combination, the first varying slowest.
//! - A source given with `:::+` or `::::+` is linked to the one before: the
//!   two give their values in pairs (the first with the first, …), as
//!   many pairs as the shorter has values. `--link` links every source,
//!   and then the shorter ones start over until the longest is used up.
//! - An empty source among several counts as one empty value; when every
//!   source is empty there is no job.
//! - `--colsep` splits the records of every source, `:::` values included,
//!   and the columns of all sources are numbered one after the other.
//! - Records are bytes: whatever is not UTF-8 (a Latin-1 file name) is
//!   passed through as it is.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use regex::bytes::Regex;

/// One input source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// `::: a b c`: the values given on the command line.
    Args(Vec<OsString>),
    /// `:::: FILE` or `-a FILE`: one value per line (`-` is stdin).
    File(PathBuf),
    /// No source given: one value per line of stdin.
    Stdin,
    /// `:::+` or `::::+`: this source linked to the one before.
    Linked(Box<Source>),
}

impl Source {
    /// The source itself, and whether it is linked to the one before.
    fn unlinked(self) -> (Source, bool) {
        match self {
            Source::Linked(source) => (source.unlinked().0, true),
            source => (source, false),
        }
    }
}

/// How values are read and split.
#[derive(Debug, Clone, Default)]
pub(crate) struct InputOptions {
    /// `-0`: values end with NUL, not newline.
    pub(crate) null: bool,
    /// `--colsep REGEX`: split each value into columns `{1}`, `{2}`, ….
    pub(crate) colsep: Option<String>,
    /// `--link`: every source linked, the shorter ones starting over.
    pub(crate) link: bool,
}

/// Why the input could not be read. One line, naming the file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InputError {
    /// A file could not be opened or read.
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    /// A record holds a NUL byte, which no argument can carry.
    #[error(
        "{path} line {line} holds a NUL byte, which no command argument can carry \
         (-0 splits the input at NUL bytes instead of newlines)"
    )]
    Nul { path: String, line: u64 },
    /// The `--colsep` pattern is not a valid regex.
    #[error("--colsep {pattern:?} is not a valid regular expression: {reason}")]
    Colsep { pattern: String, reason: String },
}

/// The values of one job, `{1}` … `{n}` (one per source, or per column).
pub(crate) type Args = Vec<OsString>;

/// A lazy stream of jobs' arguments, in GNU parallel's order.
pub(crate) struct Inputs {
    lines: Box<dyn Iterator<Item = Result<Args, InputError>> + Send>,
}

impl Iterator for Inputs {
    type Item = Result<Args, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.lines.next()
    }
}

impl Inputs {
    /// A stream over values already read (used when all jobs must be
    /// counted before the first starts).
    pub(crate) fn from_vec(all: Vec<Result<Args, InputError>>) -> Inputs {
        Inputs {
            lines: Box::new(all.into_iter()),
        }
    }
}

/// Records of one source, as bytes, before any column split.
type Records = Box<dyn Iterator<Item = Result<Vec<u8>, InputError>> + Send>;

/// Opens every source (an unreadable file is an error here, before any
/// job runs) and returns the stream of arguments.
pub(crate) fn open(sources: Vec<Source>, opts: &InputOptions) -> Result<Inputs, InputError> {
    let colsep = match &opts.colsep {
        Some(pattern) => Some(Regex::new(pattern).map_err(|e| {
            InputError::Colsep {
                pattern: pattern.clone(),
                // A syntax error is a drawing of the pattern over several
                // lines, ending with what is wrong: keep that last line.
                reason: e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
                    .to_owned(),
            }
        })?),
        None => None,
    };
    let sep = if opts.null { b'\0' } else { b'\n' };
    let mut groups = groups(sources, opts.link).into_iter();
    let Some(first) = groups.next() else {
        return Ok(Inputs::from_vec(Vec::new()));
    };
    let first = group_rows(first, sep, colsep.as_ref(), opts.link)?;
    // Only the first group may stream: each of its rows is used once, but
    // every later group is gone through again for each row before it, so
    // those must be held in memory anyway. Reading them here also reports
    // a bad record in them before any job runs.
    let rest = groups
        .map(|group| group_rows(group, sep, colsep.as_ref(), opts.link)?.collect())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Inputs {
        lines: Box::new(Product::new(first, rest)),
    })
}

/// How many jobs `sources` make, if they are all `:::` values (known
/// without reading anything): the product over the groups of linked
/// sources of each group's rows, by the rules of [`open`].
pub(crate) fn known_count(sources: &[Source], link_all: bool) -> Option<u64> {
    let groups = groups(sources.to_vec(), link_all);
    let rows = groups
        .iter()
        .map(|group| {
            let lens = group
                .iter()
                .map(|s| match s {
                    Source::Args(values) => Some(values.len() as u64),
                    _ => None,
                })
                .collect::<Option<Vec<u64>>>()?;
            let all_empty = lens.iter().all(|&n| n == 0);
            let one_at_least = lens.iter().map(|&n| n.max(1));
            Some(if all_empty {
                0
            } else if link_all || lens.len() == 1 {
                one_at_least.max().unwrap_or(0)
            } else {
                one_at_least.min().unwrap_or(0)
            })
        })
        .collect::<Option<Vec<u64>>>()?;
    if rows.iter().all(|&n| n == 0) {
        return Some(0);
    }
    Some(rows.iter().fold(1u64, |n, &r| n.saturating_mul(r.max(1))))
}

/// Rows of one group of linked sources, each row its sources' columns.
type Rows = Box<dyn Iterator<Item = Result<Vec<OsString>, InputError>> + Send>;

/// The sources in groups: a group is a source and those linked to it
/// (all of them, with `--link`).
fn groups(sources: Vec<Source>, link_all: bool) -> Vec<Vec<Source>> {
    let mut groups: Vec<Vec<Source>> = Vec::new();
    for source in sources {
        let (source, linked) = source.unlinked();
        match groups.last_mut() {
            Some(group) if linked || link_all => group.push(source),
            _ => groups.push(vec![source]),
        }
    }
    groups
}

/// The rows of `group`. Linked sources give their values in pairs: as
/// many as the shortest has, or (`wrap`, for `--link`) as the longest has,
/// the shorter ones starting over. An empty source among linked ones is
/// one empty value, as in a product.
fn group_rows(
    group: Vec<Source>,
    sep: u8,
    colsep: Option<&Regex>,
    wrap: bool,
) -> Result<Rows, InputError> {
    let colsep = colsep.cloned();
    let mut members = group
        .into_iter()
        .map(|source| {
            let colsep = colsep.clone();
            Ok(records(source, sep)?.map(move |r| r.map(|rec| columns(rec, colsep.as_ref()))))
        })
        .collect::<Result<Vec<_>, InputError>>()?;
    if members.len() == 1 {
        let only = members.remove(0);
        return Ok(Box::new(only));
    }
    if !wrap {
        let mut members: Vec<_> = members.into_iter().map(|m| m.peekable()).collect();
        // An empty source is one empty value: it pairs once.
        let empty: Vec<bool> = members.iter_mut().map(|m| m.peek().is_none()).collect();
        // Every one empty: no row (as every source empty: no job).
        let mut used_empty = empty.iter().all(|&e| e);
        return Ok(Box::new(std::iter::from_fn(move || {
            let mut row = Vec::new();
            for (m, &empty) in members.iter_mut().zip(&empty) {
                if empty {
                    if used_empty {
                        return None;
                    }
                    row.push(OsString::new());
                    continue;
                }
                match m.next()? {
                    Ok(cols) => row.extend(cols),
                    Err(e) => return Some(Err(e)),
                }
            }
            used_empty |= empty.iter().any(|&e| e);
            Some(Ok(row))
        })));
    }
    let mut all = members
        .into_iter()
        .map(|m| m.collect::<Result<Vec<_>, _>>())
        .collect::<Result<Vec<_>, InputError>>()?;
    // Every one empty: no row; else an empty one is one empty value.
    let longest = all.iter().map(Vec::len).max().unwrap_or(0);
    for recs in &mut all {
        if recs.is_empty() {
            recs.push(vec![OsString::new()]);
        }
    }
    Ok(Box::new((0..longest).map(move |i| {
        Ok(all
            .iter()
            .flat_map(|recs| recs[i % recs.len()].iter().cloned())
            .collect())
    })))
}

/// The records of `source`, read lazily; files are opened (and a first
/// block read) now, so a missing file or a directory fails early.
fn records(source: Source, sep: u8) -> Result<Records, InputError> {
    match source {
        Source::Args(values) => Ok(Box::new(values.into_iter().map(|v| Ok(v.into_vec())))),
        Source::Stdin => Ok(stdin_records(sep)),
        Source::File(path) if path == Path::new("-") => Ok(stdin_records(sep)),
        Source::Linked(source) => records(*source, sep),
        Source::File(path) => {
            let name = path.display().to_string();
            let read_error = |e: std::io::Error| InputError::Read {
                path: name.clone(),
                reason: e.to_string(),
            };
            let file = File::open(&path).map_err(read_error)?;
            let mut reader = BufReader::with_capacity(64 << 10, file);
            reader.fill_buf().map_err(read_error)?;
            Ok(Box::new(RecordReader::new(reader, sep, name)))
        }
    }
}

fn stdin_records(sep: u8) -> Records {
    // `Stdin`, not its lock: the lock is not `Send` and the records are
    // pulled by whichever thread feeds the pool.
    let reader = BufReader::with_capacity(64 << 10, std::io::stdin());
    Box::new(RecordReader::new(reader, sep, "stdin".to_owned()))
}

/// Records of a byte stream, each ended by `sep` (or by the end of the
/// stream), one at a time: memory stays bounded by the longest record.
struct RecordReader<R> {
    reader: R,
    sep: u8,
    /// Names the source in errors.
    name: String,
    /// After an error nothing more is read.
    failed: bool,
    /// Records read so far.
    read: u64,
}

impl<R: BufRead> RecordReader<R> {
    fn new(reader: R, sep: u8, name: String) -> Self {
        RecordReader {
            reader,
            sep,
            name,
            failed: false,
            read: 0,
        }
    }
}

impl<R: BufRead> Iterator for RecordReader<R> {
    type Item = Result<Vec<u8>, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let mut buf = Vec::new();
        match self.reader.read_until(self.sep, &mut buf) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => {
                self.failed = true;
                return Some(Err(InputError::Read {
                    path: self.name.clone(),
                    reason: e.to_string(),
                }));
            }
        }
        self.read += 1;
        if buf.last() == Some(&self.sep) {
            buf.pop();
        }
        if buf.contains(&0) {
            self.failed = true;
            return Some(Err(InputError::Nul {
                path: self.name.clone(),
                line: self.read,
            }));
        }
        Some(Ok(buf))
    }
}

/// The columns of `record`: the record itself without `--colsep`, else
/// its pieces as Perl's `split` (which GNU parallel uses) gives them: a
/// regex's capture groups are columns too, an empty match at either end
/// splits nothing, and empty columns at the end are kept.
fn columns(record: Vec<u8>, colsep: Option<&Regex>) -> Vec<OsString> {
    let Some(re) = colsep else {
        return vec![OsString::from_vec(record)];
    };
    let part = |bytes: &[u8]| std::ffi::OsStr::from_bytes(bytes).to_owned();
    let mut cols = Vec::new();
    let mut start = 0;
    for caps in re.captures_iter(&record) {
        let Some(m) = caps.get(0) else { continue };
        if m.is_empty() && (m.start() == 0 || m.start() == record.len()) {
            continue;
        }
        cols.push(part(&record[start..m.start()]));
        cols.extend(
            caps.iter()
                .skip(1)
                .map(|g| g.map_or_else(OsString::new, |g| part(g.as_bytes()))),
        );
        start = m.end();
    }
    cols.push(part(&record[start..]));
    cols
}

/// Every combination of the first group's rows (streamed) with the later
/// groups' (in memory), the last group varying fastest.
struct Product {
    first: Rows,
    /// Later groups: rows, each as columns; none is empty.
    rest: Vec<Vec<Vec<OsString>>>,
    /// An empty first source is one empty value when a later one is not
    /// empty (GNU parallel), else there is no job at all.
    empty_first_is_one_value: bool,
    seen_first: bool,
    /// Columns of the first source's current record.
    current: Option<Vec<OsString>>,
    /// For each later source, the record paired next with `current`.
    odometer: Vec<usize>,
    done: bool,
}

impl Product {
    fn new(first: Rows, mut rest: Vec<Vec<Vec<OsString>>>) -> Product {
        let any_rest_nonempty = rest.iter().any(|recs| !recs.is_empty());
        for recs in &mut rest {
            if recs.is_empty() {
                // GNU parallel: an empty source among several is one
                // empty value.
                recs.push(vec![OsString::new()]);
            }
        }
        Product {
            first,
            rest,
            empty_first_is_one_value: any_rest_nonempty,
            seen_first: false,
            current: None,
            odometer: Vec::new(),
            done: false,
        }
    }
}

impl Iterator for Product {
    type Item = Result<Args, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.current.is_none() {
            let row = match self.first.next() {
                Some(Ok(row)) => row,
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                None if !self.seen_first && self.empty_first_is_one_value => vec![OsString::new()],
                None => {
                    self.done = true;
                    return None;
                }
            };
            self.seen_first = true;
            self.current = Some(row);
            self.odometer = vec![0; self.rest.len()];
        }
        // The current record's last pairing (always, with one source) takes
        // its values instead of copying them; the next call reads the next.
        let last = self
            .rest
            .iter()
            .zip(&self.odometer)
            .all(|(recs, &i)| i + 1 >= recs.len());
        let mut args = if last {
            self.current.take()
        } else {
            self.current.clone()
        }
        .unwrap_or_default();
        for (recs, &i) in self.rest.iter().zip(&self.odometer) {
            if let Some(cols) = recs.get(i) {
                args.extend(cols.iter().cloned());
            }
        }
        // Advance: the last source fastest, each wrapping around to 0.
        for (recs, i) in self.rest.iter().zip(&mut self.odometer).rev() {
            *i += 1;
            if *i < recs.len() {
                break;
            }
            *i = 0;
        }
        Some(Ok(args))
    }
}

#[cfg(test)]
mod tests;
