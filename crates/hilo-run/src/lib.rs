//! `hilo run`: GNU parallel's command runner on hilo's `ThreadPool`.
//!
//! The `hilo` binary parses [`RunArgs`] and hands them to [`main`], which
//! returns the exit status ([`EXIT_ERROR`] for a usage error).
//!
//! This file owns the command line of `hilo run` and the loop that feeds
//! jobs to the pool and reports them in order. Reading inputs lives in
//! `input`, rendering commands in `template`, running one job in `exec`,
//! printing in `output` (and `lines` for `--line-buffer`), the job log in
//! `joblog`; this file never touches a child process itself.
//!
//! A job's life: its values come from the inputs (skipped if `--resume`
//! finds it in the job log); the feeder thread submits it to the
//! `ThreadPool` when fewer than 4 × `-j` (at least 16) jobs are in flight;
//! a worker takes
//! a slot (`{%}`), renders the command, runs it (retrying a failure with
//! backoff) and checks `--halt`; then, still in that thread, the sink
//! prints its output (in input order with `-k`) and logs it, while the main
//! thread sleeps until the run is over.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use hilo_term::Failure;

mod captured;
mod exec;
mod feed;
mod halt;
mod input;
mod joblog;
mod lines;
mod output;
mod report;
mod sink;
mod template;

use exec::{Capture, Runner, Settings};
use halt::Halt;
use input::{InputOptions, Source};
use template::Template;

pub use exec::job_task_name;
pub use report::EXIT_ERROR;

const AFTER_HELP: &str = "\
Inputs:
  Without ::: or ::::, each line of stdin is one job's value. ::: A B C gives
  the values on the command line; :::: FILE (or -a FILE) one per line of FILE
  (- is stdin). Several sources give every combination, the first source
  varying slowest, as GNU parallel does. :::+ and ::::+ link a source to the
  one before: their values go in pairs, as many as the shorter has. --link
  links every source, the shorter ones starting over. Without a COMMAND,
  each value (or line) is itself a command line: hilo run < commands.txt

