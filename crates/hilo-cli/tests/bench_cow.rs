//! `hilo bench cow`: copy-on-write is really observed. The child's private
//! memory follows what it writes, not what it inherited, and every
//! process the experiment made is gone afterwards.

use serde_json::Value;

mod common;

use common::number;

fn bench_cow() -> Value {
    let (doc, _) = common::bench_json(&["cow"]);
    doc["experiments"]["cow"]["data"].clone()
}

#[test]
#[ignore = "needs python3"]
fn the_forked_child_owns_only_the_pages_it_wrote() {
    let cow = bench_cow();
    let heap = number(&cow["heap_bytes"]);
    let steps = cow["steps"].as_array().unwrap();
    let fractions: Vec<f64> = steps.iter().map(|s| number(&s["fraction"])).collect();
    assert_eq!(fractions, [0.0, 0.25, 0.5, 1.0], "{cow}");
    let private: Vec<f64> = steps.iter().map(|s| number(&s["private_bytes"])).collect();
    let faults: Vec<f64> = steps.iter().map(|s| number(&s["minor_faults"])).collect();
    // Right after fork the child owns almost nothing of the heap...
    assert!(private[0] < 0.25 * heap, "{cow}");
    // ...then each step's writes become its own, page by page.
    for w in private.windows(2) {
        assert!(w[1] > w[0], "private memory did not grow: {cow}");
    }
    for w in faults.windows(2) {
        assert!(w[1] > w[0], "minor faults did not grow: {cow}");
    }
    assert!(private[3] >= 0.8 * heap, "{cow}");
    // A quarter of the pages costs about a quarter of the heap, not all of it.
    assert!(private[1] - private[0] < 0.5 * heap, "{cow}");
    // The fork itself copied no data: copying the whole heap takes longer.
    let copy_s: f64 = steps.iter().map(|s| number(&s["seconds"])).sum();
    assert!(number(&cow["fork_s"]) < copy_s, "{cow}");
    // Nothing left behind: python3 and its forked child are gone (or
    // their pids reused by something that is not python).
    for key in ["python_pid", "child_pid"] {
        let pid = cow[key].as_u64().unwrap();
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&cmdline).contains("python"),
            "{key} {pid} is still running"
        );
    }
}
