//! Unit tests of `words`.

use super::*;
use std::collections::BTreeMap;
use std::io::Write;

/// The obvious implementation of the definition.
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

fn fast(text: &str) -> BTreeMap<String, u64> {
    let mut counts = Counts::default();
    count_words(text, &mut counts);
    counts
        .into_iter()
        .map(|(w, n)| (w.to_string(), n))
        .collect()
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

fn chunks_of_file(content: &[u8], chunk_size: u64) -> Vec<Vec<u8>> {
    let mut f = tempfile::tempfile().unwrap();
    f.write_all(content).unwrap();
    let plan = plan_file(&f, content.len() as u64, chunk_size).unwrap();
    plan.iter()
        .map(|&(o, l)| content[o as usize..(o + l) as usize].to_vec())
        .collect()
}

fn chunks_of_stream(content: &[u8], chunk_size: usize) -> Vec<Vec<u8>> {
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
            chunks_of_file(text.as_bytes(), size),
            chunks_of_stream(text.as_bytes(), size as usize),
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
        chunks_of_file(text, 8),
        [b"aaaa bbbb\n".to_vec(), b"cc dd\nee\n".to_vec()]
    );
    // A line longer than a quarter of a chunk is cut at a separator.
    assert_eq!(chunks_of_file(b"aaaaaaa bbbbbbb cc\n", 4)[0], b"aaaaaaa ");
    assert_eq!(chunks_of_stream(text, 12)[0], b"aaaa bbbb\n");
}
