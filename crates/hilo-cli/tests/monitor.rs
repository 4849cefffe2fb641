//! `hilo monitor` as a shell user meets it: the schedule's exact counts of
//! samples and reports, each report recomputed from the CSV, Ctrl+C and
//! SIGTERM (a final report, exit 0, every sample kept, the samplers woken
//! at once), a CPU burner seen in the CPU %, the disk and memory figures
//! against `df` and `/proc/meminfo` read here, and bad input refused with
//! one line and exit status 2 before any file is made.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::process::{kill_process, Pid, Signal};
use serde_json::Value;

/// The metrics every report and every sample has, in report order.
const METRICS: [&str; 6] = [
    "cpu_pct",
    "mem_used_pct",
    "swap_used_pct",
    "disk_used_pct",
    "disk_read_bytes_per_s",
    "disk_write_bytes_per_s",
];

fn hilo_monitor() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("hilo"));
    cmd.arg("monitor");
    cmd
}

/// One row of `--csv`.
#[derive(Debug, Clone)]
struct Row {
    /// `elapsed_s` in milliseconds: when the sample was due.
    due_ms: u64,
    metric: String,
    value: f64,
}

/// The rows of a `--csv` file, checked whole: the header, four fields a
/// row, a newline after the last one (nothing half written).
fn csv_rows(path: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.ends_with('\n'), "last line unfinished: {text:?}");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("elapsed_s,unix_s,metric,value"));
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let [elapsed, unix, metric, value] = fields[..] else {
                panic!("not 4 fields: {line:?}");
            };
            let elapsed: f64 = elapsed.parse().unwrap();
            assert!(unix.parse::<f64>().unwrap() > 1.5e9, "{line}");
            assert!(METRICS.contains(&metric), "{line}");
            let value: f64 = value.parse().unwrap();
            assert!(value.is_finite() && value >= 0.0, "{line}");
            Row {
                due_ms: (elapsed * 1000.0).round() as u64,
                metric: metric.to_owned(),
                value,
            }
        })
        .collect()
}

/// The `due_ms` of `metric`'s rows, in file order.
fn ticks_of(rows: &[Row], metric: &str) -> Vec<u64> {
    rows.iter()
        .filter(|r| r.metric == metric)
        .map(|r| r.due_ms)
        .collect()
}

/// The `--json` lines of `stdout`.
fn reports(stdout: &[u8]) -> Vec<Value> {
    std::str::from_utf8(stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect()
}

fn seconds_ms(v: &Value) -> u64 {
    (v.as_f64().unwrap() * 1000.0).round() as u64
}

/// Checks `report`'s numbers for every metric against the CSV rows due in
/// its window (after `from_s`, up to `to_s`; the first report's from 0
/// on), computed here.
fn check_against_csv(report: &Value, rows: &[Row]) {
    let from = seconds_ms(&report["from_s"]);
    let to = seconds_ms(&report["to_s"]);
    let first = report["report"] == 1;
    let metrics = report["metrics"].as_object().unwrap();
    let mut names = METRICS;
    names.sort_unstable();
    // (serde_json's map sorts the keys.)
    assert_eq!(metrics.keys().collect::<Vec<_>>(), names, "{report}");
    for name in METRICS {
        let values: Vec<f64> = rows
            .iter()
            .filter(|r| r.metric == name && r.due_ms <= to && (r.due_ms > from || first))
            .map(|r| r.value)
            .collect();
        let stats = &metrics[name];
        assert_eq!(stats["n"], values.len(), "{name} in {report}");
        if values.is_empty() {
            for key in ["avg", "min", "max"] {
                assert!(stats[key].is_null(), "{name} in {report}");
            }
            continue;
        }
        let avg = values.iter().sum::<f64>() / values.len() as f64;
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for (key, want) in [("avg", avg), ("min", min), ("max", max)] {
            let got = stats[key].as_f64().unwrap();
            assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                "{name} {key}: report says {got}, the CSV gives {want}"
            );
        }
    }
}

