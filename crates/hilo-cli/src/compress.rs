//! `hilo compress`: gzip's command line with pigz's parallelism, on a hilo
//! pool.
//!
//! This module owns the options, where each file's output goes (a
//! temporary file beside the target, renamed only when complete, with the
//! input's mode and times; the input removed afterwards unless `-k`), the
//! pipeline that feeds blocks of every file to the pool and writes the
//! results in order, and the summary. It never deflates or inflates a byte
//! itself: the format lives in `hilo_cli::work::gzip`.
//!
//! Compression is one ordered, bounded stream of blocks across all the
//! files: the main thread reads a file's next block (with the 32 KiB before
//! it as dictionary) and submits it; the pool compresses up to `4 × -j`
//! blocks at once; the main thread writes each result in order to its
//! file's output. So a single big file and many small ones both keep every
//! worker busy, and memory stays a few MiB whatever the sizes. A file's
//! events (started, its blocks, failed) go into a queue in submission
//! order, which tells the writer which file each result belongs to.
//!
//! Decompression is one stream per file, files in parallel (in the
//! pool); to stdout it is one file after another in this thread.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::{self, File, FileTimes, Metadata};
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Instant, UNIX_EPOCH};

use hilo::process::ProcessPool;
use hilo::ThreadPool;
use hilo_cli::work::gzip::{self, Block, BlockJob, Blocks, Member};
use hilo_cli::work::io_message;
use serde::{Deserialize, Serialize};
use tempfile::NamedTempFile;

use crate::common::{cores, progress_bar, Engine};

/// Exit status when some file could not be done (the others were).
const EXIT_FILE_ERROR: u8 = 1;
/// Exit status for a usage error.
const EXIT_USAGE: u8 = 2;
/// Exit status after Ctrl+C or SIGTERM (128 + SIGINT).
const EXIT_INTERRUPTED: u8 = 130;

const AFTER_HELP: &str = "\
Files:
  FILE becomes FILE.gz, with FILE's mode and times, and FILE is removed
  once FILE.gz is complete (-k keeps it). -d turns FILE.gz back into FILE.
  An output is written to a hidden temporary file beside it and renamed
  when complete, so an error or Ctrl+C never leaves a partial file. With no
  FILE, or -, stdin is compressed to stdout.

Parallelism:
  Every file is cut into 128 KiB blocks compressed at once, each primed with
  the 32 KiB before it, and joined into one ordinary gzip member (the pigz
  method): one big file uses every core, and so do many small ones.
  Levels -1 and -2 are the same, and so are -8 and -9 (see the README).

Report:
  At the end, a summary on stderr: each file's original and compressed size
  and ratio, the totals and the average ratio (-q: none; none either when
  filtering stdin to stdout, as in a pipeline). --json prints it
  as JSON on stdout instead, or on stderr when stdout carries the data
  (-c, stdin). --compare first times the sequential path (one thread, one
  deflate stream per file, output discarded), then the real run, and prints
  the speedup.

