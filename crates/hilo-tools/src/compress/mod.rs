//! `hilo compress`: gzip's command line with pigz's parallelism, on a hilo
//! pool.
//!
//! This module owns the options, where each file's output goes (a
//! temporary file beside the target, renamed only when complete, with the
//! input's mode and times; the input removed afterwards unless `-k`), the
//! pipeline that feeds blocks of every file to the pool and writes the
//! results in order, and the summary. It never deflates or inflates a byte
//! itself: the format lives in `hilo_work::gzip`.
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

use std::io::{self, IsTerminal};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use hilo_work::gzip::{self, Block, BlockJob};

use crate::common::{Engine, Place, Pool};
use hilo_term::{progress_bar, Failure};

mod list;
mod outcome;
mod placing;
mod report;
mod unzip;
mod write;

use outcome::{Outcome, Sizes, Skip};
use report::{sequential_secs, Report};
use unzip::{decompress_in_order, decompress_parallel, unzip_file, UnzipJob};
use write::compress_all;

const AFTER_HELP: &str = "\
Files:
  FILE becomes FILE.gz, with FILE's mode and times, and FILE is removed
  once FILE.gz is complete (-k keeps it). -d turns FILE.gz back into FILE
  (also .z, -gz, _z, -z, and .tgz or .taz into .tar, in any case). An output
  is written unnamed beside its target and named only when complete, so an
  error, Ctrl+C or even a kill -9 never leaves a partial file. With no FILE,
  or -, stdin is compressed to stdout. As gzip, a symbolic link or a file
  with other hard links is left alone without -f (or -c).

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
  2    usage error, or a warning, as gzip's (e.g. trailing garbage ignored)
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
pub struct Args {
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
    #[arg(short = 'q', long, overrides_with = "verbose")]
    quiet: bool,

    /// A line per file as gzip -v writes it (its ratio and what replaced
    /// it) instead of the summary table
    #[arg(short = 'v', long, overrides_with = "quiet")]
    verbose: bool,

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

    /// List each compressed file: compressed and original size, ratio, name
    #[arg(short = 'l', long)]
    list: bool,

    /// Compress the files in each directory given, and in its
    /// subdirectories (with -d: decompress the .gz files there)
    #[arg(short = 'r', long)]
    recursive: bool,

    /// Do not store the file's name and time in the header (-d: the
    /// default, the output's name and time come from the .gz file)
    #[arg(short = 'n', long = "no-name", overrides_with = "name")]
    no_name: bool,

    /// Store the name and time (the default); -d and -l: restore the name
    /// and time stored in the header
    #[arg(short = 'N', long = "name", overrides_with = "no_name")]
    name: bool,

    /// The suffix of compressed files: FILE becomes FILE.SUF, and -d also
    /// knows it (-S .gzip); gzip's own (.gz, .z, -gz, .tgz, ...) are
    /// always known to -d
    #[arg(short = 'S', long, value_name = "SUF", default_value = ".gz")]
    suffix: String,

    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = hilo_term::parse_jobs, allow_negative_numbers = true,
          help = hilo_term::JOBS_HELP)]
    jobs: Option<hilo_term::Jobs>,

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
    List,
}

impl Mode {
    fn verb(self) -> &'static str {
        match self {
            Mode::Compress => "compressed",
            Mode::Decompress => "decompressed",
            Mode::Test => "tested",
            Mode::List => "listed",
        }
    }
}

