//! `hilo fetch` against a real HTTP server started by each test on
//! 127.0.0.1 (a random port), which misbehaves on purpose — 500s, 429 with
//! Retry-After, resets, short bodies, redirect loops — and counts what it
//! is asked. File names are checked against `md5sum`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

fn hilo() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("hilo").unwrap()
}

/// What the server saw: each request's path and when, in arrival order.
#[derive(Default)]
struct Seen {
    hits: Vec<(String, Instant)>,
    /// Connections accepted.
    connections: usize,
    /// Bodies sent gzipped.
    gzipped: usize,
}

/// A server on 127.0.0.1; its thread ends with the test process.
struct Server {
    port: u16,
    seen: Arc<Mutex<Seen>>,
    gate: Arc<Gate>,
}

/// Holds `/gate/…` requests until opened.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: std::sync::Condvar,
}

impl Gate {
    fn wait(&self) {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
    }

    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let gate = Arc::new(Gate::default());
        let (s, g) = (Arc::clone(&seen), Arc::clone(&gate));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                s.lock().unwrap().connections += 1;
                let (s, g) = (Arc::clone(&s), Arc::clone(&g));
                std::thread::spawn(move || serve(stream, &s, &g));
            }
        });
        Server { port, seen, gate }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// How many times `path` was asked for.
    fn hits(&self, path: &str) -> usize {
        let seen = self.seen.lock().unwrap();
        seen.hits.iter().filter(|(p, _)| p == path).count()
    }

    /// When `path` was asked for.
    fn times(&self, path: &str) -> Vec<Instant> {
        let seen = self.seen.lock().unwrap();
        seen.hits
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, t)| *t)
            .collect()
    }

    /// Every path, in the order the requests came.
    fn order(&self) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        seen.hits.iter().map(|(p, _)| p.clone()).collect()
    }
}

/// The body `/file/NAME` serves: as many bytes as NAME is long times 997,
/// a pattern that depends on the name.
fn body_of(name: &str) -> Vec<u8> {
    let seed = name
        .bytes()
        .fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    (0..name.len() * 997)
        .map(|i| seed.wrapping_add((i % 251) as u8))
        .collect()
}

/// Requests on a connection until it closes (keep-alive; the answers
/// that break off close it). Paths:
/// - `/file/NAME`: 200 with `body_of(NAME)`;
/// - `/gzip/NAME`: the same, gzipped if the request accepts gzip;
/// - `/slow/MS/NAME`: the same after MS milliseconds;
/// - `/flaky/N/KEY`: 500 for the first N hits, then 200 with "ok KEY";
/// - `/limited/KEY`: 429 with `Retry-After: 1` first, then 200;
/// - `/reset/N/KEY`: the connection closed without a response N times;
/// - `/short/N/KEY`: Content-Length 1000 but 10 bytes, N times;
/// - `/moved/NAME`: 302 to `/file/NAME`; `/loop`: 302 to itself;
/// - `/page/T`: an HTML page titled "Page T & co";
/// - `/gate/NAME`: headers and half the body of `/file/NAME` at once, the
///   rest when the test opens the gate;
/// - anything else: 404.
fn serve(stream: TcpStream, seen: &Mutex<Seen>, gate: &Gate) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    // Requests on this connection until the client closes it or an answer
    // must close it.
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request).unwrap_or(0) == 0 {
            return;
        }
        let mut gzip = false;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                break;
            }
            let lower = header.to_ascii_lowercase();
            gzip |= lower.starts_with("accept-encoding:") && lower.contains("gzip");
        }
        if !answer(&request, gzip, &mut out, seen, gate) {
            return;
        }
    }
}

