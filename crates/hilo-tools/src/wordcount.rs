//! `hilo wordcount`: MapReduce word count over files or stdin.
//!
//! Owns the command line, opening the inputs, the map → shuffle → reduce
//! loop on a hilo pool (threads or processes) and printing. What a word is,
//! how input is cut and how counts merge live in `hilo_work::words`;
//! this file never looks at a word itself.
//!
//! The flow: every input is opened (and regular files cut into chunks at
//! line ends) before any counting, so a missing file fails at once. Chunks
//! go to the pool lazily, a bounded window at a time (map: count the
//! chunk, split its counts into partitions by a hash of the word). The
//! main thread files each chunk's pieces under their partition (shuffle);
//! when a partition holds `FAN_IN` pieces they go to the pool to be merged
//! (reduce), so memory stays bounded by the vocabulary, not by the input.
//! At the end each partition is merged to one, and the words are ranked.

use std::cell::RefCell;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use hilo::{Executor, Future};
use hilo_term::Failure;
use hilo_work::io_message;
use hilo_work::words::{self, ChunkError, Counts, StreamChunks, Word};

use crate::common::{Engine, Place, Pool};

/// A partition's pieces are merged once this many wait.
const FAN_IN: usize = 8;
/// Inputs at least this big get a progress bar (on a terminal).
const PROGRESS_MIN_BYTES: u64 = 64 << 20;
/// Process workers take one message of at most 64 MiB: stdin chunks sent
/// to them must stay well below it.
const MAX_PROCESS_CHUNK: u64 = 32 << 20;

const AFTER_HELP: &str = "\
Words:
  A word is a maximal run of Unicode letters and digits (char::is_alphanumeric);
  anything else separates words, including _ ' and -. Words are lower-cased with
  full Unicode rules: Niño and niño are one word, año and ano are two, a final Σ
  becomes ς. Input must be UTF-8: invalid bytes are an error naming the file and
  byte offset, unless --lossy reads them as separators.

Output:
  One line per word, most frequent first, ties in byte order of the word: the
  count right-aligned in 7 columns (wider if needed), a space, the word, as
  `sort | uniq -c` prints. --json prints one object instead:
  {\"words\": total, \"distinct\": N, \"files\": N, \"seconds\": S,
   \"counts\": [{\"word\": \"the\", \"count\": 123}, ...]}

How:
  MapReduce: inputs are cut into chunks at line ends (one big file is counted in
  parallel too, reading one chunk per job at a time), each chunk's words are
  counted (map), split by a hash of the word into partitions (shuffle), and each
  partition is merged in parallel (reduce).

Examples:
  hilo wordcount book.txt                       the 20 most frequent words
  hilo wordcount --top 0 *.txt > counts.txt     every word
  cat *.txt | hilo wordcount --json | jq .distinct
  hilo wordcount --engine processes -j 4 big.txt

Exit status:
  0  counted      1  an input could not be read or is not UTF-8      2  usage error";

/// Count words in files or stdin (MapReduce), most frequent first.
///
/// Counts every word of the inputs in parallel and prints the most frequent
/// ones with their counts, like `tr -cs '[:alnum:]' '\n' | sort | uniq -c |
/// sort -rn`, but Unicode-aware and using every core.
#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Print the N most frequent words; 0 prints every word (--top 0)
    #[arg(short = 'n', long, value_name = "N", default_value_t = 20)]
    top: usize,

    /// Print one JSON object with the counts and totals (words, distinct,
    /// files, seconds) instead of lines (--json | jq .words)
    #[arg(long)]
    json: bool,

    /// Read invalid UTF-8 bytes as word separators instead of failing
    #[arg(long)]
    lossy: bool,

    /// Where chunks are counted: threads (fastest) or processes (each chunk
    /// in a worker process)
    #[arg(long, value_enum, default_value_t = Engine::Threads)]
    engine: Engine,

    /// Count on the workers (hilo worker URL) of this Redis server: this
    /// machine reads the files and sends them in chunks, so the workers
    /// need no shared filesystem
    #[arg(long, value_name = "URL", conflicts_with = "engine")]
    cluster: Option<String>,

    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = hilo_term::parse_jobs, allow_negative_numbers = true,
          help = hilo_term::JOBS_HELP)]
    jobs: Option<hilo_term::Jobs>,

    /// Bytes per chunk, with an optional K, M or G suffix (--chunk-size 4M)
    #[arg(long, value_name = "SIZE", default_value = "8M", value_parser = parse_size)]
    chunk_size: u64,

    /// Files to read; none, or -, reads stdin
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let bad = || format!("expected a size such as 65536, 64K, 8M or 1G, got {s:?}");
    let (digits, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c.to_ascii_uppercase()),
        _ => (s, 'B'),
    };
    let shift = match unit {
        'B' => 0,
        'K' => 10,
        'M' => 20,
        'G' => 30,
        _ => return Err(bad()),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    match n.checked_mul(1 << shift) {
        Some(bytes @ 1..=0x4000_0000) => Ok(bytes),
        _ => Err(format!(
            "the chunk size must be from 1 byte to 1G, got {s:?}"
        )),
    }
}

