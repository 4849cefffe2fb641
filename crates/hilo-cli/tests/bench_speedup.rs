//! `hilo bench speedup`: the speedups are real numbers of a real parallel
//! run, and the Amdahl fit stays inside its domain.

use std::time::Duration;

use serde_json::Value;

mod common;

/// Runs `hilo bench speedup --json`; returns its `data` and how long the
/// whole command took.
fn speedup_run() -> (Value, Duration) {
    let (doc, took) = common::bench_json(&["speedup"]);
    (doc["experiments"]["speedup"]["data"].clone(), took)
}

fn runs<'a>(d: &'a Value, kind: &str) -> &'a Vec<Value> {
    d[kind]["runs"].as_array().unwrap()
}

fn speedup_at(d: &Value, kind: &str, workers: u64) -> f64 {
    runs(d, kind)
        .iter()
        .find(|r| r["workers"] == workers)
        .unwrap_or_else(|| panic!("no {kind} run with {workers} workers: {d}"))["speedup"]
        .as_f64()
        .unwrap()
}

/// Checks what must hold on any machine, busy or not.
fn check_invariants(d: &Value) {
    let cores = std::thread::available_parallelism().unwrap().get() as u64;
    assert_eq!(d["cores"].as_u64(), Some(cores), "{d}");
    assert!(d["primes"].as_u64().unwrap() > 0, "{d}");
    for kind in ["threads", "processes"] {
        let rs = runs(d, kind);
        let workers: Vec<u64> = rs.iter().map(|r| r["workers"].as_u64().unwrap()).collect();
        assert_eq!(workers.first(), Some(&1), "{d}");
        assert_eq!(workers.last(), Some(&(2 * cores)), "{d}");
        for r in rs {
            assert!(r["seconds"].as_f64().unwrap() > 0.0, "{r}");
            let n = r["workers"].as_u64().unwrap();
            let s = r["speedup"].as_f64().unwrap();
            let e = r["efficiency"].as_f64().unwrap();
            // Every worker of the pool ran chunks: the work was spread.
            assert_eq!(r["workers_used"].as_u64(), Some(n), "{kind}: {r}");
            assert!(
                (e - s / n.min(cores) as f64).abs() < 1e-9,
                "efficiency counts only useful cores: {r}"
            );
        }
        assert_eq!(speedup_at(d, kind, 1), 1.0, "{d}");
        if cores >= 2 {
            let f = d[kind]["serial_fraction"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&f), "{kind}: f = {f}");
            match d[kind]["ceiling"].as_f64() {
                Some(c) => assert!((c - 1.0 / f).abs() < 1e-6, "{d}"),
                None => assert_eq!(f, 0.0, "{d}"),
            }
        }
    }
}

#[test]
fn two_workers_beat_one_and_the_serial_fraction_is_a_fraction() {
    let cores = std::thread::available_parallelism().unwrap().get();
    // Speedup is wall-clock time, and the machine may be shared: a burst
    // of load can flatten one run, so a few runs are allowed; a pool that
    // does not run in parallel fails them all.
    let mut seen = Vec::new();
    for _ in 0..5 {
        let (d, took) = speedup_run();
        check_invariants(&d);
        // Quick mode is meant to take seconds; a debug build on a busy
        // machine is slower, hence the wide bound.
        assert!(took < Duration::from_secs(60), "took {took:?}");
        if cores < 2 {
            return;
        }
        let (t, p) = (speedup_at(&d, "threads", 2), speedup_at(&d, "processes", 2));
        if t > 1.2 && p > 1.2 {
            return;
        }
        seen.push((t, p));
    }
    panic!("2 workers never ran 1.2× faster than 1 (threads, processes): {seen:?}");
}
