//! `hilo primes` as a shell user meets it: counts and lists checked against
//! trial division (here, slow and obvious) and, where installed, against
//! `primesieve`; bad input refused with one line and exit status 2.

use assert_cmd::Command;

fn hilo() -> Command {
    Command::cargo_bin("hilo").unwrap()
}

/// Runs `hilo primes ARGS`, expects success, returns stdout.
fn primes(args: &[&str]) -> String {
    let out = hilo().arg("primes").args(args).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

/// Runs `hilo primes ARGS`, expects exit status 2, returns stderr.
fn refused(args: &[&str]) -> String {
    let out = hilo().arg("primes").args(args).assert().failure().code(2);
    assert!(out.get_output().stdout.is_empty());
    String::from_utf8(out.get_output().stderr.clone()).unwrap()
}

/// The obvious definition, slow on purpose: no code shared with the sieve.
fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2;
    while d * d <= n {
        if n % d == 0 {
            return false;
        }
        d += 1;
    }
    true
}

fn primes_between(lo: u64, hi: u64) -> Vec<u64> {
    (lo..=hi).filter(|&n| is_prime(n)).collect()
}

fn listed(text: &str) -> Vec<u64> {
    text.lines().map(|l| l.parse().unwrap()).collect()
}

/// A small deterministic generator (xorshift64*) for "random" ranges that
/// are the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }

    /// `n` ranges, each starting below `start_below` and at most `span`
    /// long.
    fn ranges(&mut self, n: usize, start_below: u64, span: u64) -> Vec<(u64, u64)> {
        (0..n)
            .map(|_| {
                let lo = self.below(start_below);
                (lo, lo + self.below(span))
            })
            .collect()
    }
}

#[test]
fn counts_small_ranges_like_trial_division() {
    let mut cases = vec![
        (0, 0),
        (0, 1),
        (0, 2),
        (2, 2),
        (1, 1),
        (0, 100),
        (97, 97),
        (98, 100),
    ];
    cases.extend(Rng(0x5eed).ranges(12, 200_000, 20_000));
    for (lo, hi) in cases {
        let want = primes_between(lo, hi).len();
        let got = primes(&[&lo.to_string(), &hi.to_string()]);
        assert_eq!(got, format!("{want}\n"), "[{lo}, {hi}]");
    }
}

#[test]
fn start_defaults_to_zero() {
    assert_eq!(
        primes(&["1000"]),
        format!("{}\n", primes_between(0, 1000).len())
    );
}

#[test]
fn lists_primes_in_order_like_trial_division() {
    for (lo, hi) in [(0, 2_000), (7_919, 7_919), (1_000_000, 1_010_000)] {
        let got = primes(&["--print", &lo.to_string(), &hi.to_string()]);
        assert_eq!(listed(&got), primes_between(lo, hi), "[{lo}, {hi}]");
    }
}

#[test]
fn tiny_chunks_on_both_engines_give_the_same_answer() {
    // Chunks of 97 numbers: many boundaries, some on primes, some not.
    let want = primes_between(5_000, 30_000);
    for engine in ["threads", "processes"] {
        let args = [
            "--engine", engine, "-j", "3", "--chunk", "97", "5000", "30000",
        ];
        assert_eq!(primes(&args), format!("{}\n", want.len()), "{engine}");
        let mut listing = vec!["--print"];
        listing.extend(args);
        assert_eq!(listed(&primes(&listing)), want, "{engine} --print");
    }
}

#[test]
fn a_listing_in_huge_chunks_still_fits_a_worker_frame() {
    // 2·10^8 numbers in one chunk would be 11 million primes, 100 MB of
    // text, more than a worker may send; --print caps the chunk.
    let out = primes(&["--print", "--engine", "processes", "--chunk", "1e9", "2e8"]);
    assert_eq!(out.lines().count(), 11_078_937, "π(2·10⁸), from the tables");
    let last: u64 = out.lines().last().unwrap().parse().unwrap();
    assert!(
        is_prime(last) && !(last + 1..=200_000_000).any(is_prime),
        "{last}"
    );
}