/// Runs `hilo wordcount`; returns the exit status.
pub fn main(args: Args) -> u8 {
    hilo_term::exit_status("wordcount", run(args))
}

fn run(args: Args) -> Result<(), Failure> {
    let place = Place::of(args.engine, args.cluster.as_ref());
    if place != Place::Here(Engine::Threads) && args.chunk_size > MAX_PROCESS_CHUNK {
        return Err(Failure::usage(
            "--chunk-size above 32M needs --engine threads (process and cluster workers take \
             at most 64 MiB per message)",
        ));
    }
    let started = Instant::now();
    let jobs = crate::common::jobs(args.jobs);
    // A cluster's workers cannot read this machine's files: they get bytes.
    let ship = matches!(place, Place::Cluster(_));
    let inputs = open_inputs(&args.files, args.chunk_size, ship)?;
    let pool = Pool::new(&place, jobs, "wordcount").map_err(Failure::failed)?;
    let settings = MapSettings {
        lossy: args.lossy,
        parts: (4 * jobs).clamp(4, 256),
    };
    let names: Vec<String> = inputs.iter().map(|i| i.name.clone()).collect();
    let words = map_reduce(&pool, inputs, settings, args.chunk_size, &names)?;
    drop(pool);
    let seconds = started.elapsed().as_secs_f64();
    let total: u64 = words.iter().map(|(_, n)| n).sum();
    let distinct = words.len();
    let top = words::ranked(words, args.top);
    let printed = if args.json {
        print_json(&top, total, distinct, names.len(), seconds)
    } else {
        print_lines(&top)
    };
    // A reader that stopped early (`| head`) is not an error.
    printed.map_err(Failure::output)
}

fn print_lines(top: &[(Word, u64)]) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    for (word, n) in top {
        writeln!(out, "{n:>7} {word}")?;
    }
    out.flush()
}

fn print_json(
    top: &[(Word, u64)],
    total: u64,
    distinct: usize,
    files: usize,
    seconds: f64,
) -> io::Result<()> {
    let counts: Vec<_> = top
        .iter()
        .map(|(w, n)| serde_json::json!({ "word": w, "count": n }))
        .collect();
    let doc = serde_json::json!({
        "words": total,
        "distinct": distinct,
        "files": files,
        "seconds": (seconds * 1e6).round() / 1e6,
        "counts": counts,
    });
    let mut out = BufWriter::new(io::stdout().lock());
    serde_json::to_writer(&mut out, &doc)?;
    writeln!(out)?;
    out.flush()
}

/// One input, opened: its name for messages and how it is read.
struct Input {
    name: String,
    source: Source,
}

enum Source {
    /// A regular file, already cut into `(offset, len)` chunks, read by the
    /// workers themselves.
    File {
        path: Arc<Path>,
        size: u64,
        cuts: Vec<(u64, u64)>,
    },
    /// stdin, a pipe or a device: read here as it comes and sent.
    Stream(Box<dyn Read>),
}

/// Opens every input (stdin if none); regular files are cut into chunks,
/// unless `ship`: then they are read here, as streams are, and sent.
fn open_inputs(files: &[PathBuf], chunk_size: u64, ship: bool) -> Result<Vec<Input>, Failure> {
    let stdin = || Input {
        name: "<stdin>".into(),
        source: Source::Stream(Box::new(io::stdin().lock())),
    };
    if files.is_empty() {
        return Ok(vec![stdin()]);
    }
    let mut inputs = Vec::with_capacity(files.len());
    for path in files {
        if path.as_os_str() == "-" {
            inputs.push(stdin());
            continue;
        }
        let name = path.display().to_string();
        let fail = |e: io::Error| Failure::failed(format!("{name}: {}", io_message(&e)));
        let file = File::open(path).map_err(fail)?;
        let meta = file.metadata().map_err(fail)?;
        let source = if meta.is_dir() {
            return Err(Failure::failed(format!("{name}: is a directory")));
        } else if meta.is_file() && !ship {
            let cuts = words::plan_file(&file, meta.len(), chunk_size).map_err(fail)?;
            Source::File {
                path: Arc::from(path.as_path()),
                size: meta.len(),
                cuts,
            }
        } else {
            Source::Stream(Box::new(file))
        };
        inputs.push(Input { name, source });
    }
    Ok(inputs)
}

