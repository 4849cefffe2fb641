//! `hilo compress` as a shell user meets it, checked against the real
//! `gzip` (and `pigz`): every round trip must give back the same bytes,
//! every output must pass `gzip -t`, and nothing half-written may be left.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Std;

use assert_cmd::Command;

mod common;
use common::listing;

/// 128 KiB, the block size of `hilo compress` (and pigz).
const BLOCK: usize = 128 * 1024;

fn hilo() -> Command {
    let mut cmd = Command::cargo_bin("hilo").unwrap();
    cmd.arg("compress");
    cmd
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Reproducible pseudo-random bytes (xorshift), incompressible.
fn random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Text-like bytes: words with a skewed frequency, lines, some UTF-8.
fn text(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: [&str; 12] = [
        "the ",
        "of ",
        "and ",
        "compress ",
        "parallel ",
        "año ",
        "niño ",
        "blocks\n",
        "gzip ",
        "dictionary ",
        "42 ",
        "zlib, ",
    ];
    let mut out = Vec::with_capacity(len + 16);
    let mut x = seed | 1;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Square the draw: low indexes (short words) come up more often.
        let r = (x % 1000) as usize;
        out.extend_from_slice(WORDS[r * r / 1000 / 84].as_bytes());
    }
    out.truncate(len);
    out
}

fn write(path: &Path, data: &[u8]) {
    fs::write(path, data).unwrap();
}

/// Runs `gzip ARGS FILE` (stdout captured); panics with gzip's stderr if it fails.
fn gzip(args: &[&str], file: &Path) -> Vec<u8> {
    let out = Std::new("gzip").args(args).arg(file).output().unwrap();
    assert!(
        out.status.success(),
        "gzip {args:?} {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Compresses `data` as a file with hilo (extra `args`), checks the result
/// with `gzip -t` and `gzip -dc`, and returns the .gz bytes.
fn round_trip_through_gzip(data: &[u8], args: &[&str]) -> Vec<u8> {
    let d = dir();
    let file = d.path().join("data");
    write(&file, data);
    // A fixed mtime, stored in the header: outputs of two calls compare equal.
    let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_500_000_000);
    let f = fs::File::options().write(true).open(&file).unwrap();
    f.set_modified(mtime).unwrap();
    drop(f);
    hilo().args(args).arg(&file).assert().success();
    let gz = d.path().join("data.gz");
    assert!(!file.exists(), "the input must be removed without -k");
    gzip(&["-t"], &gz);
    let back = gzip(&["-dc"], &gz);
    assert!(
        back == data,
        "gzip -dc gave {} bytes, not the {} put in",
        back.len(),
        data.len()
    );
    fs::read(&gz).unwrap()
}

#[test]
#[ignore = "needs gzip"]
fn gzip_reads_back_every_size_around_the_block_boundaries() {
    for len in [
        0,
        1,
        100,
        BLOCK - 1,
        BLOCK,
        BLOCK + 1,
        2 * BLOCK,
        5 * BLOCK + 12_345,
    ] {
        round_trip_through_gzip(&text(len, len as u64 + 1), &[]);
        round_trip_through_gzip(&random(len, len as u64 + 2), &[]);
    }
}

#[test]
#[ignore = "needs gzip"]
fn gzip_reads_back_every_level_with_one_and_several_workers() {
    let data = text(12 * BLOCK + 777, 9);
    let mut outputs = Vec::new();
    for level in ["-1", "-3", "-6", "-9"] {
        for jobs in ["1", "3"] {
            outputs.push((level, round_trip_through_gzip(&data, &[level, "-j", jobs])));
        }
    }
    // The same bytes whatever the number of workers: reproducible output.
    for pair in outputs.chunks(2) {
        assert!(pair[0].1 == pair[1].1, "{}: -j1 and -j3 differ", pair[0].0);
    }
    assert!(
        outputs[0].1.len() > outputs[6].1.len(),
        "-1 should be bigger than -9"
    );
}

#[test]
#[ignore = "needs gzip"]
fn output_is_within_one_percent_of_gzips_on_text() {
    let data = text(20 * BLOCK, 5);
    let gz = round_trip_through_gzip(&data, &["-6"]);
    let d = dir();
    let file = d.path().join("data");
    write(&file, &data);
    let theirs = gzip(&["-6", "-c"], &file).len() as f64;
    let ours = gz.len() as f64;
    assert!(ours <= theirs * 1.01, "hilo {ours} bytes vs gzip {theirs}");
}

#[test]
#[ignore = "needs gzip"]
fn the_process_engine_gives_the_same_bytes_as_the_thread_engine() {
    let data = text(12 * BLOCK + 5, 3);
    let threads = round_trip_through_gzip(&data, &["--engine", "threads", "-j", "1"]);
    let processes = round_trip_through_gzip(&data, &["--engine", "processes", "-j", "3"]);
    assert!(threads == processes, "different outputs for the same input");
}

#[test]
#[ignore = "needs gzip"]
fn stdin_to_stdout_and_c_write_gzip_streams() {
    let data = text(2 * BLOCK + 3, 11);
    let out = hilo().write_stdin(data.clone()).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let d = dir();
    let gz = d.path().join("s.gz");
    write(&gz, &out.stdout);
    assert!(gzip(&["-dc"], &gz) == data);

    // -c with two files: two members, which gzip -d concatenates; inputs kept.
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    write(&a, b"first\n");
    write(&b, &data);
    let out = hilo().arg("-c").arg(&a).arg(&b).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    write(&gz, &out.stdout);
    let mut want = b"first\n".to_vec();
    want.extend_from_slice(&data);
    assert!(gzip(&["-dc"], &gz) == want);
    assert!(a.exists() && b.exists());
}

#[test]
#[ignore = "needs gzip"]
fn k_keeps_the_input_and_the_output_gets_its_mode_and_mtime() {
    use std::os::unix::fs::PermissionsExt;
    let d = dir();
    let file = d.path().join("kept.txt");
    write(&file, &text(BLOCK + 10, 4));
    fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(old)
        .unwrap();
    hilo().arg("-k").arg(&file).assert().success();
    let gz = d.path().join("kept.txt.gz");
    assert!(file.exists());
    let meta = fs::metadata(&gz).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o640);
    assert_eq!(meta.modified().unwrap(), old);
    // gzip -l -v would show the stored name; gzip -N restores it, so check
    // that decompressing with the stored name gives the original file name.
    fs::remove_file(&file).unwrap();
    let renamed = d.path().join("other.gz");
    fs::rename(&gz, &renamed).unwrap();
    gzip(&["-d", "-N"], &renamed);
    assert!(file.exists(), "gzip -N did not find the stored name");
}

