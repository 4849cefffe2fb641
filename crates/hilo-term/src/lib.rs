//! What `hilo`'s command-line tools share at the terminal: how progress
//! reaches a person (on stderr, and only when stderr is a terminal, so piped
//! and redirected output stays clean), how a table looks ([`table`]), and
//! how a tool stops: one error type ([`Failure`]) that carries its exit
//! status and prints as one line; how `-j` is written ([`Jobs`]); and how
//! an output file stays unnamed until it is complete ([`Unnamed`]). Never
//! computes anything and never decides what a tool prints otherwise.

use std::io::{self, IsTerminal};

mod cpu;
mod jobs;
mod unnamed;
pub use cpu::CpuTicks;
pub use jobs::{parse_jobs, Jobs, JOBS_HELP};
pub use unnamed::Unnamed;

/// The exit status of a usage error (a bad option or value), as clap's
/// own, in every subcommand.
pub const EXIT_USAGE: u8 = 2;

/// The exit status of a tool that could not do its work (an unreadable
/// input, an unwritable output, a failed worker).
pub const EXIT_FAILED: u8 = 1;

/// The exit status after Ctrl+C or SIGTERM stopped a tool that cleaned up
/// first (128 + SIGINT, as a shell reports it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Why a tool stops early: a one-line message and the exit status it
/// carries; or a reader that closed standard output (`| head`), which is
/// not an error and ends the tool quietly with status 0.
///
/// ```
/// use hilo_term::{Failure, EXIT_USAGE};
///
/// let f = Failure::usage("--chunk-size must be at least 1");
/// assert_eq!(f.status(), EXIT_USAGE);
/// assert_eq!(f.to_string(), "--chunk-size must be at least 1");
/// let closed = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
/// assert_eq!(Failure::output(closed).status(), 0);
/// ```
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Say `message`, exit with `status`.
    #[error("{message}")]
    Exit {
        /// The exit status.
        status: u8,
        /// One line, without the tool's name.
        message: String,
    },
    /// Standard output was closed by its reader.
    #[error("the output was closed by its reader")]
    BrokenPipe,
}

impl Failure {
    /// Stops with `status` and `message`.
    pub fn new(status: u8, message: impl Into<String>) -> Self {
        Failure::Exit {
            status,
            message: message.into(),
        }
    }

    /// A usage error ([`EXIT_USAGE`]).
    pub fn usage(message: impl Into<String>) -> Self {
        Failure::new(EXIT_USAGE, message)
    }

    /// The work could not be done ([`EXIT_FAILED`]).
    pub fn failed(message: impl Into<String>) -> Self {
        Failure::new(EXIT_FAILED, message)
    }

    /// A write to standard output failed: [`Failure::BrokenPipe`] if its
    /// reader went away, a failure otherwise.
    pub fn output(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::failed(format!("cannot write the output: {e}"))
        }
    }

    /// The exit status it carries.
    pub fn status(&self) -> u8 {
        match self {
            Failure::Exit { status, .. } => *status,
            Failure::BrokenPipe => 0,
        }
    }

    /// Prints the message on stderr as `hilo TOOL: message` (nothing for a
    /// closed output) and returns the exit status.
    pub fn report(&self, tool: &str) -> u8 {
        if let Failure::Exit { message, .. } = self {
            eprintln!("hilo {tool}: {message}");
        }
        self.status()
    }
}

/// An amount of bytes for a person, in powers of 1000: `512 B`,
/// `15.2 kB`, `3.1 MB` (a rate adds its `/s`).
///
/// ```
/// use hilo_term::decimal_size;
/// assert_eq!(decimal_size(0.0), "0 B");
/// assert_eq!(decimal_size(999.0), "999 B");
/// assert_eq!(decimal_size(999.4), "999 B");
/// assert_eq!(decimal_size(1000.0), "1.0 kB");
/// assert_eq!(decimal_size(15_240.0), "15.2 kB");
/// assert_eq!(decimal_size(999_999.0), "1.0 MB");
/// assert_eq!(decimal_size(3_100_000_000.0), "3.1 GB");
/// ```
pub fn decimal_size(bytes: f64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    // Below what rounds to 1000: whole bytes.
    if bytes < 999.5 {
        return format!("{bytes:.0} B");
    }
    let mut v = bytes / 1000.0;
    let mut unit = 0;
    while v >= 999.95 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// A tool's exit status: 0 if it succeeded, else its failure's, reported.
pub fn exit_status(tool: &str, outcome: Result<(), Failure>) -> u8 {
    outcome.map_or_else(|f| f.report(tool), |()| 0)
}

/// A duration given in seconds on the command line (`30`, `0.5`).
///
/// ```
/// use std::time::Duration;
/// assert_eq!(hilo_term::parse_secs("1.5"), Ok(Duration::from_millis(1500)));
/// assert!(hilo_term::parse_secs("-1").is_err());
/// assert!(hilo_term::parse_secs("10s").is_err());
/// ```
pub fn parse_secs(s: &str) -> Result<std::time::Duration, String> {
    s.parse::<f64>()
        .ok()
        .and_then(|v| std::time::Duration::try_from_secs_f64(v).ok())
        .ok_or_else(|| format!("expected a number of seconds, got {s:?}"))
}

/// A duration with its unit (`500ms`, `5s`, `2m`, `1h`), or a bare number
/// of seconds (`30`, `0.5`).
///
/// ```
/// use std::time::Duration;
/// use hilo_term::parse_duration;
/// assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
/// assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
/// assert_eq!(parse_duration("1.5m"), Ok(Duration::from_secs(90)));
/// assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
/// assert!(parse_duration("-1s").is_err());
/// assert!(parse_duration("5 parsecs").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale = match unit {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "m" => 60.0,
        "h" => 3600.0,
        _ => f64::NAN,
    };
    number
        .parse::<f64>()
        .ok()
        .and_then(|v| std::time::Duration::try_from_secs_f64(v * scale).ok())
        .ok_or_else(|| format!("expected a duration such as 5s, 500ms or 2m, got {s:?}"))
}

