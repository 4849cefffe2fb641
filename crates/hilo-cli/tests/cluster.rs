//! `hilo worker`, `hilo primes --cluster` and `hilo cluster status|demo` as
//! a shell user meets them: against a real `redis-server` (started by each
//! test on a unix socket) and real `hilo worker` processes; the results
//! checked against the local engine. Bad input: one line, never a password.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hilo_redis::LocalRedis;

#[macro_use]
mod gnu_cases;
use gnu_cases::{args, exits, tricky, Case};

fn hilo_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("hilo")
}

fn hilo() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("hilo").unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = hilo().args(args).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

/// A `hilo worker` process: SIGTERM (through the unreaped child, so the
/// pid is its own) and reaped when dropped.
struct Worker(Child);

impl Worker {
    fn start(url: &str) -> Worker {
        Worker::start_in(url, &std::env::temp_dir())
    }

    /// A worker whose jobs run in `dir`.
    fn start_in(url: &str, dir: &std::path::Path) -> Worker {
        let child = Command::new(hilo_path())
            .args(["worker", "-j", "1", "--lease", "2", url])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Worker(child)
    }

    /// SIGTERM, then its exit status and what it said.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        self.terminate();
        let mut said = String::new();
        std::io::Read::read_to_string(&mut self.0.stderr.take().unwrap(), &mut said).unwrap();
        (self.0.wait().unwrap(), said)
    }

    fn terminate(&self) {
        let pid = rustix::process::Pid::from_raw(self.0.id() as i32).unwrap();
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn status_json(url: &str) -> serde_json::Value {
    let out = stdout_of(&["cluster", "status", "--interval", "0.1", "--json", url]);
    serde_json::from_str(&out).unwrap()
}

/// Waits until `n` workers have said they are alive.
fn wait_for_workers(url: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while status_json(url)["workers"].as_array().unwrap().len() != n {
        assert!(Instant::now() < deadline, "the workers never came up");
    }
}

#[test]
#[ignore = "needs redis-server"]
fn primes_on_the_cluster_match_the_local_engine() {
    let redis = LocalRedis::start().unwrap();
    let url = redis.url();
    let workers = [Worker::start(&url), Worker::start(&url)];
    wait_for_workers(&url, 2);
    assert_eq!(
        stdout_of(&["primes", "--cluster", &url, "1e9"]),
        stdout_of(&["primes", "1e9"])
    );
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&[
        "primes",
        "--cluster",
        &url,
        "--json",
        "1e8",
        "2e8",
    ]))
    .unwrap();
    assert_eq!(json["engine"], "cluster");
    assert_eq!(json["jobs"], 2, "the workers' slots");
    assert_eq!(
        json["count"].as_u64().unwrap(),
        stdout_of(&["primes", "1e8", "2e8"])
            .trim()
            .parse::<u64>()
            .unwrap()
    );
    // Listing: the chunks come back in order, byte for byte the local list.
    let listed = stdout_of(&[
        "primes",
        "--cluster",
        &url,
        "--print",
        "--chunk",
        "1e5",
        "1e6",
        "1.5e6",
    ]);
    assert_eq!(listed, stdout_of(&["primes", "--print", "1e6", "1.5e6"]));
    assert!(listed.lines().count() > 30_000);
    let status = status_json(&url);
    assert!(status["finished"].as_u64().unwrap() >= 5, "{status}");
    assert_eq!(status["in_flight"], 0);
    for w in workers {
        let (exit, said) = w.stop();
        assert!(exit.success(), "{exit}: {said}");
        assert!(
            said.contains(" stopped: ") && said.contains("tasks done"),
            "{said}"
        );
    }
    assert_eq!(
        status_json(&url)["workers"].as_array().unwrap().len(),
        0,
        "they left"
    );
}