#[test]
#[ignore = "needs gzip"]
fn decompresses_what_gzip_made_at_several_levels() {
    let d = dir();
    for (i, level) in ["-1", "-6", "-9"].iter().enumerate() {
        let data = text(3 * BLOCK + i, i as u64 + 20);
        let file = d.path().join(format!("g{i}"));
        write(&file, &data);
        gzip(&[level], &file);
        assert!(!file.exists());
        hilo()
            .arg("-d")
            .arg(d.path().join(format!("g{i}.gz")))
            .assert()
            .success();
        assert!(fs::read(&file).unwrap() == data, "level {level}");
        assert!(!d.path().join(format!("g{i}.gz")).exists());
    }
}

#[test]
#[ignore = "needs pigz"]
fn decompresses_what_pigz_made() {
    let d = dir();
    let data = text(10 * BLOCK + 99, 30);
    let file = d.path().join("p.txt");
    write(&file, &data);
    let status = Std::new("pigz")
        .args(["-p", "4", "-k"])
        .arg(&file)
        .status()
        .unwrap();
    assert!(status.success());
    let gz = d.path().join("p.txt.gz");
    let out = hilo().args(["-d", "-c"]).arg(&gz).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(out.stdout == data);
    hilo().arg("-t").arg(&gz).assert().success();
}