/// Answers one request; false if the connection must close after it.
fn answer(request: &str, gzip: bool, out: &mut TcpStream, seen: &Mutex<Seen>, gate: &Gate) -> bool {
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let n = {
        let mut seen = seen.lock().unwrap();
        seen.hits.push((path.clone(), Instant::now()));
        seen.hits.iter().filter(|(p, _)| *p == path).count()
    };
    let route = path.split('?').next().unwrap_or("");
    let parts: Vec<&str> = route.trim_start_matches('/').split('/').collect();
    let respond = |out: &mut TcpStream, status: &str, extra: &str, body: &[u8]| {
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\n{extra}\r\n",
            body.len()
        );
        let _ = out.write_all(head.as_bytes());
        let _ = out.write_all(body);
        true
    };
    let times = |s: &str| s.parse::<usize>().unwrap_or(0);
    match parts.as_slice() {
        ["file", name] => respond(out, "200 OK", "", &body_of(name)),
        ["gzip", name] if gzip => {
            seen.lock().unwrap().gzipped += 1;
            let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(&body_of(name)).unwrap();
            respond(
                out,
                "200 OK",
                "Content-Encoding: gzip\r\n",
                &z.finish().unwrap(),
            )
        }
        ["gzip", name] => respond(out, "200 OK", "", &body_of(name)),
        ["slow", ms, name] => {
            std::thread::sleep(Duration::from_millis(times(ms) as u64));
            respond(out, "200 OK", "", &body_of(name))
        }
        ["flaky", fails, key] if n <= times(fails) => {
            respond(out, "500 Internal Server Error", "", b"down")
        }
        ["flaky", _, key] => respond(out, "200 OK", "", format!("ok {key}").as_bytes()),
        ["limited", _] if n == 1 => respond(
            out,
            "429 Too Many Requests",
            "Retry-After: 1\r\n",
            b"slow down",
        ),
        ["limited", key] => respond(out, "200 OK", "", format!("ok {key}").as_bytes()),
        ["reset", fails, _] if n <= times(fails) => {
            let _ = out.shutdown(std::net::Shutdown::Both);
            false
        }
        ["reset", _, key] => respond(out, "200 OK", "", format!("ok {key}").as_bytes()),
        ["short", fails, _] if n <= times(fails) => {
            let head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n";
            let _ = out.write_all(head.as_bytes());
            let _ = out.write_all(&[b'x'; 10]);
            false
        }
        ["short", _, key] => respond(out, "200 OK", "", format!("ok {key}").as_bytes()),
        ["moved", name] => respond(
            out,
            "302 Found",
            &format!("Location: /file/{name}\r\n"),
            b"",
        ),
        ["loop"] => respond(out, "302 Found", "Location: /loop\r\n", b""),
        ["gate", name] => {
            let body = body_of(name);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = out.write_all(head.as_bytes());
            let _ = out.write_all(&body[..body.len() / 2]);
            let _ = out.flush();
            gate.wait();
            let _ = out.write_all(&body[body.len() / 2..]);
            false
        }
        ["page", title] => respond(
            out,
            "200 OK",
            "Content-Type: text/html\r\n",
            format!("<html><head><title>Page {title} &amp; co</title></head></html>").as_bytes(),
        ),
        _ => respond(out, "404 Not Found", "", b"no"),
    }
}

/// `md5sum FILE`'s digest.
fn md5sum(path: &Path) -> String {
    let out = Command::new("md5sum").arg(path).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..32].to_owned()
}

/// The log's records for `url`.
fn logged(log: &str, url: &str) -> Vec<serde_json::Value> {
    log.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["url"] == url)
        .collect()
}