/// One unit of map work, from the input numbered `input`.
enum Chunk {
    /// `len` bytes at `offset` of the file at `path`: the worker reads them.
    File {
        input: usize,
        path: Arc<Path>,
        offset: u64,
        len: u64,
    },
    /// Bytes already read from a stream, starting at `offset` of it.
    Bytes {
        input: usize,
        offset: u64,
        data: Vec<u8>,
    },
}
/// A stream's read error (input, error), which ends the chunks.
type ReadError = Rc<RefCell<Option<(usize, io::Error)>>>;

/// Every chunk of every input, in order, lazily: a stream is read only as
/// the pool takes its chunks.
struct Chunks {
    inputs: std::iter::Enumerate<std::vec::IntoIter<Input>>,
    current: Option<(usize, Current)>,
    chunk_size: usize,
    error: ReadError,
}

enum Current {
    File(Arc<Path>, std::vec::IntoIter<(u64, u64)>),
    Stream(StreamChunks<Box<dyn Read>>),
}

impl Iterator for Chunks {
    type Item = Chunk;

    fn next(&mut self) -> Option<Chunk> {
        loop {
            if self.error.borrow().is_some() {
                return None;
            }
            let Some((input, current)) = &mut self.current else {
                let (i, input) = self.inputs.next()?;
                self.current = Some((i, self.start(input.source)));
                continue;
            };
            let chunk = match current {
                Current::File(path, cuts) => cuts.next().map(|(offset, len)| Chunk::File {
                    input: *input,
                    path: Arc::clone(path),
                    offset,
                    len,
                }),
                Current::Stream(stream) => match stream.next() {
                    Some(Ok((offset, data))) => Some(Chunk::Bytes {
                        input: *input,
                        offset,
                        data,
                    }),
                    Some(Err(e)) => {
                        *self.error.borrow_mut() = Some((*input, e));
                        return None;
                    }
                    None => None,
                },
            };
            match chunk {
                Some(chunk) => return Some(chunk),
                None => self.current = None,
            }
        }
    }
}

impl Chunks {
    fn start(&self, source: Source) -> Current {
        match source {
            Source::File { path, cuts, .. } => Current::File(path, cuts.into_iter()),
            Source::Stream(reader) => Current::Stream(StreamChunks::new(reader, self.chunk_size)),
        }
    }
}

#[derive(Clone, Copy, serde::Serialize, serde::Deserialize)]
struct MapSettings {
    lossy: bool,
    parts: usize,
}

/// A chunk's map result: which input and how many bytes it was (results
/// come back in completion order), and its counts split into partitions.
#[derive(serde::Serialize, serde::Deserialize)]
struct Mapped {
    input: usize,
    len: u64,
    pieces: Result<Vec<Counts>, ChunkError>,
}

/// The map task for a file chunk (on either engine). The path travels
/// as bytes: a path need not be UTF-8.
#[hilo::task]
fn map_file_task(input: usize, path: Vec<u8>, offset: u64, len: u64, s: MapSettings) -> Mapped {
    let path = Path::new(OsStr::from_bytes(&path));
    let pieces = words::map_file_chunk(path, offset, len, s.lossy, s.parts);
    Mapped { input, len, pieces }
}

/// The map task for bytes read from a stream (on either engine).
#[hilo::task]
fn map_bytes_task(input: usize, data: Vec<u8>, offset: u64, s: MapSettings) -> Mapped {
    let pieces = words::map_bytes(&data, offset, s.lossy, s.parts);
    let len = data.len() as u64;
    Mapped { input, len, pieces }
}

/// The reduce task: merges pieces of one partition (on either engine).
#[hilo::task]
fn reduce_task(pieces: Vec<Counts>) -> Counts {
    words::reduce(pieces)
}

/// The call that maps `chunk`, on either engine.
fn map_call(chunk: Chunk, s: MapSettings) -> hilo::process::Call<Mapped> {
    match chunk {
        Chunk::File {
            input,
            path,
            offset,
            len,
        } => map_file_task::call(input, path.as_os_str().as_bytes().to_vec(), offset, len, s),
        Chunk::Bytes {
            input,
            offset,
            data,
        } => map_bytes_task::call(input, data, offset, s),
    }
}

