//! `hilo mx` as a shell user meets it, against a real DNS server that each
//! test starts on 127.0.0.1 (hickory-server, from `hilo-bench-dns`) and
//! stops: each address's class as the zone says it must be, the CSV and
//! JSON shapes, input order, one lookup per domain counted at the server,
//! the overlap of `-j` lookups seen by the server, the timeout promise,
//! and bad input refused with one line and exit status 2.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use hilo_bench_dns::{Answer, DnsServer, Zone};

fn hilo_mx() -> Command {
    let mut cmd = Command::cargo_bin("hilo").unwrap();
    cmd.arg("mx");
    cmd
}

/// One kind of every domain `hilo mx` tells apart.
fn every_kind() -> Zone {
    let mx = |host: &str| Answer::Mx(vec![(10, host.to_owned())]);
    Zone::new()
        .with("mail.test", mx("mx.mail.test"))
        .with(
            "two.test",
            Answer::Mx(vec![(20, "b.two.test".into()), (10, "a.two.test".into())]),
        )
        .with("nullmx.test", Answer::NullMx)
        .with("v4.test", Answer::A(Ipv4Addr::new(192, 0, 2, 7)))
        .with("v6.test", Answer::Aaaa(Ipv6Addr::LOCALHOST))
        .with("empty.test", Answer::NoData)
        .with("broken.test", Answer::ServFail)
        .with("quiet.test", Answer::Silent)
        .with("xn--bcher-kva.test", mx("mx.xn--bcher-kva.test"))
}

/// Runs `hilo mx --nameserver SERVER ARGS -` with `input` on stdin.
fn run(server: &DnsServer, args: &[&str], input: &str) -> std::process::Output {
    hilo_mx()
        .arg("--nameserver")
        .arg(server.addr().to_string())
        .args(args)
        .arg("-")
        .write_stdin(input)
        .output()
        .unwrap()
}

/// One CSV record split into its fields, RFC 4180 style (written here,
/// not taken from the crate under test).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let (mut quoted, mut chars) = (false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    assert!(!quoted, "unbalanced quotes in {line:?}");
    fields
}

/// The CSV rows after the header, as (email, class, detail).
fn rows(stdout: &[u8]) -> Vec<(String, String, String)> {
    let text = std::str::from_utf8(stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("email,class,detail"), "{text}");
    lines
        .map(|line| match csv_fields(line).as_slice() {
            [e, c, d] => (e.clone(), c.clone(), d.clone()),
            other => panic!("not 3 fields: {other:?} in {line:?}"),
        })
        .collect()
}

#[test]
fn every_kind_of_domain_gets_its_class() {
    let server = DnsServer::start(every_kind(), Duration::ZERO).unwrap();
    // (address, class the zone calls for, a word the detail must have)
    let expected = [
        ("ana@mail.test", "valid", "mx.mail.test"),
        ("bo@two.test", "valid", "10 a.two.test, 20 b.two.test"),
        ("cy@nullmx.test", "invalid", "null MX"),
        ("di@v4.test", "valid", "192.0.2.7"),
        ("ed@v6.test", "valid", "::1"),
        ("fe@empty.test", "invalid", "no MX, A or AAAA"),
        ("gu@nowhere.test", "invalid", "NXDOMAIN"),
        ("ha@broken.test", "unverifiable", "SERVFAIL"),
        ("io@quiet.test", "unverifiable", "timed out"),
        ("ju@bücher.test", "valid", "mx.xn--bcher-kva.test"),
        ("k..l@mail.test", "invalid", "two dots"),
        (
            "\"m n\"@mail.test",
            "invalid",
            "quoted local parts are not supported",
        ),
        ("o@[192.0.2.1]", "invalid", "address literals"),
    ];
    let input: String = expected.iter().map(|(a, ..)| format!("{a}\n")).collect();
    let out = run(&server, &["--timeout", "1s"], &input);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let got = rows(&out.stdout);
    assert_eq!(got.len(), expected.len());
    for ((email, class, detail), (want_email, want_class, word)) in got.iter().zip(&expected) {
        assert_eq!(email, want_email);
        assert_eq!(class, want_class, "{email}: {detail}");
        assert!(detail.contains(word), "{email}: {detail:?} lacks {word:?}");
    }
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr
            .starts_with("hilo mx: 13 addresses, 5 valid, 6 invalid, 2 unverifiable (10 domains, "),
        "{stderr}"
    );
    // The international domain was asked in punycode.
    assert_eq!(server.asked("xn--bcher-kva.test"), 1);
}

