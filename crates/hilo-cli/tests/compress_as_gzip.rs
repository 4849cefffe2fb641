//! `hilo compress` where gzip has rules of its own: what follows the last
//! member (zero padding, garbage), the suffixes `-d` knows, links it leaves
//! alone, `-S`, and an output that is never seen half-written, even after
//! a SIGKILL. Where gzip is the reference, its output and exit status on
//! the same input are the expected ones.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::listing;

fn hilo(args: &[&str], dir: &Path) -> Output {
    Command::new(assert_cmd::cargo::cargo_bin("hilo"))
        .arg("compress")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn gzip(args: &[&str], dir: &Path) -> Output {
    Command::new("gzip")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// What `gzip ARGS` prints for `input` on its stdin.
fn through_gzip(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap().stdout
}

/// `data` gzipped by gzip itself.
fn gzipped(data: &[u8]) -> Vec<u8> {
    through_gzip(&["-c"], data)
}

/// After the last member: zero padding is ignored silently (exit 0);
/// anything else is ignored with a warning (exit 2); a byte 0x1f starts
/// a member, so a lone one is a truncated member (exit 1). To stdout and
/// to a file, the bytes and the status are gzip's.
#[test]
#[ignore = "needs gzip"]
fn what_follows_the_last_member_is_treated_as_gzip_treats_it() {
    let member = gzipped(b"hello, tape\n");
    let two = [member.clone(), gzipped(b"second\n")].concat();
    let cases: [(&str, Vec<u8>); 6] = [
        ("zeros", [member.clone(), vec![0; 10_240]].concat()),
        ("garbage", [member.clone(), b"garbage\n".to_vec()].concat()),
        (
            "zeros then garbage",
            [member.clone(), vec![0, 0, b'x']].concat(),
        ),
        ("a lone 0x1f", [member.clone(), vec![0x1f]].concat()),
        (
            "zeros between members",
            [member.clone(), vec![0; 512], two.clone()].concat(),
        ),
        ("two members then zeros", [two, vec![0; 100]].concat()),
    ];
    for (what, bytes) in cases {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("t.gz"), &bytes).unwrap();
        let want = gzip(&["-dc", "t.gz"], dir.path());
        let got = hilo(&["-dc", "t.gz"], dir.path());
        assert_eq!(got.stdout, want.stdout, "{what}: stdout");
        assert_eq!(got.status.code(), want.status.code(), "{what}: status");
        let stderr = String::from_utf8_lossy(&got.stderr);
        assert_eq!(
            stderr.contains("trailing garbage ignored"),
            want.status.code() == Some(2),
            "{what}: {stderr}"
        );
        // To a file: the same status; the output only if all was read.
        let got = hilo(&["-dq", "t.gz"], dir.path());
        assert_eq!(got.status.code(), want.status.code(), "{what}: file status");
        match fs::read(dir.path().join("t")) {
            Ok(out) => assert_eq!(out, want.stdout, "{what}: file"),
            Err(_) => assert_eq!(want.status.code(), Some(1), "{what}: no file"),
        }
    }
}

/// Every suffix gzip knows, in any case, and what each becomes.
#[test]
#[ignore = "needs gzip"]
fn decompress_knows_gzips_suffixes_in_any_case() {
    let gz = gzipped(b"suffix\n");
    for (name, becomes) in [
        ("a.gz", "a"),
        ("a.GZ", "a"),
        ("a.Gz", "a"),
        ("a-gz", "a"),
        ("a.z", "a"),
        ("a-z", "a"),
        ("a_z", "a"),
        ("a.tgz", "a.tar"),
        ("a.TGZ", "a.tar"),
        ("a.taz", "a.tar"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(name), &gz).unwrap();
        let out = hilo(&["-dq", name], dir.path());
        assert!(out.status.success(), "{name}: {out:?}");
        assert_eq!(listing(dir.path()), [becomes], "{name}");
        assert_eq!(fs::read(dir.path().join(becomes)).unwrap(), b"suffix\n");
        // gzip agrees on the name.
        fs::remove_file(dir.path().join(becomes)).unwrap();
        fs::write(dir.path().join(name), &gz).unwrap();
        assert!(gzip(&["-d", name], dir.path()).status.success());
        assert_eq!(listing(dir.path()), [becomes], "gzip, {name}");
    }
}

/// Without -f a symbolic link is an error (1) and a file with other hard
/// links a warning (2), as gzip has them, compressing or decompressing;
/// nothing is made or removed. -c reads them; -f takes them.
#[test]
#[ignore = "needs gzip"]
fn links_are_left_alone_without_f_as_gzip_leaves_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("real"), b"linked\n").unwrap();
    std::os::unix::fs::symlink("real", d.join("soft")).unwrap();
    fs::hard_link(d.join("real"), d.join("hard")).unwrap();
    fs::write(d.join("z.gz"), gzipped(b"z\n")).unwrap();
    std::os::unix::fs::symlink("z.gz", d.join("softz.gz")).unwrap();
    fs::hard_link(d.join("z.gz"), d.join("hardz.gz")).unwrap();
    let before = listing(d);
    for (args, status, says) in [
        (&["-q", "soft"][..], 1, "soft: is a symbolic link"),
        (&["-q", "hard"], 2, "hard: has 1 other link"),
        (&["-dq", "softz.gz"], 1, "softz.gz: is a symbolic link"),
        (&["-dq", "hardz.gz"], 2, "hardz.gz: has 1 other link"),
    ] {
        let out = hilo(args, d);
        assert_eq!(out.status.code(), Some(status), "{args:?}");
        let gz_args: Vec<&str> = args.iter().map(|a| a.trim_start_matches('-')).collect();
        let want = gzip(&[&format!("-{}", gz_args[0]), args[1]], d);
        assert_eq!(out.status.code(), want.status.code(), "gzip {args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert_eq!(listing(d), before, "{args:?} changed the directory");
    }
    let out = hilo(&["-qc", "soft", "hard"], d);
    assert!(out.status.success());
    assert_eq!(through_gzip(&["-dc"], &out.stdout), b"linked\nlinked\n");
    assert!(hilo(&["-qf", "hard"], d).status.success());
    assert!(d.join("hard.gz").exists() && !d.join("hard").exists());
}

