//! MapReduce word count, the pieces: cutting input into chunks at line
//! boundaries, counting one chunk's words (map), splitting its counts into
//! partitions by a hash of the word (shuffle), merging partitions (reduce)
//! and ranking the result.
//!
//! Owns what a word is and how input is cut; never decides which pool runs
//! a piece, never prints, never reads stdin by itself.
//!
//! # What a word is
//!
//! A maximal run of characters for which [`char::is_alphanumeric`] holds
//! (Unicode letters and numbers; `_`, `'` and `-` separate words), then
//! lower-cased as a whole with [`str::to_lowercase`]: full Unicode
//! lower-casing, so `Niño` and `niño` are one word, `año` and `ano` two,
//! `İ` becomes `i̇` and a final `Σ` becomes `ς`.
//!
//! ```
//! use hilo_work::words::{count_words, Counts};
//!
//! let mut counts = Counts::default();
//! count_words("El niño, el NIÑO y el año", &mut counts);
//! assert_eq!(counts["el"], 3);
//! assert_eq!(counts["niño"], 2);
//! assert_eq!(counts.get("ano"), None);
//! ```

use std::collections::HashMap;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::LazyLock;

use compact_str::CompactString;
use rustc_hash::FxBuildHasher;
use serde::{Deserialize, Serialize};

use crate::io_message;
use table::{Key, Table, KEY_BYTES};

mod fold;
mod runs;
mod table;

/// Word → count. The hasher is deterministic (the same in every process),
/// which the shuffle relies on: a word lands in the same partition whichever
/// worker process counted it. Words up to 24 bytes are stored inside the
/// table (`CompactString`): a lookup then compares bytes already in cache
/// instead of following a pointer per candidate.
pub type Counts = HashMap<Word, u64, FxBuildHasher>;

/// A word as counted: lower-cased, stored inline when short.
pub type Word = CompactString;

/// Why a chunk could not be counted. Serializable, so a worker process can
/// hand it back; the caller adds the file's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ChunkError {
    /// The bytes are not UTF-8; `offset` counts from the start of the input.
    #[error("invalid UTF-8 at byte offset {offset} (--lossy reads invalid bytes as separators)")]
    InvalidUtf8 {
        /// Where the first invalid byte is, from the start of the input.
        offset: u64,
    },
    /// Reading failed (the message of the I/O error).
    #[error("{0}")]
    Read(String),
}

impl From<io::Error> for ChunkError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            return ChunkError::Read("file shrank while being read".into());
        }
        ChunkError::Read(io_message(&e))
    }
}

/// What one character does to a word. Ordered: a word is as hard to
/// lower-case as its hardest character.
const SEP: u8 = 0; // not alphanumeric: ends a word
const LOWER: u8 = 1; // alphanumeric, its own lower case
const SIMPLE: u8 = 2; // ASCII upper case, or a two-byte char with a one-char lower case
const COMPLEX: u8 = 3; // anything else: lower-cased by the general path

/// Class of each ASCII byte; bytes from 0x80 up are looked at by `scan`.
const ASCII_CLASS: [u8; 128] = {
    let mut t = [SEP; 128];
    let mut b = 0;
    while b < 128 {
        t[b] = match b as u8 {
            b'a'..=b'z' | b'0'..=b'9' => LOWER,
            b'A'..=b'Z' => SIMPLE,
            _ => SEP,
        };
        b += 1;
    }
    t
};

/// In `TWO_BYTE`: the char is not alphanumeric, or its lower case is not one
/// char (or is `Σ`, whose lower case depends on its place in the word).
const NOT_ALNUM: u32 = 0;
const NOT_SIMPLE: u32 = u32::MAX;

/// For each code point below U+0800 (one or two UTF-8 bytes: Latin with
/// accents, Greek, Cyrillic, Hebrew, Arabic...), its lower case, or
/// `NOT_ALNUM` / `NOT_SIMPLE`: the Unicode tables' binary searches cost
/// more than counting the word, and these are most non-ASCII text.
static TWO_BYTE: LazyLock<Box<[u32; 0x800]>> = LazyLock::new(|| {
    let mut t = Box::new([NOT_ALNUM; 0x800]);
    for (cp, slot) in (0u32..).zip(t.iter_mut()) {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        if !c.is_alphanumeric() {
            continue;
        }
        let mut lower = c.to_lowercase();
        *slot = match (lower.next(), lower.next()) {
            (Some(l), None) if c != 'Σ' => u32::from(l),
            _ => NOT_SIMPLE,
        };
    }
    t
});

