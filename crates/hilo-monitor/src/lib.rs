//! `hilo monitor`: sample CPU, memory and disk on three workers and report
//! averages — the lesson's exercise 4 (a resource monitor: CPU, memory and
//! disk every 5 s on 3 permanent workers of a `ThreadPoolExecutor`,
//! averages every 30 s, a graceful Ctrl+C), done properly.
//!
//! - **Three samplers** run for the whole run as tasks of a hilo
//!   [`ThreadPool`] of three workers, each submitted with
//!   [`submit_with_stop`](hilo::ThreadPool::submit_with_stop): CPU
//!   (`/proc/stat`), memory and swap (`/proc/meminfo`), disk (the used
//!   space of `--path`'s filesystem by `statvfs`, reads and writes from
//!   `/proc/diskstats`), all read through the `procfs` crate. Each waits
//!   for its next tick on its [`StopToken`](hilo::StopToken), so a stop
//!   wakes it at once.
//! - **The schedule** is counted from one start instant: sample `k` is due
//!   at `k × --interval` (the first at 0), report `n` at `n × --report`.
//!   A late sample is still taken, once; later ones keep their times.
//! - **The store** (a mutex'd list, see `store`) holds the samples until a
//!   report takes them; report `n` waits until every sampler has handed in
//!   the samples due by its time, so what it covers never depends on the
//!   machine's load.
//! - **The end**: with `--duration D`, the samples due at or before `D`,
//!   then a final report on what is left. Ctrl+C (SIGINT) or SIGTERM stops
//!   the samplers at once, prints a final report and exits 0.
//!
//! With `--interval 1s --report 2s --duration 5s`: samples at 0, 1, 2, 3,
//! 4 and 5 s (six per metric), reports at 2 s (samples 0–2), 4 s (3–4)
//! and a final one at 5 s (5).

#![deny(missing_docs)]

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hilo::{Future, ThreadPool};
use hilo_term::Failure;

mod csv;
mod metric;
mod plan;
mod report;
mod sample;
mod sampler;
mod schedule;
mod store;

pub use metric::Metric;
pub use plan::parse_period;

use plan::Plan;
use report::Window;
use schedule::Next;
use store::Store;

/// The workers: one per sampler, busy for the whole run.
const WORKERS: usize = 3;

/// How long before the start the rates' first counters are read: the
/// first CPU % and disk I/O values (at 0 s) are over this time (or over
/// `--interval` if it is shorter).
const PRIME: Duration = Duration::from_millis(250);

const AFTER_HELP: &str = "\
Metrics (the CSV's metric column, the JSON's keys):
  cpu_pct                 all cores busy since the previous sample, % (0-100)
  mem_used_pct            memory in use, (MemTotal - MemAvailable) / MemTotal, %
  swap_used_pct           swap in use, %; 0 without swap
  disk_used_pct           --path's filesystem, used / (used + available), % (as df)
  disk_read_bytes_per_s   read from the physical disks since the previous sample, bytes/s
  disk_write_bytes_per_s  written to them, bytes/s
Rates cover the time since the previous sample; the first (at 0 s) the 0.25 s
before the start. Sizes in the text report are decimal (1 kB = 1000 bytes).

Schedule: samples at 0, --interval, 2 x --interval...; a report every --report on
the samples due after the previous one, up to its time (the first includes 0 s).
With --duration D: the samples due at or before D, then the final report.
Ctrl+C or SIGTERM: the samplers stop at once, then the final report.
  --interval 1s --report 2s --duration 5s: samples at 0,1,2,3,4,5 s (6 per
  metric); reports at 2 s (0-2), 4 s (3-4), final at 5 s (5): 3 reports.
Durations: 500ms, 5s, 2m, 1h or seconds (1.5), to the millisecond; --interval at
least 100ms; --report at least --interval.