/// `-S SUF` names outputs FILE.SUF and `-d -S SUF` knows it; an empty one
/// is a usage error.
#[test]
fn a_suffix_of_ones_own() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("w"), b"own suffix\n").unwrap();
    assert!(hilo(&["-q", "-S", ".zz", "w"], d).status.success());
    assert_eq!(listing(d), ["w.zz"]);
    assert!(hilo(&["-dq", "-S", ".zz", "w.zz"], d).status.success());
    assert_eq!(listing(d), ["w"]);
    assert_eq!(fs::read(d.join("w")).unwrap(), b"own suffix\n");
    let out = hilo(&["-S", "", "w"], d);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}

/// Killed mid-write (SIGKILL: nothing can clean up), `hilo compress`
/// leaves no file behind: the output has no name until it is complete.
#[test]
fn a_sigkill_mid_write_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Incompressible, so writing goes on long enough to be caught.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let data: Vec<u8> = (0..64 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    fs::write(d.join("big"), &data).unwrap();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("hilo"))
        .args(["compress", "-q", "-k", "big"])
        .current_dir(d)
        .spawn()
        .unwrap();
    // Wait until it holds its output open (an fd to a file in `d` other
    // than the input), then kill it.
    let fds = format!("/proc/{}/fd", child.id());
    let deadline = Instant::now() + Duration::from_secs(30);
    let writing = loop {
        let open: Vec<String> = fs::read_dir(&fds)
            .map(|rd| {
                rd.filter_map(|e| fs::read_link(e.ok()?.path()).ok())
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(out) = open
            .iter()
            .find(|p| p.starts_with(&*d.to_string_lossy()) && !p.ends_with("/big"))
        {
            break out.clone();
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "it finished before it was seen writing"
        );
        assert!(Instant::now() < deadline, "never saw it writing");
        std::thread::sleep(Duration::from_millis(1));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(listing(d), ["big"], "left behind (it wrote {writing})");
}

/// Sets `path`'s modification time to `secs` after the epoch.
fn set_mtime(path: &Path, secs: u64) {
    let t = std::time::UNIX_EPOCH + Duration::from_secs(secs);
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

fn mtime(path: &Path) -> u64 {
    fs::metadata(path)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `-l` prints gzip's listing, byte for byte, with and without `-N`, for
/// files gzip made and files hilo made.
#[test]
#[ignore = "needs gzip"]
fn list_is_gzips_listing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("a"), b"hello\n").unwrap();
    let text: Vec<u8> = (0..20_000)
        .flat_map(|i| format!("line {i} año\n").into_bytes())
        .collect();
    fs::write(d.join("b"), &text).unwrap();
    assert!(gzip(&["-k", "a", "b"], d).status.success());
    fs::rename(d.join("b.gz"), d.join("renamed.gz")).unwrap();
    assert!(hilo(&["-q", "-k", "-S", ".hz", "a"], d).status.success());
    for args in [
        &["-l", "a.gz"][..],
        &["-l", "a.gz", "renamed.gz"],
        &["-lN", "renamed.gz"],
        &["-l", "-S", ".hz", "a.hz", "a.gz"],
    ] {
        let want = gzip(args, d);
        let got = hilo(args, d);
        assert_eq!(
            String::from_utf8_lossy(&got.stdout),
            String::from_utf8_lossy(&want.stdout),
            "{args:?}"
        );
        assert_eq!(got.status.code(), want.status.code(), "{args:?}");
    }
}

/// `-n` stores neither name nor time; `-d -N` restores both, as gzip
/// does with the same file.
#[test]
#[ignore = "needs gzip"]
fn no_name_and_name_as_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("orig"), b"named\n").unwrap();
    set_mtime(&d.join("orig"), 1_600_000_000);
    let out = hilo(&["-n", "-c", "orig"], d);
    assert!(out.status.success());
    // FLG (no FNAME) and MTIME (0) are bytes 3 to 7.
    assert_eq!(out.stdout[3..8], [0, 0, 0, 0, 0]);
    // Stored by default; restored by -N, by gzip and by hilo alike.
    assert!(hilo(&["-q", "orig"], d).status.success());
    fs::rename(d.join("orig.gz"), d.join("other.gz")).unwrap();
    fs::copy(d.join("other.gz"), d.join("copy.gz")).unwrap();
    assert!(hilo(&["-q", "-dN", "other.gz"], d).status.success());
    assert_eq!(fs::read(d.join("orig")).unwrap(), b"named\n");
    assert_eq!(mtime(&d.join("orig")), 1_600_000_000);
    fs::remove_file(d.join("orig")).unwrap();
    assert!(gzip(&["-dN", "copy.gz"], d).status.success());
    assert_eq!(mtime(&d.join("orig")), 1_600_000_000);
    assert_eq!(listing(d), ["orig"]);
}

