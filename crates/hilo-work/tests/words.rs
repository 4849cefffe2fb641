//! The word counter against the obvious implementation of the definition
//! (split at every char that is not alphanumeric, lower-case each piece
//! with `str::to_lowercase`): chosen cases first, then properties over
//! arbitrary input — never a panic, always the same counts, whatever the
//! text, the bytes or the chunk size.

use std::collections::BTreeMap;
use std::io::Write;

use hilo_work::words::{
    count_bytes, count_words, partition, partition_of, plan_file, ranked, reduce, ChunkError,
    Counts, StreamChunks, Word,
};
use proptest::prelude::*;

/// The definition, literally.
fn slow(text: &str) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        *m.entry(w.to_lowercase()).or_insert(0) += 1;
    }
    m
}

fn sorted(counts: Counts) -> BTreeMap<String, u64> {
    counts
        .into_iter()
        .map(|(w, n)| (w.to_string(), n))
        .collect()
}

fn fast(text: &str) -> BTreeMap<String, u64> {
    let mut counts = Counts::default();
    count_words(text, &mut counts);
    sorted(counts)
}

#[test]
fn counts_like_the_definition_on_mixed_scripts() {
    let text = "Niño niño NIÑO año ano Año_ano O'Brien ΟΔΟΣ Σ ΣΑΣ İstanbul straße STRASSE \
                x²+y³ ٣٤ 東京 123abc ABC123 café-CAFÉ\tÉCOLE\n\u{300}a\u{301}b";
    assert_eq!(fast(text), slow(text));
    assert_eq!(fast(text)["niño"], 3);
    assert_eq!(fast(text)["ano"], 2);
}

#[test]
fn empty_and_separator_only_text_has_no_words() {
    assert!(fast("").is_empty());
    assert!(fast(" ,.;\n_-— ¡¿").is_empty());
}

#[test]
fn invalid_utf8_reports_its_offset_or_separates_when_lossy() {
    let bytes = b"abc d\xffef";
    assert_eq!(
        count_bytes(bytes, 100, false),
        Err(ChunkError::InvalidUtf8 { offset: 105 })
    );
    let counts = count_bytes(bytes, 0, true).unwrap();
    let got: BTreeMap<_, _> = counts
        .into_iter()
        .map(|(w, n)| (w.to_string(), n))
        .collect();
    let want: BTreeMap<String, u64> = [("abc", 1), ("d", 1), ("ef", 1)]
        .into_iter()
        .map(|(w, n)| (w.to_string(), n))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn partitions_cover_every_word_once_and_reduce_adds_up() {
    let text = "a b c d e f g h a b c a";
    let mut counts = Counts::default();
    count_words(text, &mut counts);
    let parts = partition(counts.clone(), 3);
    assert_eq!(parts.len(), 3);
    assert_eq!(parts.iter().map(Counts::len).sum::<usize>(), counts.len());
    for (p, piece) in parts.iter().enumerate() {
        assert!(piece.keys().all(|w| partition_of(w, 3) == p));
    }
    let twice = reduce(vec![counts.clone(), counts.clone()]);
    assert!(counts.iter().all(|(w, n)| twice[w] == 2 * n));
}

#[test]
fn ranked_breaks_ties_by_bytes_and_keeps_top() {
    let words: Vec<(Word, u64)> = [("é", 2), ("z", 2), ("a", 1), ("b", 3)]
        .into_iter()
        .map(|(w, n)| (Word::from(w), n))
        .collect();
    let all = ranked(words.clone(), 0);
    let order: Vec<&str> = all.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(order, ["b", "z", "é", "a"]);
    assert_eq!(ranked(words, 2).len(), 2);
}

#[test]
fn cuts_keep_every_byte_and_never_split_a_word() {
    let mut text = String::new();
    for i in 0..300 {
        text.push_str(&"ñandú año ".repeat(i % 7));
        if i % 5 != 0 {
            text.push('\n');
        }
    }
    text.push_str(&"x".repeat(100)); // a word longer than a chunk
    text.push_str(" fin");
    for size in [1, 7, 16, 64, 1000, 1 << 20] {
        for chunks in [
            file_chunks(text.as_bytes(), size),
            stream_chunks(text.as_bytes(), size as usize),
        ] {
            assert_eq!(chunks.concat(), text.as_bytes());
            let mut sum = BTreeMap::new();
            for c in &chunks {
                let piece = std::str::from_utf8(c).expect("cut inside a character");
                for (w, n) in slow(piece) {
                    *sum.entry(w).or_insert(0) += n;
                }
            }
            assert_eq!(sum, slow(&text), "chunk size {size}");
        }
    }
}

#[test]
fn cuts_prefer_line_ends() {
    let text = b"aaaa bbbb\ncc dd\nee\n";
    assert_eq!(
        file_chunks(text, 8),
        [b"aaaa bbbb\n".to_vec(), b"cc dd\nee\n".to_vec()]
    );
    // A line longer than a quarter of a chunk is cut at a separator.
    assert_eq!(file_chunks(b"aaaaaaa bbbbbbb cc\n", 4)[0], b"aaaaaaa ");
    assert_eq!(stream_chunks(text, 12)[0], b"aaaa bbbb\n");
}

/// Words longer than the 64-byte blocks runs are found in, with one
/// capital or non-ASCII letter anywhere: at a block's edge, in a block the
/// word covers whole, after it.
#[test]
fn long_words_with_one_special_letter_anywhere() {
    for len in (1..300).step_by(7) {
        for at in (0..=len).step_by(5) {
            for special in ['É', 'Q', 'ñ', '東'] {
                let mut word: Vec<char> = std::iter::repeat_n('a', len).collect();
                word.insert(at, special);
                let word: String = word.into_iter().collect();
                for pad in 0..3 {
                    let text = format!("{}x {word} y {word}\n", " ".repeat(pad * 31));
                    assert_eq!(fast(&text), slow(&text), "{len} {at} {special} {pad}");
                }
            }
        }
    }
}

/// Characters from each of the counter's paths, so that they meet in one
/// word far more often than uniformly random chars would: ASCII of both
/// cases and separators; Latin-1 (`C3 xx`, lower-cased in place) at both
/// ends of its range, its two non-letters `×` and `÷`, `ß` and `ÿ` (lower
/// case, with capitals elsewhere); two-byte letters of both cases (Latin
/// Extended, Greek, Cyrillic), `ª` and `¿` (`C2 xx`), the
/// context-dependent `Σ`, `İ` (two chars in lower case); three-byte
/// caseless letters (CJK, kana, Devanagari), three-byte cased ones
/// (Georgian Mtavruli, Glagolitic, fullwidth Latin); four-byte ones
/// (Deseret, math letters, emoji); digits of other scripts; marks.
const PICKS: &[char] = &[
    'a', 'z', 'A', 'Z', '0', '9', ' ', '\n', '-', '_', '\'', '.', 'é', 'É', 'ñ', 'Ñ', 'À', 'à',
    'Þ', 'þ', '×', '÷', 'ß', 'ẞ', 'ÿ', 'Ÿ', 'ª', '¿', 'Œ', 'œ', 'ω', 'Ω', 'Σ', 'σ', 'ς', 'ж', 'Ж',
    'İ', 'ı', 'ǅ', 'µ', '東', '京', 'カ', 'ナ', 'क', '\u{93C}', 'Ა', 'ა', 'Ⰰ', 'ⰰ', 'Ａ', 'ａ',
    '𐐀', '𐐨', '𝔄', '😀', '٣', '¹', '\u{301}', '\u{0}', '\u{FFFD}', '\u{200B}',
];

fn text() -> impl Strategy<Value = String> {
    let pick = prop::sample::select(PICKS);
    let ch = prop_oneof![4 => pick, 1 => any::<char>()];
    prop::collection::vec(ch, 0..48).prop_map(|cs| cs.into_iter().collect())
}

/// Bytes near UTF-8: pieces of valid text with stray bytes between them.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => text().prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..8),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|ps| ps.concat())
}

