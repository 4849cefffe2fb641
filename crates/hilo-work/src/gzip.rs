//! Gzip, the parallel way pigz does it: a stream is cut into blocks that
//! compress independently, each primed with the 32 KiB of input before it
//! as a preset dictionary and ending on a byte boundary, so the raw deflate
//! pieces, concatenated in order under one header and one trailer (the
//! CRC-32s combined, the lengths added), form one ordinary gzip member that
//! `gzip -d` reads.
//!
//! This module owns the format: splitting input into [`BlockJob`]s,
//! compressing one block ([`compress_block`]), the header and trailer
//! ([`header`], [`Member`]), the one-thread path ([`compress_stream`]) and
//! decompression ([`decompress`]). It never opens, names, renames or
//! removes files, and never decides what runs in parallel: the caller
//! hands blocks to a pool and writes the results in order.
//!
//! ```
//! use hilo_work::gzip::{compress_block, header, Blocks, Member};
//!
//! let text = b"hello hello hello, parallel gzip\n".repeat(10_000);
//! let mut out = header(6, 0, None);
//! let mut member = Member::default();
//! for job in Blocks::new(&text[..], 6) {
//!     let block = compress_block(&job?)?;
//!     out.extend_from_slice(&block.deflate);
//!     member.add(&block);
//! }
//! out.extend_from_slice(&member.trailer());
//!
//! let mut back = Vec::new();
//! hilo_work::gzip::decompress(&out[..], &mut back)?;
//! assert_eq!(back, text);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};

use flate2::{Compress, Compression, FlushCompress, Status};
use serde::{Deserialize, Serialize};

/// Input bytes per block: pigz's default, big enough that the dictionary
/// copy and the flush marker cost well under 1%, small enough that a 5 MB
/// file still gives every core dozens of blocks.
pub const BLOCK_SIZE: usize = 128 * 1024;

/// Bytes of preceding input each block gets as its dictionary: deflate's
/// whole window, so a block loses no match a single stream would find.
pub const DICT_SIZE: usize = 32 * 1024;

/// What went wrong inside the compressor (never the caller's I/O).
#[derive(Debug, thiserror::Error)]
pub enum GzipError {
    /// The level was outside 1..=9.
    #[error("compression level {0} is not between 1 and 9")]
    BadLevel(u32),
    /// The deflate backend refused the data or the dictionary.
    #[error("the deflate backend failed: {0}")]
    Backend(String),
}

/// One block to compress: what a pool task receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockJob {
    /// Up to [`DICT_SIZE`] bytes of input just before `data` (empty for
    /// the first block).
    pub dict: Vec<u8>,
    /// The block's input, at most [`BLOCK_SIZE`] bytes.
    pub data: Vec<u8>,
    /// Whether this is the stream's last block (it then ends the deflate
    /// stream instead of flushing).
    pub last: bool,
    /// Compression level, 1 (fastest) to 9 (smallest).
    pub level: u32,
}

/// One compressed block: what a pool task returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// Raw deflate bytes, ending on a byte boundary.
    pub deflate: Vec<u8>,
    /// CRC-32 of the block's input.
    pub crc: u32,
    /// Length of the block's input.
    pub len: u64,
}

/// The backend level for a gzip level. zlib-rs (a port of zlib-ng) makes
/// its level 1 a "quick" mode with fixed Huffman codes only, which came out
/// 28% bigger than `gzip -1` on text and grows random data by 5%, and its
/// level 9 compressed about 2% worse than its level 8 on the bench corpus;
/// so `-1` uses its level 2 (still faster than `gzip -1`, and smaller) and
/// `-9` its level 8 (smaller than `gzip -9`).
fn backend_level(level: u32) -> Result<Compression, GzipError> {
    match level {
        1 => Ok(Compression::new(2)),
        9 => Ok(Compression::new(8)),
        2..=8 => Ok(Compression::new(level)),
        _ => Err(GzipError::BadLevel(level)),
    }
}

