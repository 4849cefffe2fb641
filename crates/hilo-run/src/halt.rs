//! `--halt`: when to stop early, GNU parallel's `WHEN,WHY=N`. Owns the
//! rule and its check; stopping itself is the runner's job.

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

/// Parses `now,fail=1`, `soon,fail=10%`, `now,success=1`, `never`, and
/// GNU's old numeric forms `0` (never), `1` (soon,fail=1), `2` (now,fail=1).
pub(crate) fn parse(s: &str) -> Result<Halt, String> {
    let bad = || {
        format!(
            "expected WHEN,WHY=N such as now,fail=1 or soon,fail=10% or now,success=1, got {s:?}"
        )
    };
    let rule = match s {
        "never" | "0" => None,
        "1" => Some((When::Soon, Why::Fail, Threshold::Count(1))),
        "2" => Some((When::Now, Why::Fail, Threshold::Count(1))),
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

    /// After a job finished: `Some(when)` if the rule fires now.
    pub(crate) fn check(&self, failed: u64, succeeded: u64, total: Option<u64>) -> Option<When> {
        let (when, why, threshold) = self.rule?;
        let count = match why {
            Why::Fail => failed,
            Why::Success => succeeded,
        };
        let fired = match threshold {
            Threshold::Count(n) => count >= n,
            Threshold::Percent(p) => {
                count > 0 && (count as f64) * 100.0 >= p * total.unwrap_or(count) as f64
            }
        };
        fired.then_some(when)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_fire_at_the_threshold() {
        let h = parse("now,fail=2").unwrap();
        assert_eq!(h.check(1, 10, None), None);
        assert_eq!(h.check(2, 0, None), Some(When::Now));
        let h = parse("soon,success=1").unwrap();
        assert_eq!(h.check(5, 0, None), None);
        assert_eq!(h.check(5, 1, None), Some(When::Soon));
    }

    #[test]
    fn percentages_are_of_all_jobs() {
        let h = parse("soon,fail=10%").unwrap();
        assert!(h.needs_total());
        assert_eq!(h.check(9, 0, Some(100)), None);
        assert_eq!(h.check(10, 0, Some(100)), Some(When::Soon));
        assert_eq!(h.check(0, 50, Some(100)), None);
    }

    #[test]
    fn never_and_the_old_numbers() {
        assert_eq!(parse("never").unwrap().check(100, 0, None), None);
        assert_eq!(parse("2").unwrap().check(1, 0, None), Some(When::Now));
        assert_eq!(parse("1").unwrap().check(1, 0, None), Some(When::Soon));
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
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