/// The class and UTF-8 length of the char at byte `i` of `text`.
#[inline(always)]
fn scan(text: &str, i: usize, two_byte: &[u32; 0x800]) -> (u8, usize) {
    let bytes = text.as_bytes();
    let b = bytes[i];
    if b < 0x80 {
        return (ASCII_CLASS[usize::from(b)], 1);
    }
    if b < 0xE0 {
        // A two-byte sequence (valid UTF-8: a continuation byte follows).
        let cp = (u32::from(b & 0x1F) << 6) | u32::from(bytes[i + 1] & 0x3F);
        let class = match two_byte[cp as usize] {
            NOT_ALNUM => SEP,
            NOT_SIMPLE => COMPLEX,
            lower if lower == cp => LOWER,
            _ => SIMPLE,
        };
        return (class, 2);
    }
    let c = text[i..]
        .chars()
        .next()
        .unwrap_or(char::REPLACEMENT_CHARACTER);
    let class = if !c.is_alphanumeric() {
        SEP
    } else if c.to_lowercase().eq(std::iter::once(c)) {
        LOWER
    } else {
        COMPLEX
    };
    (class, c.len_utf8())
}

/// Adds the words of `text` to `counts` (see the module docs for what a
/// word is).
///
/// ```
/// let mut counts = hilo_work::words::Counts::default();
/// hilo_work::words::count_words("a-b A_b ΟΔΟΣ", &mut counts);
/// assert_eq!((counts["a"], counts["b"], counts["οδος"]), (2, 2, 1));
/// ```
pub fn count_words(text: &str, counts: &mut Counts) {
    for (word, n) in count_text(text).into_counts() {
        *counts.entry(word).or_insert(0) += n;
    }
}

/// How many words ahead of its lookup a word's slot is fetched: enough
/// lookups in flight to hide a wait for memory, few enough that the
/// fetched slots are still in cache when their turn comes.
const AHEAD: usize = 32;

/// Counts the words of `text` into a new table.
fn count_text(text: &str) -> Table {
    let mut counter = Counter {
        two_byte: &TWO_BYTE,
        // About a word in 160 bytes is new in a chunk of text; the table
        // grows past the cap, but a huge chunk does not start huge.
        table: Table::with_capacity((text.len() / 160).min(1 << 16)),
        ahead: [(0, 0); AHEAD],
        found: 0,
        lowered: String::new(),
    };
    runs::each(text.as_bytes(), |start, end, special| {
        if special {
            counter.special(text, start, end);
        } else {
            // Lower-case ASCII, most words of most text: counted as it is.
            counter.push(text, start, end);
        }
    });
    counter.finish()
}

/// The words of one text on their way into the table: each word's slot is
/// fetched when it is found, and looked up `AHEAD` words later.
struct Counter<'a> {
    two_byte: &'a [u32; 0x800],
    table: Table,
    /// The last `AHEAD` keys found (with their hashes), by `found % AHEAD`.
    ahead: [(Key, u64); AHEAD],
    found: usize,
    /// Where a word that is not lower-case is lower-cased.
    lowered: String,
}

impl Counter<'_> {
    /// Takes the lower-case word `text[start..end]` (its key is read with
    /// the bytes after it, when `text` has them).
    #[inline(always)]
    fn push(&mut self, text: &str, start: usize, end: usize) {
        let len = end - start;
        if len > KEY_BYTES {
            // Rare: no look-ahead for these.
            self.table.bump_long(&text[start..end]);
            return;
        }
        self.push_key(Table::key(text.as_bytes(), start, len));
    }

    /// Takes the word whose key is `key`.
    #[inline(always)]
    fn push_key(&mut self, key: Key) {
        let hash = Table::hash(key);
        self.table.prefetch(hash);
        let (old, old_hash) = std::mem::replace(&mut self.ahead[self.found % AHEAD], (key, hash));
        if self.found >= AHEAD {
            self.table.bump(old, old_hash);
        }
        self.found += 1;
    }

    /// Looks up the keys still waiting; the table.
    fn finish(mut self) -> Table {
        for &(key, hash) in &self.ahead[..self.found.min(AHEAD)] {
            self.table.bump(key, hash);
        }
        self.table
    }

    /// Takes the words of the run `text[start..end]`, which has a capital
    /// or a byte from 0x80 up: lower-cased in its key when it is one short
    /// word of ASCII and Latin-1 letters (most such runs), else char by
    /// char.
    #[inline(always)]
    fn special(&mut self, text: &str, start: usize, end: usize) {
        let len = end - start;
        if len <= KEY_BYTES {
            if let Some(key) = fold::latin(Table::key(text.as_bytes(), start, len)) {
                self.push_key(key);
                return;
            }
        }
        self.run(&text[start..end]);
    }

    /// Takes the words of `run` (no ASCII separator in it, but maybe other
    /// ones), char by char.
    fn run(&mut self, run: &str) {
        let two_byte = self.two_byte;
        let mut i = 0;
        while i < run.len() {
            let (class, len) = scan(run, i, two_byte);
            if class == SEP {
                i += len;
                continue;
            }
            let start = i;
            let mut hardest = class;
            i += len;
            while i < run.len() {
                let (class, len) = scan(run, i, two_byte);
                if class == SEP {
                    break;
                }
                hardest = hardest.max(class);
                i += len;
            }
            let word = &run[start..i];
            let mut lowered = std::mem::take(&mut self.lowered);
            match hardest {
                LOWER => {
                    self.push(run, start, i);
                    self.lowered = lowered;
                    continue;
                }
                SIMPLE => lower_simple(word, two_byte, &mut lowered),
                _ => lower_any(word, &mut lowered),
            }
            self.push(&lowered, 0, lowered.len());
            self.lowered = lowered;
        }
    }
}

