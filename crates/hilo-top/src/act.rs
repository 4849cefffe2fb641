//! What `k` and `r` do to a process: send it a signal through a pidfd, or
//! change its nice value. Both first make sure the pid still names the
//! process that was shown (same start time), so a pid reused since the
//! last refresh is never touched.

use rustix::process::{Pid, PidfdFlags, Signal};

/// Signals by name, as `kill -l` spells them (without `SIG`).
const SIGNALS: &[(&str, Signal)] = &[
    ("HUP", Signal::HUP),
    ("INT", Signal::INT),
    ("QUIT", Signal::QUIT),
    ("KILL", Signal::KILL),
    ("USR1", Signal::USR1),
    ("USR2", Signal::USR2),
    ("TERM", Signal::TERM),
    ("CONT", Signal::CONT),
    ("STOP", Signal::STOP),
    ("TSTP", Signal::TSTP),
];

/// Reads a signal given as a name (`TERM`, `sigterm`) or a number (`15`).
///
/// # Errors
/// A name or number hilo top does not offer, as one line.
pub(crate) fn parse_signal(text: &str) -> Result<Signal, String> {
    let t = text.trim();
    let upper = t.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(&(_, s)) = SIGNALS.iter().find(|(n, _)| *n == name) {
        return Ok(s);
    }
    if let Ok(n) = t.parse::<i32>() {
        if let Some(&(_, s)) = SIGNALS.iter().find(|(_, s)| s.as_raw() == n) {
            return Ok(s);
        }
    }
    let names: Vec<&str> = SIGNALS.iter().map(|(n, _)| *n).collect();
    Err(format!("unknown signal {t:?}: one of {}", names.join(" ")))
}

/// The name of a signal from the list above.
pub(crate) fn signal_name(s: Signal) -> &'static str {
    SIGNALS
        .iter()
        .find(|(_, x)| *x == s)
        .map_or("?", |(n, _)| n)
}

/// Why an action was not done.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ActError {
    /// The process ended (or its pid now names another one).
    #[error("process {0} is gone")]
    Gone(i32),
    /// The system refused (another user's process, a lower nice without
    /// privilege).
    #[error("{what} {pid}: {err}")]
    Refused {
        /// What was tried.
        what: &'static str,
        /// On which process.
        pid: i32,
        /// The system's answer.
        err: std::io::Error,
    },
}

fn start_time(pid: i32) -> Option<u64> {
    procfs::process::Process::new(pid)
        .and_then(|p| p.stat())
        .ok()
        .map(|s| s.starttime)
}

/// Sends `signal` to process `pid` if it is still the one that started at
/// `start` (clock ticks after boot).
///
/// The pidfd is opened first and the start time checked after: from then
/// on the descriptor names that process and no other, even if it exits
/// and its pid is reused before the signal is sent.
///
/// # Errors
/// The process is gone, or the signal is not allowed.
pub(crate) fn send_signal(pid: i32, start: u64, signal: Signal) -> Result<(), ActError> {
    let gone = || ActError::Gone(pid);
    let raw = Pid::from_raw(pid).ok_or_else(gone)?;
    let fd = rustix::process::pidfd_open(raw, PidfdFlags::empty()).map_err(|_| gone())?;
    if start_time(pid) != Some(start) {
        return Err(gone());
    }
    rustix::process::pidfd_send_signal(&fd, signal).map_err(|e| match e {
        rustix::io::Errno::SRCH => gone(),
        e => ActError::Refused {
            what: "signal",
            pid,
            err: e.into(),
        },
    })
}

/// Sets the nice value of process `pid` (all its threads, as `renice -p`
/// does) if it is still the one that started at `start`.
///
/// There is no pidfd for `setpriority`: the start time is checked before
/// and after, which leaves a window of a few microseconds in which the pid
/// would have to die and be reused.
///
/// # Errors
/// The process is gone, or the system refused (only root may lower it).
pub(crate) fn renice(pid: i32, start: u64, nice: i32) -> Result<(), ActError> {
    let gone = || ActError::Gone(pid);
    if start_time(pid) != Some(start) {
        return Err(gone());
    }
    let refused = |e: rustix::io::Errno| ActError::Refused {
        what: "renice",
        pid,
        err: e.into(),
    };
    let tids: Vec<i32> = procfs::process::Process::new(pid)
        .and_then(|p| p.tasks())
        .map(|ts| ts.flatten().map(|t| t.tid).collect())
        .unwrap_or_else(|_| vec![pid]);
    for tid in tids {
        if let Some(t) = Pid::from_raw(tid) {
            match rustix::process::setpriority_process(Some(t), nice) {
                Ok(()) | Err(rustix::io::Errno::SRCH) => {}
                Err(e) => return Err(refused(e)),
            }
        }
    }
    if start_time(pid) != Some(start) {
        return Err(gone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_or_number() {
        assert_eq!(parse_signal("TERM").unwrap(), Signal::TERM);
        assert_eq!(parse_signal("sigkill").unwrap(), Signal::KILL);
        assert_eq!(parse_signal("9").unwrap(), Signal::KILL);
        assert_eq!(parse_signal(" 15 ").unwrap(), Signal::TERM);
        assert!(parse_signal("SEGV").unwrap_err().contains("unknown signal"));
        assert!(parse_signal("0").is_err());
        assert_eq!(signal_name(Signal::STOP), "STOP");
    }

    /// A `sleep 600` child, its pid and start time.
    fn sleeper() -> (std::process::Child, i32, u64) {
        let child = std::process::Command::new("sleep")
            .arg("600")
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let start = start_time(pid).unwrap();
        (child, pid, start)
    }

    #[test]
    fn a_signal_reaches_the_process_that_was_shown_and_no_other() {
        let (mut child, pid, start) = sleeper();
        // A wrong start time: another process that had this pid.
        assert!(matches!(
            send_signal(pid, start + 1, Signal::TERM),
            Err(ActError::Gone(_))
        ));
        assert!(
            child.try_wait().unwrap().is_none(),
            "signalled the wrong one"
        );
        send_signal(pid, start, Signal::TERM).unwrap();
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(Signal::TERM.as_raw()));
        // Reaped: gone.
        assert!(matches!(
            send_signal(pid, start, Signal::TERM),
            Err(ActError::Gone(_))
        ));
    }

    #[test]
    fn renice_changes_the_process_that_was_shown_and_no_other() {
        let (mut child, pid, start) = sleeper();
        renice(pid, start, 7).unwrap();
        let nice = procfs::process::Process::new(pid)
            .unwrap()
            .stat()
            .unwrap()
            .nice;
        assert!(matches!(renice(pid, start + 1, 3), Err(ActError::Gone(_))));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(nice, 7);
    }
}
