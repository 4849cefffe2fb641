//! `hilo bench switch`: per-switch times in the physical range, on one
//! core and (with two CPUs) across cores, and `cat` reaped afterwards.

use std::time::Duration;

use serde_json::Value;

mod common;

fn switch_data() -> Value {
    let (doc, took) = common::bench_json(&["switch"]);
    // A few seconds in quick mode; a stuck ping-pong would give up only
    // after its 5 s patience, many times over.
    assert!(took < Duration::from_secs(60), "{took:?}");
    doc["experiments"]["switch"]["data"].clone()
}

#[test]
fn a_switch_costs_between_100_ns_and_1_ms_and_cat_is_reaped() {
    let data = switch_data();
    let pairs = data["pairs"].as_object().unwrap();
    let cpus = data["allowed_cpus"].as_array().unwrap().len();
    let mut expected = vec!["threads_same_core", "processes_same_core"];
    if cpus >= 2 {
        expected.extend(["threads_cross_core", "processes_cross_core"]);
    }
    assert_eq!(data["cross_core_skipped"], cpus < 2, "{data}");
    let mut keys: Vec<&str> = pairs.keys().map(String::as_str).collect();
    keys.sort_unstable();
    expected.sort_unstable();
    assert_eq!(keys, expected, "{data}");
    for (key, pair) in pairs {
        let min = pair["min_s"].as_f64().unwrap();
        let median = pair["median_s"].as_f64().unwrap();
        assert!(min.is_finite() && median.is_finite(), "{key}: {pair}");
        assert!(min <= median, "{key}: {pair}");
        // A real sleep and wake-up: more than a cache miss, far less
        // than a scheduler tick.
        assert!((1e-7..1e-3).contains(&min), "{key}: {pair}");
        assert!((1e-7..1e-3).contains(&median), "{key}: {pair}");
        assert!(pair["round_trips"].as_u64().unwrap() > 0, "{key}");
    }
    let cats = if cpus >= 2 { 2 } else { 1 };
    assert_eq!(data["children_started"], cats, "{data}");
    assert_eq!(data["children_reaped"], cats, "{data}");
    assert_eq!(data["children_left"], serde_json::json!([]), "{data}");
    assert!(
        data["threads_after"].as_u64().unwrap() <= data["threads_before"].as_u64().unwrap(),
        "{data}"
    );
}