#[test]
#[ignore = "needs pigz"]
fn pigz_reads_back_what_hilo_made() {
    let data = random(BLOCK / 2, 8)
        .into_iter()
        .chain(text(3 * BLOCK, 8))
        .collect::<Vec<_>>();
    let d = dir();
    let file = d.path().join("h");
    write(&file, &data);
    hilo().arg(&file).assert().success();
    let out = Std::new("pigz")
        .arg("-dc")
        .arg(d.path().join("h.gz"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(out.stdout == data);
}

#[test]
#[ignore = "needs gzip"]
fn refuses_to_overwrite_without_f_and_overwrites_with_it() {
    let d = dir();
    let file = d.path().join("a.txt");
    let gz = d.path().join("a.txt.gz");
    write(&file, b"new contents\n");
    write(&gz, b"precious");
    let out = hilo().arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(err.contains("a.txt.gz already exists"), "{err}");
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("hilo compress: "))
            .count(),
        1,
        "{err}"
    );
    assert_eq!(fs::read(&gz).unwrap(), b"precious");
    assert!(file.exists());
    assert_eq!(listing(d.path()), ["a.txt", "a.txt.gz"]);

    hilo().arg("-f").arg(&file).assert().success();
    assert!(!file.exists());
    assert_eq!(gzip(&["-dc"], &gz), b"new contents\n");
}

#[test]
#[ignore = "needs gzip"]
fn a_missing_file_is_reported_and_the_others_are_done() {
    let d = dir();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    write(&a, &text(BLOCK * 2, 1));
    write(&b, &text(100, 2));
    let missing = d.path().join("missing");
    let out = hilo().arg(&a).arg(&missing).arg(&b).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(err.contains("missing: No such file or directory"), "{err}");
    assert_eq!(listing(d.path()), ["a.gz", "b.gz"]);
    assert!(gzip(&["-dc"], &d.path().join("a.gz")) == text(BLOCK * 2, 1));
    assert!(gzip(&["-dc"], &d.path().join("b.gz")) == text(100, 2));
}

#[test]
fn a_corrupt_gz_is_an_error_and_leaves_no_output() {
    let d = dir();
    let good = d.path().join("good.txt");
    write(&good, &text(3 * BLOCK, 6));
    hilo().arg(&good).assert().success();
    let gz = d.path().join("good.txt.gz");
    let mut bytes = fs::read(&gz).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    let bad = d.path().join("bad.txt.gz");
    write(&bad, &bytes);
    let truncated = d.path().join("short.txt.gz");
    write(&truncated, &bytes[..bytes.len() - 100]);
    let not_gzip = d.path().join("plain.gz");
    write(&not_gzip, b"just text\n");

    for flag in ["-d", "-t"] {
        for victim in [&bad, &truncated, &not_gzip] {
            let out = hilo().arg(flag).arg(victim).output().unwrap();
            assert_eq!(out.status.code(), Some(1), "{flag} {}", victim.display());
            let err = stderr_of(&out);
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.starts_with("hilo compress: "), "{err}");
            assert!(victim.exists(), "the input must stay");
        }
    }
    assert!(
        stderr_of(&hilo().arg("-t").arg(&not_gzip).output().unwrap())
            .contains("not in gzip format")
    );
    // Nothing decompressed was left: no bad.txt, short.txt, plain, no temporaries.
    assert_eq!(
        listing(d.path()),
        ["bad.txt.gz", "good.txt.gz", "plain.gz", "short.txt.gz"]
    );
    // The intact one still decompresses, in place.
    hilo().args(["-d", "-k"]).arg(&gz).assert().success();
    assert!(fs::read(&good).unwrap() == text(3 * BLOCK, 6));
}