/// The shortest time between two samples of the kernel's CPU counters
/// (`hilo top -d`, `hilo monitor --interval`): `/proc/stat` counts CPU
/// time in ticks of 10 ms, so a shorter one would make CPU % jump in steps
/// of 10 % and more.
pub const MIN_SAMPLE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// A time between two samples: a duration as [`parse_duration`] reads it,
/// rounded to the millisecond, at least [`MIN_SAMPLE_INTERVAL`].
///
/// ```
/// use std::time::Duration;
/// use hilo_term::parse_sample_interval;
/// assert_eq!(parse_sample_interval("5s"), Ok(Duration::from_secs(5)));
/// assert_eq!(parse_sample_interval("0.1004"), Ok(Duration::from_millis(100)));
/// assert!(parse_sample_interval("10ms").is_err());
/// assert!(parse_sample_interval("abc").is_err());
/// ```
///
/// # Errors
/// The words clap shows after the option's name.
pub fn parse_sample_interval(s: &str) -> Result<std::time::Duration, String> {
    let d = parse_duration(s)?;
    let d = std::time::Duration::from_millis((d.as_secs_f64() * 1000.0).round() as u64);
    if d < MIN_SAMPLE_INTERVAL {
        return Err(format!(
            "must be at least {} (the CPU's counters move in steps of 10 ms)",
            show_duration(MIN_SAMPLE_INTERVAL)
        ));
    }
    Ok(d)
}

/// A duration as people write it: `5 s`, `1.5 s`, `250 ms`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(hilo_term::show_duration(Duration::from_secs(5)), "5 s");
/// assert_eq!(hilo_term::show_duration(Duration::from_millis(1500)), "1.5 s");
/// assert_eq!(hilo_term::show_duration(Duration::from_millis(250)), "250 ms");
/// ```
pub fn show_duration(d: std::time::Duration) -> String {
    if d < std::time::Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs_f64())
    }
}

/// A timeout: a duration as [`parse_duration`] reads it, more than zero.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(hilo_term::parse_timeout("1.5"), Ok(Duration::from_millis(1500)));
/// assert!(hilo_term::parse_timeout("0s").is_err());
/// ```
pub fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(format!("a timeout must be more than zero, got {s:?}"));
    }
    Ok(d)
}

pub use indicatif::ProgressBar;

pub use comfy_table::CellAlignment as Align;

/// A plain table: no borders, each column aligned as `align` says (left
/// for any column past its end), two spaces before each column, no
/// trailing spaces; lines joined by `\n`, none after the last.
///
/// ```
/// use hilo_term::{table, Align};
///
/// let t = table(
///     &[Align::Left, Align::Right],
///     ["word", "count"],
///     [vec!["a".to_string(), "12".into()], vec!["bb".into(), "3".into()]],
/// );
/// assert_eq!(t, "  word  count\n  a        12\n  bb        3");
/// ```
pub fn table<H, R>(
    align: &[Align],
    header: impl IntoIterator<Item = H>,
    rows: impl IntoIterator<Item = R>,
) -> String
where
    H: Into<comfy_table::Cell>,
    R: Into<comfy_table::Row>,
{
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .set_header(
            header
                .into_iter()
                .map(Into::into)
                .collect::<Vec<comfy_table::Cell>>(),
        );
    for row in rows {
        t.add_row(row);
    }
    for (i, column) in t.column_iter_mut().enumerate() {
        column.set_padding((2, 0));
        column.set_cell_alignment(align.get(i).copied().unwrap_or(Align::Left));
    }
    let lines: Vec<String> = t.lines().map(|l| l.trim_end().to_owned()).collect();
    lines.join("\n")
}

/// A progress bar on stderr in indicatif's `template` (`len` `None`: no
/// known end), or `None` when stderr is not a terminal.
///
/// ```
/// // Under `cargo test` stderr is captured, not a terminal: no bar.
/// # if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
/// assert!(hilo_term::progress_bar(Some(10), "{bar} {pos}/{len}").is_none());
/// # }
/// ```
pub fn progress_bar(len: Option<u64>, template: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(len, indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    Some(bar)
}