Examples:
  hilo compress -k big.log              big.log.gz, big.log kept
  hilo compress -9 -j 8 logs/*.txt      every file, 8 workers
  hilo compress -d logs/*.gz            back again
  tar cf - dir | hilo compress > dir.tar.gz
  hilo compress -t *.gz && echo intact

Exit status:
  0    every file done
  1    some file could not be done (the others were); each says why
  2    usage error
  130  interrupted (no partial output left)";

/// The level flags: like gzip, the last one given wins (`-1 -9` is `-9`).
const LEVELS: [&str; 9] = ["l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9"];

/// Compress or decompress files in parallel, gzip-compatible (like pigz).
///
/// gzip's options; the output is an ordinary .gz that gzip -d reads.
#[derive(clap::Args, Debug)]
#[command(
    override_usage = "hilo compress [OPTIONS] [FILES]...",
    after_help = AFTER_HELP
)]
pub(crate) struct Args {
    /// Decompress: FILE.gz (or .tgz) becomes FILE (.tar)
    #[arg(short = 'd', long, visible_alias = "uncompress")]
    decompress: bool,

    /// Keep the input files
    #[arg(short = 'k', long)]
    keep: bool,

    /// Overwrite existing outputs; compress .gz files again; write
    /// compressed data to a terminal
    #[arg(short = 'f', long)]
    force: bool,

    /// Write to stdout, keep the inputs (several files: one gzip member each)
    #[arg(short = 'c', long = "stdout", visible_alias = "to-stdout")]
    stdout: bool,

    /// Test the integrity of compressed files; write nothing
    #[arg(short = 't', long)]
    test: bool,

    /// No summary at the end (errors are still reported)
    #[arg(short = 'q', long)]
    quiet: bool,

    /// Fastest compression (-1 ... -9, the last one given wins; default -6)
    #[arg(short = '1', long = "fast", overrides_with_all = LEVELS)]
    l1: bool,
    #[arg(short = '2', hide = true, overrides_with_all = LEVELS)]
    l2: bool,
    #[arg(short = '3', hide = true, overrides_with_all = LEVELS)]
    l3: bool,
    #[arg(short = '4', hide = true, overrides_with_all = LEVELS)]
    l4: bool,
    #[arg(short = '5', hide = true, overrides_with_all = LEVELS)]
    l5: bool,
    #[arg(short = '6', hide = true, overrides_with_all = LEVELS)]
    l6: bool,
    #[arg(short = '7', hide = true, overrides_with_all = LEVELS)]
    l7: bool,
    #[arg(short = '8', hide = true, overrides_with_all = LEVELS)]
    l8: bool,
    /// Best compression
    #[arg(short = '9', long = "best", overrides_with_all = LEVELS)]
    l9: bool,

    /// Workers (threads or processes) [default: the number of cores]
    #[arg(short = 'j', long = "jobs", value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,

    /// Where blocks are compressed: threads, or worker processes
    #[arg(long, value_enum, default_value_t = Engine::Threads)]
    engine: Engine,

    /// Print the summary as JSON (for scripts)
    #[arg(long)]
    json: bool,

    /// Also time the sequential path (one thread, one stream) and print the speedup
    #[arg(long)]
    compare: bool,

    /// Files to compress or decompress; none, or -, means stdin
    #[arg(value_name = "FILES")]
    files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Compress,
    Decompress,
    Test,
}

impl Mode {
    fn verb(self) -> &'static str {
        match self {
            Mode::Compress => "compressed",
            Mode::Decompress => "decompressed",
            Mode::Test => "tested",
        }
    }
}

/// The options once checked.
#[derive(Debug)]
struct Opts {
    mode: Mode,
    keep: bool,
    force: bool,
    to_stdout: bool,
    level: u32,
    jobs: usize,
    engine: Engine,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    fn name(&self) -> String {
        match self {
            Input::Stdin => "stdin".to_string(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

/// Runs `hilo compress`; returns the exit status.
pub(crate) fn main(args: Args) -> u8 {
    let level = [
        args.l1, args.l2, args.l3, args.l4, args.l5, args.l6, args.l7, args.l8, args.l9,
    ]
    .iter()
    .position(|&on| on)
    .map_or(6, |i| i as u32 + 1);
    let mode = if args.test {
        Mode::Test
    } else if args.decompress {
        Mode::Decompress
    } else {
        Mode::Compress
    };
    let inputs: Vec<Input> = if args.files.is_empty() {
        vec![Input::Stdin]
    } else {
        args.files
            .iter()
            .map(|p| match p.as_os_str().as_bytes() {
                b"-" => Input::Stdin,
                _ => Input::File(p.clone()),
            })
            .collect()
    };
    let uses_stdin = inputs.contains(&Input::Stdin);
    let opts = Opts {
        mode,
        keep: args.keep || args.stdout,
        force: args.force,
        // Stdin has no name to derive an output from: its data goes to
        // stdout, as with gzip.
        to_stdout: args.stdout || (uses_stdin && inputs.len() == 1),
        level,
        jobs: args.jobs.map_or_else(cores, usize::from),
        engine: args.engine,
    };
    if let Err(message) = check_usage(&opts, &inputs, args.compare) {
        eprintln!("hilo compress: {message}");
        return EXIT_USAGE;
    }
    let stop = Arc::new(AtomicBool::new(false));
    // Only outputs in temporary files need cleaning up on Ctrl+C; without
    // them, the default action (die at once) is right, and a handler would
    // leave a read of an interactive stdin unkillable.
    if !opts.to_stdout && opts.mode != Mode::Test {
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&stop)) {
                eprintln!("hilo compress: cannot handle signal {signal}: {e}");
                return EXIT_USAGE;
            }
        }
    }
    let in_order = opts.mode != Mode::Compress && (opts.to_stdout || uses_stdin);
    // Decompressing to stdout needs no workers: do not start any.
    let pool = match (!in_order).then(|| Pool::new(opts.engine, opts.jobs)) {
        None => None,
        Some(Ok(pool)) => Some(pool),
        Some(Err(message)) => {
            eprintln!("hilo compress: cannot start the workers: {message}");
            return EXIT_FILE_ERROR;
        }
    };
    let sequential = args.compare.then(|| sequential_secs(&opts, &inputs));
    let started = Instant::now();
    let outcome = match (&pool, opts.mode) {
        (None, _) => decompress_in_order(&opts, &inputs),
        (Some(pool), Mode::Compress) => compress_all(pool, &opts, &inputs, &stop),
        (Some(pool), _) => decompress_parallel(pool, &opts, &inputs, &stop),
    };
    let secs = started.elapsed().as_secs_f64();
    let report = Report {
        opts: &opts,
        outcome: &outcome,
        secs,
        sequential,
    };
    if args.json {
        let text = report.json().to_string();
        if opts.to_stdout {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    } else if !args.quiet && !args.files.is_empty() {
        // A filter (no FILES) stays as quiet as gzip in a pipeline.
        eprint!("{}", report.table());
    }
    if outcome.interrupted {
        EXIT_INTERRUPTED
    } else if !outcome.errors.is_empty() {
        EXIT_FILE_ERROR
    } else {
        0
    }
}

/// The usage errors gzip refuses before doing anything.
fn check_usage(opts: &Opts, inputs: &[Input], compare: bool) -> Result<(), String> {
    if compare && inputs.contains(&Input::Stdin) {
        return Err("--compare needs FILES: stdin can be read only once".into());
    }
    if opts.mode == Mode::Decompress && inputs.contains(&Input::Stdin) && !opts.to_stdout {
        // Stdin's output can only go to stdout, and the files' would follow.
        return Err("decompressing - (stdin) together with FILES needs -c".into());
    }
    let data_to_stdout = opts.to_stdout && opts.mode == Mode::Compress;
    if data_to_stdout && !opts.force && io::stdout().is_terminal() {
        return Err(
            "compressed data not written to a terminal; redirect stdout, or use -f to force".into(),
        );
    }
    Ok(())
}

/// Where blocks and files are worked on: one of hilo's pools.
enum Pool {
    Threads(ThreadPool),
    Processes(ProcessPool),
}

impl Pool {
    fn new(engine: Engine, jobs: usize) -> Result<Pool, String> {
        match engine {
            Engine::Threads => ThreadPool::builder()
                .max_workers(jobs)
                .thread_name_prefix("gzip")
                .build()
                .map(Pool::Threads),
            Engine::Processes => ProcessPool::builder()
                .max_workers(jobs)
                .build()
                .map(Pool::Processes),
        }
        .map_err(|e| e.to_string())
    }

    fn jobs(&self) -> usize {
        match self {
            Pool::Threads(p) => p.max_workers(),
            Pool::Processes(p) => p.max_workers(),
        }
    }

    /// Compresses `jobs` lazily, at most `window` in flight, results in
    /// input order.
    fn compress<'a>(
        &'a self,
        jobs: impl Iterator<Item = BlockJob> + 'a,
        window: usize,
    ) -> Box<dyn Iterator<Item = Result<Block, String>> + 'a> {
        match self {
            Pool::Threads(p) => Box::new(
                hilo::map(p, jobs, |job| move || compress_block_task(job))
                    .window(window)
                    .map(flatten),
            ),
            Pool::Processes(p) => Box::new(
                hilo::map(p, jobs, compress_block_task::call)
                    .window(window)
                    .map(flatten),
            ),
        }
    }

    /// Decompresses or tests each file, in parallel; results in order.
    fn unzip<'a>(
        &'a self,
        jobs: impl Iterator<Item = UnzipJob> + 'a,
    ) -> Box<dyn Iterator<Item = Result<Sizes, String>> + 'a> {
        match self {
            Pool::Threads(p) => {
                Box::new(hilo::map(p, jobs, |job| move || unzip_task(job)).map(flatten))
            }
            Pool::Processes(p) => Box::new(hilo::map(p, jobs, unzip_task::call).map(flatten)),
        }
    }
}

fn flatten<T>(r: Result<Result<T, String>, hilo::TaskError>) -> Result<T, String> {
    r.map_err(|e| format!("worker failed: {e}"))?
}

/// Compresses one block; a task so that `--engine processes` can run it
/// in a worker process (the thread engine calls it directly).
#[hilo::task]
fn compress_block_task(job: BlockJob) -> Result<Block, String> {
    gzip::compress_block(&job).map_err(|e| e.to_string())
}

/// Decompresses or tests one whole file; a task for the same reason.
#[hilo::task]
fn unzip_task(job: UnzipJob) -> Result<Sizes, String> {
    unzip_file(&job)
}

/// What the summary knows of one finished file.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct Sizes {
    original: u64,
    compressed: u64,
}

#[derive(Debug, Default)]
struct Outcome {
    done: Vec<(String, Sizes)>,
    errors: Vec<(String, String)>,
    interrupted: bool,
}

impl Outcome {
    fn fail(&mut self, name: &str, error: &str) {
        eprintln!("hilo compress: {name}: {error}");
        self.errors.push((name.to_string(), error.to_string()));
    }
}

/// "compressed 3/10 files, 412 MB/s" on a terminal; nothing otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    verb: &'static str,
    started: Instant,
    files: usize,
    finished: usize,
    bytes: u64,
}

impl Progress {
    fn new(verb: &'static str, files: usize) -> Progress {
        Progress {
            bar: progress_bar(Some(files as u64), "{msg}"),
            verb,
            started: Instant::now(),
            files,
            finished: 0,
            bytes: 0,
        }
    }

    fn advance(&mut self, bytes: u64, files: usize) {
        self.bytes += bytes;
        self.finished += files;
        if let Some(bar) = &self.bar {
            let secs = self.started.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!(
                "{} {}/{} files, {:.0} MB/s",
                self.verb,
                self.finished,
                self.files,
                self.bytes as f64 / 1e6 / secs
            ));
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

// ---------------------------------------------------------------- compress

/// Where a file's compressed bytes go.
enum Sink {
    Stdout,
    Temp { tmp: NamedTempFile, dest: PathBuf },
}

/// A file whose blocks follow in the stream.
struct Target {
    name: String,
    header: Vec<u8>,
    sink: Sink,
    /// The input's metadata, given to the output.
    meta: Option<Metadata>,
    /// The input to remove once the output is complete.
    remove: Option<PathBuf>,
    /// Whether the output may replace an existing file (-f).
    force: bool,
}

/// What the reader did, in submission order: the writer replays these to
/// know which file each result belongs to.
enum Event {
    Start(Box<Target>),
    Block { last: bool },
    Failed { name: String, error: String },
}

/// The block iterator fed to the pool: opens the files one after another
/// and cuts each into blocks, recording events as it goes.
struct Planner<'a> {
    opts: &'a Opts,
    inputs: std::slice::Iter<'a, Input>,
    blocks: Option<(String, Blocks<Box<dyn Read>>)>,
    events: Rc<RefCell<VecDeque<Event>>>,
    stop: &'a AtomicBool,
}

impl Iterator for Planner<'_> {
    type Item = BlockJob;

    fn next(&mut self) -> Option<BlockJob> {
        loop {
            // Relaxed: the flag carries no data, only "stop soon".
            if self.stop.load(Ordering::Relaxed) {
                return None;
            }
            if let Some((name, blocks)) = &mut self.blocks {
                match blocks.next() {
                    Some(Ok(job)) => {
                        let last = job.last;
                        self.events.borrow_mut().push_back(Event::Block { last });
                        if last {
                            self.blocks = None;
                        }
                        return Some(job);
                    }
                    Some(Err(e)) => {
                        let (name, error) = (name.clone(), io_message(&e));
                        self.events
                            .borrow_mut()
                            .push_back(Event::Failed { name, error });
                        self.blocks = None;
                    }
                    None => self.blocks = None,
                }
                continue;
            }
            let input = self.inputs.next()?;
            match open_for_compress(self.opts, input) {
                Ok((target, reader)) => {
                    let name = target.name.clone();
                    self.events
                        .borrow_mut()
                        .push_back(Event::Start(Box::new(target)));
                    self.blocks = Some((name, Blocks::new(reader, self.opts.level)));
                }
                Err(error) => self.events.borrow_mut().push_back(Event::Failed {
                    name: input.name(),
                    error,
                }),
            }
        }
    }
}

/// Checks one input as gzip does and prepares its output.
fn open_for_compress(opts: &Opts, input: &Input) -> Result<(Target, Box<dyn Read>), String> {
    let path = match input {
        Input::Stdin => {
            let target = Target {
                name: input.name(),
                header: gzip::header(opts.level, 0, None),
                sink: Sink::Stdout,
                meta: None,
                remove: None,
                force: opts.force,
            };
            return Ok((target, Box::new(io::stdin().lock())));
        }
        Input::File(path) => path,
    };
    let meta = fs::metadata(path).map_err(|e| io_message(&e))?;
    if meta.is_dir() {
        return Err("is a directory -- ignored".into());
    }
    if !meta.is_file() {
        return Err("is not a regular file -- ignored".into());
    }
    if !opts.force && path.extension().is_some_and(|e| e == "gz" || e == "tgz") {
        return Err("already has a .gz suffix -- unchanged (-f compresses it again)".into());
    }
    let file = File::open(path).map_err(|e| io_message(&e))?;
    let sink = if opts.to_stdout {
        Sink::Stdout
    } else {
        let mut dest = path.clone().into_os_string();
        dest.push(".gz");
        let dest = PathBuf::from(dest);
        Sink::Temp {
            tmp: temp_beside(&dest, opts.force)?,
            dest,
        }
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .and_then(|d| u32::try_from(d.as_secs()).ok())
        .unwrap_or(0);
    let name = path.file_name().map(|n| n.as_bytes());
    let target = Target {
        name: input.name(),
        header: gzip::header(opts.level, mtime, name),
        sink,
        meta: Some(meta),
        remove: (!opts.keep).then(|| path.clone()),
        force: opts.force,
    };
    Ok((target, Box::new(file)))
}

/// A temporary file in `dest`'s directory (so the final rename cannot
/// cross file systems), after checking that `dest` may be written.
fn temp_beside(dest: &Path, force: bool) -> Result<NamedTempFile, String> {
    if !force && fs::symlink_metadata(dest).is_ok() {
        return Err(format!(
            "{} already exists; not overwritten (-f overwrites)",
            dest.display()
        ));
    }
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".hilo-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| {
            format!(
                "cannot create a file in {}: {}",
                dir.display(),
                io_message(&e)
            )
        })
}

/// A file being written: its target, running CRC and sizes. `error` set
/// means the rest of its blocks are dropped.
struct Writing {
    target: Target,
    member: Member,
    written: u64,
    error: Option<String>,
}

fn compress_all(pool: &Pool, opts: &Opts, inputs: &[Input], stop: &AtomicBool) -> Outcome {
    let events = Rc::new(RefCell::new(VecDeque::new()));
    let planner = Planner {
        opts,
        inputs: inputs.iter(),
        blocks: None,
        events: Rc::clone(&events),
        stop,
    };
    let mut stdout = BufWriter::with_capacity(256 * 1024, io::stdout().lock());
    let mut outcome = Outcome::default();
    let mut progress = Progress::new(Mode::Compress.verb(), inputs.len());
    let mut current: Option<Writing> = None;
    // Four blocks per worker in flight: enough that a worker never waits
    // for the writer, little enough to stay a few MiB.
    let results = pool.compress(planner, 4 * pool.jobs());
    for result in results {
        let last = loop {
            let event = events.borrow_mut().pop_front();
            match event {
                Some(Event::Block { last }) => break last,
                Some(Event::Start(target)) => {
                    current = Some(start_file(*target, &mut stdout));
                }
                Some(Event::Failed { name, error }) => {
                    drop_current(&mut current, &name);
                    outcome.fail(&name, &error);
                }
                // One event per submitted block, so never reached.
                None => break false,
            }
        };
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let Some(writing) = current.as_mut() else {
            continue;
        };
        match result {
            Ok(block) => {
                progress.advance(block.len, 0);
                write_block(writing, &block, &mut stdout);
            }
            Err(e) => writing.error = writing.error.take().or(Some(e)),
        }
        if last {
            if let Some(writing) = current.take() {
                let name = writing.target.name.clone();
                match finish_file(writing, &mut stdout) {
                    Ok(sizes) => outcome.done.push((name, sizes)),
                    Err(e) => outcome.fail(&name, &e),
                }
                progress.advance(0, 1);
            }
        }
    }
    // Files that failed to open after the last block was submitted.
    for event in events.borrow_mut().drain(..) {
        if let Event::Failed { name, error } = event {
            outcome.fail(&name, &error);
        }
    }
    if stop.load(Ordering::Relaxed) {
        // Dropping the unfinished output removes its temporary file.
        drop(current.take());
        outcome.interrupted = true;
    }
    if let Err(e) = stdout.flush() {
        outcome.fail("stdout", &io_message(&e));
    }
    outcome
}

fn drop_current(current: &mut Option<Writing>, name: &str) {
    if current.as_ref().is_some_and(|w| w.target.name == name) {
        *current = None;
    }
}

fn sink_writer<'a>(sink: &'a mut Sink, stdout: &'a mut dyn Write) -> &'a mut dyn Write {
    match sink {
        Sink::Stdout => stdout,
        Sink::Temp { tmp, .. } => tmp.as_file_mut(),
    }
}

fn start_file(mut target: Target, stdout: &mut dyn Write) -> Writing {
    let error = sink_writer(&mut target.sink, stdout)
        .write_all(&target.header)
        .err()
        .map(|e| io_message(&e));
    Writing {
        written: target.header.len() as u64,
        target,
        member: Member::default(),
        error,
    }
}

fn write_block(w: &mut Writing, block: &Block, stdout: &mut dyn Write) {
    if w.error.is_some() {
        return;
    }
    match sink_writer(&mut w.target.sink, stdout).write_all(&block.deflate) {
        Ok(()) => {
            w.member.add(block);
            w.written += block.deflate.len() as u64;
        }
        Err(e) => w.error = Some(io_message(&e)),
    }
}

/// Writes the trailer, gives the output the input's mode and times, renames
/// it into place and removes the input.
fn finish_file(mut w: Writing, stdout: &mut dyn Write) -> Result<Sizes, String> {
    if let Some(e) = w.error {
        return Err(e);
    }
    let trailer = w.member.trailer();
    sink_writer(&mut w.target.sink, stdout)
        .write_all(&trailer)
        .map_err(|e| io_message(&e))?;
    let sizes = Sizes {
        original: w.member.len(),
        compressed: w.written + trailer.len() as u64,
    };
    if let Sink::Temp { tmp, dest } = w.target.sink {
        let (meta, remove) = (w.target.meta.as_ref(), w.target.remove.as_deref());
        put_in_place(tmp, &dest, meta, remove, w.target.force)?;
    }
    Ok(sizes)
}

/// The last step of every file output: mode and times from `meta`, then
/// the rename (refusing to replace a file that appeared meanwhile unless
/// -f), then the input's removal.
fn put_in_place(
    tmp: NamedTempFile,
    dest: &Path,
    meta: Option<&Metadata>,
    remove: Option<&Path>,
    force: bool,
) -> Result<(), String> {
    if let Some(meta) = meta {
        let file = tmp.as_file();
        file.set_permissions(meta.permissions())
            .map_err(|e| io_message(&e))?;
        let mut times = FileTimes::new();
        if let Ok(t) = meta.accessed() {
            times = times.set_accessed(t);
        }
        if let Ok(t) = meta.modified() {
            times = times.set_modified(t);
        }
        file.set_times(times).map_err(|e| io_message(&e))?;
    }
    // With -f the existence check was skipped, so replace; without it,
    // never clobber (a file created since the check wins).
    let placed = if force {
        tmp.persist(dest)
    } else {
        tmp.persist_noclobber(dest)
    };
    placed.map_err(|e| {
        if e.error.kind() == io::ErrorKind::AlreadyExists {
            format!(
                "{} already exists; not overwritten (-f overwrites)",
                dest.display()
            )
        } else {
            format!("cannot write {}: {}", dest.display(), io_message(&e.error))
        }
    })?;
    if let Some(input) = remove {
        fs::remove_file(input)
            .map_err(|e| format!("done, but cannot remove the input: {}", io_message(&e)))?;
    }
    Ok(())
}

// -------------------------------------------------------------- decompress

/// One file to decompress or test, as a worker (thread or process) gets it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct UnzipJob {
    /// The path's bytes (a path need not be UTF-8).
    path: Vec<u8>,
    test: bool,
    force: bool,
    keep: bool,
}

/// gzip's suffixes and what each becomes.
const SUFFIXES: [(&str, &str); 2] = [(".gz", ""), (".tgz", ".tar")];

fn unzipped_name(path: &Path) -> Option<PathBuf> {
    let bytes = path.as_os_str().as_bytes();
    let file_name = path.file_name()?.as_bytes();
    SUFFIXES.iter().find_map(|(suffix, to)| {
        let stem_len = file_name.len().checked_sub(suffix.len())?;
        if stem_len == 0 || !file_name.ends_with(suffix.as_bytes()) {
            return None;
        }
        let mut out = bytes[..bytes.len() - suffix.len()].to_vec();
        out.extend_from_slice(to.as_bytes());
        Some(PathBuf::from(std::ffi::OsString::from_vec(out)))
    })
}

/// Decompresses (or tests) one file into a temporary file beside its
/// output, then puts it in place.
fn unzip_file(job: &UnzipJob) -> Result<Sizes, String> {
    let path = PathBuf::from(std::ffi::OsString::from_vec(job.path.clone()));
    let meta = fs::metadata(&path).map_err(|e| io_message(&e))?;
    if meta.is_dir() {
        return Err("is a directory -- ignored".into());
    }
    let dest = if job.test {
        None
    } else {
        Some(unzipped_name(&path).ok_or("unknown suffix (not .gz or .tgz) -- ignored")?)
    };
    let file = File::open(&path).map_err(|e| io_message(&e))?;
    let Some(dest) = dest else {
        let original = gzip::decompress(file, io::sink()).map_err(|e| io_message(&e))?;
        return Ok(Sizes {
            original,
            compressed: meta.len(),
        });
    };
    let mut tmp = temp_beside(&dest, job.force)?;
    let mut out = BufWriter::with_capacity(256 * 1024, tmp.as_file_mut());
    let original = gzip::decompress(file, &mut out).map_err(|e| io_message(&e))?;
    out.flush().map_err(|e| io_message(&e))?;
    drop(out);
    let remove = (!job.keep).then_some(path.as_path());
    put_in_place(tmp, &dest, Some(&meta), remove, job.force)?;
    Ok(Sizes {
        original,
        compressed: meta.len(),
    })
}

fn decompress_parallel(pool: &Pool, opts: &Opts, inputs: &[Input], stop: &AtomicBool) -> Outcome {
    let jobs = inputs.iter().filter_map(|input| match input {
        Input::File(p) => Some(UnzipJob {
            path: p.as_os_str().as_bytes().to_vec(),
            test: opts.mode == Mode::Test,
            force: opts.force,
            keep: opts.keep,
        }),
        Input::Stdin => None, // handled by decompress_in_order
    });
    let mut outcome = Outcome::default();
    let mut progress = Progress::new(opts.mode.verb(), inputs.len());
    for (input, result) in inputs.iter().zip(pool.unzip(jobs)) {
        let name = input.name();
        match result {
            Ok(sizes) => {
                progress.advance(sizes.original, 1);
                outcome.done.push((name, sizes));
            }
            Err(e) => outcome.fail(&name, &e),
        }
        if stop.load(Ordering::Relaxed) {
            outcome.interrupted = true;
            break;
        }
    }
    outcome
}

/// Decompresses (or tests) to stdout, one input after another, in this
/// thread: the output must come out in order, and may be too big to hold.
fn decompress_in_order(opts: &Opts, inputs: &[Input]) -> Outcome {
    let mut outcome = Outcome::default();
    let mut progress = Progress::new(opts.mode.verb(), inputs.len());
    let mut stdout = BufWriter::with_capacity(256 * 1024, io::stdout().lock());
    for input in inputs {
        let name = input.name();
        let (reader, compressed): (Box<dyn Read>, u64) = match input {
            Input::Stdin => (Box::new(io::stdin().lock()), 0),
            Input::File(path) => match File::open(path).and_then(|f| Ok((f.metadata()?, f))) {
                Ok((meta, _)) if meta.is_dir() => {
                    outcome.fail(&name, "is a directory -- ignored");
                    continue;
                }
                Ok((meta, file)) => (Box::new(file), meta.len()),
                Err(e) => {
                    outcome.fail(&name, &io_message(&e));
                    continue;
                }
            },
        };
        let mut counted = CountingReader {
            inner: reader,
            n: 0,
        };
        let result = if opts.mode == Mode::Test {
            gzip::decompress(&mut counted, io::sink())
        } else {
            gzip::decompress(&mut counted, &mut stdout)
        };
        match result {
            Ok(original) => {
                progress.advance(original, 1);
                let compressed = compressed.max(counted.n);
                outcome.done.push((
                    name,
                    Sizes {
                        original,
                        compressed,
                    },
                ));
            }
            Err(e) => outcome.fail(&name, &io_message(&e)),
        }
    }
    if let Err(e) = stdout.flush() {
        outcome.fail("stdout", &io_message(&e));
    }
    outcome
}

struct CountingReader<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

// ---------------------------------------------------------------- compare

/// --compare: the seconds the sequential path takes over every readable
/// input file (one thread, one deflate stream or one inflate per file,
/// output discarded). Unreadable files are skipped here; the real run
/// reports them.
fn sequential_secs(opts: &Opts, inputs: &[Input]) -> f64 {
    let started = Instant::now();
    for input in inputs {
        let Input::File(path) = input else { continue };
        let Ok(file) = File::open(path) else { continue };
        // Errors are the real run's to report.
        let _ = match opts.mode {
            Mode::Compress => gzip::compress_stream(file, io::sink(), opts.level).map(|_| ()),
            Mode::Decompress | Mode::Test => gzip::decompress(file, io::sink()).map(|_| ()),
        };
    }
    started.elapsed().as_secs_f64()
}

// ----------------------------------------------------------------- report

struct Report<'a> {
    opts: &'a Opts,
    outcome: &'a Outcome,
    secs: f64,
    sequential: Option<f64>,
}

impl Report<'_> {
    fn totals(&self) -> Sizes {
        let mut t = Sizes::default();
        for (_, s) in &self.outcome.done {
            t.original += s.original;
            t.compressed += s.compressed;
        }
        t
    }

    /// The mean of the per-file ratios (files of 0 bytes have none).
    fn average_ratio(&self) -> Option<f64> {
        let ratios: Vec<f64> = self
            .outcome
            .done
            .iter()
            .filter_map(|(_, s)| ratio(s))
            .collect();
        (!ratios.is_empty()).then(|| ratios.iter().sum::<f64>() / ratios.len() as f64)
    }

    fn throughput(&self) -> f64 {
        // Throughput is of the uncompressed side, whichever way we went.
        self.totals().original as f64 / 1e6 / self.secs.max(1e-9)
    }

    fn table(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let done = &self.outcome.done;
        if done.is_empty() && self.sequential.is_none() {
            return s;
        }
        let _ = writeln!(
            s,
            "{:>12} {:>12} {:>7}  file",
            "original", "compressed", "ratio"
        );
        for (name, sizes) in done {
            let _ = writeln!(
                s,
                "{:>12} {:>12} {:>7}  {name}",
                human(sizes.original),
                human(sizes.compressed),
                percent(ratio(sizes))
            );
        }
        let t = self.totals();
        let _ = writeln!(
            s,
            "{:>12} {:>12} {:>7}  total: {} {} file{}, average ratio {}, {:.2} s, {:.0} MB/s, {} {}",
            human(t.original),
            human(t.compressed),
            percent(ratio(&t)),
            self.opts.mode.verb(),
            done.len(),
            if done.len() == 1 { "" } else { "s" },
            percent(self.average_ratio()),
            self.secs,
            self.throughput(),
            self.opts.jobs,
            self.opts.engine.name(),
        );
        if let Some(seq) = self.sequential {
            let _ = writeln!(
                s,
                "compare: sequential (1 thread, one stream) {seq:.2} s, parallel {:.2} s: speedup {:.2}x",
                self.secs,
                seq / self.secs.max(1e-9)
            );
        }
        s
    }

    fn json(&self) -> serde_json::Value {
        let files: Vec<_> = self
            .outcome
            .done
            .iter()
            .map(|(name, s)| {
                serde_json::json!({
                    "file": name,
                    "original": s.original,
                    "compressed": s.compressed,
                    "ratio": ratio(s),
                })
            })
            .collect();
        let failed: Vec<_> = self
            .outcome
            .errors
            .iter()
            .map(|(name, error)| serde_json::json!({ "file": name, "error": error }))
            .collect();
        let t = self.totals();
        let mut v = serde_json::json!({
            "mode": self.opts.mode.verb(),
            "engine": self.opts.engine.name(),
            "jobs": self.opts.jobs,
            "level": self.opts.level,
            "files": files,
            "failed": failed,
            "original": t.original,
            "compressed": t.compressed,
            "ratio": ratio(&t),
            "average_ratio": self.average_ratio(),
            "seconds": self.secs,
            "mb_per_s": self.throughput(),
            "interrupted": self.outcome.interrupted,
        });
        if let Some(seq) = self.sequential {
            v["compare"] = serde_json::json!({
                "sequential_seconds": seq,
                "parallel_seconds": self.secs,
                "speedup": seq / self.secs.max(1e-9),
            });
        }
        v
    }
}

/// Compressed over original, as gzip -l shows it (smaller is better).
fn ratio(s: &Sizes) -> Option<f64> {
    (s.original > 0).then(|| s.compressed as f64 / s.original as f64)
}

fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_string(), |r| format!("{:.1}%", r * 100.0))
}

/// Bytes in decimal units, as the MB/s figures are.
fn human(n: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}