/// Lower-cases a word whose chars are all `SIMPLE` or `LOWER`: ASCII, in
/// `two_byte` with a one-char lower case, or (from U+0800 up) their own
/// lower case, like the CJK in `Tokyo東京`.
fn lower_simple(word: &str, two_byte: &[u32; 0x800], out: &mut String) {
    out.clear();
    for c in word.chars() {
        let lower = match u32::from(c) {
            0..0x80 => c.to_ascii_lowercase(),
            cp @ 0x80..0x800 => char::from_u32(two_byte[cp as usize]).unwrap_or(c),
            _ => c,
        };
        out.push(lower);
    }
}

/// `word.to_lowercase()` into a reused buffer. Char by char gives the same
/// result except for `Σ`, whose lower case depends on its place in the
/// word (final sigma): only words with one take `str::to_lowercase`.
fn lower_any(word: &str, out: &mut String) {
    out.clear();
    if word.contains('Σ') {
        out.push_str(&word.to_lowercase());
    } else {
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
}

/// Counts one chunk of raw bytes. `offset` is where the chunk starts in its
/// input, for the error's offset.
///
/// # Errors
/// [`ChunkError::InvalidUtf8`] if the bytes are not UTF-8, unless `lossy`:
/// then each invalid sequence is read as U+FFFD, which is not alphanumeric,
/// so it separates words.
pub fn count_bytes(bytes: &[u8], offset: u64, lossy: bool) -> Result<Counts, ChunkError> {
    let table = count_chunk(bytes, offset, lossy)?;
    let mut counts = Counts::with_capacity_and_hasher(table.len(), FxBuildHasher);
    counts.extend(table.into_counts());
    Ok(counts)
}

/// [`count_bytes`] into a counting table.
fn count_chunk(bytes: &[u8], offset: u64, lossy: bool) -> Result<Table, ChunkError> {
    // simdutf8 checks mostly-ASCII text several times faster than std.
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => Ok(count_text(text)),
        Err(_) if lossy => Ok(count_text(&String::from_utf8_lossy(bytes))),
        Err(_) => {
            // Only std's error says where: pay for it on the error path.
            let valid = std::str::from_utf8(bytes).map_or_else(|e| e.valid_up_to(), |_| 0);
            Err(ChunkError::InvalidUtf8 {
                offset: offset + valid as u64,
            })
        }
    }
}

/// Which of `parts` partitions `word` belongs to. The high bits of a
/// multiplied hash: `Counts` tables index by the low bits of the same hash,
/// and a partition of words sharing their low bits would crowd them.
pub fn partition_of(word: &str, parts: usize) -> usize {
    let h = FxBuildHasher
        .hash_one(word)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (((h >> 32) * parts as u64) >> 32) as usize
}

/// The shuffle's first half: splits one chunk's counts into `parts`
/// partitions by [`partition_of`].
pub fn partition(counts: Counts, parts: usize) -> Vec<Counts> {
    let len = counts.len();
    partition_words(counts, len, parts)
}

/// [`partition`] of `len` words with their counts.
fn partition_words(
    words: impl IntoIterator<Item = (Word, u64)>,
    len: usize,
    parts: usize,
) -> Vec<Counts> {
    let parts = parts.max(1);
    let mut out: Vec<Counts> = (0..parts)
        .map(|_| Counts::with_capacity_and_hasher(len / parts + 1, FxBuildHasher))
        .collect();
    for (word, n) in words {
        let p = partition_of(&word, parts);
        out[p].insert(word, n);
    }
    out
}

