//! `hilo run` as a shell user meets it: order, timeouts, retries, halting,
//! the job log, Ctrl+C, and bad input. (Byte-for-byte agreement with GNU
//! parallel is in `gnu_parallel.rs`.)

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;

fn hilo() -> Command {
    Command::cargo_bin("hilo").unwrap()
}

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// A small deterministic generator, seeded per test run and printed, so a
/// failing order can be replayed.
struct Lcg(u64);

impl Lcg {
    fn seeded() -> Lcg {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        eprintln!("seed {seed}");
        Lcg(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn pid_alive(pid: u32) -> bool {
    // A zombie is dead for our purpose, but it should have been reaped by
    // its parent; /proc/<pid>/stat says which.
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits (up to 10 s) until `path` has at least `lines` lines.
fn wait_for_lines(path: &Path, lines: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = fs::read_to_string(path).unwrap_or_default();
        let got: Vec<String> = text.lines().map(str::to_owned).collect();
        if got.len() >= lines {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{} never got {lines} lines: {got:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The parent of process `pid`, from `/proc/<pid>/stat`.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Waits (up to 10 s) until process `pid` has `n` children, each of
/// them running `sleep` (exec'd, with its signal dispositions final).
fn wait_for_sleeping_children(pid: u32, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let children =
            fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        let sleeping = children
            .split_whitespace()
            .filter(|c| {
                fs::read_to_string(format!("/proc/{c}/comm")).is_ok_and(|c| c.trim() == "sleep")
            })
            .count();
        if sleeping == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{pid} never had {n} sleeping children: {children:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `f`'s result, run in a thread so that a FIFO whose other end never
/// opens fails the test after 10 s instead of blocking it for ever.
fn within_10s<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("{what} took more than 10 s"))
}

/// Waits (up to 10 s) until every pid in `pids` is gone.
fn all_gone(pids: &[u32]) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if !pids.iter().any(|&p| pid_alive(p)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn keep_order_prints_in_input_order_whatever_the_durations() {
    let mut rng = Lcg::seeded();
    // Distinct durations up to 60 ms, shuffled: completion order differs
    // from input order.
    let values: Vec<String> = (0..24)
        .map(|i| format!("0.{:03}", (rng.below(20) * 3 + i % 3) % 60))
        .collect();
    let out = hilo()
        .args(["run", "-k", "-j", "6", "sleep {}; echo {}", ":::"])
        .args(&values)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let want: String = values.iter().map(|v| format!("{v}\n")).collect();
    assert_eq!(stdout_of(&out), want);
}

#[test]
fn without_keep_order_every_output_comes_whole_and_once() {
    // Four jobs each print 300 lines with pauses; outputs must not mix.
    let out = hilo()
        .args([
            "run",
            "-j",
            "4",
            "for i in $(seq 300); do echo job{} line $i; [ $((i % 50)) = 0 ] && sleep 0.01; done",
            ":::",
            "a",
            "b",
            "c",
            "d",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1200);
    for block in lines.chunks(300) {
        let job = block[0].split(' ').next().unwrap();
        for (i, line) in block.iter().enumerate() {
            assert_eq!(*line, format!("{job} line {}", i + 1), "outputs mixed");
        }
    }
}

#[test]
fn line_buffer_with_tag_never_splits_a_line() {
    let out = hilo()
        .args([
            "run",
            "--line-buffer",
            "--tag",
            "-j",
            "4",
            "for i in $(seq 500); do echo line $i of {}; done",
            ":::",
            "w",
            "x",
            "y",
            "z",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    let mut seen: HashMap<String, u32> = HashMap::new();
    for line in text.lines() {
        let (tag, rest) = line.split_once('\t').expect("tagged");
        assert!(
            rest.ends_with(&format!(" of {tag}")),
            "broken line {line:?}"
        );
        let n: u32 = rest.split(' ').nth(1).unwrap().parse().unwrap();
        let last = seen.entry(tag.to_owned()).or_insert(0);
        assert_eq!(n, *last + 1, "lines of {tag} out of order");
        *last = n;
    }
    assert_eq!(seen.len(), 4);
    assert!(seen.values().all(|&n| n == 500), "{seen:?}");
}

#[test]
fn keep_order_line_buffer_prints_the_oldest_job_live_and_holds_the_next() {
    // Job 1 prints a line, then blocks on a FIFO the test writes only once
    // it has read that line: so the line came out while job 1 ran. Job 2
    // ends meanwhile and reports its pid; once hilo has reaped it, hilo has
    // read all its lines, yet they must come out after job 1's last one.
    let dir = tempfile::tempdir().unwrap();
    let (go, done) = (dir.path().join("go"), dir.path().join("done"));
    for fifo in [&go, &done] {
        assert!(StdCommand::new("mkfifo")
            .arg(fifo)
            .status()
            .unwrap()
            .success());
    }
    let script = format!(
        "if [ {{}} = 1 ]; then echo start 1; read x < {go}; echo end 1; \
         else echo start 2; echo end 2; echo $$ > {done}; fi",
        go = go.display(),
        done = done.display()
    );
    let (mut child, lines) = spawn_with_pipes(&["-k", "--lb", "-j", "2", &script, ":::", "1", "2"]);
    let first = lines.recv_timeout(Duration::from_secs(10));
    assert_eq!(first.as_deref(), Ok("start 1"), "job 1's line was not live");
    let job2 = within_10s("reading job 2's pid", move || {
        fs::read_to_string(done).unwrap()
    });
    let job2: u32 = job2.trim().parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{job2}")).exists() {
        assert!(Instant::now() < deadline, "job 2 ({job2}) never reaped");
        std::thread::sleep(Duration::from_millis(5));
    }
    within_10s("waking job 1", move || fs::write(go, "go\n").unwrap());
    let rest: Vec<String> = (0..3)
        .map(|_| lines.recv_timeout(Duration::from_secs(10)).unwrap())
        .collect();
    assert_eq!(rest, ["end 1", "start 2", "end 2"]);
    assert!(wait_exit(&mut child).success());
    let more = lines.recv_timeout(Duration::from_secs(10));
    assert!(more.is_err(), "more output: {more:?}");
}

#[test]
fn a_timeout_kills_the_job_and_its_grandchildren() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let start = Instant::now();
    let out = hilo()
        .args([
            "run",
            "--timeout",
            "0.5",
            "--json",
            // `: {}` takes the value, so it is not appended to `wait`.
            &format!(
                ": {{}}; sleep 100 & echo $! >> {p}; echo $$ >> {p}; wait",
                p = pids.display()
            ),
            ":::",
            "1",
        ])
        .output()
        .unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "one failed job: {}",
        stderr_of(&out)
    );
    let job: serde_json::Value = serde_json::from_str(stdout_of(&out).trim()).unwrap();
    assert_eq!(job["timed_out"], true);
    assert_eq!(job["signal"], 15, "{job}");
    let pids: Vec<u32> = wait_for_lines(&pids, 2)
        .iter()
        .map(|p| p.parse().unwrap())
        .collect();
    assert!(all_gone(&pids), "left behind: {pids:?}");
}

#[test]
fn retries_run_a_failing_job_that_many_times_in_all() {
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("count");
    let out = hilo()
        .args(["run", "--retries", "3", "echo try >> {}; exit 1", ":::"])
        .arg(&count)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(fs::read_to_string(&count).unwrap().lines().count(), 3);

    // One that succeeds on its second try stops there and counts as good.
    let count2 = dir.path().join("count2");
    let out = hilo()
        .args([
            "run",
            "--retries",
            "5",
            "echo try >> {}; [ $(wc -l < {}) -ge 2 ]",
            ":::",
        ])
        .arg(&count2)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(fs::read_to_string(&count2).unwrap().lines().count(), 2);
}

#[test]
fn halt_now_on_the_first_failure_starts_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let ran = dir.path().join("ran");
    let out = hilo()
        .args([
            "run",
            "-j",
            "1",
            "--halt",
            "now,fail=1",
            &format!("echo {{}} >> {}; [ {{}} != 3 ]", ran.display()),
            ":::",
        ])
        .args((1..=8).map(|i| i.to_string()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert_eq!(fs::read_to_string(&ran).unwrap(), "1\n2\n3\n");
}

/// The exit status is GNU parallel's for `fail=1`: the failing job's own
/// (3), whether the running job was killed (`now`) or let finish (`soon`);
/// the failing job is named on stderr as GNU names it.
#[test]
fn halt_now_kills_the_running_jobs_and_soon_lets_them_finish() {
    for (when, finished) in [("now", false), ("soon", true)] {
        let dir = tempfile::tempdir().unwrap();
        let done = dir.path().join("done");
        let started = dir.path().join("started");
        // Job "slow" is running when job "bad" fails.
        let script = format!(
            "if [ {{}} = slow ]; then echo > {s}; sleep 2; echo {{}} >> {d}; \
             else while [ ! -e {s} ]; do sleep 0.01; done; exit 3; fi",
            s = started.display(),
            d = done.display()
        );
        let out = hilo()
            .args([
                "run",
                "-j",
                "2",
                "--halt",
                &format!("{when},fail=1"),
                &script,
            ])
            .args([":::", "slow", "bad"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{when}");
        assert_eq!(done.exists(), finished, "{when}");
        let stderr = stderr_of(&out);
        let bad_job = script.replace("{}", "bad");
        assert!(
            stderr.starts_with(&format!("hilo run: This job failed:\n{bad_job}\n")),
            "{when}: {stderr}"
        );
        assert_eq!(
            stderr.contains("Starting no more jobs. Waiting for 1 jobs to finish."),
            when == "soon",
            "{when}: {stderr}"
        );
    }
}

/// `now,success=1` ends with 0 once a job succeeded, so `… && echo found`
/// works, and names that job.
#[test]
fn halt_on_success_exits_0() {
    let out = hilo()
        .args([
            "run",
            "-j1",
            "--halt",
            "now,success=1",
            "test",
            "{}",
            "=",
            "b",
        ])
        .args([":::", "a", "b", "c"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "hilo run: This job succeeded:\ntest b '=' b\n"
    );
}

#[test]
fn the_job_log_has_gnu_columns_and_resume_skips_what_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("jobs.log");
    let ran = dir.path().join("ran");
    let script = format!("echo {{}} >> {}; [ {{}} != 2 ]", ran.display());
    let run = |extra: &[&str]| {
        hilo()
            .args(["run", "-j", "1", "--joblog"])
            .arg(&log)
            .args(extra)
            .arg(&script)
            .args([":::", "1", "2", "3"])
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1));
    let text = fs::read_to_string(&log).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        rows[0],
        [
            "Seq",
            "Host",
            "Starttime",
            "JobRuntime",
            "Send",
            "Receive",
            "Exitval",
            "Signal",
            "Command"
        ]
    );
    assert_eq!(rows.len(), 4);
    let by_seq: HashMap<&str, &Vec<&str>> = rows[1..].iter().map(|r| (r[0], r)).collect();
    for (seq, exit) in [("1", "0"), ("2", "1"), ("3", "0")] {
        let row = by_seq[seq];
        assert_eq!(row.len(), 9);
        assert!(row[2].parse::<f64>().unwrap() > 1e9, "start time {row:?}");
        assert!(row[3].trim().parse::<f64>().unwrap() >= 0.0);
        assert_eq!(row[6], exit, "{row:?}");
        assert_eq!(row[7], "0");
        assert!(row[8].contains(&format!("[ {seq} != 2 ]")), "{row:?}");
    }
    fs::remove_file(&ran).unwrap();

    // --resume: everything is in the log, nothing runs.
    let out = run(&["--resume"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(!ran.exists(), "--resume ran a job again");

    // --resume-failed: only job 2 runs again, and the log grows by one.
    let out = run(&["--resume-failed"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(fs::read_to_string(&ran).unwrap(), "2\n");
    assert_eq!(fs::read_to_string(&log).unwrap().lines().count(), 5);
}

#[test]
fn ctrl_c_stops_the_jobs_waits_for_them_and_leaves_nothing_behind() {
    stops_on(rustix::process::Signal::INT);
}

/// A hang-up (the terminal closed, `setsid hilo run … &` then `kill -HUP`)
/// is taken as TERM: the jobs are stopped and waited for, none outlives
/// `hilo run`.
#[test]
fn a_hang_up_stops_the_jobs_too() {
    stops_on(rustix::process::Signal::HUP);
}

/// Sends `signal` to `hilo run` while two jobs run, each with a background
/// `sleep` that ignores SIGINT; checks that the run stops (130), starts no
/// other job, and leaves no process behind.
fn stops_on(signal: rustix::process::Signal) {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    // Each job leaves a background sleep (which ignores SIGINT, as
    // background jobs of a non-interactive shell do) and waits in another.
    let script = format!(
        "sleep 100 & echo $! >> {p}; echo $$ >> {p}; sleep 100",
        p = pids.display()
    );
    let bin = assert_cmd::cargo::cargo_bin("hilo");
    let mut child = StdCommand::new(bin)
        .args(["run", "-j", "2", &script, ":::", "1", "2", "3", "4"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started: Vec<u32> = wait_for_lines(&pids, 4)
        .iter()
        .map(|p| p.parse().unwrap())
        .collect();
    // Ctrl+C only once both sleeps of each job run: dash defers a SIGINT
    // that lands while it starts its foreground command until that command
    // ends, and a real user would then press Ctrl+C again.
    for &pid in &started {
        if parent_of(pid) == Some(child.id()) {
            wait_for_sleeping_children(pid, 2);
        }
    }
    let hilo_pid = rustix::process::Pid::from_child(&child);
    wait_for_handler(hilo_pid, signal);
    rustix::process::kill_process(hilo_pid, signal).unwrap();
    let status = wait_exit(&mut child);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    // Jobs 3 and 4 never started.
    let all: HashSet<u32> = fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(all.len(), 4, "jobs started after Ctrl+C");
    assert!(all_gone(&started), "left behind: {started:?}");
}

#[test]
fn a_missing_command_fails_that_job_with_127_and_the_others_run() {
    let out = hilo()
        .args(["run", "-k", "no-such-command-hilo", ":::", "a", "b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "two failed jobs");
    let err = stderr_of(&out);
    assert!(
        err.contains("no-such-command-hilo: command not found"),
        "{err}"
    );
    let out = hilo()
        .args([
            "run",
            "--joblog",
            "/dev/stdout",
            "no-such-command-hilo",
            ":::",
            "a",
        ])
        .output()
        .unwrap();
    let text = stdout_of(&out);
    let row: Vec<&str> = text.lines().nth(1).unwrap().split('\t').collect();
    assert_eq!(row[6], "127", "{text}");
}

#[test]
fn a_missing_command_is_reported_with_line_buffer_too() {
    let out = hilo()
        .args(["run", "--lb", "no-such-command-hilo", ":::", "a"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains("no-such-command-hilo: command not found"),
        "{err}"
    );
}

#[test]
fn a_closed_stdout_ends_the_run_quietly_with_255() {
    for mode in [&[][..], &["--lb"][..], &["--lb", "-k"][..]] {
        let mut args = mode.to_vec();
        args.extend(["seq", "{}", "300000", ":::", "1", "2", "3", "4"]);
        let (mut child, lines) = spawn_with_pipes(&args);
        drop(child.stdin.take());
        assert!(
            lines.recv_timeout(Duration::from_secs(10)).is_ok(),
            "{mode:?}"
        );
        // The reader stops at its next line, closing our end of the pipe.
        drop(lines);
        let status = wait_exit(&mut child);
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!((status.code(), err.as_str()), (Some(255), ""), "{mode:?}");
    }
}

#[test]
fn bad_input_is_one_line_on_stderr_and_exit_2_or_255() {
    let dir = tempfile::tempdir().unwrap();
    let unwritable = dir.path().join("no/such/dir/log");
    let nul = dir.path().join("nul.txt");
    fs::write(&nul, b"a\0b\n").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--bogus".into(), "echo".into()], "--bogus"),
        (
            vec!["echo".into(), "::::".into(), nul.display().to_string()],
            "line 1 holds a NUL byte",
        ),
        (vec!["-j".into(), "abc".into(), "echo".into()], "abc"),
        (
            vec!["echo".into(), "::::".into(), "/no/such/file".into()],
            "/no/such/file",
        ),
        (
            vec![
                "--joblog".into(),
                unwritable.display().to_string(),
                "echo".into(),
                ":::".into(),
                "a".into(),
            ],
            "job log",
        ),
        (vec!["--resume".into(), "echo".into()], "--joblog"),
        (
            vec!["--halt".into(), "sometimes".into(), "echo".into()],
            "sometimes",
        ),
        (
            vec!["--timeout".into(), "soon".into(), "echo".into()],
            "soon",
        ),
        (
            vec![
                "--colsep".into(),
                "(".into(),
                "echo".into(),
                ":::".into(),
                "a".into(),
            ],
            "regular expression",
        ),
        (
            vec![
                "--results".into(),
                "/proc/no-such-dir".into(),
                "echo".into(),
                ":::".into(),
                "a".into(),
            ],
            "results directory",
        ),
    ];
    for (args, needle) in cases {
        let out = hilo()
            .arg("run")
            .args(&args)
            .write_stdin("")
            .output()
            .unwrap();
        let err = stderr_of(&out);
        // A bad option or value is 2, as in every hilo tool; the rest is
        // GNU parallel's 255.
        let clap = ["--bogus", "-j", "--halt", "--timeout"].contains(&args[0].as_str());
        let want = if clap { 2 } else { 255 };
        assert_eq!(out.status.code(), Some(want), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert!(!unwritable.exists());
}

#[test]
fn json_reports_each_job_and_results_writes_gnu_layout() {
    let dir = tempfile::tempdir().unwrap();
    let res = dir.path().join("res");
    let out = hilo()
        .args(["run", "-k", "--json", "--results"])
        .arg(&res)
        .args(["echo {}; echo oops {} >&2; exit {}", ":::", "0", "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let jobs: Vec<serde_json::Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(jobs.len(), 2);
    for (job, v) in jobs.iter().zip(["0", "3"]) {
        assert_eq!(job["args"], serde_json::json!([v]));
        assert_eq!(job["exit"], v.parse::<i32>().unwrap());
        assert_eq!(job["stdout"], format!("{v}\n"));
        assert_eq!(job["stderr"], format!("oops {v}\n"));
        let seq = job["seq"].as_u64().unwrap();
        let d = res.join("1").join(v);
        assert_eq!(
            fs::read_to_string(d.join("stdout")).unwrap(),
            format!("{v}\n")
        );
        assert_eq!(
            fs::read_to_string(d.join("stderr")).unwrap(),
            format!("oops {v}\n")
        );
        assert_eq!(
            fs::read_to_string(d.join("seq")).unwrap(),
            format!("{seq}\n")
        );
    }
}

#[test]
fn latin1_values_reach_results_the_job_log_and_json_unharmed() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let (res, log) = (dir.path().join("res"), dir.path().join("log"));
    let out = hilo()
        .args(["run", "--results"])
        .arg(&res)
        .arg("--joblog")
        .arg(&log)
        .args(["printf", "%s", "{}"])
        .write_stdin(&b"caf\xe9\n"[..])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let value = std::ffi::OsStr::from_bytes(b"caf\xe9");
    assert_eq!(
        fs::read(res.join("1").join(value).join("stdout")).unwrap(),
        b"caf\xe9"
    );
    let logged = fs::read(&log).unwrap();
    assert!(logged.ends_with(b"\tprintf %s 'caf\xe9'\n"), "{logged:?}");
    // JSON is text: the value and the output are shown with U+FFFD.
    let out = hilo()
        .args(["run", "--json", "printf", "%s", "{}"])
        .write_stdin(&b"caf\xe9\n"[..])
        .output()
        .unwrap();
    let job: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(job["args"], serde_json::json!(["caf\u{fffd}"]));
    assert_eq!(job["stdout"], "caf\u{fffd}");
}

#[test]
fn dry_run_prints_the_commands_and_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("m");
    let out = hilo()
        .args(["run", "--dry-run", "touch"])
        .arg(&marker)
        .args([":::", "a b", "c"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!marker.exists());
    let text = stdout_of(&out);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().next().unwrap().ends_with("'a b'"), "{text}");
}

#[test]
fn delay_spaces_out_the_job_starts() {
    let out = hilo()
        .args([
            "run", "-j", "4", "--delay", "0.2", "--json", "true", ":::", "1", "2", "3", "4",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let mut starts: Vec<f64> = stdout_of(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["start"]
                .as_f64()
                .unwrap()
        })
        .collect();
    starts.sort_by(f64::total_cmp);
    assert_eq!(starts.len(), 4);
    for pair in starts.windows(2) {
        assert!(pair[1] - pair[0] >= 0.19, "starts too close: {starts:?}");
    }
}

/// Starts `hilo run ARGS` with stdin and stdout as pipes and stdout read
/// line by line in a thread.
fn spawn_with_pipes(args: &[&str]) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("hilo"))
        .arg("run")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Waits (up to 10 s) until process `pid` catches SIGINT (before that, a
/// SIGINT would simply kill it).
fn wait_for_sigint_handler(pid: rustix::process::Pid) {
    wait_for_handler(pid, rustix::process::Signal::INT);
}

/// Waits (up to 10 s) until process `pid` catches `signal`.
fn wait_for_handler(pid: rustix::process::Pid, signal: rustix::process::Signal) {
    let sigint_bit = 1u64 << (signal.as_raw() - 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = fs::read_to_string(format!("/proc/{}/status", pid.as_raw_nonzero())).unwrap();
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .unwrap_or(0);
        if caught & sigint_bit != 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "hilo run never set up its handler for {signal:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn wait_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "hilo run did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn output_appears_when_a_job_ends_even_while_input_is_still_open() {
    use std::io::Write;
    let (mut child, lines) = spawn_with_pipes(&["echo", "got"]);
    let mut stdin = child.stdin.take().unwrap();
    for word in ["one", "two"] {
        writeln!(stdin, "{word}").unwrap();
        stdin.flush().unwrap();
        let line = lines
            .recv_timeout(Duration::from_secs(10))
            .expect("no output while the input stayed open");
        assert_eq!(line, format!("got {word}"));
    }
    drop(stdin);
    assert!(wait_exit(&mut child).success());
}

#[test]
fn ctrl_c_while_waiting_for_input_ends_the_run() {
    let (mut child, _lines) = spawn_with_pipes(&["echo"]);
    // Its stdin stays open and silent: it waits for input.
    let _stdin = child.stdin.take().unwrap();
    let pid = rustix::process::Pid::from_child(&child);
    wait_for_sigint_handler(pid);
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    assert_eq!(wait_exit(&mut child).code(), Some(130));
}

#[test]
fn a_second_ctrl_c_kills_jobs_that_ignore_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let script = format!(
        "trap '' INT; echo $$ >> {}; sleep 100; : {{}}",
        pids.display()
    );
    let bin = assert_cmd::cargo::cargo_bin("hilo");
    let mut child = StdCommand::new(bin)
        .args(["run", "-j", "2", &script, ":::", "1", "2"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let started: Vec<u32> = wait_for_lines(&pids, 2)
        .iter()
        .map(|p| p.parse().unwrap())
        .collect();
    let pid = rustix::process::Pid::from_child(&child);
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    // The jobs ignore it: hilo run says it waits for them, and does.
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stderr.as_mut().unwrap()),
        &mut first,
    )
    .unwrap();
    assert!(first.contains("waiting for 2 running"), "{first}");
    assert!(
        child.try_wait().unwrap().is_none(),
        "exited with jobs running"
    );
    assert!(started.iter().all(|&p| pid_alive(p)));
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    assert_eq!(wait_exit(&mut child).code(), Some(130));
    assert!(all_gone(&started), "left behind: {started:?}");
}

/// A value longer than a file name may be is cut to 255 bytes (the file
/// system's limit here), as GNU parallel cuts it; a tab is written `\t`.
#[test]
fn results_of_a_long_value_go_under_its_first_255_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("out");
    let long = "a".repeat(300);
    let out = hilo()
        .args(["run", "--results"])
        .arg(&results)
        .args(["echo", ":::", &long, "b\tc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let saved = |name: &str| fs::read_to_string(results.join("1").join(name).join("stdout"));
    assert_eq!(saved(&long[..255]).unwrap(), format!("{long}\n"));
    assert_eq!(saved("b\\tc").unwrap(), "b\tc\n");
}

/// A job whose results cannot be saved fails, named with the path, and
/// the other jobs run and are saved.
#[test]
fn a_job_whose_results_cannot_be_saved_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("out");
    fs::create_dir_all(results.join("1")).unwrap();
    // A file where job "b"'s directory would go.
    fs::write(results.join("1").join("b"), "in the way").unwrap();
    let out = hilo()
        .args(["run", "-j1", "--results"])
        .arg(&results)
        .args(["echo", ":::", "a", "b", "c"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = stderr_of(&out);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let blocked = results.join("1").join("b");
    assert!(
        stderr.starts_with(&format!(
            "hilo run: job 2: cannot save its results in {}: ",
            blocked.display()
        )),
        "{stderr}"
    );
    for v in ["a", "c"] {
        let saved = fs::read_to_string(results.join("1").join(v).join("stdout")).unwrap();
        assert_eq!(saved, format!("{v}\n"));
    }
}

/// `--line-buffer` ends a job when its process exits, with all it wrote,
/// even if a background process it started still holds the output open
/// (the default mode and GNU parallel do the same).
#[test]
fn line_buffer_does_not_wait_for_a_background_process_holding_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let script = format!(
        "sleep 60 & echo $! >> {p}; seq 20000; echo started {{}}",
        p = pids.display()
    );
    let started = Instant::now();
    let out = hilo()
        .args(["run", "--lb", "-j2", &script, ":::", "a", "b"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let sleepers: Vec<u32> = fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(|p| p.parse().unwrap())
        .collect();
    for &pid in &sleepers {
        if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
    }
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        took < Duration::from_secs(30),
        "waited {took:?} for the background sleeps"
    );
    let text = stdout_of(&out);
    for v in ["a", "b"] {
        assert!(text.contains(&format!("started {v}\n")), "{text}");
    }
    assert_eq!(text.lines().count(), 2 * 20_001, "lines lost");
}

/// A job killed by `--timeout` has Exitval -1 in the job log (GNU's mark
/// for a killed job) and is named in a warning; `--joblog -` writes the
/// log to stdout; `--timeout 0` is no timeout.
#[test]
fn timeouts_in_the_job_log_and_on_stdout_as_gnu_parallel() {
    let out = hilo()
        .args([
            "run",
            "--timeout",
            "0.3",
            "--joblog",
            "-",
            "sleep",
            ":::",
            "30",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log = stdout_of(&out);
    let rows: Vec<Vec<&str>> = log.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 2, "{log}");
    assert_eq!(rows[0][6], "Exitval");
    assert_eq!(
        (rows[1][6], rows[1][7], rows[1][8]),
        ("-1", "15", "sleep 30")
    );
    assert_eq!(
        stderr_of(&out),
        "hilo run: Warning: This job was killed because it timed out:\n\
         hilo run: Warning: sleep 30\n"
    );
    // --timeout 0, even after another --timeout: no timeout.
    let out = hilo()
        .args([
            "run",
            "--timeout",
            "0.1",
            "--timeout",
            "0",
            "sleep",
            ":::",
            "0.3",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}
