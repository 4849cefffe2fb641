//! The command line, checked once and turned into a [`Plan`]: where the
//! addresses come from, how many at once, how long to wait, whom to ask,
//! how to print. Computes nothing else.

use std::path::PathBuf;
use std::time::Duration;

use crate::resolver::Servers;
use crate::Args;

/// The default `-j`: the lesson's 20 threads.
pub(crate) const DEFAULT_JOBS: usize = 20;

/// What one run does.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) input: Input,
    pub(crate) jobs: usize,
    pub(crate) timeout: Duration,
    pub(crate) servers: Servers,
    pub(crate) json: bool,
}

/// Where the addresses come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Input {
    Stdin,
    File(PathBuf),
}

impl Plan {
    pub(crate) fn of(args: Args) -> Plan {
        // `0` (as many as useful) is the default too: for waiting on the
        // network, the lesson's 20, not the cores.
        let cores = hilo::default_workers();
        let jobs = args
            .jobs
            .map_or(DEFAULT_JOBS, |j| j.resolve(cores, DEFAULT_JOBS));
        let input = match args.input.to_str() {
            Some("-") => Input::Stdin,
            _ => Input::File(args.input),
        };
        Plan {
            input,
            jobs,
            timeout: args.timeout,
            servers: args.nameserver.unwrap_or(Servers::System),
            json: args.json,
        }
    }
}

/// Parses `--timeout`: a number of seconds with an optional unit, `5s`,
/// `1.5`, `500ms`, `1m`; more than zero.
///
/// # Errors
/// One line saying what is expected.
///
/// ```
/// use std::time::Duration;
/// use hilo_mx::parse_timeout;
///
/// assert_eq!(parse_timeout("5s"), Ok(Duration::from_secs(5)));
/// assert_eq!(parse_timeout("250ms"), Ok(Duration::from_millis(250)));
/// assert_eq!(parse_timeout("1.5"), Ok(Duration::from_millis(1500)));
/// assert!(parse_timeout("0s").is_err());
/// assert!(parse_timeout("soon").is_err());
/// ```
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let bad = || format!("expected a duration like 5s, 1.5s or 500ms, got {text:?}");
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number.parse().map_err(|_| bad())?;
    if !(value.is_finite() && value > 0.0) {
        return Err(format!("the timeout must be more than zero, got {text:?}"));
    }
    Duration::try_from_secs_f64(value * scale).map_err(|_| bad())
}

/// A duration as people write it: `5 s`, `1.5 s`, `250 ms`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(hilo_mx::show_duration(Duration::from_secs(5)), "5 s");
/// assert_eq!(hilo_mx::show_duration(Duration::from_millis(1500)), "1.5 s");
/// assert_eq!(hilo_mx::show_duration(Duration::from_millis(250)), "250 ms");
/// ```
pub fn show_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs_f64())
    }
}