/// gzip's status: 2, a warning (`gzip -d notes`: "unknown suffix --
/// ignored").
#[test]
fn decompressing_a_name_without_gz_is_an_error_for_that_file_only() {
    let d = dir();
    let plain = d.path().join("notes");
    write(&plain, b"x");
    let ok = d.path().join("ok");
    write(&ok, b"fine\n");
    hilo().arg(&ok).assert().success();
    let out = hilo()
        .arg("-d")
        .arg(&plain)
        .arg(d.path().join("ok.gz"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("unknown suffix"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(fs::read(&ok).unwrap(), b"fine\n");
}

/// As gzip: said, and not counted against the status (`gzip x.gz`: "x.gz
/// already has .gz suffix -- unchanged", exit 0).
#[test]
fn a_gz_input_is_left_alone_without_f() {
    let d = dir();
    let gz = d.path().join("x.gz");
    write(&gz, b"whatever");
    let out = hilo().arg(&gz).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr_of(&out).contains("already has .gz suffix"));
    assert_eq!(listing(d.path()), ["x.gz"]);
}

#[test]
fn the_last_level_flag_wins_as_in_gzip() {
    let input = text(4 * BLOCK, 7);
    let gz = |levels: &[&str]| {
        let out = hilo()
            .args(levels)
            .args(["-c", "-q"])
            .write_stdin(input.clone())
            .output()
            .unwrap();
        assert!(out.status.success(), "{levels:?}: {}", stderr_of(&out));
        out.stdout
    };
    let (fast, best) = (gz(&["-1"]), gz(&["-9"]));
    assert_ne!(fast, best, "-1 and -9 made the same stream");
    assert_eq!(gz(&["-1", "-9"]), best);
    assert_eq!(gz(&["-9", "-1"]), fast);
    assert_eq!(gz(&["--best", "--fast"]), fast);
}

#[test]
fn bad_usage_is_one_line_and_exit_2() {
    for args in [&["-j", "x"][..], &["--engine", "gpu"], &["--compare"]] {
        let out = hilo().args(args).write_stdin("").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr_of(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn json_summary_tells_sizes_per_file_and_on_average() {
    let d = dir();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    write(&a, &text(BLOCK, 1));
    write(&b, &random(1000, 2));
    let out = hilo()
        .args(["--json", "-k"])
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    for (f, path) in files.iter().zip([&a, &b]) {
        let gz = PathBuf::from(format!("{}.gz", path.display()));
        assert_eq!(f["original"], fs::metadata(path).unwrap().len());
        assert_eq!(f["compressed"], fs::metadata(gz).unwrap().len());
    }
    let r0 = files[0]["ratio"].as_f64().unwrap();
    let r1 = files[1]["ratio"].as_f64().unwrap();
    assert!(r0 < 0.6 && r1 > 1.0, "{r0} {r1}");
    let avg = v["average_ratio"].as_f64().unwrap();
    assert!((avg - (r0 + r1) / 2.0).abs() < 1e-9);
}

#[test]
fn compare_reports_a_speedup() {
    let d = dir();
    let a = d.path().join("a");
    write(&a, &text(4 * BLOCK, 1));
    let out = hilo()
        .args(["--json", "--compare", "-k"])
        .arg(&a)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["compare"]["sequential_seconds"].as_f64().unwrap() > 0.0);
    assert!(v["compare"]["speedup"].as_f64().unwrap() > 0.0);
}

/// As gzip without -r: a warning, status 2 ("sub is a directory --
/// ignored").
#[test]
fn a_directory_is_skipped_with_a_message() {
    let d = dir();
    let sub = d.path().join("sub");
    fs::create_dir(&sub).unwrap();
    let out = hilo().arg(&sub).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("is a directory"));
}

#[test]
#[ignore = "needs gzip"]
fn many_small_files_each_become_a_valid_gz() {
    let d = dir();
    let mut names = Vec::new();
    for i in 0..30 {
        let p = d.path().join(format!("f{i:02}"));
        write(&p, &text(i * 5000, i as u64));
        names.push(p);
    }
    hilo().args(["-j", "3"]).args(&names).assert().success();
    for (i, p) in names.iter().enumerate() {
        let gz = PathBuf::from(format!("{}.gz", p.display()));
        assert!(gzip(&["-dc"], &gz) == text(i * 5000, i as u64), "file {i}");
    }
    // And back with hilo, in parallel.
    let gzs: Vec<_> = names
        .iter()
        .map(|p| format!("{}.gz", p.display()))
        .collect();
    hilo().arg("-d").args(&gzs).assert().success();
    for (i, p) in names.iter().enumerate() {
        assert!(fs::read(p).unwrap() == text(i * 5000, i as u64), "file {i}");
    }
}

#[test]
fn stdin_compresses_to_stdout_and_back() {
    let data = text(BLOCK + 1, 77);
    let gz = hilo().write_stdin(data.clone()).output().unwrap();
    assert!(gz.status.success(), "{}", stderr_of(&gz));
    assert_eq!(gz.stdout[..2], [0x1f, 0x8b]);
    let out = hilo().arg("-d").write_stdin(gz.stdout).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(out.stdout == data);
    // A filter is as quiet as gzip: no summary on stderr.
    assert_eq!(stderr_of(&out), "");
}