/// Compresses one block: primes the deflater with `job.dict`, deflates
/// `job.data`, and ends with a sync flush (a byte boundary, the stream
/// still open) or, for the last block, with the end of the stream.
///
/// # Errors
/// [`GzipError::BadLevel`] for a level outside 1..=9, [`GzipError::Backend`]
/// if the deflate backend fails (it has no reason to on valid input).
pub fn compress_block(job: &BlockJob) -> Result<Block, GzipError> {
    let compression = backend_level(job.level)?;
    // A fresh deflate state per block, not one reset per thread: a reset
    // zlib-rs state keeps stale window bytes that can change the matches
    // it picks, so the output would depend on which thread compressed
    // which block. Fresh, the same input gives the same bytes for any -j
    // and engine, and the allocation costs well under 1% of a block.
    let deflate = deflate_block(&mut Compress::new(compression, false), job)?;
    Ok(Block {
        deflate,
        crc: crc32fast::hash(&job.data),
        len: job.data.len() as u64,
    })
}

fn deflate_block(d: &mut Compress, job: &BlockJob) -> Result<Vec<u8>, GzipError> {
    let backend = |e: flate2::CompressError| GzipError::Backend(e.to_string());
    if !job.dict.is_empty() {
        d.set_dictionary(&job.dict).map_err(backend)?;
    }
    let flush = if job.last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    // Room for incompressible data plus block headers and the flush
    // marker, so one call usually suffices.
    let mut out = Vec::with_capacity(job.data.len() + job.data.len() / 16 + 64);
    let start = d.total_in();
    loop {
        let done_in = usize::try_from(d.total_in() - start).unwrap_or(usize::MAX);
        let rest = job.data.get(done_in..).unwrap_or(&[]);
        let status = d.compress_vec(rest, &mut out, flush).map_err(backend)?;
        let all_in = d.total_in() - start == job.data.len() as u64;
        let room_left = out.len() < out.capacity();
        match status {
            Status::StreamEnd => return Ok(out),
            // zlib's rule: a flush is complete when all input is taken and
            // the output was not filled to the brim.
            _ if !job.last && all_in && room_left => return Ok(out),
            _ => out.reserve(out.capacity().max(4096)),
        }
    }
}

/// A gzip member header: `mtime` in seconds since the epoch (0 for none),
/// `name` the original file name (stored like gzip does, without any NUL),
/// the extra flags telling the level as gzip sets them.
pub fn header(level: u32, mtime: u32, name: Option<&[u8]>) -> Vec<u8> {
    const FNAME: u8 = 0x08;
    const OS_UNIX: u8 = 3;
    let name = name.filter(|n| !n.is_empty() && !n.contains(&0));
    let flags = if name.is_some() { FNAME } else { 0 };
    let xfl = match level {
        9 => 2, // maximum compression
        1 => 4, // fastest
        _ => 0,
    };
    let mut h = vec![0x1f, 0x8b, 8, flags];
    h.extend_from_slice(&mtime.to_le_bytes());
    h.extend_from_slice(&[xfl, OS_UNIX]);
    if let Some(name) = name {
        h.extend_from_slice(name);
        h.push(0);
    }
    h
}

/// What a member's header says, and how long it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeaderInfo {
    /// The header's length in bytes.
    pub len: u64,
    /// The original file name (`FNAME`), if stored.
    pub name: Option<Vec<u8>>,
    /// The original modification time (0: none stored).
    pub mtime: u32,
}