/// The map step of one chunk: count, then partition.
///
/// # Errors
/// As [`count_bytes`].
pub fn map_bytes(
    bytes: &[u8],
    offset: u64,
    lossy: bool,
    parts: usize,
) -> Result<Vec<Counts>, ChunkError> {
    let table = count_chunk(bytes, offset, lossy)?;
    let len = table.len();
    Ok(partition_words(table.into_counts(), len, parts))
}

/// The map step of the chunk `offset..offset + len` of the file at `path`
/// (cut by [`plan_file`]): reads it, counts it, partitions it.
///
/// # Errors
/// [`ChunkError::Read`] if the file cannot be read or is now shorter;
/// otherwise as [`count_bytes`].
pub fn map_file_chunk(
    path: &Path,
    offset: u64,
    len: u64,
    lossy: bool,
    parts: usize,
) -> Result<Vec<Counts>, ChunkError> {
    let file = File::open(path)?;
    let mut buf =
        vec![0; usize::try_from(len).map_err(|_| ChunkError::Read("chunk too big".into()))?];
    file.read_exact_at(&mut buf, offset)?;
    map_bytes(&buf, offset, lossy, parts)
}

/// The reduce step: merges pieces of one partition into one (into the
/// biggest, so the fewest words move).
///
/// ```
/// use hilo_work::words::{reduce, Counts};
///
/// let a: Counts = [("x".into(), 2), ("y".into(), 1)].into_iter().collect();
/// let b: Counts = [("x".into(), 3)].into_iter().collect();
/// let merged = reduce(vec![a, b]);
/// assert_eq!((merged["x"], merged["y"]), (5, 1));
/// ```
pub fn reduce(mut pieces: Vec<Counts>) -> Counts {
    let biggest = (0..pieces.len())
        .max_by_key(|&i| pieces[i].len())
        .unwrap_or(0);
    if pieces.is_empty() {
        return Counts::default();
    }
    let mut total = pieces.swap_remove(biggest);
    for piece in pieces {
        for (word, n) in piece {
            *total.entry(word).or_insert(0) += n;
        }
    }
    total
}

/// Most frequent first, ties by the word's bytes.
fn rank_order(a: &(Word, u64), b: &(Word, u64)) -> std::cmp::Ordering {
    b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0))
}

/// The `top` most frequent words (all of them if `top` is 0), most
/// frequent first, ties by the word's bytes.
///
/// ```
/// use hilo_work::words::{ranked, Word};
///
/// let words = vec![(Word::from("b"), 2), (Word::from("a"), 2), (Word::from("c"), 5)];
/// assert_eq!(ranked(words, 2), [(Word::from("c"), 5), (Word::from("a"), 2)]);
/// ```
pub fn ranked(mut words: Vec<(Word, u64)>, top: usize) -> Vec<(Word, u64)> {
    if top > 0 && top < words.len() {
        words.select_nth_unstable_by(top - 1, rank_order);
        words.truncate(top);
    }
    words.sort_unstable_by(rank_order);
    words
}

/// Whether a cut may come right after byte `b` without a line end nearby:
/// an ASCII byte that is not alphanumeric ends any word and is never part
/// of a multi-byte UTF-8 sequence.
fn is_ascii_separator(b: u8) -> bool {
    b < 0x80 && ASCII_CLASS[usize::from(b)] == SEP
}

/// How far past a nominal cut to look for a line end before settling for
/// any ASCII separator (lines longer than this are cut inside).
fn line_scan_limit(chunk_size: u64) -> u64 {
    (chunk_size / 4).max(1)
}

/// Cuts a regular file of `size` bytes into chunks of about `chunk_size`
/// bytes, as `(offset, len)` pairs covering the whole file.
///
/// A chunk ends right after the first `\n` at or past its nominal end; on a
/// line longer than a quarter of `chunk_size`, after the first ASCII byte
/// that is not alphanumeric. Either way no word and no UTF-8 character is
/// ever cut. Only a few bytes around each cut are read, so planning a huge
/// file costs little memory.
///
/// # Errors
/// The I/O error of a failed read.
pub fn plan_file(file: &File, size: u64, chunk_size: u64) -> io::Result<Vec<(u64, u64)>> {
    let chunk_size = chunk_size.max(1);
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < size {
        let nominal = start + chunk_size;
        let end = if nominal >= size {
            size
        } else {
            find_cut(file, nominal, size, line_scan_limit(chunk_size))?
        };
        chunks.push((start, end - start));
        start = end;
    }
    Ok(chunks)
}