/// `-r` takes the files of a directory tree: those not compressed yet, or
/// with `-d` the compressed ones; the same files as gzip -r.
#[test]
#[ignore = "needs gzip"]
fn recursive_takes_the_files_gzip_takes() {
    let trees: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    for t in &trees {
        let d = t.path();
        fs::create_dir_all(d.join("top/sub/deeper")).unwrap();
        fs::write(d.join("top/x"), b"x\n").unwrap();
        fs::write(d.join("top/sub/y"), b"y\n").unwrap();
        fs::write(d.join("top/sub/deeper/z"), b"z\n").unwrap();
        fs::write(d.join("top/done.gz"), gzipped(b"done\n")).unwrap();
    }
    let tree = |d: &Path| -> Vec<String> {
        let mut all = Vec::new();
        let mut stack = vec![d.join("top")];
        while let Some(p) = stack.pop() {
            for e in fs::read_dir(&p).unwrap() {
                let e = e.unwrap().path();
                if e.is_dir() {
                    stack.push(e.clone());
                }
                all.push(e.strip_prefix(d).unwrap().display().to_string());
            }
        }
        all.sort();
        all
    };
    assert!(hilo(&["-q", "-r", "top"], trees[0].path()).status.success());
    assert!(gzip(&["-r", "top"], trees[1].path()).status.success());
    assert_eq!(tree(trees[0].path()), tree(trees[1].path()));
    assert!(hilo(&["-q", "-dr", "top"], trees[0].path())
        .status
        .success());
    assert!(gzip(&["-dr", "top"], trees[1].path()).status.success());
    assert_eq!(tree(trees[0].path()), tree(trees[1].path()));
    assert_eq!(
        fs::read(trees[0].path().join("top/sub/deeper/z")).unwrap(),
        b"z\n"
    );
}

