//! `--halt`: when to stop early, GNU parallel's `WHEN,WHY=N`, and the exit
//! status it gives. Owns the rule, the count of jobs it looks at and the
//! status it decides; stopping itself is the runner's job.
//!
//! As GNU parallel 20221122 (`should_we_halt` and `halt`):
//! - each job that counts toward the rule (a failed one for `fail`, a
//!   succeeded one for `success`, any for `done`) is named on stderr:
//!   "This job failed:" and its command line;
//! - when the rule fires, `fail` and `done` decide the exit status: with
//!   `=1`, the status of the job that fired it (128 + a signal's number);
//!   with a count, the number of failed jobs (at most 101); with a
//!   percentage, the failed jobs as a percentage of all jobs, rounded up;
//!   `success` decides 0;
//! - a rule that never fired still decides: the number failed (a count),
//!   or the percentage of started jobs that failed (a percentage).

/// What happens to running jobs when the rule fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// Kill them.
    Now,
    /// Let them finish.
    Soon,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    Fail,
    Success,
    /// Any job, failed or not.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Threshold {
    Count(u64),
    Percent(f64),
}

/// A parsed `--halt` rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Halt {
    /// `None` for `never`.
    rule: Option<(When, Why, Threshold)>,
}

/// Parses `now,fail=1`, `soon,fail=10%`, `now,success=1`, `soon,done=3`,
/// `never`, and GNU's short forms `0` (never), `1` (soon,fail=1), `2`
/// (now,fail=1), `-1` (soon,success=1), `-2` (now,success=1) and `N%`
/// (soon,fail=N%).
pub(crate) fn parse(s: &str) -> Result<Halt, String> {
    let bad = || {
        format!(
            "expected WHEN,WHY=N such as now,fail=1 or soon,fail=10% or now,success=1, got {s:?}"
        )
    };
    if let Some(pct) = s.strip_suffix('%').filter(|p| p.parse::<f64>().is_ok()) {
        return parse(&format!("soon,fail={pct}%"));
    }
    let rule = match s {
        "never" | "0" => None,
        "1" => Some((When::Soon, Why::Fail, Threshold::Count(1))),
        "2" => Some((When::Now, Why::Fail, Threshold::Count(1))),
        "-1" => Some((When::Soon, Why::Success, Threshold::Count(1))),
        "-2" => Some((When::Now, Why::Success, Threshold::Count(1))),
        _ => {
            let (when, cond) = s.split_once(',').ok_or_else(bad)?;
            let when = match when {
                "now" => When::Now,
                "soon" => When::Soon,
                _ => return Err(bad()),
            };
            let (why, n) = cond.split_once('=').ok_or_else(bad)?;
            let why = match why {
                "fail" => Why::Fail,
                "success" => Why::Success,
                "done" => Why::Done,
                _ => return Err(bad()),
            };
            let threshold = match n.strip_suffix('%') {
                Some(p) => Threshold::Percent(
                    p.parse::<f64>()
                        .ok()
                        .filter(|p| *p > 0.0 && *p <= 100.0)
                        .ok_or_else(bad)?,
                ),
                None => Threshold::Count(n.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(bad)?),
            };
            Some((when, why, threshold))
        }
    };
    Ok(Halt { rule })
}

impl Halt {
    /// A percentage is of all jobs, so their number must be known.
    pub(crate) fn needs_total(&self) -> bool {
        matches!(self.rule, Some((_, _, Threshold::Percent(_))))
    }

    /// Whether a job that ended with `status` counts toward the rule, and
    /// GNU's words for it.
    fn counts(&self, status: i32) -> Option<&'static str> {
        match self.rule?.1 {
            Why::Fail if status != 0 => Some("This job failed:"),
            Why::Success if status == 0 => Some("This job succeeded:"),
            Why::Done => Some("This job finished:"),
            _ => None,
        }
    }
}

/// The rule's view of the run: the jobs that ended, and the exit status
/// decided when it fired.
#[derive(Debug)]
pub(crate) struct Tracker {
    halt: Halt,
    /// All jobs, when known (a percentage needs it).
    total: Option<u64>,
    failed: u64,
    succeeded: u64,
    fired: Option<When>,
    status: Option<u8>,
}

/// What one ended job does to the run.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// GNU's line for a job that counts toward the rule ("This job
    /// failed:"), to print with its command line.
    pub(crate) note: Option<&'static str>,
    /// The rule fired with this job.
    pub(crate) fire: Option<When>,
}

impl Tracker {
    pub(crate) fn new(halt: Halt, total: Option<u64>) -> Tracker {
        Tracker {
            halt,
            total,
            failed: 0,
            succeeded: 0,
            fired: None,
            status: None,
        }
    }

