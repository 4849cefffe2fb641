//! `hilo bench spawn`: the costs it reports are real timings, ordered as
//! physics demands, and it leaves no child or thread behind.

use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

mod common;

/// Runs `hilo bench <args> --json`, checks it succeeded promptly, and
/// returns the document.
fn bench(args: &[&str]) -> Value {
    let (doc, took) = common::bench_json(args);
    // Quick mode is a few seconds; a child it waited for in vain would
    // hold it far longer (generous for a loaded debug build).
    assert!(took < Duration::from_secs(60), "{took:?}");
    doc
}

fn median(ops: &Value, key: &str) -> f64 {
    ops[key]["median_s"]
        .as_f64()
        .unwrap_or_else(|| panic!("no {key} in {ops}"))
}

/// The orderings physics demands, or the first that fails, with the data.
fn ordering(ops: &Value) -> Result<(), String> {
    let thread = median(ops, "thread_spawn_join");
    // A new process copies or replaces an address space; a thread shares
    // one: at least 2× on any Linux (typically 10–100×).
    for key in ["fork_exec_wait", "fork_wait"] {
        if median(ops, key) < 2.0 * thread {
            return Err(format!("{key} is not 2× thread_spawn_join: {ops}"));
        }
    }
    // A warm pool runs a burst back to back; spawning pays per thread.
    if median(ops, "thread_pool_burst") >= median(ops, "thread_burst") {
        return Err(format!(
            "thread_pool_burst is not below thread_burst: {ops}"
        ));
    }
    Ok(())
}

#[test]
fn processes_cost_more_to_start_than_threads_and_pools_less() {
    // Timings on a shared 2-core machine can be skewed by a burst of load
    // elsewhere (another test binary, a compile), so the orderings get
    // three runs; every run must report sane numbers and a clean census.
    let mut failures = Vec::new();
    for _ in 0..3 {
        let doc = bench(&["spawn"]);
        let data = &doc["experiments"]["spawn"]["data"];
        census(data);
        match ordering(&data["ops"]) {
            Ok(()) => return,
            Err(e) => failures.push(e),
        }
    }
    panic!("three runs out of order:\n{}", failures.join("\n"));
}

/// Every timing is a real sample, and no child, thread or worker is left.
fn census(data: &Value) {
    let ops = &data["ops"];
    let keys = [
        "thread_spawn_join",
        "fork_wait",
        "fork_exec_wait",
        "thread_pool_task",
        "process_pool_task",
        "thread_burst",
        "thread_pool_burst",
        "process_pool_burst",
    ];
    for key in keys {
        let (min, med) = (ops[key]["min_s"].as_f64().unwrap(), median(ops, key));
        assert!(min.is_finite() && min > 0.0, "{key}: {min}");
        assert!(med.is_finite() && min <= med, "{key}: {min} > {med}");
        assert!(ops[key]["samples"].as_u64().unwrap() > 0, "{key}");
    }
    // The shell really forked: each run is one fork plus one per subshell.
    assert!(data["forks_counted"].as_u64().unwrap() > 0, "{data}");
    assert_eq!(data["children_started"], data["children_reaped"], "{data}");
    assert!(data["children_started"].as_u64().unwrap() > 0, "{data}");
    assert_eq!(data["children_left"], serde_json::json!([]), "{data}");
    assert!(
        data["threads_after"].as_u64().unwrap() <= data["threads_before"].as_u64().unwrap(),
        "{data}"
    );
    let workers = data["pool_workers"].as_array().unwrap();
    assert_eq!(workers.len(), 1, "{data}");
}

#[test]
fn spawn_and_switch_run_together_in_the_order_asked() {
    let out = Command::cargo_bin("hilo")
        .unwrap()
        .args(["bench", "spawn", "switch"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let spawn = text.find("\nspawn: ").expect(&text);
    let switch = text.find("\nswitch: ").expect(&text);
    assert!(spawn < switch, "{text}");
    assert!(!text.contains("\nzombie: "), "{text}");
}