/// `-r` meeting a directory it cannot read says so as gzip does
/// ("DIR: Permission denied"), compresses the rest and exits 1. Root reads
/// any directory, so as root the run drops to user `nobody` (setpriv).
#[test]
fn recursive_reports_an_unreadable_directory_and_does_the_rest() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    fs::create_dir_all(d.join("top/locked")).unwrap();
    fs::write(d.join("top/x"), b"x\n").unwrap();
    fs::write(d.join("top/locked/y"), b"y\n").unwrap();
    for (path, mode) in [
        ("", 0o777),
        ("top", 0o777),
        ("top/x", 0o666),
        ("top/locked", 0),
    ] {
        fs::set_permissions(d.join(path), fs::Permissions::from_mode(mode)).unwrap();
    }
    let as_root = fs::metadata(d).unwrap().uid() == 0;
    let mut cmd = if as_root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        c.arg(assert_cmd::cargo::cargo_bin("hilo"));
        c
    } else {
        Command::new(assert_cmd::cargo::cargo_bin("hilo"))
    };
    let out = cmd
        .args(["compress", "-q", "-r", "top"])
        .current_dir(d)
        .output()
        .unwrap();
    fs::set_permissions(d.join("top/locked"), fs::Permissions::from_mode(0o755)).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr, "hilo compress: top/locked: Permission denied\n");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(d.join("top/x.gz").exists(), "the readable file is done");
    assert!(d.join("top/locked/y").exists());
}

/// `-v` says a line per file as gzip -v does: decompressing or testing a
/// file gzip made, the very lines gzip says; compressing, the ratio gzip
/// itself finds when it decompresses the output (`gzip -dv`).
#[test]
#[ignore = "needs gzip"]
fn verbose_lines_are_gzips() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let text: Vec<u8> = (0..60_000u32)
        .flat_map(|i| format!("{i} {}\n", i % 97).into_bytes())
        .collect();
    fs::write(d.join("made.txt"), &text).unwrap();
    assert!(gzip(&["-k", "made.txt"], d).status.success());
    for args in [&["-dv"][..], &["-tv"], &["-dvc"], &["-dvk"]] {
        for (who, file) in [("gzip", "g.txt.gz"), ("hilo", "h.txt.gz")] {
            fs::copy(d.join("made.txt.gz"), d.join(file)).unwrap();
            let _ = fs::remove_file(d.join(file.trim_end_matches(".gz")));
            let out = if who == "gzip" {
                gzip(&[args, &[file]].concat(), d)
            } else {
                hilo(&[args, &[file]].concat(), d)
            };
            assert!(out.status.success(), "{who} {args:?}");
            let said = String::from_utf8(out.stderr)
                .unwrap()
                .replace(file, "F")
                .replace(file.trim_end_matches(".gz"), "T");
            if who == "gzip" {
                fs::write(d.join("want"), &said).unwrap();
            } else {
                assert_eq!(
                    said,
                    fs::read_to_string(d.join("want")).unwrap(),
                    "{args:?}"
                );
            }
        }
    }
    fs::write(d.join("mine.txt"), &text).unwrap();
    let out = hilo(&["-v", "mine.txt"], d);
    assert!(out.status.success());
    let said = String::from_utf8(out.stderr).unwrap();
    let rest = said.strip_prefix("mine.txt:\t").expect(&said);
    let (ratio, to) = rest.trim_end().split_once(" -- ").unwrap();
    assert_eq!(to, "replaced with mine.txt.gz");
    let back = gzip(&["-dv", "mine.txt.gz"], d);
    let gzip_said = String::from_utf8(back.stderr).unwrap();
    assert_eq!(
        gzip_said,
        format!("mine.txt.gz:\t{ratio} -- replaced with mine.txt\n")
    );
    assert_eq!(fs::read(d.join("mine.txt")).unwrap(), text);
}
