//! Where a job's arguments come from: lines of stdin, `:::` lists, `::::`
//! files and `-a` files, split by `-0` and `--colsep`, combined in GNU
//! parallel's order. Owns reading and splitting; never runs anything.
//!
//! The rules, each checked against GNU parallel 20221122:
//! - A record ends with `\n` (or NUL with `-0`); the terminator is removed
//!   and nothing else: a `\r` before it stays, an empty line is a job with
//!   an empty value, a last record without terminator still counts.
//! - Several sources give every combination, the first varying slowest.
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
}

/// How values are read and split.
#[derive(Debug, Clone, Default)]
pub(crate) struct InputOptions {
    /// `-0`: values end with NUL, not newline.
    pub(crate) null: bool,
    /// `--colsep REGEX`: split each value into columns `{1}`, `{2}`, ….
    pub(crate) colsep: Option<String>,
}

/// Why the input could not be read. One line, naming the file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InputError {
    /// A file could not be opened or read.
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
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
    let mut sources = sources.into_iter();
    let first = match sources.next() {
        Some(source) => records(source, sep)?,
        None => return Ok(Inputs::from_vec(Vec::new())),
    };
    // Only the first source may stream: each of its records is used once,
    // but every later source is gone through again for each record before
    // it, so those must be held in memory anyway. Reading them here also
    // reports a bad record in them before any job runs.
    let rest = sources
        .map(|source| {
            records(source, sep)?
                .map(|r| r.map(|rec| columns(rec, colsep.as_ref())))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Inputs {
        lines: Box::new(Product::new(first, colsep, rest)),
    })
}