#[test]
fn retries_happen_exactly_as_specified_and_each_try_is_logged() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let log = dir.path().join("log.jsonl");
    // (path, hits the server must see, saved?)
    let cases = [
        ("/flaky/2/a", 3, true),     // 500, 500, ok
        ("/flaky/9/b", 4, false),    // 500 × 4: 1 try + 3 retries
        ("/file/missing", 1, true),  // 200
        ("/nothing/here", 1, false), // 404: never again
        ("/reset/1/c", 2, true),     // closed without a response, then ok
        ("/short/1/d", 2, true),     // a short body, then ok
        ("/limited/e", 2, true),     // 429 Retry-After: 1, then ok
        ("/moved/abc", 1, true),     // followed to /file/abc
        ("/loop", 11, false),        // 10 redirects followed, then given up
    ];
    let urls: Vec<String> = cases.iter().map(|(p, _, _)| server.url(p)).collect();
    let assert = hilo()
        .args(["fetch", "-j", "4", "--retry-delay", "10ms", "--log"])
        .arg(&log)
        .arg("-o")
        .arg(&out)
        .args(&urls)
        .timeout(Duration::from_secs(60))
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("6 saved, 3 failed"), "{stderr}");
    assert!(stderr.contains("HTTP 404 Not Found (1 try)"), "{stderr}");
    assert!(stderr.contains("more than 10 redirects"), "{stderr}");
    let log = std::fs::read_to_string(&log).unwrap();
    for ((path, hits, _), url) in cases.iter().zip(&urls) {
        assert_eq!(server.hits(path), *hits, "{path}: hits");
        let records = logged(&log, url);
        // One record per try; a redirect chain is one try.
        let tries = if *path == "/loop" { 1 } else { *hits };
        assert_eq!(records.len(), tries, "{path}: {records:?}");
        let attempts: Vec<u64> = records
            .iter()
            .map(|r| r["attempt"].as_u64().unwrap())
            .collect();
        assert_eq!(attempts, (1..=tries as u64).collect::<Vec<_>>(), "{path}");
    }
    assert_eq!(server.hits("/file/abc"), 1);
    let limited = server.times("/limited/e");
    assert!(
        limited[1] - limited[0] >= Duration::from_secs(1),
        "Retry-After not honoured: {:?}",
        limited[1] - limited[0]
    );
    let flaky = logged(&log, &urls[1]);
    assert!(flaky
        .iter()
        .all(|r| r["status"] == 500 && r["error"].is_string()));
    // Six files, each named after its content's MD5 (md5sum's).
    let names = common::listing(&out);
    assert_eq!(names.len(), 6, "{names:?}");
    for name in &names {
        let digest = md5sum(&out.join(name));
        assert!(name.contains(&format!("-{digest}")), "{name} vs {digest}");
    }
    assert!(names.iter().any(|n| n.starts_with("missing-")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("abc-")), "{names:?}");
    assert_eq!(
        std::fs::read(out.join(names.iter().find(|n| n.starts_with("abc-")).unwrap())).unwrap(),
        body_of("abc")
    );
}

#[test]
fn every_pending_high_starts_before_any_medium_and_medium_before_low() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    // The first request holds the one slot while the rest are queued.
    let lines = [
        ("/slow/300/first", "high"),
        ("/file/l1", "low"),
        ("/file/m1", "medium"),
        ("/file/h1", "high"),
        ("/file/l2", "low"),
        ("/file/m2", ""),
        ("/file/h2", "HIGH"),
        ("/file/m3", "medium"),
    ];
    let input: String = lines
        .iter()
        .map(|(p, level)| format!("{} {level}\n", server.url(p)))
        .collect();
    hilo()
        .args(["fetch", "-j", "1", "-i", "-", "-o"])
        .arg(dir.path())
        .write_stdin(input)
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    assert_eq!(
        server.order(),
        [
            "/slow/300/first",
            "/file/h1",
            "/file/h2",
            "/file/m1",
            "/file/m2",
            "/file/m3",
            "/file/l1",
            "/file/l2"
        ]
    );
}

#[test]
fn nothing_partial_is_left_and_the_same_content_is_one_file() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let out = hilo()
        .args(["fetch", "--retries", "1", "--retry-delay", "1ms", "-o"])
        .arg(dir.path())
        .args([
            server.url("/short/99/never"),
            server.url("/file/same"),
            server.url("/file/same?again"),
            server.url("/reset/99/never"),
        ])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("the body ended after 10 bytes (2 tries)"),
        "{stderr}"
    );
    assert!(stdout.contains("same as"), "{stdout}");
    let names = common::listing(dir.path());
    assert_eq!(names.len(), 1, "{names:?}");
    assert_eq!(
        std::fs::read(dir.path().join(&names[0])).unwrap(),
        body_of("same")
    );
}