/// The map step over every chunk, lazily, results as they complete: in
/// input order, one slow chunk (a worker the system put aside for a while)
/// would hold the whole window up.
fn map_all(
    pool: &Pool,
    chunks: Chunks,
    s: MapSettings,
) -> impl Iterator<Item = Result<Mapped, hilo::TaskError>> + '_ {
    hilo::map(pool, chunks, move |c| map_call(c, s)).unordered()
}

/// The reduce step of some pieces of one partition.
fn reduce(pool: &Pool, pieces: Vec<Counts>) -> Result<Future<Counts>, Failure> {
    Executor::submit(pool, reduce_task::call(pieces))
        .map_err(|e| Failure::failed(format!("cannot merge counts: {e}")))
}

/// The shuffle's state: each partition's pieces waiting to be merged, and
/// the merges running.
struct Shuffle<'p> {
    pool: &'p Pool,
    buckets: Vec<Vec<Counts>>,
    merging: Vec<(usize, Future<Counts>)>,
}

impl Shuffle<'_> {
    fn add(&mut self, pieces: Vec<Counts>) -> Result<(), Failure> {
        for (p, piece) in pieces.into_iter().enumerate() {
            if !piece.is_empty() {
                self.buckets[p].push(piece);
            }
        }
        self.collect(false)?;
        for p in 0..self.buckets.len() {
            if self.buckets[p].len() >= FAN_IN {
                self.merge(p)?;
            }
        }
        Ok(())
    }

    fn merge(&mut self, p: usize) -> Result<(), Failure> {
        let pieces = std::mem::take(&mut self.buckets[p]);
        let future = reduce(self.pool, pieces)?;
        self.merging.push((p, future));
        Ok(())
    }

    /// Files finished merges back under their partition (all of them, if
    /// `wait`).
    fn collect(&mut self, wait: bool) -> Result<(), Failure> {
        let (done, running) = std::mem::take(&mut self.merging)
            .into_iter()
            .partition(|(_, f)| wait || f.done());
        self.merging = running;
        for (p, future) in done {
            let merged = future
                .result()
                .map_err(|e| Failure::failed(format!("merging counts failed: {e}")))?;
            self.buckets[p].push(merged);
        }
        Ok(())
    }

    /// Merges every partition down to one piece; returns all the words.
    fn finish(mut self) -> Result<Vec<(Word, u64)>, Failure> {
        loop {
            self.collect(true)?;
            let mut more = false;
            for p in 0..self.buckets.len() {
                if self.buckets[p].len() > 1 {
                    self.merge(p)?;
                    more = true;
                }
            }
            if !more {
                break;
            }
        }
        Ok(self.buckets.into_iter().flatten().flatten().collect())
    }
}

fn map_reduce(
    pool: &Pool,
    inputs: Vec<Input>,
    settings: MapSettings,
    chunk_size: u64,
    names: &[String],
) -> Result<Vec<(Word, u64)>, Failure> {
    let streams = inputs.iter().any(|i| matches!(i.source, Source::Stream(_)));
    let total: u64 = inputs
        .iter()
        .map(|i| match i.source {
            Source::File { size, .. } => size,
            Source::Stream(_) => 0,
        })
        .sum();
    let bar = if streams || total < PROGRESS_MIN_BYTES {
        None
    } else {
        hilo_term::progress_bar(
            Some(total),
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
    };
    let error = ReadError::default();
    let chunks = Chunks {
        inputs: inputs.into_iter().enumerate(),
        current: None,
        chunk_size: usize::try_from(chunk_size).unwrap_or(usize::MAX),
        error: Rc::clone(&error),
    };
    let mut shuffle = Shuffle {
        pool,
        buckets: vec![Vec::new(); settings.parts],
        merging: Vec::new(),
    };
    for mapped in map_all(pool, chunks, settings) {
        let mapped =
            mapped.map_err(|e| Failure::failed(format!("counting a chunk failed: {e}")))?;
        let pieces = mapped
            .pieces
            .map_err(|e| Failure::failed(format!("{}: {e}", names[mapped.input])))?;
        shuffle.add(pieces)?;
        if let Some(bar) = &bar {
            bar.inc(mapped.len);
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if let Some((input, e)) = error.borrow_mut().take() {
        return Err(Failure::failed(format!(
            "{}: cannot read: {}",
            names[input],
            io_message(&e)
        )));
    }
    shuffle.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_suffixes_and_refuse_nonsense() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("8m"), Ok(8 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        for bad in ["", "0", "K", "2G", "1.5M", "-1", "8X"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }
}