Replacement strings:
  {}    the value                       {.}   without its extension
  {/}   its basename                    {//}  its directory
  {/.}  basename without extension      {#}   the job's number (from 1)
  {%}   the job's slot (1 to -j)        {1}   the first value or column; {2}, {3}, ...
  {1.} {1/} {1//} {1/.}                 the same edits of one value
  Without any, the values are appended as arguments.

Safety:
  Values are never interpreted by a shell. A command without shell syntax runs
  directly; one with shell syntax (or --shell) runs through /bin/sh -c with
  every value single-quoted, so a line like `x; rm -rf ~` is one argument.

Examples:
  ls *.png | hilo run convert {} {.}.jpg          convert files, one per core
  hilo run -j 8 --tag ping -c1 {} :::: hosts.txt  ping hosts, lines tagged
  hilo run -k echo {1}-{2} ::: a b ::: 1 2        a-1 a-2 b-1 b-2, in order
  hilo run --retries 3 --timeout 60 ./flaky.sh ::: 1 2 3
  hilo run --joblog jobs.log --resume ./step.sh :::: todo.txt

Exit status:
  0        every job succeeded
  1-100    that many jobs failed
  101      more than 100 jobs failed
  130      interrupted by Ctrl+C, TERM or HUP (running jobs were stopped and
           waited for)
  2        usage error: an unknown option or a bad value (as every hilo tool)
  255      another error, as GNU parallel's (options that do not go together,
           an unreadable input file, an unwritable job log)";

/// Run a command for every input value, many at once.
///
/// GNU parallel's options and replacement strings, xargs' speed. Each job's
/// output is printed whole, never mixed with another job's.
#[derive(Args, Debug)]
#[command(
    override_usage = "hilo run [OPTIONS] [COMMAND [ARGS...]] [::: VALUES... | :::: FILES...]",
    after_help = AFTER_HELP,
    // As GNU parallel: an option given twice takes its last value.
    args_override_self = true
)]
pub struct RunArgs {
    #[arg(short = 'j', long = "jobs", visible_short_alias = 'P', visible_alias = "max-procs",
          value_name = "N", value_parser = hilo_term::parse_jobs, allow_negative_numbers = true, help = hilo_term::JOBS_HELP)]
    jobs: Option<hilo_term::Jobs>,

    /// Print outputs in input order, not completion order (hilo run -k echo ::: b a)
    #[arg(short = 'k', long)]
    keep_order: bool,

    /// Wait SECS between starting two jobs (e.g. --delay 0.5)
    #[arg(long, value_name = "SECS", value_parser = hilo_term::parse_secs)]
    delay: Option<Duration>,

    /// Read values from FILE, one per line; repeatable, each -a is a source (-a hosts.txt)
    #[arg(short = 'a', long = "arg-file", value_name = "FILE")]
    arg_file: Vec<PathBuf>,

    /// Values end with a NUL byte, not a newline (find . -print0 | hilo run -0 wc -c)
    #[arg(short = '0', long)]
    null: bool,

    /// Split each value into columns {1}, {2}, ... at REGEX (e.g. --colsep ',')
    #[arg(short = 'C', long, value_name = "REGEX")]
    colsep: Option<String>,

    /// Take one value from each source in turn instead of every combination,
    /// shorter sources starting over (hilo run --link echo ::: a b c ::: 1 2)
    #[arg(long, visible_alias = "xapply")]
    link: bool,

    /// Run every command through /bin/sh -c; values are still quoted (--shell echo ~)
    #[arg(long)]
    shell: bool,

    /// Print output line by line as jobs produce it, lines never mixed; with
    /// -k the oldest running job prints live and the others wait their
    /// turn (--line-buffer --tag ping -c3 {})
    #[arg(long, visible_alias = "lb")]
    line_buffer: bool,

    /// Run the jobs on the workers (hilo worker URL) of this Redis server:
    /// redis://[user:password@]host:port, rediss://... or
    /// redis+unix:///path; outputs, exit statuses, --joblog, --results,
    /// --halt, --timeout and --retries work as here. Jobs of a few
    /// milliseconds travel in batches (not with --halt or --delay); -j
    /// defaults to enough to keep every worker's slot busy
    #[arg(long, value_name = "URL", conflicts_with = "line_buffer")]
    cluster: Option<String>,

    /// Prefix each output line with the job's values (space-separated) and a tab (--tag host {})
    #[arg(long)]
    tag: bool,

    /// Save each job's stdout, stderr and seq under DIR/1/VALUE/2/VALUE/... instead of printing them (--results out)
    #[arg(long, visible_alias = "res", value_name = "DIR")]
    results: Option<PathBuf>,

    /// Print one JSON object per job (seq, args, command, exit, signal,
    /// start, runtime, tries, timed_out, stdout, stderr) instead of its
    /// output (--json ... | jq .exit)
    #[arg(long)]
    json: bool,

    /// Kill a job (its whole process group: TERM, then KILL 1 s later) that
    /// runs longer than SECS (--timeout 30)
    #[arg(long, value_name = "SECS", value_parser = hilo_term::parse_secs)]
    timeout: Option<Duration>,

    /// Run a failing job up to N times in all, waiting 0.1 s, 0.2 s, 0.4 s,
    /// ... between tries (--retries 3)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    retries: u32,

    /// Stop early: now,fail=1 (kill running jobs at the first failure),
    /// soon,fail=10% (let running jobs finish), now,success=1, now,done=5,
    /// never; the exit status follows GNU parallel's rules
    #[arg(long, visible_alias = "halt-on-error", value_name = "WHEN,WHY=N",
          value_parser = halt::parse, allow_negative_numbers = true)]
    halt: Option<Halt>,

    /// Log each finished job to FILE in GNU parallel's columns (--joblog jobs.log)
    #[arg(long, value_name = "FILE")]
    joblog: Option<PathBuf>,

    /// Skip the jobs --joblog FILE lists as done, append the rest to it (--joblog jobs.log --resume)
    #[arg(long)]
    resume: bool,

    /// Like --resume, but run again the jobs the log lists as failed (--joblog jobs.log --resume-failed)
    #[arg(long)]
    resume_failed: bool,

    /// Show a progress bar on stderr when it is a terminal: jobs done, failed, rate, ETA (--bar)
    #[arg(long, visible_alias = "bar")]
    progress: bool,

    /// Print the commands instead of running them (--dry-run rm {} ::: *.tmp)
    #[arg(long, visible_alias = "dryrun")]
    dry_run: bool,

    /// COMMAND [ARGS...] [::: VALUES... | :::: FILES...]
    #[arg(value_name = "COMMAND", trailing_var_arg = true)]
    command: Vec<OsString>,
}