#[test]
#[ignore = "needs redis-server"]
fn wordcount_on_the_cluster_matches_the_local_count() {
    let redis = LocalRedis::start().unwrap();
    let url = redis.url();
    let _workers = [Worker::start(&url), Worker::start(&url)];
    // Two files of words of every length and case, some non-ASCII, cut in
    // many small chunks; the workers see only the bytes sent to them.
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for f in 0..2u64 {
        let mut text = String::new();
        let mut x = 7 + f;
        for i in 0..300_000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let word = ["the", "Río", "hilo", "THE", "futures", "año", "a"][(x >> 60) as usize % 7];
            text.push_str(word);
            text.push_str(&(x >> 50 & 31).to_string());
            text.push(if i % 13 == 0 { '\n' } else { ' ' });
        }
        let path = dir.path().join(format!("part{f}.txt"));
        std::fs::write(&path, text).unwrap();
        files.push(path.to_string_lossy().into_owned());
    }
    let mut local = vec!["wordcount", "--top", "0"];
    local.extend(files.iter().map(String::as_str));
    let mut remote = vec![
        "wordcount",
        "--cluster",
        &url,
        "--top",
        "0",
        "--chunk-size",
        "64K",
    ];
    remote.extend(files.iter().map(String::as_str));
    let want = stdout_of(&local);
    assert!(want.lines().count() > 100);
    assert_eq!(stdout_of(&remote), want);
    // From stdin too.
    let out = hilo()
        .args(["wordcount", "--cluster", &url, "--top", "0", "-"])
        .pipe_stdin(&files[0])
        .unwrap()
        .assert()
        .success();
    let from_stdin = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(
        from_stdin,
        stdout_of(&["wordcount", "--top", "0", &files[0]])
    );
}

#[test]
#[ignore = "needs redis-server"]
fn the_demo_counts_on_two_workers_and_cleans_up() {
    let out = stdout_of(&["cluster", "demo", "1e8"]);
    let count = stdout_of(&["primes", "1e8"]);
    assert!(
        out.contains(&format!("primes up to 1e8: {}", count.trim())),
        "{out}"
    );
    let reports: Vec<&str> = out.lines().filter(|l| l.contains("tasks done")).collect();
    assert_eq!(reports.len(), 2, "{out}");
    let removed = out
        .lines()
        .find_map(|l| l.split("removed ").nth(1))
        .expect("says what it removed");
    assert!(
        !std::path::Path::new(removed).exists(),
        "{removed} left behind"
    );
}

/// `name: case;` lines as a list.
macro_rules! case_list {
    ($($name:ident: $case:expr;)*) => {
        vec![$((stringify!($name), $case)),*]
    };
}

/// `hilo run -k ARGS` in a directory holding the case's files.
fn run_case(case: &Case, cluster: Option<&str>) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in &case.files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let mut hilo = hilo();
    hilo.arg("run").arg("-k");
    if let Some(url) = cluster {
        hilo.args(["--cluster", url]);
    }
    hilo.args(&case.args)
        .current_dir(dir.path())
        .write_stdin(case.stdin.clone())
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

/// The GNU parallel cross-check cases, run on two cluster workers, print
/// byte for byte what they print here and exit with the same status
/// (`--line-buffer` does not go with `--cluster`).
#[test]
#[ignore = "needs redis-server"]
fn run_on_the_cluster_prints_what_it_prints_here() {
    let redis = LocalRedis::start().unwrap();
    let url = redis.url();
    // The workers' jobs run where the cases' scripts are.
    let work = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Case)> = with_gnu_cases!(case_list);
    for (_, case) in &cases {
        for (name, bytes) in &case.files {
            std::fs::write(work.path().join(name), bytes).unwrap();
        }
    }
    let _workers = [
        Worker::start_in(&url, work.path()),
        Worker::start_in(&url, work.path()),
    ];
    wait_for_workers(&url, 2);
    let mut checked = 0;
    for (name, case) in &cases {
        if case
            .args
            .iter()
            .any(|a| a == "--lb" || a == "--line-buffer")
        {
            continue;
        }
        let here = run_case(case, None);
        let there = run_case(case, Some(&url));
        let say = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(
            String::from_utf8_lossy(&there.stdout),
            String::from_utf8_lossy(&here.stdout),
            "{name}: stdout (cluster stderr: {})",
            say(&there)
        );
        assert_eq!(there.stdout, here.stdout, "{name}: stdout bytes");
        assert_eq!(
            there.status.code(),
            here.status.code(),
            "{name}: exit status ({})",
            say(&there)
        );
        checked += 1;
    }
    assert!(checked >= 75, "only {checked} cases ran");
}

