//! `hilo top` as a person and a script meet it: `--once --json` checked
//! against `ps` on processes the tests start (a sleeper, a stopped one, a
//! zombie and its parent), and the live view driven through tmux — drawn,
//! sorted, filtered, as a tree with the zombie under its parent, a
//! process's threads, a signal sent with `k`, and `q` giving the terminal
//! back.

use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

/// A child killed and reaped when dropped, so a failing test leaves
/// nothing behind.
struct Kid(Child);

impl Kid {
    fn spawn(cmd: &mut Command) -> Kid {
        Kid(cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap())
    }

    fn pid(&self) -> i32 {
        self.0.id() as i32
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Field `n` (from 1, after the command's parentheses) of /proc/PID/stat:
/// 1 is the state, 2 the parent.
fn stat_field(pid: i32, n: usize) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    after.split_whitespace().nth(n - 1).map(str::to_owned)
}

/// Polls until `f` gives something (30 s at most).
fn until<T>(what: &str, f: impl Fn() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "waited in vain for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A parent that never waits (`sh` that became `sleep ARG`) and its child
/// that has exited: (the parent, the zombie's pid).
fn zombie_and_parent(arg: &str) -> (Kid, i32) {
    let parent =
        Kid::spawn(Command::new("sh").args(["-c", &format!("/bin/true & exec sleep {arg}")]));
    let pid = parent.pid();
    let zombie = until("a zombie", || {
        let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
        let child: i32 = children.split_whitespace().next()?.parse().ok()?;
        // The parent is `sleep` by now (exec'd) and the child dead.
        let parent_is_sleep = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .ok()?
            .trim()
            == "sleep";
        (parent_is_sleep && stat_field(child, 1)? == "Z").then_some(child)
    });
    (parent, zombie)
}

/// A `sleep ARG` stopped by SIGSTOP (state T).
fn stopped_sleep(arg: &str) -> Kid {
    let kid = Kid::spawn(Command::new("sleep").arg(arg));
    let pid = kid.pid();
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid).unwrap(),
        rustix::process::Signal::STOP,
    )
    .unwrap();
    until("a stopped process", || {
        (stat_field(pid, 1)? == "T").then_some(())
    });
    kid
}

/// What `ps -o pid=,ppid=,stat=,nlwp=,comm=` says of `pids`: pid →
/// (ppid, first letter of the state, threads, command name).
fn ps(pids: &[i32]) -> std::collections::HashMap<i32, (i32, char, i64, String)> {
    let list: Vec<String> = pids.iter().map(i32::to_string).collect();
    let out = Command::new("ps")
        .args(["-o", "pid=,ppid=,stat=,nlwp=,comm=", "-p", &list.join(",")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let comm = f[4..].join(" ");
            let comm = comm.trim_end_matches(" <defunct>").to_owned();
            (
                f[0].parse().unwrap(),
                (
                    f[1].parse().unwrap(),
                    f[2].chars().next().unwrap(),
                    f[3].parse().unwrap(),
                    comm,
                ),
            )
        })
        .collect()
}

#[test]
#[ignore = "needs ps"]
fn once_json_agrees_with_ps_on_the_processes_the_test_started() {
    let sleeper = Kid::spawn(Command::new("sleep").arg("600.11"));
    let stopped = stopped_sleep("600.12");
    let (parent, zombie) = zombie_and_parent("600.13");
    // A shell that waits for a child 50 times a second: each wait is a
    // voluntary context switch.
    let waker = Kid::spawn(Command::new("sh").args(["-c", "while :; do sleep 0.02; done"]));
    let switches = |pid: i32| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with("voluntary_ctxt_switches:"))
            .unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let before = switches(waker.pid());
    let out = Command::new(assert_cmd::cargo::cargo_bin("hilo"))
        .args(["top", "--once", "--json", "-d", "300ms", "--sort", "pid"])
        .output()
        .unwrap();
    let after = switches(waker.pid());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours = [sleeper.pid(), stopped.pid(), parent.pid(), zombie];
    let expected = ps(&ours);
    assert_eq!(expected.len(), 4, "ps lost one: {expected:?}");
    let rows = doc["processes"].as_array().unwrap();
    for pid in ours {
        let row = rows
            .iter()
            .find(|r| r["pid"] == pid)
            .unwrap_or_else(|| panic!("{pid} missing"));
        let got = (
            row["ppid"].as_i64().unwrap() as i32,
            row["state"].as_str().unwrap().chars().next().unwrap(),
            row["threads"].as_i64().unwrap(),
            row["comm"].as_str().unwrap().to_owned(),
        );
        assert_eq!(got, expected[&pid], "pid {pid}: {row}");
    }
    let find = |pid: i32| rows.iter().find(|r| r["pid"] == pid).unwrap();
    // Switches per second: the waker's, measured over the 300 ms, cannot
    // be more than the kernel counted over the whole run of hilo top; the
    // stopped one makes none.
    let rate = find(waker.pid())["voluntary_per_s"].as_f64().unwrap();
    assert!(rate > 5.0, "waker: {rate}/s");
    assert!(
        rate * 0.3 <= (after - before) as f64 + 1.0,
        "{rate}/s, {before}..{after}"
    );
    assert_eq!(find(stopped.pid())["voluntary_per_s"], 0.0);
    assert_eq!(find(stopped.pid())["involuntary_per_s"], 0.0);
    assert_eq!(find(parent.pid())["has_zombie"], true);
    assert_eq!(find(sleeper.pid())["has_zombie"], false);
    assert_eq!(
        find(zombie)["command"],
        "[true]",
        "a zombie has no command line"
    );
    assert_eq!(find(sleeper.pid())["command"], "sleep 600.11");
    // Sorted by pid, as asked; and the header counts what the rows say.
    let pids: Vec<i64> = rows.iter().map(|r| r["pid"].as_i64().unwrap()).collect();
    assert!(pids.windows(2).all(|w| w[0] < w[1]));
    let zombies = rows.iter().filter(|r| r["state"] == "Z").count() as u64;
    assert_eq!(doc["system"]["states"]["Z"].as_u64().unwrap_or(0), zombies);
    let cpus = std::thread::available_parallelism().unwrap().get();
    let online = doc["system"]["cpus"].as_array().unwrap().len();
    assert!(online >= cpus, "{online} CPUs shown, {cpus} usable");
}