--csv FILE: header elapsed_s,unix_s,metric,value; a row per metric per sample,
flushed as taken. elapsed_s is when the sample was due (0.000, 1.000...),
unix_s when it was read (seconds since 1970, to the ms).

--json: one object per report per line:
  {\"report\":1,\"final\":false,\"from_s\":0.0,\"to_s\":2.0,
   \"metrics\":{\"cpu_pct\":{\"n\":3,\"avg\":4.2,\"min\":1.0,\"max\":9.5},...}}
  every metric present; with n 0, avg, min and max are null.

Examples:
  hilo monitor                                      # until Ctrl+C, reports every 30 s
  hilo monitor --interval 1s --report 10s --csv samples.csv
  hilo monitor --duration 1m --json | jq .metrics.cpu_pct.avg

Exit status:
  0  ended by --duration, Ctrl+C or SIGTERM (a final report printed)
  1  a sample could not be read, or the CSV not written
  2  bad usage: a bad duration, --report < --interval, a --path or --csv that fails";

/// Sample CPU, memory and disk on three workers and report averages (the
/// lesson's exercise 4).
///
/// Every --interval, three samplers read the CPU, memory and disk; every
/// --report, a report gives each metric's average, least and most.
#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Between two samples: 5s, 500ms, 1m (at least 100ms)
    #[arg(long, value_name = "DURATION", value_parser = hilo_term::parse_sample_interval, default_value = "5s")]
    interval: Duration,

    /// Between two reports (at least --interval)
    #[arg(long, value_name = "DURATION", value_parser = parse_period, default_value = "30s")]
    report: Duration,

    /// Stop by itself after this long, with a final report [default: until Ctrl+C]
    #[arg(long, value_name = "DURATION", value_parser = parse_period)]
    duration: Option<Duration>,

    /// Write every sample to FILE (CSV: elapsed_s,unix_s,metric,value)
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,

    /// One JSON object per report per line instead of tables
    #[arg(long)]
    json: bool,

    /// The filesystem whose used space is sampled: the one holding PATH
    #[arg(long, value_name = "PATH", default_value = "/")]
    path: PathBuf,
}

/// Runs `hilo monitor`; returns the exit status.
pub fn main(args: Args) -> u8 {
    hilo_term::exit_status("monitor", run(args))
}

fn run(args: Args) -> Result<(), Failure> {
    // Everything that can be refused is refused before the CSV is made and
    // before any sample: the options, then --path, then the file.
    let plan = Plan::of(args)?;
    let sources = sample::sources(&plan.path)?;
    let csv = plan.csv.as_deref().map(csv::CsvLog::create).transpose()?;
    let store = Arc::new(Store::new(sources.len(), csv));
    let signals = watch_signals(&store)?;
    let outcome = monitor(&plan, sources, &store);
    signals.close();
    outcome
}

/// Ctrl+C and SIGTERM stop the run (on a thread of their own).
fn watch_signals(store: &Arc<Store>) -> Result<signal_hook::iterator::Handle, Failure> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let cannot = |e: std::io::Error| Failure::failed(format!("cannot watch for Ctrl+C: {e}"));
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).map_err(cannot)?;
    let handle = signals.handle();
    let store = Arc::clone(store);
    std::thread::Builder::new()
        .name("hilo-monitor-signals".into())
        .spawn(move || {
            for _ in signals.forever() {
                store.stop();
            }
        })
        .map_err(cannot)?;
    Ok(handle)
}