/// Most jobs `-j 0` runs at once: each job holds a few file descriptors
/// and a thread, so stay well inside the descriptor limit.
fn as_many_as_possible() -> usize {
    let nofile = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(1024);
    usize::try_from(nofile / 8).unwrap_or(1024).clamp(1, 1024)
}

/// Splits `COMMAND [ARGS...] [::: ... | :::: ...]` into the command words
/// (text) and the input sources given after them (values may be any bytes).
fn split_command(words: &[OsString]) -> Result<(Vec<String>, Vec<Source>), String> {
    let is_marker = |w: &OsString| [":::", "::::", ":::+", "::::+"].iter().any(|m| w == m);
    let end = words.iter().position(is_marker).unwrap_or(words.len());
    let command = words[..end]
        .iter()
        .map(|w| {
            w.to_str().map(str::to_owned).ok_or_else(|| {
                format!(
                    "the command word {w:?} is not UTF-8 text (values after ::: may be any bytes)"
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut sources = Vec::new();
    let mut i = end;
    while i < words.len() {
        let marker = &words[i];
        let values: Vec<OsString> = words[i + 1..]
            .iter()
            .take_while(|w| !is_marker(w))
            .cloned()
            .collect();
        i += 1 + values.len();
        // `:::+` and `::::+` link their source(s) to the one before.
        let linked = |source| {
            if marker == ":::+" || marker == "::::+" {
                Source::Linked(Box::new(source))
            } else {
                source
            }
        };
        if marker == ":::" || marker == ":::+" {
            sources.push(linked(Source::Args(values)));
        } else {
            if values.is_empty() {
                return Err(format!(
                    "{} needs at least one file",
                    marker.to_string_lossy()
                ));
            }
            sources.extend(values.into_iter().map(|f| linked(Source::File(f.into()))));
        }
    }
    Ok((command, sources))
}

/// Everything decided before the first job starts.
struct Plan {
    template: Arc<Template>,
    jobs: usize,
    inputs: input::Inputs,
    skip: HashSet<u64>,
    joblog: Option<joblog::JobLog>,
    total: Option<u64>,
}

fn plan(args: &mut RunArgs) -> Result<Plan, String> {
    let (command, mut sources) = split_command(&args.command)?;
    // No command: each input line (or value) is a command line.
    let template = if command.is_empty() {
        Template::values_are_commands()
    } else {
        Template::parse(&command, args.shell).map_err(|e| e.to_string())?
    };
    // GNU parallel puts -a files before the ::: and :::: sources.
    let files = args.arg_file.drain(..).map(Source::File);
    sources = files.chain(sources).collect();
    if sources.is_empty() {
        if std::io::IsTerminal::is_terminal(&std::io::stdin()) && !args.dry_run {
            eprintln!("hilo run: reading values from the terminal, one per line; end with Ctrl+D");
        }
        sources.push(Source::Stdin);
    }
    if (args.resume || args.resume_failed) && args.joblog.is_none() {
        return Err("--resume and --resume-failed need --joblog FILE".into());
    }
    if args.line_buffer && (args.json || args.results.is_some()) {
        return Err("--line-buffer cannot be combined with --json or --results".into());
    }
    let skip = match &args.joblog {
        Some(path) if args.resume || args.resume_failed => {
            joblog::done_jobs(path, args.resume_failed).map_err(|e| e.to_string())?
        }
        _ => HashSet::new(),
    };
    if let Some(dir) = args.results.as_ref().filter(|_| !args.dry_run) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the results directory {}: {e}", dir.display()))?;
    }
    let joblog = match &args.joblog {
        Some(path) if !args.dry_run => Some(
            joblog::JobLog::open(path, args.resume || args.resume_failed)
                .map_err(|e| e.to_string())?,
        ),
        _ => None,
    };
    let opts = InputOptions {
        null: args.null,
        colsep: args.colsep.clone(),
        link: args.link,
    };
    // With only ::: values the number of jobs is known up front (for the
    // progress bar); a percentage in --halt needs it, so then count first.
    let mut total = input::known_count(&sources, args.link);
    let mut inputs = input::open(sources, &opts).map_err(|e| e.to_string())?;
    if total.is_none() && args.halt.as_ref().is_some_and(Halt::needs_total) {
        let all: Vec<_> = inputs.by_ref().collect();
        total = Some(all.len() as u64);
        inputs = input::Inputs::from_vec(all);
    }
    let cores = hilo::default_workers();
    let jobs = args
        .jobs
        .map_or(cores, |j| j.resolve(cores, as_many_as_possible()));
    Ok(Plan {
        template: Arc::new(template),
        jobs,
        inputs,
        skip,
        joblog,
        total,
    })
}

/// Runs `hilo run`; returns the exit status.
pub fn main(mut args: RunArgs) -> u8 {
    run(&mut args).unwrap_or_else(|e| Failure::new(EXIT_ERROR, e).report("run"))
}

fn run(args: &mut RunArgs) -> Result<u8, String> {
    let mut plan = plan(args)?;
    if args.dry_run {
        return dry_run(&mut plan, args.tag);
    }
    let cluster = match &args.cluster {
        Some(url) => Some(Arc::new(
            hilo_redis::RedisExecutor::connect(url).map_err(|e| e.at(url))?,
        )),
        None => None,
    };
    if let Some(exec) = &cluster {
        if exec.live_workers().is_ok_and(|w| w.is_empty()) {
            eprintln!("hilo run: no worker is serving this Redis yet; the jobs wait for one (hilo worker URL)");
        }
        if args.jobs.is_none() {
            // Twice the workers' slots in tasks: when one ends, the next is
            // queued already, so no slot waits for this machine. Short jobs
            // travel in batches (exec/batch.rs), so enough of them are held
            // here to fill one, except where each job travels alone.
            let batch = if args.halt.is_some() || args.delay.is_some() {
                1
            } else {
                exec::MAX_BATCH
            };
            plan.jobs = 2 * exec.max_workers() * batch;
        }
    }
    let ordered_lines = args.line_buffer && args.keep_order;
    let lines = Arc::new(lines::Lines::new(ordered_lines));
    let runner = start_runner(args, &plan, Arc::clone(&lines), cluster)?;
    let pool = hilo::ThreadPool::builder()
        .max_workers(plan.jobs)
        .thread_name_prefix("hilo-run")
        .stack_size(256 << 10)
        .build()
        .map_err(|e| format!("cannot start the job threads: {e}"))?;
    // Held here to the end: dropping it waits for the job threads.
    let pool = Arc::new(pool);
    let sink = start_sink(args, &mut plan, ordered_lines.then_some(lines));
    let deliver: feed::Deliver = {
        let sink = Arc::clone(&sink);
        let runner = Arc::clone(&runner);
        Arc::new(move |event| {
            if sink.deliver(event).is_some() {
                runner.halt(halt::When::Now);
            }
        })
    };
    let inputs = std::mem::replace(&mut plan.inputs, input::Inputs::from_vec(Vec::new()));
    let feed = feed::start(
        Arc::clone(&pool),
        Arc::clone(&runner),
        inputs,
        std::mem::take(&mut plan.skip),
        (4 * plan.jobs).max(16),
        deliver,
    )
    .map_err(|e| format!("cannot start: {e}"))?;
    let ended = sink.wait(|| feed.submitted.load(Ordering::SeqCst));
    exit_status(ended, &runner)
}

/// The runner of the plan's jobs, with the options that shape one job.
fn start_runner(
    args: &RunArgs,
    plan: &Plan,
    lines: Arc<lines::Lines>,
    cluster: Option<Arc<hilo_redis::RedisExecutor>>,
) -> Result<Arc<Runner>, String> {
    let capture = if args.line_buffer {
        Capture::Lines { tag: args.tag }
    } else {
        // Found out now, not as every job fails.
        captured::file().map_err(|e| captured::no_file(&e))?;
        Capture::Whole
    };
    Runner::start(Settings {
        template: Arc::clone(&plan.template),
        slots: plan.jobs,
        capture,
        // As GNU parallel: --timeout 0 is no timeout.
        timeout: args.timeout.filter(|t| !t.is_zero()),
        retries: args.retries,
        delay: args.delay,
        halt: args.halt.clone(),
        total: plan.total,
        lines,
        // The job log, --json, --halt's "This job failed:" and the
        // warning for a job killed by --timeout show it.
        record_command: plan.joblog.is_some()
            || args.json
            || args.halt.is_some()
            || args.timeout.is_some(),
        cluster,
    })
    .map_err(|e| format!("cannot start: {e}"))
}

/// Where finished jobs go: printed (or saved), logged, counted on the bar.
/// `ordered_lines`: `-k --line-buffer`'s hold on later jobs' lines.
fn start_sink(
    args: &RunArgs,
    plan: &mut Plan,
    ordered_lines: Option<Arc<lines::Lines>>,
) -> Arc<sink::Sink> {
    let printer = output::Printer::new(output::Mode {
        tag: args.tag,
        json: args.json,
        results: args.results.clone(),
        name_max: args
            .results
            .as_ref()
            .and_then(|dir| rustix::fs::statvfs(dir).ok())
            .and_then(|fs| usize::try_from(fs.f_namemax).ok())
            .filter(|&n| n > 0)
            .unwrap_or(255),
        lines_printed_live: args.line_buffer,
    });
    // The bar counts the jobs this run will start, not those --resume skips.
    let to_run = plan
        .total
        .map(|t| t - plan.skip.iter().filter(|&&seq| seq <= t).count() as u64);
    let progress = output::Progress::new(args.progress, to_run);
    Arc::new(sink::Sink::new(
        printer,
        plan.joblog.take(),
        progress,
        args.keep_order,
        ordered_lines,
    ))
}

/// The run's exit status once every job has ended (or the run broke).
fn exit_status(ended: sink::Ended, runner: &Runner) -> Result<u8, String> {
    match ended.broken {
        Some(Ok(status)) => return Ok(status),
        Some(Err(message)) => return Err(message),
        None => {}
    }
    let tally = ended.tally;
    if let Some(e) = ended.input_error {
        return Ok(Failure::new(EXIT_ERROR, e).report("run"));
    }
    if runner.interrupted.load(Ordering::SeqCst) {
        eprintln!(
            "hilo run: interrupted: {} jobs succeeded, {} failed; the others were not started",
            tally.succeeded, tally.failed
        );
        return Ok(hilo_term::EXIT_INTERRUPTED);
    }
    Ok(runner.halt_status().unwrap_or_else(|| tally.exit_status()))
}

/// `--dry-run`: each job's command line, tagged with its values (`--tag`)
/// as its output would be.
fn dry_run(plan: &mut Plan, tag: bool) -> Result<u8, String> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for (values, seq) in plan.inputs.by_ref().zip(1u64..) {
        let values = values.map_err(|e| e.to_string())?;
        if plan.skip.contains(&seq) {
            continue;
        }
        let ctx = template::JobContext {
            args: &values,
            seq,
            slot: 1,
        };
        let mut line = if tag {
            output::tag_of(&values)
        } else {
            Vec::new()
        };
        line.extend(plan.template.display(&plan.template.render(&ctx)));
        line.push(b'\n');
        out.write_all(&line)
            .map_err(|e| format!("cannot write the output: {e}"))?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::report::Tally;
    use super::*;

    fn words(s: &[&str]) -> Vec<OsString> {
        s.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_command_ends_at_the_first_marker() {
        let (cmd, sources) =
            split_command(&words(&["echo", "-n", ":::", "a", "b", "::::", "f", "g"])).unwrap();
        assert_eq!(cmd, ["echo", "-n"]);
        assert_eq!(
            sources,
            vec![
                Source::Args(words(&["a", "b"])),
                Source::File("f".into()),
                Source::File("g".into())
            ]
        );
    }

    #[test]
    fn values_may_be_any_bytes_but_the_command_is_text() {
        use std::os::unix::ffi::OsStringExt;
        let latin1 = OsString::from_vec(b"caf\xe9".to_vec());
        let mut w = words(&["echo", ":::"]);
        w.push(latin1.clone());
        let (_, sources) = split_command(&w).unwrap();
        assert_eq!(sources, [Source::Args(vec![latin1.clone()])]);
        let err = split_command(&[latin1]).unwrap_err();
        assert!(err.contains("not UTF-8"), "{err}");
    }

    #[test]
    fn the_exit_status_counts_failures_up_to_101() {
        let t = |failed| Tally {
            succeeded: 5,
            failed,
        };
        assert_eq!(t(0).exit_status(), 0);
        assert_eq!(t(7).exit_status(), 7);
        assert_eq!(t(100).exit_status(), 100);
        assert_eq!(t(101).exit_status(), 101);
        assert_eq!(t(5000).exit_status(), 101);
    }
}
