//! Compression: the one ordered, bounded stream of blocks across all the
//! files, each file's output in a temporary file beside its target, put in
//! place (mode and times of the input) only when complete.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::{self, File, Metadata};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::UNIX_EPOCH;

use hilo_work::gzip::{self, Block, BlockJob, Blocks, Member};
use hilo_work::io_message;

use super::placing::{put_in_place, temp_beside, Pending};
use super::unzip::known_suffix;
use super::{check_links, compress_blocks, Input, Mode, Opts, Outcome, Progress, Sizes, Skip};
use crate::common::Pool;

/// Where a file's compressed bytes go.
enum Sink {
    Stdout,
    Temp { tmp: Pending, dest: PathBuf },
}

/// A file whose blocks follow in the stream.
struct Target {
    name: String,
    /// The input is stdin (for `-v`, which then says no name).
    stdin: bool,
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
    Failed { name: String, error: Skip },
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
                        let (name, error) = (name.clone(), io_message(&e).into());
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
fn open_for_compress(opts: &Opts, input: &Input) -> Result<(Target, Box<dyn Read>), Skip> {
    let path = match input {
        Input::Stdin => {
            let target = Target {
                name: input.name(),
                stdin: true,
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
    if !opts.to_stdout {
        check_links(path, opts.force)?;
    }
    if meta.is_dir() {
        return Err(Skip::Warning("is a directory -- ignored".into()));
    }
    if !meta.is_file() {
        return Err("is not a regular file -- ignored".into());
    }
    let known = path
        .file_name()
        .and_then(|name| known_suffix(name.as_bytes(), &opts.suffix));
    if let (Some((suffix, _)), false) = (known, opts.force) {
        // Named as the file has it (`.GZ`), as gzip does.
        let name = path.as_os_str().as_bytes();
        let own = String::from_utf8_lossy(&name[name.len() - suffix.len()..]);
        return Err(Skip::Notice(format!(
            "already has {own} suffix -- unchanged (-f compresses it again)"
        )));
    }
    let file = File::open(path).map_err(|e| io_message(&e))?;
    let sink = if opts.to_stdout {
        Sink::Stdout
    } else {
        let mut dest = path.clone().into_os_string();
        dest.push(&opts.suffix);
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
    // -n: neither name nor time in the header.
    let name = path
        .file_name()
        .map(|n| n.as_bytes())
        .filter(|_| opts.names);
    let mtime = if opts.names { mtime } else { 0 };
    let target = Target {
        name: input.name(),
        stdin: false,
        header: gzip::header(opts.level, mtime, name),
        sink,
        meta: Some(meta),
        remove: (!opts.keep).then(|| path.clone()),
        force: opts.force,
    };
    Ok((target, Box::new(file)))
}

/// A file being written: its target, running CRC and sizes. `error` set
/// means the rest of its blocks are dropped.
struct Writing {
    target: Target,
    member: Member,
    written: u64,
    error: Option<String>,
}

pub(super) fn compress_all(
    pool: &Pool,
    opts: &Opts,
    inputs: &[Input],
    stop: &AtomicBool,
) -> Outcome {
    let events = Rc::new(RefCell::new(VecDeque::new()));
    let planner = Planner {
        opts,
        inputs: inputs.iter(),
        blocks: None,
        events: Rc::clone(&events),
        stop,
    };
    let mut stdout = BufWriter::with_capacity(256 * 1024, io::stdout().lock());
    let mut outcome = Outcome::new(opts);
    let mut progress = Progress::new(Mode::Compress.verb(), inputs.len());
    let mut current: Option<Writing> = None;
    // Four blocks per worker in flight: enough that a worker never waits
    // for the writer, little enough to stay a few MiB.
    let results = compress_blocks(pool, planner, 4 * pool.jobs());
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
                    outcome.skip(&name, error);
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
                    Ok(sizes) => outcome.finish(name, sizes),
                    Err(e) => outcome.fail(&name, &e),
                }
                progress.advance(0, 1);
            }
        }
    }
    // Files that failed to open after the last block was submitted.
    for event in events.borrow_mut().drain(..) {
        if let Event::Failed { name, error } = event {
            outcome.skip(&name, error);
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
        Sink::Temp { tmp, .. } => tmp.file_mut(),
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
        trailing_garbage: false,
        framing: (w.target.header.len() + trailer.len()) as u64,
        stdin: w.target.stdin,
        output: match &w.target.sink {
            Sink::Stdout => None,
            Sink::Temp { dest, .. } => Some(dest.display().to_string()),
        },
    };
    if let Sink::Temp { tmp, dest } = w.target.sink {
        let (meta, remove) = (w.target.meta.as_ref(), w.target.remove.as_deref());
        put_in_place(tmp, &dest, meta, None, remove, w.target.force)?;
    }
    Ok(sizes)
}