/// Starts the samplers, prints the reports, stops and joins the samplers,
/// prints the final report.
fn monitor(
    plan: &Plan,
    sources: Vec<Box<dyn sample::Source>>,
    store: &Arc<Store>,
) -> Result<(), Failure> {
    let schedule = plan.schedule;
    // The sources read their counters when made: the first rates are over
    // this wait (a stop cuts it short).
    store
        .stop_token()
        .wait_timeout(PRIME.min(schedule.interval));
    let pool = ThreadPool::builder()
        .max_workers(WORKERS)
        .thread_name_prefix("hilo-monitor")
        .build()
        .map_err(|e| Failure::failed(format!("cannot start the workers: {e}")))?;
    let start = Instant::now();
    let mut samplers: Vec<Future<()>> = Vec::with_capacity(WORKERS);
    for (i, source) in sources.into_iter().enumerate() {
        let task = sampler::task(source, i, start, schedule, Arc::clone(store));
        match pool.submit_with_stop(task) {
            Ok(f) => samplers.push(f),
            Err(e) => store.fail(format!("cannot start a sampler: {e}")),
        }
    }
    if std::io::stderr().is_terminal() {
        eprintln!(
            "hilo monitor: a sample every {}, a report every {}; Ctrl+C to stop",
            hilo_term::show_duration(schedule.interval),
            hilo_term::show_duration(schedule.report)
        );
    }
    let printer = Printer {
        json: plan.json,
        sparklines: !plan.json && std::io::stdout().is_terminal(),
    };
    let reported = reports(plan, start, store, &printer);
    // However the reports ended, the samplers stop (a no-op for those
    // past their last tick) and are joined before the last report.
    for f in &samplers {
        f.request_stop();
    }
    for f in samplers {
        if let Err(e) = f.result() {
            store.fail(format!("a sampler ended: {e}"));
        }
    }
    let reported = reported?;
    let to = reported
        .ended
        .unwrap_or_else(|| Duration::from_millis(start.elapsed().as_millis() as u64));
    let samples = store.take_through(None);
    printer.print(&Window {
        number: reported.done + 1,
        is_final: true,
        from: reported.from,
        to,
        samples: &samples,
    })?;
    match store.failure() {
        Some(why) => Err(Failure::failed(why)),
        None => Ok(()),
    }
}

/// How far the regular reports got.
struct Reported {
    /// Reports printed.
    done: u32,
    /// The last one's time (0 before the first).
    from: Duration,
    /// The end's time, if the run reached it (rather than being stopped).
    ended: Option<Duration>,
}

/// Prints each report when it is due, until the end or a stop.
fn reports(
    plan: &Plan,
    start: Instant,
    store: &Store,
    printer: &Printer,
) -> Result<Reported, Failure> {
    let schedule = plan.schedule;
    let mut reported = Reported {
        done: 0,
        from: Duration::ZERO,
        ended: None,
    };
    loop {
        let next = schedule.after_report(reported.done);
        let (Next::Report(_, at) | Next::End(at)) = next;
        let left = (start + at).saturating_duration_since(Instant::now());
        // True when the run was stopped: no more regular reports.
        if store.stop_token().wait_timeout(left) {
            return Ok(reported);
        }
        // The samples due by now may still be on their way.
        if !store.wait_through(schedule.last_tick_by(at)) {
            return Ok(reported);
        }
        let Next::Report(number, at) = next else {
            reported.ended = Some(at);
            return Ok(reported);
        };
        let samples = store.take_through(Some(schedule.last_tick_by(at)));
        let window = Window {
            number,
            is_final: false,
            from: reported.from,
            to: at,
            samples: &samples,
        };
        if let Err(e) = printer.print(&window) {
            store.stop();
            return Err(e);
        }
        reported.done = number;
        reported.from = at;
    }
}

/// How reports reach standard output.
struct Printer {
    json: bool,
    sparklines: bool,
}

impl Printer {
    /// Prints `window` (a JSON line, or a table and a blank line) and
    /// flushes, so a reader sees each report as it is made.
    fn print(&self, window: &Window<'_>) -> Result<(), Failure> {
        let mut out = std::io::stdout().lock();
        let written = if self.json {
            writeln!(out, "{}", window.json())
        } else {
            writeln!(out, "{}\n", window.text(self.sparklines))
        };
        written.and_then(|()| out.flush()).map_err(Failure::output)
    }
}