#[test]
fn json_lines_carry_the_same_verdicts_and_the_ascii_domain() {
    let server = DnsServer::start(every_kind(), Duration::ZERO).unwrap();
    let input = "a@mail.test\nb@BÜCHER.test\nc@nowhere.test\nnot an address\n";
    let out = run(&server, &["--json"], input);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let objects: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let want = [
        ("a@mail.test", "valid", Some("mail.test")),
        ("b@BÜCHER.test", "valid", Some("xn--bcher-kva.test")),
        ("c@nowhere.test", "invalid", Some("nowhere.test")),
        ("not an address", "invalid", None),
    ];
    assert_eq!(objects.len(), want.len(), "{text}");
    for (o, (email, class, domain)) in objects.iter().zip(want) {
        assert_eq!(o["email"], email);
        assert_eq!(o["class"], class);
        assert!(o["detail"].as_str().is_some_and(|d| !d.is_empty()), "{o}");
        assert_eq!(o["domain"].as_str(), domain);
        assert_eq!(o.as_object().unwrap().len(), 4, "{o}");
    }
}

#[test]
fn rows_keep_input_order_and_duplicates_and_each_domain_is_asked_once() {
    let server = DnsServer::start(every_kind(), Duration::from_millis(20)).unwrap();
    // 90 addresses over 3 domains (one MX, one by fallback, one absent),
    // interleaved, with duplicates and bad lines among them.
    let domains = ["mail.test", "v4.test", "nowhere.test"];
    let mut input = String::new();
    let mut expected = Vec::new();
    for i in 0..90 {
        let domain = domains[(i * 7) % 3];
        let address = format!("user{}@{domain}", i % 40);
        let class = if domain == "nowhere.test" {
            "invalid"
        } else {
            "valid"
        };
        input.push_str(&format!("  {address}\t\n"));
        expected.push((address, class));
        if i % 30 == 0 {
            input.push_str("\nbad@@line\n");
            expected.push(("bad@@line".to_owned(), "invalid"));
        }
    }
    let out = run(&server, &[], &input);
    let got = rows(&out.stdout);
    let got: Vec<(String, &str)> = got
        .iter()
        .map(|(e, c, _)| (e.clone(), c.as_str()))
        .collect();
    let expected: Vec<(String, &str)> = expected.into_iter().collect();
    assert_eq!(got, expected);
    // One MX question; MX, A and AAAA for the fallback; one for NXDOMAIN.
    assert_eq!(server.asked("mail.test"), 1);
    assert_eq!(server.asked("v4.test"), 3);
    assert_eq!(server.asked("nowhere.test"), 1);
    assert_eq!(server.asked_in_all(), 5);
}

/// `count` distinct MX domains, `d0.test`...
fn many_mx(count: usize) -> (Zone, String) {
    let mut zone = Zone::new();
    let mut input = String::new();
    for i in 0..count {
        zone = zone.with(
            &format!("d{i}.test"),
            Answer::Mx(vec![(5, format!("mx.d{i}.test"))]),
        );
        input.push_str(&format!("someone@d{i}.test\n"));
    }
    (zone, input)
}

#[test]
fn twenty_workers_have_twenty_lookups_in_the_air_at_once() {
    // Every reply waits 200 ms: lookups that overlap are seen overlapping
    // by the server, whatever the machine's speed.
    let (zone, input) = many_mx(40);
    let server = DnsServer::start(zone, Duration::from_millis(200)).unwrap();
    let out = run(&server, &["-j", "20"], &input);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(rows(&out.stdout).len(), 40);
    assert_eq!(server.asked_in_all(), 40);
    let overlap = server.max_in_flight();
    assert!((15..=20).contains(&overlap), "max in flight {overlap}");
}

#[test]
fn jobs_bounds_the_lookups_in_the_air() {
    let (zone, input) = many_mx(12);
    let server = DnsServer::start(zone, Duration::from_millis(100)).unwrap();
    let out = run(&server, &["-j", "3"], &input);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let overlap = server.max_in_flight();
    assert!((2..=3).contains(&overlap), "max in flight {overlap}");
}

#[test]
fn an_unanswered_domain_is_unverifiable_within_the_timeout_and_a_second() {
    let zone = every_kind()
        .with("quiet2.test", Answer::Silent)
        .with("quiet3.test", Answer::Silent);
    let server = DnsServer::start(zone, Duration::ZERO).unwrap();
    let input = "a@quiet.test\nb@mail.test\nc@quiet2.test\nd@quiet3.test\n";
    let began = Instant::now();
    let out = run(&server, &["--timeout", "1s"], input);
    let took = began.elapsed();
    let classes: Vec<String> = rows(&out.stdout).into_iter().map(|r| r.1).collect();
    assert_eq!(
        classes,
        ["unverifiable", "valid", "unverifiable", "unverifiable"]
    );
    assert!(took >= Duration::from_secs(1), "gave up early: {took:?}");
    assert!(
        took < Duration::from_secs(2),
        "past timeout + 1 s: {took:?}"
    );
    // Asked once: no retry hides behind the timeout.
    assert_eq!(server.asked("quiet.test"), 1);
    assert_eq!(server.asked("quiet2.test"), 1);
}

