//! Unit tests of `input`.

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
        link: false,
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
        ..InputOptions::default()
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
    let split = |s: &str, re: &str| columns(s.as_bytes().to_vec(), Regex::new(re).ok().as_ref());
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
    let first: Rows = Box::new(
        RecordReader::new(BufReader::new(Endless), b'\n', "endless".to_owned())
            .map(|r| r.map(|rec| columns(rec, None))),
    );
    let product = Product::new(first, vec![vec![strings(&["1"]), strings(&["2"])]]);
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
    let first: Rows = Box::new(
        RecordReader::new(BufReader::new(Failing(false)), b'\n', "stdin".to_owned())
            .map(|r| r.map(|rec| columns(rec, None))),
    );
    let product = Product::new(first, Vec::new());
    let got: Vec<_> = product.collect();
    assert_eq!(got.len(), 2);
    assert!(got[0].is_ok());
    assert!(got[1].is_err());
}

// GNU: parallel -k echo ::: a b ::: 1 2 :::+ x y z -> a 1 x, a 2 y, b 1 x,
//   b 2 y; with --link ::: a b c ::: 1 2 -> a 1, b 2, c 1.
#[test]
fn linked_sources_pair_up_and_link_starts_the_shorter_over() {
    let linked = |v: &[&str]| Source::Linked(Box::new(args(v)));
    let rows = all(
        vec![
            args(&["a", "b"]),
            args(&["1", "2"]),
            linked(&["x", "y", "z"]),
        ],
        &InputOptions::default(),
    );
    let want = [
        ["a", "1", "x"],
        ["a", "2", "y"],
        ["b", "1", "x"],
        ["b", "2", "y"],
    ];
    assert_eq!(rows, want.map(|r| strings(&r)).to_vec());
    let opts = InputOptions {
        link: true,
        ..InputOptions::default()
    };
    let rows = all(vec![args(&["a", "b", "c"]), args(&["1", "2"])], &opts);
    assert_eq!(
        rows,
        [["a", "1"], ["b", "2"], ["c", "1"]]
            .map(|r| strings(&r))
            .to_vec()
    );
}

/// `known_count` (for the progress bar and `--halt` percentages, before
/// anything runs) agrees with the rows `open` makes, for every mix of up
/// to three sources of 0 to 3 values, each linked or not, with and
/// without `--link`.
#[test]
fn the_known_count_is_the_number_of_rows() {
    let values = ["a", "b", "c"];
    for n_sources in 1..=3u32 {
        // Each source: a length 0..=3 and a linked flag: 8 choices each.
        for code in 0..8u32.pow(n_sources) {
            let sources: Vec<Source> = (0..n_sources)
                .map(|i| {
                    let c = code / 8u32.pow(i) % 8;
                    let source = args(&values[..(c % 4) as usize]);
                    if c >= 4 {
                        Source::Linked(Box::new(source))
                    } else {
                        source
                    }
                })
                .collect();
            for link in [false, true] {
                let opts = InputOptions {
                    link,
                    ..InputOptions::default()
                };
                let rows = all(sources.clone(), &opts).len() as u64;
                assert_eq!(
                    known_count(&sources, link),
                    Some(rows),
                    "{sources:?}, --link {link}"
                );
            }
        }
    }
}
