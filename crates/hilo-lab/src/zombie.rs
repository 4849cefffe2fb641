//! `zombie`: a child that exits while its parent does not wait for it stays
//! in the process table as a zombie (state `Z` in `/proc/<pid>/stat`)
//! until the parent reaps it; then its entry is gone. The lesson's claim,
//! observed on a real child: this experiment starts `true`, watches its
//! state without waiting, reaps it, and watches it vanish.

use std::time::{Duration, Instant};

use super::{human, Ctx, Data, Report};

/// The state letter and name of `pid` from `/proc/<pid>/stat`, or `None`
/// once the process table has no entry for it.
fn state_of(pid: u32) -> Option<(char, String)> {
    super::proc_stat(pid).map(|s| (s.state, s.name))
}

/// Polls `probe` until it returns `Some`, for at most `limit`.
fn watch<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<(T, Duration)> {
    let start = Instant::now();
    loop {
        if let Some(v) = probe() {
            return Some((v, start.elapsed()));
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

pub(crate) fn run(_ctx: &Ctx) -> Result<Report, String> {
    let mut child = super::start_silent("true", &[])?;
    let pid = child.id();
    // Not waiting: the child exits, and the kernel keeps its entry (exit
    // status, rusage) for us to collect.
    let seen = watch(Duration::from_secs(10), || match state_of(pid) {
        Some(('Z', name)) => Some(name),
        _ => None,
    });
    let Some((name, after)) = seen else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("child {pid} never showed state Z within 10 s"));
    };
    let reap_start = Instant::now();
    let status = child
        .wait()
        .map_err(|e| format!("cannot reap child {pid}: {e}"))?;
    let reaped_in = reap_start.elapsed();
    let gone = state_of(pid).is_none();
    if !gone {
        return Err(format!("child {pid} is still in /proc after being reaped"));
    }
    let rows = vec![
        vec![
            "started, not waited for".into(),
            format!("{pid} ({name})"),
            format!("Z (zombie) after {}", human(after)),
        ],
        vec![
            "reaped with wait()".into(),
            format!("{status}"),
            format!("/proc/{pid} gone ({} to reap)", human(reaped_in)),
        ],
    ];
    Ok(Report {
        explain: "A child that exits keeps its process-table entry (state Z) until its parent \
                  waits for it; hilo's pools always reap their workers."
            .into(),
        columns: vec![
            "step".into(),
            "child".into(),
            "what /proc/<pid>/stat shows".into(),
        ],
        rows,
        notes: vec![format!(
            "the zombie held pid {pid} and its exit status until wait() collected them"
        )],
        data: Data::Zombie(ZombieData {
            pid,
            zombie_seen_after_s: after.as_secs_f64(),
            exit_status: status.code(),
            reap_s: reaped_in.as_secs_f64(),
            gone_after_reap: gone,
        }),
    })
}

/// The numbers `--json` writes.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ZombieData {
    pid: u32,
    zombie_seen_after_s: f64,
    /// The child's exit code as `wait()` gave it (`None`: killed by a signal).
    exit_status: Option<i32>,
    reap_s: f64,
    gone_after_reap: bool,
}