#[test]
fn a_refusing_server_makes_every_address_unverifiable() {
    let server = DnsServer::start(Zone::new().otherwise(Answer::Refused), Duration::ZERO).unwrap();
    let out = run(&server, &[], "a@one.test\nb@two.test\nc@one.test\n");
    assert_eq!(out.status.code(), Some(1));
    let got = rows(&out.stdout);
    assert_eq!(got.len(), 3);
    for (email, class, detail) in &got {
        assert_eq!(class, "unverifiable", "{email}");
        assert!(detail.contains("REFUSED"), "{detail}");
    }
}

#[test]
fn all_valid_exits_zero() {
    let server = DnsServer::start(every_kind(), Duration::ZERO).unwrap();
    let out = run(&server, &[], "a@mail.test\nb@v4.test\nc@two.test\n");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(rows(&out.stdout).len(), 3);
}

#[test]
fn an_empty_input_prints_the_header_only() {
    let server = DnsServer::start(every_kind(), Duration::ZERO).unwrap();
    for input in ["", "\n  \n\t\n"] {
        let out = run(&server, &[], input);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(out.stdout, b"email,class,detail\n");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.starts_with(
                "hilo mx: 0 addresses, 0 valid, 0 invalid, 0 unverifiable (0 domains, "
            ),
            "{stderr}"
        );
        let out = run(&server, &["--json"], input);
        assert_eq!(out.status.code(), Some(0));
        assert!(out.stdout.is_empty());
    }
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let out = hilo_mx()
        .args(["--nameserver", &server.addr().to_string()])
        .arg(&empty)
        .assert()
        .success();
    assert_eq!(out.get_output().stdout, b"email,class,detail\n");
    assert_eq!(server.asked_in_all(), 0);
}

/// Runs `hilo mx ARGS`, expects status 2, one line on stderr, nothing on
/// stdout; returns the line.
fn refused(args: &[&str]) -> String {
    let out = hilo_mx()
        .args(args)
        .write_stdin("a@mail.test\n")
        .assert()
        .code(2);
    let out = out.get_output();
    assert!(out.stdout.is_empty(), "{out:?}");
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("hilo mx: "), "{stderr}");
    stderr
}

#[test]
fn bad_usage_is_one_line_and_status_2() {
    let line = refused(&["--nameserver", "127.0.0.1:53", "/no/such/list.txt"]);
    assert!(line.contains("cannot read /no/such/list.txt"), "{line}");
    for bad in ["dns.example:53", "127.0.0.1:99999", "127.0.0.1:0", ""] {
        let line = refused(&["--nameserver", bad, "-"]);
        assert!(line.contains("--nameserver"), "{line}");
    }
    let line = refused(&["--nameserver", "127.0.0.1:53", "--timeout", "0s", "-"]);
    assert!(line.contains("--timeout"), "{line}");
    let line = refused(&["--nameserver", "127.0.0.1:53", "-j", "many", "-"]);
    assert!(line.contains("-j") || line.contains("--jobs"), "{line}");
    refused(&[]);
}

#[test]
fn a_line_that_is_not_utf8_is_refused_before_any_output() {
    let out = hilo_mx()
        .args(["--nameserver", "127.0.0.1:53", "-"])
        .write_stdin(&b"a@mail.test\nb\xff@mail.test\n"[..])
        .assert()
        .code(2);
    let out = out.get_output();
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(stderr, "hilo mx: standard input: line 2 is not UTF-8\n");
}

#[test]
fn an_answer_too_long_for_udp_is_asked_again_over_tcp() {
    // 40 MX records of ~40 octets each: far past UDP's 512 octets, so the
    // server sends a truncated reply and the whole answer only over TCP.
    let servers: Vec<(u16, String)> = (0..40)
        .map(|i| (i, format!("mail-exchanger-number-{i:02}.big.test")))
        .collect();
    let zone = Zone::new().with("big.test", Answer::Mx(servers));
    let server = DnsServer::start(zone, Duration::ZERO).unwrap();
    let out = run(&server, &[], "a@big.test\n");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let got = rows(&out.stdout);
    let detail = &got[0].2;
    for i in 0..40 {
        let host = format!("{i} mail-exchanger-number-{i:02}.big.test");
        assert!(detail.contains(&host), "{host} missing from {detail}");
    }
    assert_eq!(server.asked("big.test"), 2, "once over UDP, once over TCP");
}
