//! What the tests share: running a `hilo bench` experiment for its JSON,
//! and listing a directory.
#![allow(dead_code)] // each test file uses what it needs

use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

/// Runs `hilo bench ARGS --json` (killed after 120 s), asserts it
/// succeeded (showing its stderr if not), and returns the JSON document
/// and how long the command took.
pub(crate) fn bench_json(args: &[&str]) -> (Value, Duration) {
    let started = Instant::now();
    let out = Command::cargo_bin("hilo")
        .unwrap()
        .arg("bench")
        .args(args)
        .arg("--json")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (serde_json::from_slice(&out.stdout).unwrap(), took)
}

/// `v` as a number, or a failure naming it.
pub(crate) fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Everything in `dir`, hidden files included, sorted.
pub(crate) fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A detached tmux session running one shell command in a pane of a given
/// size, on a tmux server of its own whose socket is in a temporary
/// directory (`-S`): tests that start at once do not race to start one
/// shared server, a person's tmux is left alone, and nothing is left in
/// /tmp. Dropped, it kills the server: how the tests look at what a person
/// would see on a terminal.
pub(crate) struct Tmux {
    dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts `command` (run by tmux through the shell) in a new session
    /// on a server of its own; `tag` names its directory.
    pub(crate) fn start(tag: &str, width: u16, height: u16, command: &str) -> Tmux {
        let tmux = Tmux {
            dir: tempfile::Builder::new()
                .prefix(&format!("hilo-{tag}-"))
                .tempdir()
                .unwrap(),
        };
        let (w, h) = (width.to_string(), height.to_string());
        let out = tmux
            .command()
            .args(["new-session", "-d", "-s", "test", "-x", &w, "-y", &h])
            .arg(command)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tmux did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    /// `tmux -S SOCKET`, to add a command to.
    fn command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new("tmux");
        cmd.arg("-S").arg(self.dir.path().join("socket"));
        cmd
    }

    /// The pane's text now.
    pub(crate) fn pane(&self) -> String {
        self.capture(false)
    }

    /// The pane's text with its colours as escape sequences (`-e`).
    pub(crate) fn pane_with_colours(&self) -> String {
        self.capture(true)
    }

    fn capture(&self, colours: bool) -> String {
        let mut cmd = self.command();
        cmd.args(["capture-pane", "-p", "-t", "test"]);
        if colours {
            cmd.arg("-e");
        }
        String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned()
    }

    /// Types `keys` (tmux key names: "q", "Enter", "Escape", or text).
    pub(crate) fn keys(&self, keys: &[&str]) {
        let sent = self
            .command()
            .args(["send-keys", "-t", "test"])
            .args(keys)
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Types `text` literally (no key names).
    pub(crate) fn text(&self, text: &str) {
        let sent = self
            .command()
            .args(["send-keys", "-l", "-t", "test", text])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// The pane once `done` holds for it; fails naming `what` (and
    /// showing the pane) after 30 s.
    pub(crate) fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.pane();
            if done(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} on the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The pid of the pane's first process (the command, when it was
    /// started with `exec`).
    pub(crate) fn pane_pid(&self) -> i32 {
        let out = self
            .command()
            .args(["list-panes", "-t", "test", "-F", "#{pane_pid}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    }

    /// Whether the pane is in the alternate screen (a full-screen program
    /// has it; a program that left cleanly gave it back).
    pub(crate) fn alternate_screen(&self) -> bool {
        let out = self
            .command()
            .args(["display-message", "-p", "-t", "test", "#{alternate_on}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // The server ends with its only session.
        let _ = self.command().args(["kill-server"]).status();
    }
}