/// Reads the header of the gzip member `reader` starts with (RFC 1952:
/// the fixed 10 bytes, then the optional extra field, name, comment and
/// header CRC the flags announce).
///
/// # Errors
/// [`io::ErrorKind::InvalidData`] if it is not a gzip header (or a
/// truncated one); any read error.
pub fn read_header<R: Read>(reader: R) -> io::Result<HeaderInfo> {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let mut reader = BufReader::new(reader);
    let mut fixed = [0u8; 10];
    reader
        .read_exact(&mut fixed)
        .map_err(|_| bad("not in gzip format"))?;
    if fixed[..3] != [0x1f, 0x8b, 8] {
        return Err(bad("not in gzip format"));
    }
    let flags = fixed[3];
    let mut info = HeaderInfo {
        len: 10,
        name: None,
        mtime: u32::from_le_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
    };
    let truncated = |_| bad("unexpected end of file");
    if flags & FEXTRA != 0 {
        let mut xlen = [0u8; 2];
        reader.read_exact(&mut xlen).map_err(truncated)?;
        let xlen = u16::from_le_bytes(xlen);
        io::copy(&mut (&mut reader).take(u64::from(xlen)), &mut io::sink())?;
        info.len += 2 + u64::from(xlen);
    }
    for (flag, keep) in [(FNAME, true), (FCOMMENT, false)] {
        if flags & flag != 0 {
            let mut text = Vec::new();
            reader.read_until(0, &mut text)?;
            if text.pop() != Some(0) {
                return Err(bad("unexpected end of file"));
            }
            info.len += text.len() as u64 + 1;
            if keep {
                info.name = Some(text);
            }
        }
    }
    if flags & FHCRC != 0 {
        info.len += 2;
    }
    Ok(info)
}

/// The running CRC-32 and length of a member's blocks, in order; gives the
/// 8-byte trailer.
#[derive(Debug, Default, Clone)]
pub struct Member {
    crc: crc32fast::Hasher,
    len: u64,
}

impl Member {
    /// Appends a block (blocks must be added in input order).
    pub fn add(&mut self, block: &Block) {
        // crc32 combine: the CRC of a concatenation from the parts' CRCs
        // and the second part's length, in O(log len).
        self.crc.combine(&crc32fast::Hasher::new_with_initial_len(
            block.crc, block.len,
        ));
        self.len += block.len;
    }

    /// Input bytes so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no input byte was added yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// CRC-32 then ISIZE (the length modulo 2³²), little-endian.
    pub fn trailer(&self) -> [u8; 8] {
        let mut t = [0; 8];
        t[..4].copy_from_slice(&self.crc.clone().finalize().to_le_bytes());
        // ISIZE is defined modulo 2^32: the truncation is the format.
        t[4..].copy_from_slice(&((self.len & 0xffff_ffff) as u32).to_le_bytes());
        t
    }
}

/// Cuts a reader into [`BlockJob`]s of [`BLOCK_SIZE`] bytes, each with its
/// dictionary; exactly one job has `last` set (an empty input gives one
/// empty last block). Reads one block ahead to know which block is last,
/// so at most two blocks of input are held.
#[derive(Debug)]
pub struct Blocks<R> {
    reader: R,
    level: u32,
    tail: Vec<u8>,
    ahead: Option<Vec<u8>>,
    done: bool,
}

impl<R: Read> Blocks<R> {
    /// Blocks of `reader` at `level`.
    pub fn new(reader: R, level: u32) -> Self {
        Blocks {
            reader,
            level,
            tail: Vec::new(),
            ahead: None,
            done: false,
        }
    }

    /// Reads up to BLOCK_SIZE bytes, short only at the end of input.
    fn read_block(&mut self) -> io::Result<Vec<u8>> {
        let mut buf = Vec::with_capacity(BLOCK_SIZE);
        (&mut self.reader)
            .take(BLOCK_SIZE as u64)
            .read_to_end(&mut buf)?;
        Ok(buf)
    }
}

impl<R: Read> Iterator for Blocks<R> {
    type Item = io::Result<BlockJob>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let step = (|| {
            let data = match self.ahead.take() {
                Some(data) => data,
                None => self.read_block()?,
            };
            let last = if data.len() < BLOCK_SIZE {
                true
            } else {
                let next = self.read_block()?;
                let last = next.is_empty();
                self.ahead = Some(next).filter(|n| !n.is_empty());
                last
            };
            Ok((data, last))
        })();
        let (data, last) = match step {
            Ok(step) => step,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        self.done = last;
        let dict = std::mem::take(&mut self.tail);
        self.tail = tail_after(&dict, &data);
        Some(Ok(BlockJob {
            dict,
            data,
            last,
            level: self.level,
        }))
    }
}