#[test]
fn bad_input_is_one_line_and_a_bad_url_is_only_its_own_error() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "\n# nothing\n").unwrap();
    let one_line = |args: &[&str], code: i32| {
        let out = hilo().args(args).assert().code(code);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        stderr
    };
    let said = one_line(&["fetch", "-i", empty.to_str().unwrap()], 2);
    assert!(said.starts_with("hilo fetch: nothing to fetch"), "{said}");
    let said = one_line(&["fetch", "-i", "/no/such/file"], 2);
    assert!(said.contains("cannot read /no/such/file"), "{said}");
    // -o naming a regular file: no directory can be made there.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let url = server.url("/file/x");
    let said = one_line(&["fetch", "-o", file.to_str().unwrap(), &url], 2);
    assert!(said.contains("cannot make"), "{said}");
    assert_eq!(server.hits("/file/x"), 0);
    let said = one_line(&["fetch", "--timeout", "soon", &url], 2);
    assert!(said.contains("--timeout"), "{said}");
    // A line that is not a URL fails alone; the others are saved.
    let list = dir.path().join("list.txt");
    std::fs::write(
        &list,
        format!(
            "{url} high\nnot-a-url\n{} medium\n{url} whenever\n",
            server.url("/file/y")
        ),
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let out = hilo()
        .args([
            "fetch",
            "-i",
            list.to_str().unwrap(),
            "-o",
            out_dir.to_str().unwrap(),
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("line 2: not-a-url: not a URL"), "{stderr}");
    assert!(
        stderr.contains("line 4: \"whenever\" is not a level"),
        "{stderr}"
    );
    assert!(stderr.contains("2 saved, 2 failed"), "{stderr}");
    assert_eq!(common::listing(&out_dir).len(), 2);
}

#[test]
fn json_gives_one_object_per_url() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let out = hilo()
        .args(["fetch", "--json", "--retries", "0", "-o"])
        .arg(dir.path())
        .args([server.url("/file/j"), server.url("/gone")])
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let records: HashMap<String, serde_json::Value> = stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["url"].as_str().unwrap().to_owned(), v)
        })
        .collect();
    assert_eq!(records.len(), 2);
    let ok = &records[&server.url("/file/j")];
    assert_eq!(ok["ok"], true);
    assert_eq!(ok["bytes"], body_of("j").len());
    assert_eq!(
        ok["md5"].as_str().unwrap(),
        md5sum(Path::new(ok["file"].as_str().unwrap()))
    );
    let gone = &records[&server.url("/gone")];
    assert_eq!(gone["ok"], false);
    assert_eq!(gone["status"], 404);
    assert_eq!(gone["tries"], 1);
}

#[test]
fn scrape_prints_each_page_as_it_ends_and_saves_nothing() {
    let server = Server::start();
    let cwd = tempfile::tempdir().unwrap();
    let mut urls: Vec<String> = (1..=12)
        .map(|n| server.url(&format!("/page/{n}")))
        .collect();
    urls.push(server.url("/missing"));
    let out = hilo()
        .args(["fetch", "--scrape", "-j", "5"])
        .args(&urls)
        .current_dir(cwd.path())
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 14, "{stdout}");
    assert_eq!(lines[13], "ok 12/13");
    for n in 1..=12 {
        let url = server.url(&format!("/page/{n}"));
        let line = lines
            .iter()
            .find(|l| l.contains(&format!("{url} ")))
            .unwrap_or_else(|| panic!("no line for {url}: {stdout}"));
        assert!(line.starts_with("✓ 200"), "{line}");
        assert!(line.ends_with(&format!("Page {n} & co")), "{line}");
    }
    let missing = lines.iter().find(|l| l.contains("/missing")).unwrap();
    assert!(missing.starts_with("✗ 404"), "{missing}");
    assert!(
        common::listing(cwd.path()).is_empty(),
        "{:?}",
        common::listing(cwd.path())
    );
}

