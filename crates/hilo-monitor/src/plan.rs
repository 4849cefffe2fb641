//! The command line checked once into a [`Plan`]: the schedule, where the
//! CSV goes, how reports are printed, which filesystem is watched. The
//! duration parsers live here too. Computes nothing else.

use std::path::PathBuf;
use std::time::Duration;

use hilo_term::{show_duration, Failure};

use crate::schedule::Schedule;
use crate::Args;

/// What one run does.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) schedule: Schedule,
    pub(crate) csv: Option<PathBuf>,
    pub(crate) json: bool,
    pub(crate) path: PathBuf,
}

impl Plan {
    /// The plan of `args`.
    ///
    /// # Errors
    /// A usage error if `--report` is shorter than `--interval`.
    pub(crate) fn of(args: Args) -> Result<Plan, Failure> {
        if args.report < args.interval {
            return Err(Failure::usage(format!(
                "--report ({}) must be at least --interval ({}): a report needs a sample",
                show_duration(args.report),
                show_duration(args.interval)
            )));
        }
        Ok(Plan {
            schedule: Schedule {
                interval: args.interval,
                report: args.report,
                end: args.duration,
            },
            csv: args.csv,
            json: args.json,
            path: args.path,
        })
    }
}

/// A duration of `--report` or `--duration`: as [`hilo_term::parse_duration`]
/// reads it (`30s`, `500ms`, `2m`, `1h`, `1.5`), rounded to the
/// millisecond, more than zero.
///
/// ```
/// use std::time::Duration;
/// use hilo_monitor::parse_period;
/// assert_eq!(parse_period("30s"), Ok(Duration::from_secs(30)));
/// assert_eq!(parse_period("0.0015"), Ok(Duration::from_millis(2)));
/// assert!(parse_period("0").is_err());
/// assert!(parse_period("abc").is_err());
/// ```
///
/// # Errors
/// The words clap shows after the option's name.
pub fn parse_period(s: &str) -> Result<Duration, String> {
    let d = hilo_term::parse_duration(s)?;
    let d = Duration::from_millis((d.as_secs_f64() * 1000.0).round() as u64);
    if d.is_zero() {
        return Err("must be more than zero (500ms, 5s, 2m...)".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_rounded_to_the_millisecond() {
        assert_eq!(parse_period("0.3"), Ok(Duration::from_millis(300)));
        assert_eq!(parse_period("1.0004s"), Ok(Duration::from_secs(1)));
        assert_eq!(
            hilo_term::parse_sample_interval("100ms"),
            Ok(hilo_term::MIN_SAMPLE_INTERVAL)
        );
        assert!(parse_period("0.0004s").is_err());
        assert!(parse_period("-1s").is_err());
    }
}