/// `hilo run --joblog --results --timeout --retries` on `url`'s workers
/// (or here): its stderr, the job log's rows by sequence number, and the
/// results directory.
fn run_logged(url: Option<&str>) -> (String, Vec<Vec<String>>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut hilo = hilo();
    hilo.arg("run");
    if let Some(url) = url {
        hilo.args(["--cluster", url]);
    }
    let script = "echo out{}; echo err{} >&2; sleep {}; exit {}";
    let out = hilo
        .args([
            "--joblog",
            "jobs.log",
            "--results",
            "out",
            "--timeout",
            "1",
            "--retries",
            "2",
        ])
        .args(["sh", "-c", script, ":::", "0", "3"])
        .current_dir(dir.path())
        .timeout(Duration::from_secs(60))
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let log = std::fs::read_to_string(dir.path().join("jobs.log")).unwrap();
    let mut rows: Vec<Vec<String>> = log
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect();
    rows.sort();
    (stderr, rows, dir)
}

#[test]
#[ignore = "needs redis-server"]
fn run_on_the_cluster_keeps_joblog_results_timeout_and_retries() {
    let redis = LocalRedis::start().unwrap();
    let url = redis.url();
    let _workers = [Worker::start(&url), Worker::start(&url)];
    wait_for_workers(&url, 2);
    let (here_err, here, here_dir) = run_logged(None);
    let (there_err, there, there_dir) = run_logged(Some(&url));
    assert_eq!(there_err, here_err);
    assert!(there_err.contains("timed out"), "{there_err}");
    assert_eq!(there.len(), 2);
    // Seq Host Starttime JobRuntime Send Receive Exitval Signal Command:
    // all but the times as here.
    for (t, h) in there.iter().zip(&here) {
        for col in [0, 1, 4, 5, 6, 7, 8] {
            assert_eq!(t[col], h[col], "column {col}: {t:?} vs {h:?}");
        }
    }
    assert_eq!(
        there[1][7], "15",
        "the slow one was stopped by TERM at its timeout"
    );
    let runtime: f64 = there[1][3].trim().parse().unwrap();
    assert!((1.0..3.0).contains(&runtime), "{runtime}");
    for file in [
        "1/0/stdout",
        "1/0/stderr",
        "1/3/stdout",
        "1/3/stderr",
        "1/3/seq",
    ] {
        let read = |d: &tempfile::TempDir| std::fs::read(d.path().join("out").join(file)).unwrap();
        assert_eq!(read(&there_dir), read(&here_dir), "{file}");
    }
}

