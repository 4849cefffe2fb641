//! `hilo fetch`: the lesson's downloader as a tool — many downloads at once
//! on a `ThreadPool`, high before medium before low, retries with backoff
//! (and the server's `Retry-After`), each file saved under the MD5 of its
//! content, never half-written. Here: the options and the run; `input`:
//! what a request line is; `name`: what a file is called; `http`: one
//! try; `download`: the pool, the retries, the saving; `log`: `--log`.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args as ClapArgs;
use hilo_term::{Failure, EXIT_FAILED};
use hilo_work::io_message;

pub mod bars;
pub mod download;
pub mod http;
pub mod input;
pub mod log;
pub mod name;
pub mod report;
pub mod scrape;

use download::{Mode, Settings};
use input::{LineError, Request};
use report::Report;

/// `hilo fetch`'s options.
#[derive(ClapArgs, Debug)]
#[command(
    about = "Download many URLs at once: by priority, with retries, each file named by its MD5",
    after_help = "Input lines are `URL [high|medium|low]` (medium if left out); every pending \
high download starts before any medium, medium before low. A file is saved as \
NAME-MD5.EXT (NAME and EXT from the URL's last path segment, `index.html` if empty), \
written unnamed and named only once complete. Tried again: connect errors, timeouts, \
resets, truncated bodies, 5xx and 429 (after its Retry-After); never other 4xx. \
Exit status: 0 all saved, 1 some failed, 2 usage."
)]
pub struct Args {
    /// URLs to fetch ("-" reads lines from stdin)
    #[arg(value_name = "URL")]
    urls: Vec<String>,

    /// Read lines `URL [high|medium|low]` from FILE ("-": stdin)
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    input: Option<PathBuf>,

    /// Downloads at once
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    jobs: u16,

    /// Directory to save into (made if missing)
    #[arg(
        short = 'o',
        long = "output-dir",
        value_name = "DIR",
        default_value = "."
    )]
    dir: PathBuf,

    /// Tries after the first, for errors worth another try
    #[arg(long, value_name = "N", default_value_t = 3)]
    retries: u32,

    /// Wait before the first retry; doubled (with jitter) for each next one
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = hilo_term::parse_duration)]
    retry_delay: Duration,

    /// Give up on one request after this long (5s, 500ms, 2m)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = hilo_term::parse_timeout)]
    timeout: Duration,

    /// Write one JSON line per try (time, url, priority, attempt, status, bytes, ms, error)
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,

    /// Print one JSON object per URL instead of a line
    #[arg(long)]
    json: bool,

    /// Save nothing: print each page's status, size, time and `<title>` as it
    /// ends, then "ok N/M"
    #[arg(long)]
    scrape: bool,

    /// Also fetch everything again one at a time, and print how much
    /// faster -j was
    #[arg(long)]
    compare: bool,
}

/// Runs `hilo fetch`; returns the exit status.
pub fn main(args: Args) -> u8 {
    match run(&args) {
        Ok(status) => status,
        Err(f) => f.report("fetch"),
    }
}