    /// A job ended with `status`: its exit code, or 128 + the signal that
    /// killed it (0 is success).
    pub(crate) fn ended(&mut self, status: i32) -> Verdict {
        if status == 0 {
            self.succeeded += 1;
        } else {
            self.failed += 1;
        }
        let idle = Verdict {
            note: None,
            fire: None,
        };
        let Some((when, why, threshold)) = self.halt.rule else {
            return idle;
        };
        // Jobs killed by `--halt now` are not looked at (GNU names none).
        if self.fired == Some(When::Now) {
            return idle;
        }
        let Some(note) = self.halt.counts(status) else {
            return idle;
        };
        let count = match why {
            Why::Fail => self.failed,
            Why::Success => self.succeeded,
            Why::Done => self.failed + self.succeeded,
        };
        let reached = match threshold {
            Threshold::Count(n) => count >= n,
            Threshold::Percent(p) => {
                (count as f64) * 100.0 >= p * self.total.unwrap_or(count) as f64
            }
        };
        if !reached {
            return Verdict {
                note: Some(note),
                fire: None,
            };
        }
        if self.status.is_none() {
            self.status = Some(match (why, threshold) {
                (Why::Success, _) => 0,
                (_, Threshold::Count(1)) => u8::try_from(status.clamp(0, 255)).unwrap_or(255),
                (_, Threshold::Count(_)) => self.failed.min(101) as u8,
                (_, Threshold::Percent(_)) => percent(self.failed, self.total.unwrap_or(1)),
            });
        }
        let first = self.fired.is_none();
        if first {
            self.fired = Some(when);
        }
        Verdict {
            note: Some(note),
            fire: first.then_some(when),
        }
    }

    /// The exit status the rule gives the run, `None` without a rule: the
    /// one decided when it fired, else the number of failed jobs (at most
    /// 101), or with a percentage the failed ones as a percentage of those
    /// that ran.
    pub(crate) fn status(&self) -> Option<u8> {
        let (_, _, threshold) = self.halt.rule?;
        Some(self.status.unwrap_or(match threshold {
            Threshold::Count(_) => self.failed.min(101) as u8,
            Threshold::Percent(_) => percent(self.failed, self.failed + self.succeeded),
        }))
    }
}

/// `part` as a percentage of `whole`, rounded up (of at least 1).
fn percent(part: u64, whole: u64) -> u8 {
    (part * 100).div_ceil(whole.max(1)).min(100) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exit status and the jobs named, for jobs ending with
    /// `statuses` in turn (of `total` in all), as `hilo run` would count
    /// them; stops at a `now` firing, as the run does.
    fn run(rule: &str, statuses: &[i32], total: u64) -> (Option<u8>, usize, Option<When>) {
        let mut t = Tracker::new(parse(rule).unwrap(), Some(total));
        let (mut named, mut fired) = (0, None);
        for &s in statuses {
            let v = t.ended(s);
            named += usize::from(v.note.is_some());
            fired = fired.or(v.fire);
            if v.fire == Some(When::Now) {
                break;
            }
        }
        (t.status(), named, fired)
    }

    // Each case run by GNU parallel 20221122 too, `-j1`, each job
    // `sh -c 'exit $1' ::: STATUSES`; the exit status it gave is the one
    // expected here.
    #[test]
    fn exit_statuses_as_gnu_parallel() {
        let n = When::Now;
        let s = When::Soon;
        for (rule, statuses, want) in [
            ("now,success=1", &[1, 0, 2][..], (Some(0), 1, Some(n))),
            ("now,fail=1", &[0, 3, 0], (Some(3), 1, Some(n))),
            ("soon,fail=1", &[0, 3, 4, 0], (Some(3), 2, Some(s))),
            ("2", &[0, 6, 0], (Some(6), 1, Some(n))),
            ("now,fail=2", &[5, 0, 3, 7], (Some(2), 2, Some(n))),
            ("now,fail=50%", &[1, 0, 1, 0, 0, 0], (Some(34), 2, None)),
            ("now,fail=30%", &[1, 1, 0, 0, 0], (Some(40), 2, Some(n))),
            ("soon,success=50%", &[0, 1, 0, 1], (Some(0), 2, Some(s))),
            ("now,success=1", &[1, 2], (Some(2), 0, None)),
            ("now,fail=1", &[0, 0], (Some(0), 0, None)),
            ("now,done=2", &[0, 6, 0], (Some(1), 2, Some(n))),
            ("never", &[0, 6, 0], (None, 0, None)),
        ] {
            assert_eq!(
                run(rule, statuses, statuses.len() as u64),
                want,
                "{rule} {statuses:?}"
            );
        }
    }

    #[test]
    fn a_signal_is_128_plus_its_number() {
        assert_eq!(run("now,fail=1", &[128 + 9], 1).0, Some(137));
    }

    #[test]
    fn short_forms_are_gnu_parallels() {
        assert_eq!(parse("-1").unwrap(), parse("soon,success=1").unwrap());
        assert_eq!(parse("-2").unwrap(), parse("now,success=1").unwrap());
        assert_eq!(parse("10%").unwrap(), parse("soon,fail=10%").unwrap());
        assert_eq!(parse("0").unwrap(), parse("never").unwrap());
        assert!(parse("soon,fail=10%").unwrap().needs_total());
    }

    #[test]
    fn nonsense_is_refused() {
        for bad in [
            "",
            "now",
            "now,fail",
            "now,fail=0",
            "later,fail=1",
            "now,oops=1",
            "soon,fail=200%",
            "now,fail=x",
            "x%",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