/// The last DICT_SIZE bytes of `before` followed by `data`.
fn tail_after(before: &[u8], data: &[u8]) -> Vec<u8> {
    if data.len() >= DICT_SIZE {
        return data[data.len() - DICT_SIZE..].to_vec();
    }
    let keep = (DICT_SIZE - data.len()).min(before.len());
    let mut tail = before[before.len() - keep..].to_vec();
    tail.extend_from_slice(data);
    tail
}

/// Compresses `reader` into one gzip member on `writer` in this thread,
/// as a single deflate stream (no blocks): the sequential baseline.
/// Returns (input bytes, output bytes).
///
/// # Errors
/// Any read or write error; [`io::ErrorKind::InvalidInput`] for a bad level.
pub fn compress_stream<R: Read, W: Write>(
    reader: R,
    writer: W,
    level: u32,
) -> io::Result<(u64, u64)> {
    let compression =
        backend_level(level).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut counted = CountingWriter {
        inner: writer,
        n: 0,
    };
    let mut encoder = flate2::GzBuilder::new().write(&mut counted, compression);
    let n = io::copy(
        &mut BufReader::with_capacity(BLOCK_SIZE, reader),
        &mut encoder,
    )?;
    encoder.finish()?;
    Ok((n, counted.n))
}

struct CountingWriter<W> {
    inner: W,
    n: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// What [`decompress`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decompressed {
    /// Bytes written.
    pub bytes: u64,
    /// Bytes that are neither a gzip member nor zero padding followed
    /// the last member: ignored, as `gzip -d` ignores them (with a
    /// warning).
    pub trailing_garbage: bool,
    /// Bytes of the first member's header and trailer (what `gzip -v`
    /// leaves out of its ratio).
    pub framing: u64,
}

/// Decompresses all the gzip members of `reader` (as `gzip -d` does with
/// concatenated members) into `writer`, checking every CRC and length.
/// After the last member, zero bytes (the padding of tar and tape
/// output) are ignored, and so is anything else that does not start a
/// member, which [`Decompressed::trailing_garbage`] reports.
///
/// # Errors
/// [`io::ErrorKind::InvalidData`] when the input is not gzip (empty, wrong
/// magic) or is corrupt or truncated; any read or write error.
pub fn decompress<R: Read, W: Write>(reader: R, mut writer: W) -> io::Result<Decompressed> {
    let mut reader = BufReader::with_capacity(256 * 1024, reader);
    let start = reader.fill_buf()?;
    if start.is_empty() || (start.len() >= 2 && start[..2] != [0x1f, 0x8b]) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not in gzip format",
        ));
    }
    // Decoder errors come back as reads; writer errors as writes. Keep
    // them apart so a full disk is not reported as corrupt data.
    let mut buf = vec![0; 256 * 1024];
    let mut bytes = 0u64;
    let mut framing = None;
    loop {
        let mut member = flate2::bufread::GzDecoder::new(reader);
        loop {
            let n = match member.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(corrupt(e)),
            };
            writer.write_all(&buf[..n])?;
            bytes += n as u64;
        }
        framing = framing.or_else(|| member.header().map(|h| header_len(h) + 8));
        let first_framing = framing.unwrap_or(18);
        reader = member.into_inner();
        // What follows the member: another one (its first byte 0x1f, as
        // gzip decides), nothing, zero padding, or garbage.
        match reader.fill_buf()?.first() {
            None => {
                return Ok(Decompressed {
                    bytes,
                    trailing_garbage: false,
                    framing: first_framing,
                })
            }
            Some(0x1f) => continue,
            Some(_) => {
                return Ok(Decompressed {
                    bytes,
                    trailing_garbage: !only_zeros(&mut reader)?,
                    framing: first_framing,
                })
            }
        }
    }
}