fn run(args: &Args) -> Result<u8, Failure> {
    let lines = read_requests(args)?;
    if lines.is_empty() {
        return Err(Failure::usage(
            "nothing to fetch: give URLs, -i FILE or - (lines URL [high|medium|low])",
        ));
    }
    if !args.scrape {
        std::fs::create_dir_all(&args.dir).map_err(|e| {
            Failure::usage(format!(
                "cannot make {}: {}",
                args.dir.display(),
                io_message(&e)
            ))
        })?;
        // Found out now, not as every download fails.
        hilo_term::Unnamed::new_in(&args.dir).map_err(|e| {
            Failure::usage(format!(
                "cannot write in {}: {}",
                args.dir.display(),
                io_message(&e)
            ))
        })?;
    }
    let log = match &args.log {
        Some(path) => Some(Arc::new(log::Log::create(path).map_err(|e| {
            Failure::usage(format!(
                "cannot write {}: {}",
                path.display(),
                io_message(&e)
            ))
        })?)),
        None => None,
    };
    let began = Instant::now();
    let mut report = Report::new(args.json, args.scrape);
    let mut requests = Vec::new();
    for line in lines {
        match line {
            Ok(r) => requests.push(r),
            Err(e) => report.bad_line(&e),
        }
    }
    let settings = Settings {
        mode: if args.scrape {
            Mode::Scrape
        } else {
            Mode::Save
        },
        dir: args.dir.clone(),
        jobs: usize::from(args.jobs),
        retries: args.retries,
        retry_delay: args.retry_delay,
        log: log.clone(),
        bars: None,
    };
    let client = Arc::new(http::Client::new(args.timeout));
    let again = args.compare.then(|| requests.clone());
    let bars = bars::TermBars::new(requests.len() as u64);
    let settings = Settings {
        bars: bars.clone().map(|b| b as Arc<dyn download::Bars>),
        ..settings
    };
    download::run(requests, &settings, &client, |outcome| match &bars {
        Some(bars) => {
            bars.suspend(|| report.outcome(&outcome));
            bars.one_done();
        }
        None => report.outcome(&outcome),
    })
    .map_err(|e| Failure::failed(format!("cannot start the download threads: {e}")))?;
    if let Some(bars) = &bars {
        bars.finish();
    }
    let took = began.elapsed();
    if let (Some(log), Some(path)) = (&log, &args.log) {
        log.finish().map_err(|e| {
            Failure::failed(format!(
                "cannot write {}: {}",
                path.display(),
                io_message(&e)
            ))
        })?;
    }
    report.summary(took);
    if let Some(requests) = again {
        compare(requests, &settings, &client, took)?;
    }
    Ok(if report.failed == 0 { 0 } else { EXIT_FAILED })
}

/// `--compare`: the same downloads one at a time (into a directory that is
/// removed after), timed against the concurrent run's `took`.
fn compare(
    requests: Vec<Request>,
    settings: &Settings,
    client: &Arc<http::Client>,
    took: Duration,
) -> Result<(), Failure> {
    // Saved files go to a directory removed after; pages are not saved.
    let scratch = match settings.mode {
        Mode::Save => Some(tempfile::tempdir_in(&settings.dir).map_err(|e| {
            Failure::failed(format!(
                "cannot make a directory in {} for --compare: {}",
                settings.dir.display(),
                io_message(&e)
            ))
        })?),
        Mode::Scrape => None,
    };
    let one_by_one = Settings {
        mode: settings.mode,
        dir: scratch
            .as_ref()
            .map_or_else(|| settings.dir.clone(), |d| d.path().to_owned()),
        jobs: 1,
        retries: settings.retries,
        retry_delay: settings.retry_delay,
        log: None,
        bars: None,
    };
    eprintln!("hilo fetch: --compare: fetching it all again, one at a time…");
    let began = Instant::now();
    let mut failed = 0;
    download::run(requests, &one_by_one, client, |o| {
        failed += u64::from(o.result.is_err());
    })
    .map_err(|e| Failure::failed(format!("cannot start the download thread: {e}")))?;
    let sequential = began.elapsed();
    eprintln!(
        "hilo fetch: one at a time {:.2} s, with -j {} {:.2} s: {:.1}x faster{}",
        sequential.as_secs_f64(),
        settings.jobs,
        took.as_secs_f64(),
        sequential.as_secs_f64() / took.as_secs_f64().max(1e-9),
        if failed > 0 {
            format!(" ({failed} failed one at a time)")
        } else {
            String::new()
        }
    );
    Ok(())
}

/// The request lines: the URL arguments, then `-i FILE`; `-` (either
/// way) reads stdin.
fn read_requests(args: &Args) -> Result<Vec<Result<Request, LineError>>, Failure> {
    let mut lines = Vec::new();
    let stdin = || {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::usage(format!("cannot read stdin: {}", io_message(&e))))?;
        Ok::<_, Failure>(text)
    };
    for url in &args.urls {
        if url == "-" {
            lines.extend(input::parse_all(&stdin()?));
        } else {
            // An argument is a URL, with no level (high and low come in
            // lines); it is "line 0".
            lines.extend(input::parse_line(0, url));
        }
    }
    if let Some(path) = &args.input {
        let text = if path.as_os_str() == "-" {
            stdin()?
        } else {
            std::fs::read_to_string(path).map_err(|e| {
                Failure::usage(format!(
                    "cannot read {}: {}",
                    path.display(),
                    io_message(&e)
                ))
            })?
        };
        lines.extend(input::parse_all(&text));
    }
    Ok(lines)
}
