//! `hilo wordcount` as a shell user meets it: counts checked against
//! coreutils (`tr | sort | uniq -c`) on ASCII text and against the obvious
//! implementation of the definition, written here, on Unicode text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;

fn hilo() -> Command {
    let mut cmd = Command::cargo_bin("hilo").unwrap();
    cmd.arg("wordcount");
    cmd
}

/// Word → count, the definition taken literally: split at every char that
/// is not alphanumeric, lower-case each piece.
fn obvious(text: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        if !word.is_empty() {
            *counts.entry(word.to_lowercase()).or_insert(0) += 1;
        }
    }
    counts
}

/// The lines `hilo wordcount` printed, as (count, word), in order; checks
/// the format (count right-aligned in 7 columns, one space, the word).
fn parse_lines(stdout: &[u8]) -> Vec<(u64, String)> {
    let text = std::str::from_utf8(stdout).expect("output is UTF-8");
    text.lines()
        .map(|line| {
            let (count, word) = line.trim_start().split_once(' ').expect("count word");
            assert!(
                line.len() >= 8 && line.as_bytes()[7] == b' ' || count.len() > 7,
                "{line:?}"
            );
            (count.parse().expect("a count"), word.to_string())
        })
        .collect()
}

fn as_map(lines: &[(u64, String)]) -> BTreeMap<String, u64> {
    let map: BTreeMap<String, u64> = lines.iter().map(|(n, w)| (w.clone(), *n)).collect();
    assert_eq!(map.len(), lines.len(), "a word printed twice");
    map
}

/// The order `hilo wordcount` promises: count descending, then word bytes.
fn ranked(counts: &BTreeMap<String, u64>) -> Vec<(u64, String)> {
    let mut v: Vec<(u64, String)> = counts.iter().map(|(w, n)| (*n, w.clone())).collect();
    v.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.as_bytes().cmp(b.1.as_bytes()))
    });
    v
}

/// Deterministic pseudo-random text from `vocab`: words joined by varied
/// separators, with lines of very different lengths (some far longer than
/// the chunk sizes the tests use).
fn text_from(vocab: &[&str], words: usize, seed: u64) -> String {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let seps = [
        " ", " ", " ", ", ", ". ", "\n", " -- ", "\t", "_", "'", "!\n\n", "  ",
    ];
    let mut text = String::new();
    for i in 0..words {
        // Zipf-ish: low indexes far more often.
        let r = next() % (vocab.len() as u64 * 4);
        let w = vocab[(r * r / (vocab.len() as u64 * 16)) as usize % vocab.len()];
        text.push_str(w);
        // Every so often a long run without a line end.
        let sep = if (i / 500) % 3 == 2 {
            " "
        } else {
            seps[next() as usize % seps.len()]
        };
        text.push_str(sep);
    }
    text
}

const ASCII_VOCAB: &[&str] = &[
    "the", "The", "THE", "of", "and", "to", "in", "is", "it", "was", "for", "on", "are", "as",
    "with", "his", "they", "at", "be", "this", "from", "have", "or", "by", "one", "had", "not",
    "42", "2024", "x1", "A1b2", "don", "t", "e", "mail", "hello", "World", "zebra", "Zebra",
    "aardvark", "a", "I", "b52", "COVID19", "q",
];

const UNICODE_VOCAB: &[&str] = &[
    "Niño",
    "niño",
    "NIÑO",
    "año",
    "ano",
    "Año",
    "señor",
    "SEÑOR",
    "canción",
    "CANCIÓN",
    "el",
    "El",
    "la",
    "de",
    "que",
    "está",
    "también",
    "árbol",
    "Árbol",
    "café",
    "CAFÉ",
    "École",
    "ΟΔΟΣ",
    "Σ",
    "σοφία",
    "ΣΟΦΊΑ",
    "İstanbul",
    "straße",
    "STRASSE",
    "x²",
    "٣٤",
    "東京",
    "Москва",
    "МОСКВА",
    "e\u{301}",
    "ǅungla",
    "ﬁn",
    "Ⅻ",
    "the",
    "The",
    "de",
    "el",
];

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Expected counts, written out by hand.
fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|&(w, n)| (w.to_owned(), n)).collect()
}

