//! `hilo bench`: the concurrency lab. Each experiment measures one claim of
//! the lessons (threads are cheaper to start than processes, a context
//! switch costs microseconds, Amdahl caps speedup, fork is cheap thanks to
//! copy-on-write, an unwaited child becomes a zombie, threads win for I/O
//! waits) on the machine it runs on, and reports the numbers.
//!
//! The `hilo` binary hands `hilo bench` to [`main`]. This file owns the
//! command line ([`Args`]), the registry of experiments, the machine header
//! and the printing (table or JSON). Each experiment lives
//! in its own file and returns a `Report`; it never prints, and it cleans
//! up every child, server and temporary file it made, even when it fails.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use procfs::Current;

mod cow;
mod gil;
mod io;
mod plot;
mod spawn;
mod speedup;
mod switch;
mod zombie;

const AFTER_HELP: &str = "\
Experiments (default: all, in this order):
  spawn    start a thread, a process (fork, fork+exec), a pooled task: the cost of each
  switch   a context switch: two threads, two processes ping-pong, one core or two
  speedup  primes by trial division on 1..2×cores threads and processes: speedup, Amdahl fit
  io       a delayed local echo server, 1..64 client threads: requests/s against the ideal
  cow      fork copies no data: a child's private memory grows only as it writes pages
  zombie   a child that exits unwaited shows state Z in /proc, then is reaped
  gil      (with --vs-python) Python's threads vs Rust's on CPU work; pool overhead