/// The chunks `plan_file` cuts a file of `content` into.
fn file_chunks(content: &[u8], chunk_size: u64) -> Vec<Vec<u8>> {
    let mut f = tempfile::tempfile().unwrap();
    f.write_all(content).unwrap();
    let plan = plan_file(&f, content.len() as u64, chunk_size).unwrap();
    plan.iter()
        .map(|&(o, l)| content[o as usize..(o + l) as usize].to_vec())
        .collect()
}

/// The chunks `StreamChunks` cuts `content` into; checks that each says
/// where it starts.
fn stream_chunks(content: &[u8], chunk_size: usize) -> Vec<Vec<u8>> {
    let mut next = 0;
    StreamChunks::new(content, chunk_size)
        .map(|r| {
            let (offset, bytes) = r.unwrap();
            assert_eq!(offset, next);
            next += bytes.len() as u64;
            bytes
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn text_counts_as_the_definition(text in text()) {
        prop_assert_eq!(fast(&text), slow(&text));
    }

    /// Repeated, so that a word's second sight (a lookup, not an insert)
    /// and the lower-casing into a reused buffer are both exercised.
    #[test]
    fn text_counts_as_the_definition_twice(text in text()) {
        let twice = format!("{text} {text}\n{text}");
        prop_assert_eq!(fast(&twice), slow(&twice));
    }

    #[test]
    fn lossy_bytes_count_as_the_definition(bytes in bytes(), offset in 0u64..1 << 40) {
        let counts = count_bytes(&bytes, offset, true).expect("lossy never fails");
        prop_assert_eq!(sorted(counts), slow(&String::from_utf8_lossy(&bytes)));
    }

    #[test]
    fn strict_bytes_count_or_name_the_first_bad_byte(bytes in bytes(), offset in 0u64..1 << 40) {
        match (count_bytes(&bytes, offset, false), std::str::from_utf8(&bytes)) {
            (Ok(counts), Ok(text)) => prop_assert_eq!(sorted(counts), slow(text)),
            (Err(ChunkError::InvalidUtf8 { offset: at }), Err(e)) => {
                prop_assert_eq!(at, offset + e.valid_up_to() as u64);
            }
            (got, want) => prop_assert!(false, "{got:?} for {want:?}"),
        }
    }

    /// Cut into chunks (of a file or a stream, any size), the chunks hold
    /// every byte once and their counts add up to the whole's.
    #[test]
    fn chunked_counts_add_up(bytes in bytes(), size in 1usize..40) {
        let whole = slow(&String::from_utf8_lossy(&bytes));
        for chunks in [file_chunks(&bytes, size as u64), stream_chunks(&bytes, size)] {
            prop_assert_eq!(chunks.concat(), bytes.clone());
            let mut sum = BTreeMap::new();
            for chunk in &chunks {
                let counts = count_bytes(chunk, 0, true).expect("lossy never fails");
                for (w, n) in sorted(counts) {
                    *sum.entry(w).or_insert(0) += n;
                }
            }
            prop_assert_eq!(&sum, &whole);
        }
    }
}
