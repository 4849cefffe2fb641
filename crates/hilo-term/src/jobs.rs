//! `-j`: how many jobs (or workers) at once, written the same way in every
//! subcommand, as GNU parallel writes it: `N`, `N%` of the cores, `+N` or
//! `-N` cores, or `0` for as many as can usefully run at once.

/// The help every subcommand shows for `-j`.
pub const JOBS_HELP: &str = "At once: N, N% of the cores (-j 200%), +N or -N cores, or 0 \
    for as many as can usefully run (hilo run: as many as possible; the CPU tools: one per \
    core) [default: the number of cores]";

/// A parsed `-j`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jobs {
    /// `N`.
    Exactly(usize),
    /// `N%` of the cores.
    PercentOfCores(usize),
    /// `+N` or `-N` cores.
    CoresPlus(isize),
    /// `0`.
    AsManyAsUseful,
}

/// Parses `-j`'s value (clap's `value_parser`).
///
/// # Errors
/// One line naming the forms, for anything else.
///
/// ```
/// use hilo_term::{parse_jobs, Jobs};
/// assert_eq!(parse_jobs("200%").unwrap().resolve(2, 64), 4);
/// assert_eq!(parse_jobs("-1").unwrap().resolve(4, 64), 3);
/// assert_eq!(parse_jobs("0").unwrap(), Jobs::AsManyAsUseful);
/// assert!(parse_jobs("abc").is_err());
/// ```
pub fn parse_jobs(s: &str) -> Result<Jobs, String> {
    let bad = || format!("expected N, N%, +N, -N or 0, got {s:?}");
    if let Some(p) = s.strip_suffix('%') {
        return p
            .parse()
            .ok()
            .filter(|&p| p > 0)
            .map(Jobs::PercentOfCores)
            .ok_or_else(bad);
    }
    if s.starts_with('+') || s.starts_with('-') {
        return s.parse().map(Jobs::CoresPlus).map_err(|_| bad());
    }
    match s.parse::<usize>().map_err(|_| bad())? {
        0 => Ok(Jobs::AsManyAsUseful),
        n => Ok(Jobs::Exactly(n)),
    }
}

impl Jobs {
    /// How many, on `cores` cores, where `0` means `useful`; at least 1.
    pub fn resolve(self, cores: usize, useful: usize) -> usize {
        match self {
            Jobs::Exactly(n) => n,
            Jobs::PercentOfCores(p) => cores * p / 100,
            Jobs::CoresPlus(d) => cores.saturating_add_signed(d),
            Jobs::AsManyAsUseful => useful,
        }
        .max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_accept_gnu_forms_and_refuse_the_rest() {
        assert_eq!(parse_jobs("4"), Ok(Jobs::Exactly(4)));
        assert_eq!(parse_jobs("200%").unwrap().resolve(2, 9), 4);
        assert_eq!(parse_jobs("50%").unwrap().resolve(1, 9), 1);
        assert_eq!(parse_jobs("+1").unwrap().resolve(2, 9), 3);
        assert_eq!(parse_jobs("-5").unwrap().resolve(2, 9), 1);
        assert_eq!(parse_jobs("0").unwrap().resolve(2, 9), 9);
        for bad in ["abc", "", "0%", "1.5", "%", "-x"] {
            assert!(parse_jobs(bad).is_err(), "{bad}");
        }
    }
}