#[test]
fn ascii_counts_equal_tr_sort_uniq() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.txt",
        text_from(ASCII_VOCAB, 30_000, 7).as_bytes(),
    );
    let b = write(
        dir.path(),
        "b.txt",
        text_from(ASCII_VOCAB, 5_000, 99).as_bytes(),
    );
    let out = hilo()
        .args(["--top", "0", "--chunk-size", "1K", "-j", "3"])
        .arg(&a)
        .arg(&b)
        .assert()
        .success();
    let ours = parse_lines(&out.get_output().stdout);

    let pipeline = StdCommand::new("sh")
        .arg("-c")
        .arg("cat \"$1\" \"$2\" | tr -cs '[:alnum:]' '\\n' | tr '[:upper:]' '[:lower:]' | sort | uniq -c")
        .arg("sh")
        .arg(&a)
        .arg(&b)
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    assert!(pipeline.status.success());
    // tr leaves an empty line when the text starts with a separator.
    let theirs: BTreeMap<String, u64> = parse_lines(&pipeline.stdout)
        .into_iter()
        .filter(|(_, w)| !w.is_empty())
        .map(|(n, w)| (w, n))
        .collect();
    assert!(theirs.len() > 30, "the test text is too poor");
    assert_eq!(as_map(&ours), theirs);
    assert_eq!(
        ours,
        ranked(&theirs),
        "not most frequent first, ties by word"
    );
}

#[test]
fn unicode_counts_equal_the_obvious_implementation() {
    let text = text_from(UNICODE_VOCAB, 20_000, 3);
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "u.txt", text.as_bytes());
    let want = ranked(&obvious(&text));
    for chunk in ["64", "1K", "8M"] {
        let out = hilo()
            .args(["--top", "0", "--chunk-size", chunk])
            .arg(&file)
            .assert()
            .success();
        assert_eq!(
            parse_lines(&out.get_output().stdout),
            want,
            "file, chunk {chunk}"
        );
        let out = hilo()
            .args(["--top", "0", "--chunk-size", chunk])
            .write_stdin(text.clone())
            .assert()
            .success();
        assert_eq!(
            parse_lines(&out.get_output().stdout),
            want,
            "stdin, chunk {chunk}"
        );
    }
}

#[test]
fn spanish_case_and_accents_count_right() {
    let out = hilo()
        .write_stdin("Niño niño NIÑO; año Año ano. ¿Señor? señor\n")
        .assert()
        .success();
    let got = as_map(&parse_lines(&out.get_output().stdout));
    assert_eq!(
        got,
        counts(&[("niño", 3), ("año", 2), ("ano", 1), ("señor", 2)])
    );
}

/// Words that mix a cased letter with a caseless one of three or four
/// bytes (CJK, kana, Devanagari, emoji-free math letters): the counter
/// panicked on these (`Tokyo東京`).
#[test]
fn words_mixing_cased_and_caseless_scripts_count_right() {
    let text = "Tokyo東京 TOKYO東京 Ñoño東 ÉxitoカナNAME नमस्तेA Привет世界 𝔄bc\n";
    for engine in ["threads", "processes"] {
        let out = hilo()
            .args(["--engine", engine])
            .write_stdin(text)
            .assert()
            .success();
        let got = as_map(&parse_lines(&out.get_output().stdout));
        assert_eq!(got, obvious(text), "--engine {engine}");
    }
}

#[test]
fn top_prints_the_most_frequent_with_ties_in_byte_order() {
    let text = text_from(UNICODE_VOCAB, 3_000, 11);
    let want = ranked(&obvious(&text));
    let out = hilo().write_stdin(text.clone()).assert().success();
    assert_eq!(
        parse_lines(&out.get_output().stdout),
        want[..20],
        "default --top 20"
    );
    let out = hilo()
        .args(["--top", "5"])
        .write_stdin(text)
        .assert()
        .success();
    assert_eq!(parse_lines(&out.get_output().stdout), want[..5]);
}

#[test]
fn files_and_dash_for_stdin_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let one = text_from(UNICODE_VOCAB, 2_000, 5);
    let two = text_from(ASCII_VOCAB, 2_000, 6);
    let a = write(dir.path(), "a.txt", one.as_bytes());
    let out = hilo()
        .args(["--top", "0"])
        .arg(&a)
        .arg("-")
        .arg(&a)
        .write_stdin(two.clone())
        .assert()
        .success();
    let want = obvious(&format!("{one}\n{two}\n{one}"));
    assert_eq!(parse_lines(&out.get_output().stdout), ranked(&want));
}