/// The records of `source`, read lazily; files are opened (and a first
/// block read) now, so a missing file or a directory fails early.
fn records(source: Source, sep: u8) -> Result<Records, InputError> {
    match source {
        Source::Args(values) => Ok(Box::new(values.into_iter().map(|v| Ok(v.into_vec())))),
        Source::Stdin => Ok(stdin_records(sep)),
        Source::File(path) if path == Path::new("-") => Ok(stdin_records(sep)),
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
}

impl<R: BufRead> RecordReader<R> {
    fn new(reader: R, sep: u8, name: String) -> Self {
        RecordReader {
            reader,
            sep,
            name,
            failed: false,
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
        if buf.last() == Some(&self.sep) {
            buf.pop();
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

/// Every combination of the first source's records (streamed) with the
/// later sources' (in memory), the last source varying fastest.
struct Product {
    first: Records,
    colsep: Option<Regex>,
    /// Later sources: records, each as columns; none is empty.
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
    fn new(first: Records, colsep: Option<Regex>, mut rest: Vec<Vec<Vec<OsString>>>) -> Product {
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
            colsep,
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
            let record = match self.first.next() {
                Some(Ok(record)) => record,
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                None if !self.seen_first && self.empty_first_is_one_value => Vec::new(),
                None => {
                    self.done = true;
                    return None;
                }
            };
            self.seen_first = true;
            self.current = Some(columns(record, self.colsep.as_ref()));
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
mod tests {
    use super::*;
    use std::io::Write;

    fn strings(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn ok_records(bytes: &[u8], sep: u8) -> Vec<OsString> {
        RecordReader::new(bytes, sep, "test".to_owned())
            .map(|r| OsString::from_vec(r.expect("valid record")))
            .collect()
    }

    fn all(sources: Vec<Source>, opts: &InputOptions) -> Vec<Vec<OsString>> {
        open(sources, opts)
            .expect("sources open")
            .map(|r| r.expect("valid input"))
            .collect()
    }

    fn args(v: &[&str]) -> Source {
        Source::Args(strings(v))
    }

    fn file_with(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        f.write_all(bytes).expect("write temp file");
        f
    }

    fn colsep(re: &str) -> InputOptions {
        InputOptions {
            null: false,
            colsep: Some(re.to_owned()),
        }
    }

    // GNU: printf 'a\n\nb\r\nc' | parallel -k echo '[{}]'
    //   -> [a] [] [b\r] [c]
    #[test]
    fn lines_lose_only_their_newline() {
        assert_eq!(
            ok_records(b"a\n\nb\r\nc", b'\n'),
            strings(&["a", "", "b\r", "c"])
        );
        assert_eq!(ok_records(b"a\n\n", b'\n'), strings(&["a", ""]));
        assert_eq!(ok_records(b"\n", b'\n'), strings(&[""]));
        assert!(ok_records(b"", b'\n').is_empty());
    }

    // GNU: printf 'a b\0c\nd\0\0e' | parallel -0 -k echo '[{}]'
    //   -> [a b] [c\nd] [] [e]
    #[test]
    fn null_separated_records_keep_newlines() {
        assert_eq!(
            ok_records(b"a b\0c\nd\0\0e", b'\0'),
            strings(&["a b", "c\nd", "", "e"])
        );
    }

    // GNU: printf 'caf\351\n' | parallel echo -> the same bytes.
    #[test]
    fn records_that_are_not_utf8_pass_through_as_bytes() {
        let got = ok_records(b"ok\ncaf\xe9\n\xff", b'\n');
        let bytes: Vec<Vec<u8>> = got.into_iter().map(OsString::into_vec).collect();
        assert_eq!(bytes, [&b"ok"[..], b"caf\xe9", b"\xff"]);
        let f = file_with(b"x\n\xc3\n");
        let jobs = all(
            vec![args(&["a"]), Source::File(f.path().to_owned())],
            &colsep(","),
        );
        let second: Vec<&[u8]> = jobs[1].iter().map(|v| v.as_bytes()).collect();
        assert_eq!(second, [&b"a"[..], b"\xc3"]);
    }

    #[test]
    fn a_missing_file_fails_open_with_one_line() {
        let err = open(
            vec![args(&["a"]), Source::File("nosuch.txt".into())],
            &InputOptions::default(),
        )
        .err()
        .expect("open fails");
        assert_eq!(
            err.to_string(),
            "cannot read nosuch.txt: No such file or directory (os error 2)"
        );
        // Also as the first, streamed, source.
        let err = open(
            vec![Source::File("nosuch.txt".into())],
            &InputOptions::default(),
        )
        .err()
        .expect("open fails");
        assert!(matches!(err, InputError::Read { .. }));
    }

    #[test]
    fn a_directory_fails_open() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = open(
            vec![Source::File(dir.path().to_owned())],
            &InputOptions::default(),
        )
        .err()
        .expect("open fails");
        assert!(err.to_string().contains("Is a directory"), "{err}");
    }

    #[test]
    fn a_file_gives_its_lines() {
        let f = file_with(b"x.txt\ny z\n");
        assert_eq!(
            all(
                vec![Source::File(f.path().to_owned())],
                &InputOptions::default()
            ),
            vec![strings(&["x.txt"]), strings(&["y z"])]
        );
    }

    #[test]
    fn a_file_split_by_nul() {
        let f = file_with(b"a\nb\0c");
        let opts = InputOptions {
            null: true,
            colsep: None,
        };
        assert_eq!(
            all(vec![Source::File(f.path().to_owned())], &opts),
            vec![strings(&["a\nb"]), strings(&["c"])]
        );
    }

    // GNU: parallel -k echo ::: a b ::: 1 2 ::: x y
    //   -> a 1 x, a 1 y, a 2 x, a 2 y, b 1 x, ...
    #[test]
    fn several_sources_give_every_combination_first_slowest() {
        let got = all(
            vec![args(&["a", "b"]), args(&["1", "2"]), args(&["x", "y"])],
            &InputOptions::default(),
        );
        let want: Vec<Vec<OsString>> = [
            ["a", "1", "x"],
            ["a", "1", "y"],
            ["a", "2", "x"],
            ["a", "2", "y"],
            ["b", "1", "x"],
            ["b", "1", "y"],
            ["b", "2", "x"],
            ["b", "2", "y"],
        ]
        .iter()
        .map(|r| strings(r))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn files_and_values_mix() {
        let f = file_with(b"x\ny\n");
        assert_eq!(
            all(
                vec![Source::File(f.path().to_owned()), args(&["1", "2"])],
                &InputOptions::default()
            ),
            vec![
                strings(&["x", "1"]),
                strings(&["x", "2"]),
                strings(&["y", "1"]),
                strings(&["y", "2"]),
            ]
        );
    }

    // GNU: parallel -k echo :::: xy.txt empty.txt -> "x ", "y "
    //      parallel -k echo :::: empty.txt xy.txt -> " x", " y"
    //      parallel -k echo :::: empty.txt empty.txt -> nothing
    //      parallel -k echo :::: empty.txt -> nothing
    #[test]
    fn an_empty_source_among_several_is_one_empty_value() {
        let none = InputOptions::default();
        assert_eq!(
            all(vec![args(&["x", "y"]), args(&[])], &none),
            vec![strings(&["x", ""]), strings(&["y", ""])]
        );
        assert_eq!(
            all(vec![args(&[]), args(&["x", "y"])], &none),
            vec![strings(&["", "x"]), strings(&["", "y"])]
        );
        assert_eq!(
            all(vec![args(&["a"]), args(&[]), args(&["1", "2"])], &none),
            vec![strings(&["a", "", "1"]), strings(&["a", "", "2"])]
        );
        assert!(all(vec![args(&[]), args(&[])], &none).is_empty());
        assert!(all(vec![args(&[])], &none).is_empty());
        assert!(all(vec![], &none).is_empty());
    }

    // GNU: printf 'a,b\nc,d,e\n' | parallel --colsep , -k echo '[{1}]' ... '[{4}]'
    //   -> [a] [b] [] [], [c] [d] [e] []
    #[test]
    fn colsep_splits_records_into_columns() {
        let f = file_with(b"a,b\nc,d,e\n,x,\n\n");
        assert_eq!(
            all(vec![Source::File(f.path().to_owned())], &colsep(",")),
            vec![
                strings(&["a", "b"]),
                strings(&["c", "d", "e"]),
                strings(&["", "x", ""]),
                strings(&[""]),
            ]
        );
    }

    // GNU: parallel --colsep , -k echo '[{1}]' '[{2}]' '[{3}]' ::: x,y z ::: 7,8
    //   -> [x] [y] [7], [z] [7] [8]
    #[test]
    fn colsep_numbers_the_columns_of_all_sources_in_order() {
        assert_eq!(
            all(vec![args(&["x,y", "z"]), args(&["7,8"])], &colsep(",")),
            vec![strings(&["x", "y", "7", "8"]), strings(&["z", "7", "8"])]
        );
    }

    // GNU: printf 'a\tb\tc\n' | parallel --colsep '\t' ...; --colsep '\s+'
    //   on 'a  b\tc'; --colsep '(1)(2)' on a12b -> [a] [1] [2] [b];
    //   --colsep 'x*' on abc -> [a] [b] [c]
    #[test]
    fn colsep_is_a_regex_split_like_perls() {
        let split =
            |s: &str, re: &str| columns(s.as_bytes().to_vec(), Regex::new(re).ok().as_ref());
        assert_eq!(split("a\tb\tc", r"\t"), strings(&["a", "b", "c"]));
        assert_eq!(split("a  b\tc", r"\s+"), strings(&["a", "b", "c"]));
        assert_eq!(split("a12b", "(1)(2)"), strings(&["a", "1", "2", "b"]));
        assert_eq!(split("abc", "x*"), strings(&["a", "b", "c"]));
        assert_eq!(split("a,b,,", ","), strings(&["a", "b", "", ""]));
        assert_eq!(split("", ","), strings(&[""]));
    }

    #[test]
    fn a_bad_colsep_is_an_error() {
        let err = open(vec![args(&["a"])], &colsep("("))
            .err()
            .expect("bad regex");
        assert!(matches!(err, InputError::Colsep { .. }));
    }

    /// A reader that gives one line, then fails.
    struct Failing(bool);

    impl std::io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if std::mem::replace(&mut self.0, true) {
                return Err(std::io::Error::other("the disk is on fire"));
            }
            buf[..2].copy_from_slice(b"a\n");
            Ok(2)
        }
    }

    /// A reader that never ends, to show only what is needed is read.
    struct Endless;

    impl std::io::Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            for chunk in buf.chunks_mut(2) {
                chunk.copy_from_slice(&b"y\n"[..chunk.len()]);
            }
            Ok(buf.len())
        }
    }

    #[test]
    fn the_first_source_streams() {
        let first: Records = Box::new(RecordReader::new(
            BufReader::new(Endless),
            b'\n',
            "endless".to_owned(),
        ));
        let product = Product::new(first, None, vec![vec![strings(&["1"]), strings(&["2"])]]);
        let got: Vec<_> = product.take(3).map(|r| r.expect("valid")).collect();
        assert_eq!(
            got,
            vec![
                strings(&["y", "1"]),
                strings(&["y", "2"]),
                strings(&["y", "1"])
            ]
        );
    }

    #[test]
    fn an_error_in_the_first_source_ends_the_stream() {
        let first: Records = Box::new(RecordReader::new(
            BufReader::new(Failing(false)),
            b'\n',
            "stdin".to_owned(),
        ));
        let product = Product::new(first, None, Vec::new());
        let got: Vec<_> = product.collect();
        assert_eq!(got.len(), 2);
        assert!(got[0].is_ok());
        assert!(got[1].is_err());
    }
}