#[test]
fn samples_and_reports_follow_the_schedule_and_agree_with_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("samples.csv");
    let began = Instant::now();
    let out = hilo_monitor()
        .args([
            "--interval",
            "1s",
            "--report",
            "2s",
            "--duration",
            "5s",
            "--json",
        ])
        .arg("--csv")
        .arg(&csv)
        .output()
        .unwrap();
    let took = began.elapsed();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    // The last sample is due at 5 s: the run cannot end before.
    assert!(took >= Duration::from_secs(5), "{took:?}");

    // Samples at 0, 1, 2, 3, 4 and 5 s: six per metric, each once.
    let rows = csv_rows(&csv);
    for name in METRICS {
        assert_eq!(
            ticks_of(&rows, name),
            [0, 1000, 2000, 3000, 4000, 5000],
            "{name}"
        );
    }
    assert_eq!(rows.len(), 6 * METRICS.len());

    // Reports at 2 s (0–2 s), 4 s (3–4 s) and the final one at 5 s.
    let reports = reports(&out.stdout);
    let shape: Vec<(u64, bool, u64, u64, u64)> = reports
        .iter()
        .map(|r| {
            (
                r["report"].as_u64().unwrap(),
                r["final"].as_bool().unwrap(),
                seconds_ms(&r["from_s"]),
                seconds_ms(&r["to_s"]),
                r["metrics"]["cpu_pct"]["n"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (1, false, 0, 2000, 3),
            (2, false, 2000, 4000, 2),
            (3, true, 4000, 5000, 1)
        ]
    );
    for report in &reports {
        check_against_csv(report, &rows);
    }
}

/// Sends `signal` to `child`.
fn signal(child: &Child, signal: Signal) {
    let pid = Pid::from_child(child);
    kill_process(pid, signal).unwrap();
}

/// Starts `hilo monitor ARGS --json` with stdout piped.
fn spawn_json(
    args: &[&str],
    csv: &Path,
) -> (Child, std::io::Lines<BufReader<std::process::ChildStdout>>) {
    let mut child = hilo_monitor()
        .args(args)
        .arg("--json")
        .arg("--csv")
        .arg(csv)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

#[test]
fn ctrl_c_prints_a_final_report_exits_0_and_keeps_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("samples.csv");
    let (mut child, mut lines) = spawn_json(&["--interval", "200ms", "--report", "600ms"], &csv);
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["report"], 1);
    assert_eq!(first["final"], false);
    signal(&child, Signal::INT);
    let rest: Vec<Value> = lines
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let last = rest.last().expect("a final report after Ctrl+C");
    assert_eq!(last["final"], true, "{last}");
    assert!(rest[..rest.len() - 1].iter().all(|r| r["final"] == false));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.is_empty(), "{stderr}");

    // Every sample taken is in the CSV, whole, and in exactly one report:
    // each metric's ticks run 0, 200, 400... without a gap, and the
    // reports' counts add up to the rows.
    let rows = csv_rows(&csv);
    let reports: Vec<Value> = std::iter::once(first).chain(rest).collect();
    for name in METRICS {
        let ticks = ticks_of(&rows, name);
        let expected: Vec<u64> = (0..ticks.len() as u64).map(|k| k * 200).collect();
        assert_eq!(ticks, expected, "{name}");
        // The first report alone covers 0 to 600 ms: four samples.
        assert!(ticks.len() >= 4, "{name}: {ticks:?}");
        let reported: u64 = reports
            .iter()
            .map(|r| r["metrics"][name]["n"].as_u64().unwrap())
            .sum();
        assert_eq!(reported, ticks.len() as u64, "{name}");
    }
    for report in &reports {
        check_against_csv(report, &rows);
    }
}

#[test]
fn sigterm_wakes_the_samplers_at_once() {
    // Samples every 2 s: after the first report (at 2 s) the samplers wait
    // for 4 s. Woken by the stop, the run ends well before.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("samples.csv");
    let (mut child, mut lines) = spawn_json(&["--interval", "2s", "--report", "2s"], &csv);
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["metrics"]["cpu_pct"]["n"], 2);
    let sent = Instant::now();
    signal(&child, Signal::TERM);
    let status = child.wait().unwrap();
    let took = sent.elapsed();
    assert_eq!(status.code(), Some(0));
    assert!(
        took < Duration::from_secs(1),
        "{took:?} from SIGTERM to exit"
    );
    let rest: Vec<Value> = lines
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0]["final"], true);
    assert_eq!(rest[0]["report"], 2);
    let rows = csv_rows(&csv);
    assert_eq!(rows.len(), 2 * METRICS.len(), "samples at 0 and 2 s only");
}

/// CPU time of all cores, (busy, total) in ticks, from `/proc/stat`'s first
/// line, read here as `top` does (not through the crate under test).
fn cpu_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let line = stat.lines().next().unwrap();
    let n: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap())
        .collect();
    // user nice system idle iowait irq softirq steal (guest is in user).
    let idle = n[3] + n[4];
    let busy = n[0] + n[1] + n[2] + n[5] + n[6] + n.get(7).copied().unwrap_or(0);
    (busy, busy + idle)
}

/// Runs a short `hilo monitor --json` with only the final report and
/// returns it, with the CPU % measured here over the same time.
fn short_run(args: &[&str]) -> (Value, f64) {
    let before = cpu_ticks();
    let out = hilo_monitor()
        .args(["--report", "10s", "--json"])
        .args(args)
        .output()
        .unwrap();
    let after = cpu_ticks();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let mut reports = reports(&out.stdout);
    assert_eq!(reports.len(), 1);
    let busy = (after.0 - before.0) as f64 * 100.0 / (after.1 - before.1) as f64;
    (reports.remove(0), busy)
}

/// Threads spinning on every core until dropped.
struct Burner {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Burner {
    fn start() -> Burner {
        let stop = Arc::new(AtomicBool::new(false));
        let cores = std::thread::available_parallelism().unwrap().get();
        let threads = (0..cores)
            .map(|_| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut x = 1u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                })
            })
            .collect();
        Burner { stop, threads }
    }
}