#[test]
fn compare_fetches_everything_again_one_at_a_time_and_keeps_one_copy() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<String> = (1..=6).map(|n| format!("/slow/20/c{n}")).collect();
    let out = hilo()
        .args(["fetch", "--compare", "-j", "6", "-o"])
        .arg(dir.path())
        .args(paths.iter().map(|p| server.url(p)))
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("one at a time"), "{stderr}");
    assert!(stderr.contains("x faster"), "{stderr}");
    for p in &paths {
        assert_eq!(server.hits(p), 2, "{p}");
    }
    // The second pass ran one at a time: no two of its requests overlapped
    // (each came after the one before it had been answered, 20 ms later).
    let second: Vec<Instant> = paths.iter().map(|p| server.times(p)[1]).collect();
    let mut sorted = second.clone();
    sorted.sort();
    for pair in sorted.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(20),
            "{:?}",
            pair[1] - pair[0]
        );
    }
    assert_eq!(
        common::listing(dir.path()).len(),
        6,
        "{:?}",
        common::listing(dir.path())
    );
}

/// On a terminal: a bar per running download (its bytes of its length,
/// its URL) above the total; all of it gone when the downloads end.
#[test]
#[ignore = "needs tmux"]
fn a_terminal_shows_a_bar_per_download_and_the_total() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let hilo = assert_cmd::cargo::cargo_bin("hilo");
    let urls: Vec<String> = ["a", "bb", "ccc"]
        .iter()
        .map(|n| server.url(&format!("/gate/{n}")))
        .collect();
    let command = format!(
        "{} fetch -j 3 -o {} {}; echo EXIT $?; sleep 60",
        hilo.display(),
        dir.path().display(),
        urls.join(" ")
    );
    let tmux = common::Tmux::start("fetch", 150, 20, &command);
    // While the server holds the second halves: a bar per download, half
    // full, and the total.
    // "498 B/997 B", "997 B/1.99 kB": received of the length announced.
    tmux.wait_for("bar per download and total", |screen| {
        urls.iter().all(|url| {
            screen
                .lines()
                .any(|l| l.contains(url.as_str()) && l.contains("B/"))
        }) && screen.contains("0/3 downloads")
    });
    server.gate.open();
    let screen = tmux.wait_for("end", |screen| screen.contains("EXIT 0"));
    assert!(
        !screen.contains("downloads,"),
        "the total bar stayed: {screen}"
    );
    assert!(screen.contains("3 saved, 0 failed"), "{screen}");
    assert_eq!(common::listing(dir.path()).len(), 3);
}

/// One connection carries many downloads (`-j 1`: all of them), a gzipped
/// body is saved as it was before the compression (and named after that
/// content's MD5), and a request slower than `--timeout` fails in time.
#[test]
fn connections_are_reused_gzip_is_undone_and_a_slow_answer_times_out() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let paths = ["/file/k1", "/gzip/k2", "/file/k3", "/gzip/k4", "/file/k5"];
    hilo()
        .args(["fetch", "-j", "1", "-o"])
        .arg(dir.path())
        .args(paths.iter().map(|p| server.url(p)))
        .assert()
        .success();
    assert_eq!(server.seen.lock().unwrap().connections, 1);
    assert_eq!(
        server.seen.lock().unwrap().gzipped,
        2,
        "gzip was not asked for"
    );
    for (name, file) in ["k2", "k4"].iter().zip(
        common::listing(dir.path())
            .into_iter()
            .filter(|f| f.starts_with("k2-") || f.starts_with("k4-")),
    ) {
        let bytes = std::fs::read(dir.path().join(&file)).unwrap();
        assert_eq!(bytes, body_of(name), "{file}");
        assert!(file.contains(&md5sum(&dir.path().join(&file))));
    }
    let began = Instant::now();
    let out = hilo()
        .args(["fetch", "--timeout", "300ms", "--retries", "0", "-o"])
        .arg(dir.path())
        .arg(server.url("/slow/5000/late"))
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("timed out (1 try)"), "{stderr}");
    assert!(
        began.elapsed() < Duration::from_secs(4),
        "{:?}",
        began.elapsed()
    );
}