#[test]
#[ignore = "needs redis-server"]
fn halt_now_stops_a_job_running_on_a_worker() {
    let redis = LocalRedis::start().unwrap();
    let url = redis.url();
    let _workers = [Worker::start(&url), Worker::start(&url)];
    wait_for_workers(&url, 2);
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("slow.pid");
    // Job 2 says its pid and sleeps; job 1 fails once job 2 runs.
    let script = format!(
        "if [ {{}} = 2 ]; then echo $$ > {0}.tmp; mv {0}.tmp {0}; exec sleep 60; fi; \
         while [ ! -s {0} ]; do sleep 0.01; done; exit 3",
        pidfile.display()
    );
    let began = Instant::now();
    hilo()
        .args([
            "run",
            "--cluster",
            &url,
            "-j",
            "2",
            "--halt",
            "now,fail=1",
            &script,
            ":::",
            "1",
            "2",
        ])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(3);
    assert!(
        began.elapsed() < Duration::from_secs(30),
        "waited for the sleep"
    );
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        assert!(Instant::now() < deadline, "the halted job {pid} still runs");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Jobs of a millisecond travel to the workers in batches (fewer tasks
/// finish than jobs ran), and each job keeps its own output, in order.
#[test]
#[ignore = "needs redis-server"]
fn short_jobs_travel_in_batches_and_each_keeps_its_output() {
    let redis = LocalRedis::start().unwrap();
    let url = redis.url();
    let _workers = [Worker::start(&url), Worker::start(&url)];
    wait_for_workers(&url, 2);
    let jobs: Vec<String> = (1..=600).map(|n| n.to_string()).collect();
    let run = |cluster: Option<&str>| {
        let mut hilo = hilo();
        hilo.args(["run", "-k", "--tag"]);
        if let Some(url) = cluster {
            hilo.args(["--cluster", url]);
        }
        let out = hilo
            .args(["echo", "job"])
            .arg(":::")
            .args(&jobs)
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        out.stdout
    };
    let here = run(None);
    let there = run(Some(&url));
    assert_eq!(
        String::from_utf8_lossy(&there),
        String::from_utf8_lossy(&here)
    );
    let expected: String = jobs.iter().map(|n| format!("{n}\tjob {n}\n")).collect();
    assert_eq!(String::from_utf8_lossy(&here), expected);
    let tasks = status_json(&url)["finished"].as_u64().unwrap();
    assert!(
        (1..=300).contains(&tasks),
        "600 jobs of a millisecond took {tasks} tasks"
    );
}

/// The first Ctrl+C sends nothing more to the cluster: the jobs held here
/// never run, the batches out there finish, `hilo run` says it was
/// interrupted (130), and nothing is left in Redis.
#[test]
#[ignore = "needs redis-server"]
fn ctrl_c_sends_no_more_jobs_and_leaves_nothing_queued() {
    use std::io::BufRead;
    let redis = LocalRedis::start().unwrap();
    let url = redis.url();
    let _workers = [Worker::start(&url), Worker::start(&url)];
    wait_for_workers(&url, 2);
    let mut run = Command::new(hilo_path())
        .args(["run", "--cluster", &url, "echo"])
        .arg(":::")
        .args((1..=3000).map(|n| n.to_string()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(run.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(!first.is_empty(), "no job ended");
    // Unreaped, so the pid is still its own.
    let pid = rustix::process::Pid::from_raw(run.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let printed = 1 + out.lines().count();
    let mut said = String::new();
    std::io::Read::read_to_string(&mut run.stderr.take().unwrap(), &mut said).unwrap();
    let status = run.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{said}");
    assert!(said.contains("interrupted"), "{said}");
    assert!(printed < 3000, "every job ran: {printed}");
    let status = status_json(&url);
    assert_eq!(status["in_flight"], 0, "{status}");
    for queue in status["queues"].as_array().unwrap() {
        assert_eq!(queue["queued"], 0, "{status}");
    }
}

/// A redis-server speaking TLS only, with a password, on a free port of
/// 127.0.0.1; its certificate (for `localhost`) is in `dir`/cert.pem, which
/// clients trust through `SSL_CERT_FILE`. Killed and reaped when dropped.
struct TlsRedis {
    child: Child,
    port: u16,
    cert: PathBuf,
}

impl TlsRedis {
    fn start(dir: &std::path::Path) -> TlsRedis {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--requirepass",
                "s3cret",
            ])
            .args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
            .arg("--tls-cert-file")
            .arg(&cert)
            .arg("--tls-key-file")
            .arg(&key)
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        for line in std::io::BufRead::lines(out) {
            if line.unwrap().contains("Ready to accept connections") {
                break;
            }
        }
        TlsRedis { child, port, cert }
    }

    fn url(&self, password: &str) -> String {
        format!("rediss://:{password}@localhost:{}", self.port)
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
#[ignore = "needs redis-server"]
fn tls_and_a_password_work_and_the_password_is_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let redis = TlsRedis::start(dir.path());
    let url = redis.url("s3cret");
    let trusted = |cmd: &mut Command| {
        cmd.env("SSL_CERT_FILE", &redis.cert);
    };
    let mut worker = Command::new(hilo_path());
    worker
        .args(["worker", "-q", "-j", "2", &url])
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    trusted(&mut worker);
    let _worker = Worker(worker.spawn().unwrap());
    let out = hilo()
        .args(["primes", "--cluster", &url, "1e8"])
        .env("SSL_CERT_FILE", &redis.cert)
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    assert_eq!(
        out.get_output().stdout,
        stdout_of(&["primes", "1e8"]).as_bytes()
    );
    // A certificate nobody vouches for, a wrong password: one line each,
    // no password in it.
    let err = one_line_error(&["cluster", "status", &url], 1);
    assert!(
        err.contains("certificate") && !err.contains("s3cret"),
        "{err}"
    );
    let wrong = redis.url("wr0ng");
    let out = hilo()
        .args(["cluster", "status", &wrong])
        .env("SSL_CERT_FILE", &redis.cert)
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("authentication") || err.contains("Authentication"),
        "{err}"
    );
    assert!(!err.contains("wr0ng"), "{err}");
}

/// Runs hilo with `args`, expects exit status `code` and one line on
/// stderr (returned).
fn one_line_error(args: &[&str], code: i32) -> String {
    let out = hilo()
        .args(args)
        .timeout(Duration::from_secs(30))
        .assert()
        .code(code);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    err
}

#[test]
fn an_unreachable_redis_is_one_line_and_never_shows_the_password() {
    let url = "redis://someone:secretpw@127.0.0.1:1";
    for args in [
        vec!["worker", url],
        vec!["primes", "--cluster", url, "100"],
        vec!["cluster", "status", url],
    ] {
        let err = one_line_error(&args, 1);
        assert!(!err.contains("secretpw"), "{args:?}: {err}");
        assert!(err.starts_with("hilo "), "{err}");
    }
    let err = one_line_error(&["primes", "--cluster", "not a url", "100"], 1);
    assert!(
        err.contains("not a url") && err.contains("did not parse"),
        "{err}"
    );
}

#[test]
fn bad_cluster_options_are_usage_errors() {
    one_line_error(&["worker", "--lease", "0.01", "redis://127.0.0.1:1"], 2);
    one_line_error(&["worker", "--lease", "soon", "redis://127.0.0.1:1"], 2);
    one_line_error(&["cluster", "status"], 2);
    one_line_error(
        &[
            "primes",
            "--cluster",
            "redis://127.0.0.1:1",
            "--engine",
            "processes",
            "10",
        ],
        2,
    );
    one_line_error(
        &[
            "primes",
            "--cluster",
            "redis://127.0.0.1:1",
            "--compare",
            "10",
        ],
        2,
    );
    one_line_error(&["cluster", "demo", "-j", "0"], 2);
    one_line_error(
        &[
            "run",
            "--cluster",
            "redis://127.0.0.1:1",
            "--lb",
            "echo",
            ":::",
            "a",
        ],
        2,
    );
    one_line_error(
        &[
            "wordcount",
            "--cluster",
            "redis://127.0.0.1:1",
            "--engine",
            "processes",
        ],
        2,
    );
    one_line_error(
        &[
            "wordcount",
            "--cluster",
            "redis://127.0.0.1:1",
            "--chunk-size",
            "64M",
        ],
        2,
    );
}