impl Drop for Burner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[test]
fn a_cpu_burner_raises_the_cpu_average() {
    let args = ["--interval", "200ms", "--duration", "1s"];
    let (idle, idle_here) = short_run(&args);
    let (busy, busy_here) = {
        let _burner = Burner::start();
        short_run(&args)
    };
    let avg = |r: &Value| r["metrics"]["cpu_pct"]["avg"].as_f64().unwrap();
    let (idle, busy) = (avg(&idle), avg(&busy));
    // Every core spinning: the machine is busy, whatever else runs.
    assert!(busy >= 70.0, "with the burner: {busy:.1} %");
    // Whatever the machine did meanwhile (other tests, other builds), hilo
    // saw what /proc/stat says over the same second.
    assert!(
        (idle - idle_here).abs() <= 20.0,
        "idle run: hilo {idle:.1} %, here {idle_here:.1} %"
    );
    assert!(
        (busy - busy_here).abs() <= 20.0,
        "burner run: hilo {busy:.1} %, here {busy_here:.1} %"
    );
    // More spinning is never less busy (beyond noise).
    assert!(busy >= idle - 10.0, "burner {busy:.1} % < idle {idle:.1} %");
}

/// `(MemTotal − MemAvailable) / MemTotal` in %, from `/proc/meminfo` read here.
fn mem_used_here() -> f64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap();
    let field = |name: &str| -> f64 {
        let line = text.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let total = field("MemTotal:");
    100.0 * (total - field("MemAvailable:")) / total
}

/// `df --output=pcent /`: the used % of `/`, rounded up as df does.
fn df_used_percent() -> f64 {
    let out = Command::new("df")
        .args(["--output=pcent", "/"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.lines().nth(1).unwrap();
    line.trim().trim_end_matches('%').parse().unwrap()
}

#[test]
fn disk_and_memory_agree_with_df_and_proc_meminfo() {
    let mem_before = mem_used_here();
    let out = hilo_monitor()
        .args([
            "--interval",
            "200ms",
            "--report",
            "1s",
            "--duration",
            "400ms",
            "--json",
        ])
        .output()
        .unwrap();
    let mem_after = mem_used_here();
    let df = df_used_percent();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let reports = reports(&out.stdout);
    let metrics = &reports[0]["metrics"];
    let get = |name: &str, key: &str| metrics[name][key].as_f64().unwrap();
    assert_eq!(metrics["disk_used_pct"]["n"], 3);

    let disk = get("disk_used_pct", "avg");
    // df rounds up to a whole percent; the disk may fill or empty a little
    // between hilo's samples and df.
    assert!((disk - df).abs() <= 2.0, "hilo {disk:.2} %, df {df} %");

    // Memory moves while other programs run: hilo's range of samples must
    // meet the range read here before and after, within 3 points.
    let (low, high) = (mem_before.min(mem_after), mem_before.max(mem_after));
    let (min, max) = (get("mem_used_pct", "min"), get("mem_used_pct", "max"));
    assert!(
        min <= high + 3.0 && max >= low - 3.0,
        "hilo {min:.2}–{max:.2} %, /proc/meminfo {low:.2}–{high:.2} %"
    );
    assert!((0.0..=100.0).contains(&get("swap_used_pct", "max")));
}

#[test]
fn piped_reports_are_plain_tables() {
    let out = hilo_monitor()
        .args([
            "--interval",
            "200ms",
            "--report",
            "200ms",
            "--duration",
            "200ms",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "final report 1: 0.0 s to 0.2 s", "{text}");
    let header: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(header, ["metric", "n", "avg", "min", "max"], "{text}");
    assert!(lines[2].trim_start().starts_with("cpu"), "{text}");
    assert!(lines[2].ends_with(" %"), "{text}");
    assert!(lines[6].ends_with("B/s"), "{text}");
    // No sparkline when no one watches.
    assert!(!text.contains(['▁', '█']), "{text}");
}

#[test]
fn bad_input_is_one_line_status_2_and_no_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("samples.csv");
    let csv_arg = csv.to_str().unwrap();
    let missing = dir.path().join("no/such/dir/samples.csv");
    let cases: [(&[&str], &str); 7] = [
        (&["--interval", "0", "--csv", csv_arg], "--interval"),
        (&["--interval", "abc", "--csv", csv_arg], "--interval"),
        (&["--interval", "10ms", "--csv", csv_arg], "--interval"),
        (
            &["--report", "1s", "--interval", "2s", "--csv", csv_arg],
            "--report",
        ),
        (&["--duration", "0s", "--csv", csv_arg], "--duration"),
        (
            &["--path", "/no/such/dir", "--csv", csv_arg],
            "/no/such/dir",
        ),
        (
            &["--csv", missing.to_str().unwrap()],
            "no/such/dir/samples.csv",
        ),
    ];
    for (args, word) in cases {
        let mut cmd = hilo_monitor();
        cmd.args(args);
        if !args.contains(&"--duration") {
            cmd.args(["--duration", "1s"]);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("hilo monitor: "), "{stderr}");
        assert!(stderr.contains(word), "{args:?}: {stderr}");
        assert!(!csv.exists(), "{args:?} made the CSV");
        assert!(!missing.exists());
    }
}
