//! `hilo run` keeps a job's output in a temporary file, not in memory: a
//! job that prints gigabytes passes through in bounded memory, under `-k`
//! too, and what is printed or saved from the file is the job's output
//! exactly (tags on every line, across the pieces it is copied in).
//!
//! Memory is hilo's peak resident size (`VmHWM` in `/proc/PID/status`),
//! read as its output arrives: the output comes after the job ends, so a
//! copy of it in memory would already count.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

const MIB: u64 = 1 << 20;

/// The peak resident size of process `pid` so far, in bytes.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Runs `hilo run ARGS` with `TMPDIR` set to `tmp`; returns the bytes it
/// printed (counted, and checked to be all zero bytes after the first
/// `text_prefix` ones, which are returned) and its peak resident size.
fn run_counting(args: &[&str], tmp: &Path, text_prefix: usize) -> (u64, Vec<u8>, u64) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("hilo"))
        .arg("run")
        .args(args)
        .env("TMPDIR", tmp)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut out = child.stdout.take().unwrap();
    let mut buf = vec![0u8; MIB as usize];
    let zeros = vec![0u8; MIB as usize];
    let (mut total, mut text, mut peak, mut next_look) = (0u64, Vec::new(), 0u64, 0u64);
    loop {
        let n = out.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        let take = n.min(text_prefix - text.len());
        text.extend_from_slice(&buf[..take]);
        // A slice comparison (memcmp), fast even in a debug build.
        assert!(
            buf[take..n] == zeros[..n - take],
            "a byte that is not the job's"
        );
        total += n as u64;
        if total >= next_look {
            peak = peak.max(peak_rss(pid).unwrap_or(0));
            next_look = total + 16 * MIB;
        }
    }
    assert!(child.wait().unwrap().success());
    (total, text, peak)
}

/// The files left in `dir`.
fn left_in(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_2_gb_job_passes_through_in_little_memory_and_leaves_no_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (total, _, peak) = run_counting(
        &["head", "-c", "{}", "/dev/zero", ":::", "2147483648"],
        tmp.path(),
        0,
    );
    assert_eq!(total, 2 << 30);
    assert!(peak > 0, "no peak RSS was read");
    assert!(peak < 100 * MIB, "hilo run peaked at {} MiB", peak / MIB);
    assert_eq!(left_in(tmp.path()), Vec::<String>::new());
}

/// `-k`: the second job's 512 MiB wait, finished, for the first job, which
/// ends only once the second has (it waits for the file the second makes).
#[test]
fn keep_order_behind_a_slow_first_job_holds_its_output_in_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let flag = tmp.path().join("second-done");
    let flag = flag.to_str().unwrap();
    let first = format!("until [ -e {flag} ]; do sleep 0.01; done; echo first");
    let second = format!("head -c 536870912 /dev/zero; touch {flag}");
    let (total, text, peak) = run_counting(
        &["-k", "-j2", "sh", "-c", "{}", ":::", &first, &second],
        tmp.path(),
        6,
    );
    assert_eq!(text, b"first\n");
    assert_eq!(total, 6 + (512 << 20));
    assert!(peak < 100 * MIB, "hilo run peaked at {} MiB", peak / MIB);
    let mut left = left_in(tmp.path());
    left.retain(|f| f != "second-done");
    assert_eq!(left, Vec::<String>::new());
}

/// Output too big to be read into memory, printed with `--tag` and saved
/// with `--results`, against the same lines made here.
#[test]
fn a_large_output_is_tagged_and_saved_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 400_000; // `seq` prints 2.6 MB: kept in its file
    let want: String = (1..=n).map(|i| format!("{i}\n")).collect();
    let out = Command::new(assert_cmd::cargo::cargo_bin("hilo"))
        .args(["run", "--tag", "seq", "{}", ":::", &n.to_string()])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let tagged: String = want.lines().map(|l| format!("{n}\t{l}\n")).collect();
    assert!(out.stdout == tagged.as_bytes(), "tagged output differs");

    let results = tmp.path().join("results");
    let out = Command::new(assert_cmd::cargo::cargo_bin("hilo"))
        .args(["run", "--results"])
        .arg(&results)
        .args(["seq", "{}", ":::", &n.to_string()])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let saved = fs::read(results.join("1").join(n.to_string()).join("stdout")).unwrap();
    assert!(saved == want.as_bytes(), "saved output differs");
}

#[test]
fn an_unusable_tmpdir_is_one_clear_error_before_any_job() {
    let out = Command::new(assert_cmd::cargo::cargo_bin("hilo"))
        .args(["run", "echo", "{}", ":::", "a", "b"])
        .env("TMPDIR", "/nonexistent/hilo-tmp")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "hilo run: cannot make a temporary file in /nonexistent/hilo-tmp (set TMPDIR"
        ),
        "{stderr}"
    );
}