#[test]
fn json_has_the_counts_and_totals() {
    let dir = tempfile::tempdir().unwrap();
    let text = text_from(UNICODE_VOCAB, 4_000, 8);
    let a = write(dir.path(), "a.txt", text.as_bytes());
    let b = write(dir.path(), "b.txt", text.as_bytes());
    let out = hilo()
        .args(["--json", "--top", "3"])
        .arg(&a)
        .arg(&b)
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let want = obvious(&format!("{text}\n{text}"));
    assert_eq!(doc["words"], want.values().sum::<u64>());
    assert_eq!(doc["distinct"], want.len());
    assert_eq!(doc["files"], 2);
    assert!(doc["seconds"].as_f64().is_some_and(|s| s >= 0.0), "{doc}");
    let counts: Vec<(u64, String)> = doc["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["count"].as_u64().unwrap(),
                c["word"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(counts, ranked(&want)[..3]);
}

#[test]
fn processes_engine_counts_the_same_from_files_and_stdin() {
    let text = text_from(UNICODE_VOCAB, 20_000, 21);
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "u.txt", text.as_bytes());
    let want = ranked(&obvious(&format!("{text}\n{text}")));
    let out = hilo()
        .args([
            "--engine",
            "processes",
            "-j",
            "2",
            "--top",
            "0",
            "--chunk-size",
            "4K",
        ])
        .arg(&file)
        .arg("-")
        .write_stdin(text.clone())
        .assert()
        .success();
    assert_eq!(parse_lines(&out.get_output().stdout), want);
}

/// stderr as one line starting with `hilo wordcount: `.
fn one_error_line(stderr: &[u8]) -> String {
    let text = String::from_utf8(stderr.to_vec()).unwrap();
    assert_eq!(text.lines().count(), 1, "{text:?}");
    assert!(text.starts_with("hilo wordcount: "), "{text:?}");
    text
}

#[test]
fn invalid_utf8_names_the_file_and_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = text_from(UNICODE_VOCAB, 3_000, 4).into_bytes();
    let at = bytes.len();
    bytes.extend_from_slice(b"ok \xff bad\n");
    bytes.extend_from_slice(text_from(UNICODE_VOCAB, 100, 4).as_bytes());
    let file = write(dir.path(), "bad.txt", &bytes);
    for engine in ["threads", "processes"] {
        let out = hilo()
            .args(["--engine", engine, "--chunk-size", "1K"])
            .arg(&file)
            .assert()
            .failure()
            .code(1);
        assert!(out.get_output().stdout.is_empty());
        let err = one_error_line(&out.get_output().stderr);
        assert!(err.contains("bad.txt"), "{err}");
        assert!(err.contains(&format!("byte offset {}", at + 3)), "{err}");
        assert!(err.contains("--lossy"), "{err}");
    }
    // The same from stdin.
    let out = hilo().write_stdin(bytes).assert().failure().code(1);
    let err = one_error_line(&out.get_output().stderr);
    assert!(
        err.contains(&format!("<stdin>: invalid UTF-8 at byte offset {}", at + 3)),
        "{err}"
    );
}

#[test]
fn lossy_reads_invalid_bytes_as_separators() {
    let out = hilo()
        .arg("--lossy")
        .write_stdin(&b"caf\xff\xc3\xa9 ok\xfe\xfdok \xc3(x"[..])
        .assert()
        .success();
    let got = as_map(&parse_lines(&out.get_output().stdout));
    assert_eq!(got, counts(&[("caf", 1), ("é", 1), ("ok", 2), ("x", 1)]));
}

#[test]
fn a_missing_file_or_a_directory_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.txt", b"some words\n");
    let missing = dir.path().join("missing.txt");
    let out = hilo().arg(&good).arg(&missing).assert().failure().code(1);
    assert!(out.get_output().stdout.is_empty());
    let err = one_error_line(&out.get_output().stderr);
    assert!(
        err.contains("missing.txt: No such file or directory"),
        "{err}"
    );

    let out = hilo().arg(dir.path()).assert().failure().code(1);
    let err = one_error_line(&out.get_output().stderr);
    assert!(err.ends_with("is a directory\n"), "{err}");
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        &["--top", "many"][..],
        &["-j", "x"],
        &["--chunk-size", "0"],
        &["--chunk-size", "12Q"],
        &["--engine", "gpu"],
    ] {
        let out = hilo()
            .args(args)
            .write_stdin("x")
            .assert()
            .failure()
            .code(2);
        assert!(out.get_output().stdout.is_empty(), "{args:?}");
        let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
    let out = hilo()
        .args(["--engine", "processes", "--chunk-size", "64M"])
        .write_stdin("x")
        .assert()
        .failure()
        .code(2);
    one_error_line(&out.get_output().stderr);
}

#[test]
fn empty_input_prints_nothing_and_json_zeroes() {
    hilo().write_stdin("").assert().success().stdout("");
    let out = hilo().arg("--json").write_stdin(" ,;\n").assert().success();
    let doc: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(
        (doc["words"].as_u64(), doc["distinct"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(doc["counts"].as_array().map(Vec::len), Some(0));
}

#[test]
fn help_documents_the_word_and_the_output_format() {
    let out = hilo().arg("--help").assert().success();
    let help = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for needle in [
        "is_alphanumeric",
        "Niño and niño",
        "uniq -c",
        "--lossy",
        "--json",
    ] {
        assert!(help.contains(needle), "{needle}: {help}");
    }
}