/// The options once checked.
#[derive(Debug)]
struct Opts {
    mode: Mode,
    /// `-S`: the suffix of compressed files (`.gz`).
    suffix: String,
    /// Compressing: store the name and time (not `-n`). Decompressing or
    /// listing: use the stored ones (`-N`).
    names: bool,
    keep: bool,
    force: bool,
    to_stdout: bool,
    /// `-v`: a line per file, as gzip.
    verbose: bool,
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
pub fn main(args: Args) -> u8 {
    let (opts, inputs, unreadable) = options(&args);
    if let Err(message) = check_usage(&opts, &inputs, args.compare) {
        return Failure::usage(message).report("compress");
    }
    // `-r` met directories it could not read: errors, as gzip says them.
    for (dir, error) in &unreadable {
        eprintln!("hilo compress: {}: {error}", dir.display());
    }
    let failed_walk = if unreadable.is_empty() {
        0
    } else {
        hilo_term::EXIT_FAILED
    };
    if opts.mode == Mode::List {
        return list::run(&opts, &inputs).max(failed_walk);
    }
    let stop = match stop_on_signals(&opts) {
        Ok(stop) => stop,
        Err(message) => return Failure::usage(message).report("compress"),
    };
    let uses_stdin = inputs.contains(&Input::Stdin);
    let in_order = opts.mode != Mode::Compress && (opts.to_stdout || uses_stdin);
    // Decompressing to stdout needs no workers: do not start any.
    let pool = match (!in_order).then(|| Pool::new(&Place::Here(opts.engine), opts.jobs, "gzip")) {
        None => None,
        Some(Ok(pool)) => Some(pool),
        Some(Err(message)) => return Failure::failed(message).report("compress"),
    };
    let sequential = args.compare.then(|| sequential_secs(&opts, &inputs));
    let started = Instant::now();
    let mut outcome = match (&pool, opts.mode) {
        (None, _) => decompress_in_order(&opts, &inputs),
        (Some(pool), Mode::Compress) => compress_all(pool, &opts, &inputs, &stop),
        (Some(pool), _) => decompress_parallel(pool, &opts, &inputs, &stop),
    };
    let walk_errors = unreadable
        .iter()
        .map(|(dir, e)| (dir.display().to_string(), e.clone()));
    outcome.errors.extend(walk_errors);
    let report = Report {
        opts: &opts,
        outcome: &outcome,
        secs: started.elapsed().as_secs_f64(),
        sequential,
    };
    show(&args, &report);
    // A file that could not be done was reported with its name; the
    // others were done.
    outcome.status()
}

/// The options and the inputs the command line asks for (not yet
/// checked), and the directories `-r` could not read, with why.
fn options(args: &Args) -> (Opts, Vec<Input>, Vec<(PathBuf, String)>) {
    let level = [
        args.l1, args.l2, args.l3, args.l4, args.l5, args.l6, args.l7, args.l8, args.l9,
    ]
    .iter()
    .position(|&on| on)
    .map_or(6, |i| i as u32 + 1);
    let mode = if args.list {
        Mode::List
    } else if args.test {
        Mode::Test
    } else if args.decompress {
        Mode::Decompress
    } else {
        Mode::Compress
    };
    let mut unreadable = Vec::new();
    let inputs: Vec<Input> = if args.files.is_empty() {
        vec![Input::Stdin]
    } else {
        args.files
            .iter()
            .flat_map(|p| match p.as_os_str().as_bytes() {
                b"-" => vec![Input::Stdin],
                _ if args.recursive && p.is_dir() => {
                    let wanted = |name: &[u8]| {
                        let known = unzip::known_suffix(name, &args.suffix).is_some();
                        known != (mode == Mode::Compress)
                    };
                    let mut files = Vec::new();
                    walk(p, &wanted, &mut files, &mut unreadable);
                    files.into_iter().map(Input::File).collect()
                }
                _ => vec![Input::File(p.clone())],
            })
            .collect()
    };
    let uses_stdin = inputs.contains(&Input::Stdin);
    let opts = Opts {
        mode,
        suffix: args.suffix.clone(),
        names: if mode == Mode::Compress {
            !args.no_name
        } else {
            args.name
        },
        keep: args.keep || args.stdout,
        force: args.force,
        // Stdin has no name to derive an output from: its data goes to
        // stdout, as with gzip.
        to_stdout: args.stdout || (uses_stdin && inputs.len() == 1),
        verbose: args.verbose,
        level,
        jobs: crate::common::jobs(args.jobs),
        engine: args.engine,
    };
    (opts, inputs, unreadable)
}

/// `-r`: the files under `dir` (in name order, subdirectories followed
/// but not symbolic links to them) whose names `wanted` takes: those not
/// yet compressed, or with `-d` the compressed ones, as gzip picks them. A
/// symbolic link to a file is kept, for `-f`'s rule to judge. A directory
/// that cannot be read goes to `unreadable`, with why.
fn walk(
    dir: &std::path::Path,
    wanted: &dyn Fn(&[u8]) -> bool,
    out: &mut Vec<PathBuf>,
    unreadable: &mut Vec<(PathBuf, String)>,
) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return unreadable.push((dir.to_owned(), hilo_work::io_message(&e))),
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(&path, wanted, out, unreadable),
            _ if wanted(entry.file_name().as_bytes()) => out.push(path),
            _ => {}
        }
    }
}