/// The bytes of a member's header: the 10 fixed ones, then the extra
/// field, name and comment it has (a header CRC, rare, is not told).
fn header_len(h: &flate2::GzHeader) -> u64 {
    let extra = h.extra().map_or(0, |e| 2 + e.len());
    let name = h.filename().map_or(0, |n| n.len() + 1);
    let comment = h.comment().map_or(0, |c| c.len() + 1);
    (10 + extra + name + comment) as u64
}

/// Whether the rest of `reader` is zero bytes (read up to the first other).
fn only_zeros<R: BufRead>(reader: &mut R) -> io::Result<bool> {
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(true);
        }
        if chunk.iter().any(|&b| b != 0) {
            return Ok(false);
        }
        let n = chunk.len();
        reader.consume(n);
    }
}

/// A decoder error, told as gzip tells it.
fn corrupt(e: io::Error) -> io::Error {
    let what = match e.kind() {
        io::ErrorKind::UnexpectedEof => "unexpected end of file".to_string(),
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
            format!("invalid compressed data ({e})")
        }
        _ => return e,
    };
    io::Error::new(io::ErrorKind::InvalidData, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip_all(data: &[u8], level: u32) -> Vec<u8> {
        let mut out = header(level, 0, Some(b"x"));
        let mut member = Member::default();
        for job in Blocks::new(data, level) {
            let block = compress_block(&job.unwrap()).unwrap();
            out.extend_from_slice(&block.deflate);
            member.add(&block);
        }
        out.extend_from_slice(&member.trailer());
        out
    }

    fn text(len: usize) -> Vec<u8> {
        let words = ["alpha ", "beta ", "gamma\n", "delta ", "años "];
        let mut v = Vec::with_capacity(len + 8);
        let mut i = 7u64;
        while v.len() < len {
            i = i
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            v.extend_from_slice(words[(i >> 60) as usize % words.len()].as_bytes());
        }
        v.truncate(len);
        v
    }

    #[test]
    fn blocks_mark_only_the_last_and_carry_the_previous_32k() {
        for len in [
            0,
            1,
            BLOCK_SIZE - 1,
            BLOCK_SIZE,
            BLOCK_SIZE + 1,
            3 * BLOCK_SIZE,
        ] {
            let data = text(len);
            let jobs: Vec<_> = Blocks::new(&data[..], 6).map(Result::unwrap).collect();
            assert_eq!(jobs.iter().filter(|j| j.last).count(), 1, "len {len}");
            assert!(jobs.last().unwrap().last);
            let mut seen = Vec::new();
            for job in &jobs {
                let want = &seen[seen.len().saturating_sub(DICT_SIZE)..];
                assert_eq!(job.dict, want, "len {len}");
                seen.extend_from_slice(&job.data);
            }
            assert_eq!(seen, data);
        }
    }

    #[test]
    fn blocks_round_trip_through_the_decoder_at_every_level() {
        let data = text(3 * BLOCK_SIZE + 1000);
        for level in 1..=9 {
            let mut back = Vec::new();
            decompress(&gzip_all(&data, level)[..], &mut back).unwrap();
            assert_eq!(back, data, "level {level}");
        }
    }

    #[test]
    fn a_bad_level_is_an_error_not_a_panic() {
        let job = BlockJob {
            dict: Vec::new(),
            data: b"x".to_vec(),
            last: true,
            level: 10,
        };
        assert!(matches!(compress_block(&job), Err(GzipError::BadLevel(10))));
    }

    #[test]
    fn garbage_and_truncation_are_invalid_data() {
        let mut sink = Vec::new();
        for bad in [&b""[..], b"hello world"] {
            let e = decompress(bad, &mut sink).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{bad:?}");
        }
        let good = gzip_all(&text(50_000), 6);
        let e = decompress(&good[..good.len() - 5], &mut sink).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        let mut flipped = good.clone();
        let at = good.len() - 6; // inside the CRC
        flipped[at] ^= 1;
        let e = decompress(&flipped[..], &mut sink).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }
}
