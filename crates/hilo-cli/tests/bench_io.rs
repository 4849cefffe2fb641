//! `hilo bench io`: threads overlap I/O waits, the throughput never beats
//! the ideal, and the echo server is gone afterwards.

use std::net::{Ipv4Addr, TcpStream};
use std::time::Duration;

mod common;

#[test]
fn sixteen_threads_overlap_waits_and_the_server_is_closed_afterwards() {
    let (doc, took) = common::bench_json(&["io"]);
    // Quick mode is about 2 s of waiting plus the requests' CPU.
    assert!(took < Duration::from_secs(30), "took {took:?}");
    let d = &doc["experiments"]["io"]["data"];

    let runs = d["runs"].as_array().unwrap();
    let threads: Vec<u64> = runs
        .iter()
        .map(|r| r["threads"].as_u64().unwrap())
        .collect();
    assert_eq!(threads, [1, 2, 4, 8, 16, 32, 64], "{d}");
    let delay = d["delay_s"].as_f64().unwrap();
    let mut checked = 0;
    for r in runs {
        let rate = r["requests_per_s"].as_f64().unwrap();
        let ideal = r["ideal_per_s"].as_f64().unwrap();
        let n = r["threads"].as_f64().unwrap();
        assert!((ideal - n / delay).abs() < 1e-6, "{r}");
        // Each reply takes at least the delay: more would be a lie.
        assert!(rate > 0.0 && rate <= 1.1 * ideal, "{r}");
        checked += r["requests"].as_u64().unwrap();
    }
    assert_eq!(d["echoes_checked"].as_u64(), Some(checked), "{d}");
    let rate = |n: u64| {
        runs.iter().find(|r| r["threads"] == n).unwrap()["requests_per_s"]
            .as_f64()
            .unwrap()
    };
    assert!(rate(16) > 4.0 * rate(1), "16: {}, 1: {}", rate(16), rate(1));

    // The server's port is closed: nothing accepts on it any more.
    let port = u16::try_from(d["port"].as_u64().unwrap()).unwrap();
    assert_ne!(port, 0);
    let refused =
        TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_secs(1));
    assert!(refused.is_err(), "port {port} still accepts connections");
}