/// The first cut at or after `nominal` (see [`plan_file`]).
fn find_cut(file: &File, nominal: u64, size: u64, scan_limit: u64) -> io::Result<u64> {
    let mut buf = vec![0; 64 << 10];
    // Start one byte early: a line ending exactly at `nominal` cuts there.
    let mut pos = nominal - 1;
    let line_zone_end = nominal + scan_limit;
    let mut separator_cut = None;
    while pos < size {
        let want = buf
            .len()
            .min(usize::try_from(size - pos).unwrap_or(usize::MAX));
        let n = file.read_at(&mut buf[..want], pos)?;
        if n == 0 {
            break; // the file shrank: the reader will say so
        }
        let window = &buf[..n];
        let zone = n.min(usize::try_from(line_zone_end.saturating_sub(pos)).unwrap_or(n));
        if let Some(i) = memchr::memchr(b'\n', &window[..zone]) {
            return Ok(pos + i as u64 + 1);
        }
        if separator_cut.is_none() {
            separator_cut = window
                .iter()
                .position(|&b| is_ascii_separator(b))
                .map(|i| pos + i as u64 + 1);
        }
        pos += n as u64;
        if let (Some(cut), true) = (separator_cut, pos >= line_zone_end) {
            return Ok(cut);
        }
    }
    Ok(separator_cut.unwrap_or(size))
}

/// Cuts a stream (stdin, a pipe) into chunks of about `chunk_size` bytes
/// as it is read, with the rules of [`plan_file`] but cutting after the
/// last line end of what has been read; yields `(offset, bytes)`. Holds at
/// most one chunk plus what is left of a line.
///
/// A read error ends the iteration with that error as the last item.
pub struct StreamChunks<R> {
    reader: R,
    chunk_size: usize,
    /// Read but not yet yielded: the start of the next chunk.
    carry: Vec<u8>,
    offset: u64,
    done: bool,
}

impl<R: Read> StreamChunks<R> {
    /// Chunks of `reader`, about `chunk_size` bytes each.
    ///
    /// ```
    /// use hilo_work::words::StreamChunks;
    ///
    /// let chunks: Vec<_> = StreamChunks::new(&b"one two\nthree\nfour"[..], 10)
    ///     .map(Result::unwrap)
    ///     .collect();
    /// assert_eq!(chunks[0], (0, b"one two\n".to_vec()));
    /// assert_eq!(chunks[1], (8, b"three\n".to_vec()));
    /// assert_eq!(chunks[2], (14, b"four".to_vec()));
    /// ```
    pub fn new(reader: R, chunk_size: usize) -> Self {
        StreamChunks {
            reader,
            chunk_size: chunk_size.max(1),
            carry: Vec::new(),
            offset: 0,
            done: false,
        }
    }

    /// Reads until `buf` holds `want` bytes or the input ends; true at the end.
    fn fill(&mut self, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
        while buf.len() < want {
            let have = buf.len();
            buf.resize(want, 0);
            match self.reader.read(&mut buf[have..]) {
                Ok(0) => {
                    buf.truncate(have);
                    return Ok(true);
                }
                Ok(n) => buf.truncate(have + n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(have),
                Err(e) => {
                    buf.truncate(have);
                    return Err(e);
                }
            }
        }
        Ok(false)
    }

    /// Where to cut `buf` (a full read, the input goes on), or `None` if it
    /// has no place to cut yet.
    fn cut(&self, buf: &[u8]) -> Option<usize> {
        if let Some(i) = memchr::memrchr(b'\n', buf) {
            return Some(i + 1);
        }
        buf.iter()
            .rposition(|&b| is_ascii_separator(b))
            .map(|i| i + 1)
    }
}

impl<R: Read> Iterator for StreamChunks<R> {
    type Item = io::Result<(u64, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut buf = std::mem::take(&mut self.carry);
        let mut want = self.chunk_size;
        // Where to cut, or `None` at the end of the input.
        let cut = loop {
            match self.fill(&mut buf, want) {
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(true) => break None,
                Ok(false) => match self.cut(&buf) {
                    Some(cut) => break Some(cut),
                    // One word longer than a chunk: read on until it ends.
                    None => want += self.chunk_size,
                },
            }
        };
        match cut {
            Some(cut) => self.carry = buf.split_off(cut),
            None => {
                self.done = true;
                if buf.is_empty() {
                    return None;
                }
            }
        }
        let offset = self.offset;
        self.offset += buf.len() as u64;
        Some(Ok((offset, buf)))
    }
}