#[test]
fn json_reports_the_count_and_the_run() {
    let out = primes(&["--json", "-j", "2", "--engine", "processes", "1e3", "1e4"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["count"], primes_between(1_000, 10_000).len());
    assert_eq!(v["start"], 1_000);
    assert_eq!(v["end"], 10_000);
    assert_eq!(v["engine"], "processes");
    assert_eq!(v["jobs"], 2);
    assert!(v["seconds"].as_f64().unwrap() >= 0.0);
}

#[test]
fn compare_runs_every_engine_on_the_same_range() {
    let out = primes(&["--compare", "-j", "2", "--chunk", "1e4", "100000"]);
    let want = primes_between(0, 100_000).len().to_string();
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    let engines: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(engines, ["sequential", "threads", "processes"], "{out}");
    for row in &rows {
        assert_eq!(row[2], want, "{out}");
        assert!(row[4].ends_with('x'), "{out}");
    }
}

#[test]
fn compare_json_is_one_report_per_engine() {
    let out = primes(&["--compare", "--json", "1e5"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let want = primes_between(0, 100_000).len();
    let reports = v.as_array().unwrap();
    assert_eq!(reports.len(), 3);
    assert!(reports.iter().all(|r| r["count"] == want), "{out}");
}

#[test]
fn a_closed_pipe_ends_the_listing_quietly() {
    // `hilo primes --print 1e9 | head -1`: stdout closes early.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hilo"))
        .args(["primes", "--print", "1e9"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 2];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    assert_eq!(&first, b"2\n");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn start_after_end_is_refused() {
    let err = refused(&["20", "10"]);
    assert_eq!(err, "hilo primes: START (20) is greater than END (10)\n");
}

#[test]
fn bad_numbers_are_one_line_errors() {
    for (args, says) in [
        (vec!["-5"], "must not be negative"),
        (vec!["3", "-5"], "must not be negative"),
        (vec!["1.5"], "must be a whole number"),
        (vec!["ten"], "must be a whole number"),
        (vec!["1e9x"], "must be a whole number"),
        (vec!["--chunk", "0", "100"], "--chunk must be at least 1"),
        (
            vec!["--chunk", "big", "100"],
            "--chunk must be a whole number",
        ),
        (vec!["-j", "x", "100"], "expected N, N%, +N, -N or 0"),
        (vec!["18446744073709551616"], "too large"),
        (vec!["1e20"], "too large"),
        (vec!["1e30"], "too large"),
    ] {
        let err = refused(&args);
        assert!(err.starts_with("hilo primes: "), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn usage_errors_exit_2() {
    refused(&[]);
    refused(&["1", "2", "3"]);
    refused(&["--print", "--json", "10"]);
    refused(&["--engine", "gpus", "10"]);
}

// ---- against primesieve (apt-get install primesieve) ----------------------

fn primesieve(args: &[&str]) -> String {
    let out = std::process::Command::new("primesieve")
        .args(args)
        .arg("-q")
        .output()
        .expect("primesieve runs");
    assert!(out.status.success(), "primesieve {args:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
#[ignore = "needs primesieve"]
fn counts_agree_with_primesieve() {
    let mut cases: Vec<(u64, u64)> = vec![
        (0, 0),
        (0, 1),
        (0, 2),
        (3, 3),
        (0, 1_000_000_007), // END a prime
        (999_999_000_000, 1_000_000_000_000),
        (1_000_000_000_000, 1_000_000_100_000),
        (99_999_999_000_000, 100_000_000_000_000),
        // Several segments high up: primes wait in buckets between hits.
        (10_000_000_000_000, 10_000_030_000_000),
        (99_999_950_000_000, 100_000_000_000_000),
    ];
    cases.extend(Rng(0xfeed).ranges(12, 1_000_000_000_000, 30_000_000));
    for (lo, hi) in cases {
        // Chunk boundaries every 1000 numbers or so, and the default.
        let small = ((hi - lo) / 30).max(1000).to_string();
        let (lo, hi) = (lo.to_string(), hi.to_string());
        let want = primesieve(&[&lo, &hi, "--count"]);
        for chunk in [small.as_str(), "1e10"] {
            let got = primes(&["--chunk", chunk, &lo, &hi]);
            assert_eq!(got, want, "[{lo}, {hi}] chunk {chunk}");
        }
    }
}

#[test]
#[ignore = "needs primesieve"]
fn listings_agree_with_primesieve() {
    let mut cases = vec![
        (0, 100),
        (2, 2),
        (4, 4),
        (1_000_000_007, 1_000_000_007),
        (10_000_000_000_000, 10_000_020_000_000),
    ];
    cases.extend(Rng(0xbeef).ranges(6, 1_000_000_000_000, 5_000_000));
    for (lo, hi) in cases {
        let (lo, hi) = (lo.to_string(), hi.to_string());
        let want = primesieve(&[&lo, &hi, "--print"]);
        let got = primes(&["--print", &lo, &hi]);
        assert_eq!(got, want, "[{lo}, {hi}]");
        let got = primes(&[
            "--print",
            "--engine",
            "processes",
            "--chunk",
            "199999",
            &lo,
            &hi,
        ]);
        assert_eq!(got, want, "[{lo}, {hi}] processes");
    }
}

#[test]
#[ignore = "needs primesieve"]
fn counts_high_up_agree_with_primesieve() {
    // Each chunk this high sieves and places every prime below √END (up
    // to 2^32): few chunks, and the default ones.
    let top = u64::MAX.to_string();
    let cases: [(&str, &str, &[&str]); 5] = [
        ("18446744073709000000", &top, &[]),
        ("1000000000000000000", "1000000000100000000", &[]),
        ("9223372036844775807", "9223372036864775807", &["-j", "3"]),
        ("18446744073679551615", &top, &["--chunk", "1e7"]),
        ("18446744073709551557", &top, &[]),
    ];
    for (lo, hi, flags) in cases {
        let want = primesieve(&[lo, hi, "--count"]);
        let mut args = flags.to_vec();
        args.extend([lo, hi]);
        assert_eq!(primes(&args), want, "[{lo}, {hi}] {flags:?}");
    }
    // The one the issue quotes.
    assert_eq!(primes(&["18446744073709000000", &top]), "12352\n");
}

#[test]
#[ignore = "needs primesieve"]
fn listings_at_the_top_agree_with_primesieve() {
    let top = u64::MAX.to_string();
    let lo = "18446744073707551615";
    let want = primesieve(&[lo, &top, "--print"]);
    assert_eq!(primes(&["--print", lo, &top]), want);
    let got = primes(&[
        "--print",
        "--engine",
        "processes",
        "--chunk",
        "300007",
        lo,
        &top,
    ]);
    assert_eq!(got, want, "processes, small chunks");
}

#[test]
#[ignore = "needs primesieve"]
fn pi_of_a_billion_agrees_with_primesieve_and_the_tables() {
    let want = primesieve(&["1e9", "--count"]);
    assert_eq!(want, "50847534\n", "the published value of π(10⁹)");
    assert_eq!(primes(&["1e9"]), want);
    assert_eq!(primes(&["--engine", "processes", "1e9"]), want);
}