Examples:
  hilo bench                 every experiment, quick sizes (well under a minute)
  hilo bench zombie --json   one experiment, as JSON
  hilo bench --svg plots     also draw speedup, io and spawn into plots/*.svg
  hilo bench gil --vs-python Python's concurrent.futures next to hilo (needs python3)";

/// Measure the lessons' claims about threads and processes on this machine.
#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Experiments to run (default: all); see the list below
    #[arg(value_name = "EXPERIMENT")]
    experiments: Vec<String>,

    /// Small sizes, few repetitions: the whole lab in well under a minute (the default)
    #[arg(long, conflicts_with = "full")]
    quick: bool,

    /// Larger sizes and more repetitions, for steadier numbers
    #[arg(long)]
    full: bool,

    /// Print one JSON document (machine + every experiment) instead of tables
    #[arg(long)]
    json: bool,

    /// Also draw speedup, io and spawn as SVG plots into DIR (e.g. --svg plots)
    #[arg(long, value_name = "DIR")]
    svg: Option<PathBuf>,

    /// Run gil's Python side (needs python3): threads under the GIL and concurrent.futures next to hilo
    #[arg(long)]
    vs_python: bool,
}

/// What an experiment is given.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// `--full`: bigger sizes, more repetitions.
    pub(crate) full: bool,
    /// `--vs-python`: experiments may run python3 for a comparison.
    pub(crate) vs_python: bool,
}

impl Ctx {
    /// `quick` in quick mode, `full` with `--full`.
    pub(crate) fn pick<T>(&self, quick: T, full: T) -> T {
        if self.full {
            full
        } else {
            quick
        }
    }
}

/// What an experiment found, ready to print as a table or as JSON.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    /// One line: what was measured and what the numbers mean.
    pub(crate) explain: String,
    /// The table's header.
    pub(crate) columns: Vec<String>,
    /// The table's rows, already formatted (with units).
    pub(crate) rows: Vec<Vec<String>>,
    /// Lines printed under the table: the conclusion, caveats.
    pub(crate) notes: Vec<String>,
    /// The raw numbers, for `--json` (and `--svg`).
    pub(crate) data: Data,
}

/// An experiment's raw numbers, one typed struct per experiment, so a
/// plot reads fields, not keys; `--json` writes each as its fields.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub(crate) enum Data {
    Spawn(spawn::SpawnData),
    Switch(switch::SwitchData),
    Speedup(speedup::SpeedupData),
    Io(io::IoData),
    Cow(cow::CowData),
    Zombie(zombie::ZombieData),
    Gil(gil::GilData),
    /// The experiment could not run here, and why.
    Skipped {
        skipped: String,
    },
}

/// One experiment of the lab.
struct Experiment {
    name: &'static str,
    title: &'static str,
    run: fn(&Ctx) -> Result<Report, String>,
}

const EXPERIMENTS: &[Experiment] = &[
    Experiment {
        name: "spawn",
        title: "spawn: what starting a thread, a process or a pooled task costs",
        run: spawn::run,
    },
    Experiment {
        name: "switch",
        title: "switch: what a context switch costs, threads and processes",
        run: switch::run,
    },
    Experiment {
        name: "speedup",
        title: "speedup: CPU-bound work on more workers, and Amdahl's ceiling",
        run: speedup::run,
    },
    Experiment {
        name: "io",
        title: "io: threads overlap I/O waits, far beyond the core count",
        run: io::run,
    },
    Experiment {
        name: "cow",
        title: "cow: fork shares memory, a write copies the page",
        run: cow::run,
    },
    Experiment {
        name: "zombie",
        title: "zombie: a child that exits before its parent waits",
        run: zombie::run,
    },
    Experiment {
        name: "gil",
        title: "gil: CPU-bound threads in Python and in Rust; pool overhead",
        run: gil::run,
    },
];

/// Runs `hilo bench`; returns the exit status.
pub fn main(args: Args) -> u8 {
    let chosen: Vec<&Experiment> = if args.experiments.is_empty() {
        EXPERIMENTS.iter().collect()
    } else {
        let mut chosen = Vec::new();
        for name in &args.experiments {
            match EXPERIMENTS.iter().find(|e| e.name == name) {
                Some(e) => chosen.push(e),
                None => {
                    let known: Vec<&str> = EXPERIMENTS.iter().map(|e| e.name).collect();
                    let message =
                        format!("no experiment named {name:?} (known: {})", known.join(", "));
                    return hilo_term::Failure::usage(message).report("bench");
                }
            }
        }
        chosen
    };
    let ctx = Ctx {
        full: args.full,
        vs_python: args.vs_python,
    };
    if let Some(dir) = &args.svg {
        if let Err(e) = std::fs::create_dir_all(dir) {
            let message = format!("cannot create {}: {e}", dir.display());
            return hilo_term::Failure::usage(message).report("bench");
        }
    }
    let machine = Machine::here();
    if !args.json {
        println!("{}", machine.header(ctx.pick("quick", "full")));
    }
    let mut results = Vec::new();
    let mut failed = 0;
    for e in chosen {
        let started = std::time::Instant::now();
        let outcome = (e.run)(&ctx);
        let took = started.elapsed();
        match &outcome {
            Ok(report) if !args.json => print_report(e.title, report, took),
            Ok(_) => {}
            Err(why) => {
                failed += 1;
                eprintln!("hilo bench: {}: {why}", e.name);
            }
        }
        if let (Some(dir), Ok(report)) = (&args.svg, &outcome) {
            match plot::write(dir, &report.data) {
                Ok(Some(path)) if !args.json => println!("  plot: {}", path.display()),
                Ok(_) => {}
                Err(why) => {
                    failed += 1;
                    eprintln!("hilo bench: {}: {why}", e.name);
                }
            }
        }
        results.push((e.name, outcome, took));
    }
    if args.json && !print_json(&machine, &results) {
        failed += 1;
    }
    u8::from(failed > 0)
}

/// Each experiment's outcome, as `main` collected them.
type Outcomes = [(&'static str, Result<Report, String>, Duration)];

/// Prints the `--json` document; false (with the error on stderr) if it
/// could not be made.
fn print_json(machine: &Machine, results: &Outcomes) -> bool {
    let experiments = results
        .iter()
        .map(|(name, outcome, took)| {
            let entry = match outcome {
                Ok(r) => Entry::Done {
                    explain: &r.explain,
                    seconds: took.as_secs_f64(),
                    data: &r.data,
                },
                Err(why) => Entry::Failed { error: why },
            };
            (*name, entry)
        })
        .collect();
    let doc = Document {
        machine,
        experiments,
    };
    match serde_json::to_string(&doc) {
        Ok(doc) => {
            println!("{doc}");
            true
        }
        Err(e) => {
            eprintln!("hilo bench: cannot write the JSON document: {e}");
            false
        }
    }
}

fn print_report(title: &str, r: &Report, took: Duration) {
    let mut out = std::io::stdout().lock();
    let bold = std::io::stdout().is_terminal();
    let (b, e) = if bold {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("", "")
    };
    let _ = writeln!(out, "\n{b}{title}{e}  ({:.1} s)", took.as_secs_f64());
    let _ = writeln!(out, "{}", r.explain);
    if !r.columns.is_empty() {
        let mut align = vec![hilo_term::Align::Right; r.columns.len()];
        align[0] = hilo_term::Align::Left;
        let _ = writeln!(out, "{}", hilo_term::table(&align, &r.columns, &r.rows));
    }
    for note in &r.notes {
        let _ = writeln!(out, "  {note}");
    }
}

/// What `--json` prints: the machine, then each experiment by name.
#[derive(serde::Serialize)]
struct Document<'a> {
    machine: &'a Machine,
    experiments: BTreeMap<&'static str, Entry<'a>>,
}

/// One experiment in the `--json` document: its report, or why it failed.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Entry<'a> {
    Done {
        explain: &'a str,
        seconds: f64,
        data: &'a Data,
    },
    Failed {
        error: &'a str,
    },
}

/// The machine the numbers come from, stated at the top.
#[derive(serde::Serialize)]
struct Machine {
    cores: usize,
    cpu: String,
    kernel: String,
}

impl Machine {
    fn here() -> Machine {
        let cpu = procfs::CpuInfo::current()
            .ok()
            .and_then(|info| info.model_name(0).map(str::to_owned))
            .unwrap_or_else(|| "unknown CPU".into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "unknown".into());
        Machine {
            cores: hilo::default_workers(),
            cpu,
            kernel,
        }
    }

    fn header(&self, mode: &str) -> String {
        format!(
            "hilo bench ({mode}) on {} cores ({}), Linux {}",
            self.cores, self.cpu, self.kernel
        )
    }
}

/// Formats a duration in the unit that suits it (ns, µs, ms, s).
pub(crate) fn human(d: Duration) -> String {
    let ns = d.as_secs_f64() * 1e9;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.1} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// One process as `/proc/<pid>/stat` shows it.
pub(crate) struct ProcStat {
    pub(crate) name: String,
    /// `R`, `S`, `Z`, ...
    pub(crate) state: char,
    /// CPU time used, user plus system, in clock ticks.
    pub(crate) cpu_ticks: u64,
}

/// `pid`'s entry in the process table (read by `procfs`), or `None` once
/// it has none.
pub(crate) fn proc_stat(pid: u32) -> Option<ProcStat> {
    let stat = procfs::process::Process::new(i32::try_from(pid).ok()?)
        .ok()?
        .stat()
        .ok()?;
    Some(ProcStat {
        name: stat.comm,
        state: stat.state,
        cpu_ticks: stat.utime + stat.stime,
    })
}

/// Submits `n` tasks with `submit` (the first error to submit wins), then
/// waits for each in turn; a task that failed is reported as `failed: ...`.
pub(crate) fn submit_and_wait<T>(
    n: usize,
    mut submit: impl FnMut() -> Result<hilo::Future<T>, String>,
    failed: &str,
) -> Result<(), String> {
    let futures = (0..n).map(|_| submit()).collect::<Result<Vec<_>, _>>()?;
    for f in futures {
        f.result().map_err(|e| format!("{failed}: {e}"))?;
    }
    Ok(())
}

/// Starts `program` with `args`, its stdin, stdout and stderr on
/// `/dev/null`: a child whose only output is its exit.
pub(crate) fn start_silent(program: &str, args: &[&str]) -> Result<Child, String> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start `{program}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_get_a_readable_unit() {
        assert_eq!(human(Duration::from_nanos(850)), "850 ns");
        assert_eq!(human(Duration::from_nanos(12_340)), "12.3 µs");
        assert_eq!(human(Duration::from_micros(4_560)), "4.6 ms");
        assert_eq!(human(Duration::from_millis(2_500)), "2.50 s");
    }
}