/// The flag Ctrl+C and SIGTERM raise, so the run stops and removes its
/// temporary files. Only outputs in temporary files need cleaning up;
/// without them the default action (die at once) is right, and a handler
/// would leave a read of an interactive stdin unkillable.
fn stop_on_signals(opts: &Opts) -> Result<Arc<AtomicBool>, String> {
    let stop = Arc::new(AtomicBool::new(false));
    if !opts.to_stdout && opts.mode != Mode::Test {
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(signal, Arc::clone(&stop))
                .map_err(|e| format!("cannot handle signal {signal}: {e}"))?;
        }
    }
    Ok(stop)
}

/// Prints the summary: JSON with `--json` (to stderr when the data goes to
/// stdout), else the table on stderr unless `-q` or a filter (no FILES),
/// which stays as quiet as gzip in a pipeline.
fn show(args: &Args, report: &Report<'_>) {
    if args.json {
        let text = report.json().to_string();
        if report.opts.to_stdout {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    } else if !args.quiet && !args.verbose && !args.files.is_empty() {
        eprint!("{}", report.table());
    }
}

/// The usage errors gzip refuses before doing anything.
fn check_usage(opts: &Opts, inputs: &[Input], compare: bool) -> Result<(), String> {
    if opts.suffix.is_empty() || opts.suffix.contains('/') {
        return Err(format!(
            "-S {:?}: a suffix must be some characters and no '/'",
            opts.suffix
        ));
    }
    if opts.mode == Mode::List && opts.verbose {
        return Err("-l -v is not supported (gzip's -lv adds method, crc and date columns)".into());
    }
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

/// Compresses `jobs` on `pool` lazily, at most `window` in flight, results
/// in input order.
fn compress_blocks<'a>(
    pool: &'a Pool,
    jobs: impl Iterator<Item = BlockJob> + 'a,
    window: usize,
) -> impl Iterator<Item = Result<Block, String>> + 'a {
    hilo::map(pool, jobs, compress_block_task::call)
        .window(window)
        .map(flatten)
}

/// Decompresses or tests each file on `pool`, in parallel; results in
/// order.
fn unzip_files<'a>(
    pool: &'a Pool,
    jobs: impl Iterator<Item = UnzipJob> + 'a,
) -> impl Iterator<Item = Result<Sizes, Skip>> + 'a {
    hilo::map(pool, jobs, unzip_task::call).map(flatten)
}

fn flatten<T, E: From<String>>(r: Result<Result<T, E>, hilo::TaskError>) -> Result<T, E> {
    r.map_err(|e| E::from(format!("worker failed: {e}")))?
}

/// Compresses one block: a task, so that either engine runs it (a thread
/// calls it, a worker process gets it by name).
#[hilo::task]
fn compress_block_task(job: BlockJob) -> Result<Block, String> {
    gzip::compress_block(&job).map_err(|e| e.to_string())
}

/// Decompresses or tests one whole file; a task for the same reason.
#[hilo::task]
fn unzip_task(job: UnzipJob) -> Result<Sizes, Skip> {
    unzip_file(&job)
}

/// As gzip, a file about to be replaced by its output (not with `-c` or
/// `-t`) is left alone without `-f` when it is a symbolic link (an error)
/// or has other hard links (a warning: the other names would keep the
/// data that the input's removal seems to free).
fn check_links(path: &std::path::Path, force: bool) -> Result<(), Skip> {
    use std::os::unix::fs::MetadataExt;
    if force {
        return Ok(());
    }
    let meta = std::fs::symlink_metadata(path).map_err(|e| hilo_work::io_message(&e))?;
    if meta.file_type().is_symlink() {
        return Err("is a symbolic link -- ignored (-f follows it)".into());
    }
    match meta.nlink() {
        // A directory's links are its subdirectories' `..`.
        _ if meta.is_dir() => Ok(()),
        0 | 1 => Ok(()),
        n => Err(Skip::Warning(format!(
            "has {} other link{} -- file ignored (-f takes it)",
            n - 1,
            if n == 2 { "" } else { "s" }
        ))),
    }
}

/// "compressed 3/10 files, 412 MB/s" on a terminal; nothing otherwise.
struct Progress {
    bar: Option<hilo_term::ProgressBar>,
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