#[test]
fn once_prints_a_table_like_ps_and_bad_input_is_one_line() {
    let sleeper = Kid::spawn(Command::new("sleep").arg("600.21"));
    let out = Command::new(assert_cmd::cargo::cargo_bin("hilo"))
        .args(["top", "--once", "-d", "100ms", "--filter", "600.21"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("load "), "{text}");
    let rows: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("PID"))
        .skip(1)
        .collect();
    // The sleeper, and hilo top itself, whose command line has the
    // filter in it (as `ps | grep` finds grep).
    assert_eq!(rows.len(), 2, "{text}");
    let ours: Vec<&&str> = rows.iter().filter(|r| !r.contains("hilo")).collect();
    assert_eq!(ours.len(), 1, "{text}");
    let f: Vec<&str> = ours[0].split_whitespace().collect();
    assert_eq!(f[0], sleeper.pid().to_string());
    assert_eq!(f[1], std::process::id().to_string());
    assert_eq!(f[3], "S");
    assert_eq!(f[10..].join(" "), "sleep 600.21");
    for (args, says) in [
        (&["top", "-d", "10ms"][..], "at least 100 ms"),
        (&["top", "-d", "soon"][..], "duration"),
        (&["top", "--sort", "size"][..], "size"),
        (&["top", "--json"][..], "--once"),
        // Not a terminal: the live view cannot run.
        (&["top"][..], "needs a terminal"),
    ] {
        let out = Command::new(assert_cmd::cargo::cargo_bin("hilo"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}

/// The table's rows on a captured screen: the lines under the column
/// names, split into fields.
fn rows_on(screen: &str) -> Vec<Vec<String>> {
    screen
        .lines()
        .skip_while(|l| !(l.contains("PID") && l.contains("COMMAND")))
        .skip(1)
        .take_while(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|f| f.parse::<i32>().is_ok())
        })
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

/// `812K`, `5.10G` back to bytes (roughly).
fn bytes(size: &str) -> f64 {
    let (n, unit) = size.split_at(size.len() - 1);
    let scale = match unit {
        "B" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        _ => panic!("size {size}"),
    };
    n.parse::<f64>().unwrap() * scale
}

fn live(tag: &str, args: &str) -> common::Tmux {
    let hilo = assert_cmd::cargo::cargo_bin("hilo");
    common::Tmux::start(
        tag,
        160,
        40,
        &format!(
            "{} top -d 200ms {args}; echo EXIT $?; sleep 600",
            hilo.display()
        ),
    )
}

#[test]
#[ignore = "needs tmux"]
fn the_live_view_draws_sorts_and_gives_the_terminal_back() {
    let tmux = live("top-sort", "");
    let screen = tmux.wait_for("header and rows", |s| {
        s.contains("load ") && s.contains("cpu0") && s.contains("mem ") && rows_on(s).len() > 10
    });
    assert!(screen.contains("context switches"), "{screen}");
    assert!(screen.contains("by CPU%"), "{screen}");
    assert!(tmux.alternate_screen());
    tmux.keys(&["N"]);
    let screen = tmux.wait_for("rows by PID", |s| s.contains("by PID"));
    let pids: Vec<i32> = rows_on(&screen)
        .iter()
        .map(|r| r[0].parse().unwrap())
        .collect();
    assert!(pids.windows(2).all(|w| w[0] < w[1]), "{screen}");
    tmux.keys(&["M"]);
    let screen = tmux.wait_for("rows by memory", |s| s.contains("by RSS"));
    let rss: Vec<f64> = rows_on(&screen).iter().map(|r| bytes(&r[7])).collect();
    // Sorted on exact bytes, shown rounded to 3 figures.
    assert!(rss.windows(2).all(|w| w[0] >= w[1] * 0.99), "{screen}");
    assert!(rss[0] > rss[rss.len() - 1], "{screen}");
    tmux.keys(&["?"]);
    tmux.wait_for("help", |s| s.contains("help (any key closes)"));
    tmux.keys(&["x"]);
    tmux.wait_for("help closed", |s| !s.contains("help (any key closes)"));
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("exit", |s| s.contains("EXIT 0"));
    assert!(!screen.contains("COMMAND"), "the view stayed: {screen}");
    assert!(!tmux.alternate_screen(), "still in the alternate screen");
}

#[test]
#[ignore = "needs tmux"]
fn a_sleeper_shows_its_parent_a_zombie_sits_under_its_own_and_k_stops_it() {
    let mut sleeper = Kid::spawn(Command::new("sleep").arg("600.31"));
    let (parent, zombie) = zombie_and_parent("600.32");
    let me = std::process::id().to_string();
    let tmux = live("top-tree", "");
    tmux.wait_for("rows", |s| rows_on(s).len() > 5);
    // The tree, filtered to the test's two sleepers (the zombie has no
    // command line: it comes with its parent's subtree).
    tmux.keys(&["t", "/"]);
    tmux.text("600.3");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the filtered tree", |s| {
        s.contains("tree") && rows_on(s).len() == 3
    });
    let rows = rows_on(&screen);
    let row = |pid: i32| {
        rows.iter()
            .position(|r| r[0] == pid.to_string())
            .unwrap_or_else(|| panic!("{pid} not shown:\n{screen}"))
    };
    let (s, p, z) = (row(sleeper.pid()), row(parent.pid()), row(zombie));
    assert_eq!(rows[s][1], me, "the sleeper's parent is this test");
    assert_eq!(rows[s][3], "S");
    assert_eq!(rows[p][1], me);
    assert_eq!(z, p + 1, "the zombie right under its parent:\n{screen}");
    assert_eq!(rows[z][1], parent.pid().to_string());
    assert_eq!(rows[z][3], "Z");
    assert_eq!(rows[z][10..].join(" "), "└─ [true]");
    // Red for the zombie, yellow for the parent that has not waited.
    let coloured = tmux.pane_with_colours();
    let line_of = |pid: i32| {
        coloured
            .lines()
            .find(|l| l.contains(&format!(" {pid} ")) || l.contains(&format!("m{pid} ")))
            .unwrap_or_else(|| panic!("{pid} not in {coloured}"))
            .to_owned()
    };
    // (tmux writes colour n of the 256 as 38;5;n.)
    let red = |l: &str| l.contains("[31m") || l.contains("[38;5;1m");
    let yellow = |l: &str| l.contains("[33m") || l.contains("[38;5;3m");
    assert!(red(&line_of(zombie)), "{}", line_of(zombie));
    assert!(yellow(&line_of(parent.pid())), "{}", line_of(parent.pid()));
    assert!(!red(&line_of(sleeper.pid())) && !yellow(&line_of(sleeper.pid())));
    // Only the sleeper now; its threads; then SIGTERM through `k`.
    tmux.keys(&["/"]);
    for _ in 0..5 {
        tmux.keys(&["BSpace"]);
    }
    tmux.text(&sleeper.pid().to_string());
    tmux.keys(&["Enter"]);
    tmux.wait_for("the sleeper alone", |s| rows_on(s).len() == 1);
    tmux.keys(&["Enter"]);
    tmux.wait_for("its threads", |s| {
        s.contains(&format!("1 threads of {}", sleeper.pid()))
            && s.lines().any(|l| {
                l.trim_start().starts_with(&sleeper.pid().to_string()) && l.contains("sleep")
            })
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("the processes again", |s| s.contains("processes, by"));
    tmux.keys(&["k"]);
    tmux.wait_for("which signal", |s| {
        s.contains("signal (name or number): TERM")
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for("the question", |s| {
        s.contains(&format!("send SIGTERM to {} (sleep)? y/n", sleeper.pid()))
    });
    tmux.keys(&["y"]);
    let status = sleeper.0.wait().unwrap();
    assert_eq!(status.signal(), Some(15));
    tmux.wait_for("the outcome", |s| {
        s.contains(&format!("sent SIGTERM to {}", sleeper.pid()))
    });
}

#[test]
#[ignore = "needs tmux"]
fn a_signal_or_a_closed_terminal_ends_the_live_view() {
    // SIGTERM, or SIGINT sent from elsewhere (Ctrl+C on its terminal is a
    // key): the terminal is given back, and the shell goes on.
    for signal in [rustix::process::Signal::TERM, rustix::process::Signal::INT] {
        let tmux = live("top-term", "");
        tmux.wait_for("rows", |s| rows_on(s).len() > 5);
        let hilo = until("hilo top's pid", || {
            let children =
                std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", tmux.pane_pid()))
                    .ok()?;
            children.split_whitespace().next()?.parse::<i32>().ok()
        });
        rustix::process::kill_process(rustix::process::Pid::from_raw(hilo).unwrap(), signal)
            .unwrap();
        let screen = tmux.wait_for("exit", |s| s.contains("EXIT 0"));
        assert!(!screen.contains("COMMAND"), "{signal:?}: {screen}");
        assert!(!tmux.alternate_screen(), "{signal:?}");
    }
    // The terminal closed under it (its tmux session killed): it ends
    // instead of spinning on a dead terminal.
    let hilo_bin = assert_cmd::cargo::cargo_bin("hilo");
    let tmux = common::Tmux::start(
        "top-hup",
        120,
        30,
        &format!("exec {} top -d 200ms", hilo_bin.display()),
    );
    tmux.wait_for("rows", |s| rows_on(s).len() > 5);
    let pid = tmux.pane_pid();
    drop(tmux);
    until("hilo top to end", || match stat_field(pid, 1).as_deref() {
        None | Some("Z") => Some(()),
        Some(_) => None,
    });
}
