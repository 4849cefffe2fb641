//! `hilo bench zombie`: the zombie is really observed, then really gone.

use assert_cmd::Command;

mod common;

#[test]
fn the_unwaited_child_is_seen_as_a_zombie_and_gone_once_reaped() {
    let (doc, _) = common::bench_json(&["zombie"]);
    let z = &doc["experiments"]["zombie"]["data"];
    let pid = z["pid"].as_u64().unwrap();
    assert!(z["zombie_seen_after_s"].as_f64().unwrap() >= 0.0, "{z}");
    assert_eq!(z["gone_after_reap"], true);
    // Independent look: the pid has no /proc entry (or, if reused by then,
    // it is not our zombie child any more).
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(!stat.contains(" Z "), "{stat}");
    assert_eq!(
        doc["machine"]["cores"].as_u64().unwrap() as usize,
        std::thread::available_parallelism().unwrap().get()
    );
}

#[test]
fn an_unknown_experiment_is_a_one_line_error_and_exit_2() {
    let out = Command::cargo_bin("hilo")
        .unwrap()
        .args(["bench", "nosuch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("nosuch"), "{err}");
    assert!(out.stdout.is_empty());
}
