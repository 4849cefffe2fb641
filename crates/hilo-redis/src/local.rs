//! [`LocalRedis`]: a `redis-server` of this process's own, on a unix socket
//! in a temporary directory (no TCP port), stopped when dropped. What
//! `hilo cluster demo` runs on, and what the tests start.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A `redis-server` child process on a unix socket in its own temporary
/// directory. Dropping it kills it (through its child handle, which cannot
/// name a recycled pid), reaps it and removes the directory.
#[derive(Debug)]
pub struct LocalRedis {
    child: Child,
    socket: PathBuf,
    persistent: bool,
    dir: tempfile::TempDir,
}

impl LocalRedis {
    /// Starts a server that keeps nothing on disk; returns once it accepts
    /// connections.
    ///
    /// # Errors
    /// `redis-server` is not installed (the message says how to get it),
    /// or it did not start.
    pub fn start() -> Result<LocalRedis, String> {
        LocalRedis::start_with(false)
    }

    /// Starts a server that logs every write to an append-only file
    /// (fsync on each), so that a [`restart`](Self::restart) loses nothing.
    ///
    /// # Errors
    /// As [`LocalRedis::start`].
    pub fn start_persistent() -> Result<LocalRedis, String> {
        LocalRedis::start_with(true)
    }

    fn start_with(persistent: bool) -> Result<LocalRedis, String> {
        let dir = tempfile::Builder::new()
            .prefix("hilo-redis")
            .tempdir()
            .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
        let socket = dir.path().join("redis.sock");
        let child = spawn(&socket, dir.path(), persistent)?;
        Ok(LocalRedis {
            child,
            socket,
            persistent,
            dir,
        })
    }

    /// The URL clients and workers connect with (`redis+unix://…`).
    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.socket.display())
    }

    /// The directory its socket (and data) is in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Kills the server (SIGKILL) and starts it again on the same socket
    /// with the same data directory.
    ///
    /// # Errors
    /// As [`LocalRedis::start`].
    pub fn restart(&mut self) -> Result<(), String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
        self.child = spawn(&self.socket, self.dir.path(), self.persistent)?;
        Ok(())
    }
}

impl Drop for LocalRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `redis-server` on `socket`, data in `dir`, no TCP port, nothing
/// of this process's environment; returns once it says it accepts
/// connections.
fn spawn(socket: &Path, dir: &Path, persistent: bool) -> Result<Child, String> {
    let mut command = Command::new("redis-server");
    command.args(["--port", "0", "--save", ""]);
    if persistent {
        command.args(["--appendonly", "yes", "--appendfsync", "always"]);
    } else {
        command.args(["--appendonly", "no"]);
    }
    let mut child = command
        .arg("--dir")
        .arg(dir)
        .arg("--unixsocket")
        .arg(socket)
        .args(["--unixsocketperm", "700"])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                "redis-server is not installed (apt-get install redis-server)".to_owned()
            }
            _ => format!("cannot start redis-server: {e}"),
        })?;
    let mut said = String::new();
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    for line in lines.by_ref() {
        let Ok(line) = line else { break };
        if line.contains("ready to accept connections") {
            // Its log goes on: read it, so that the pipe never fills.
            std::thread::spawn(move || lines.for_each(drop));
            return Ok(child);
        }
        said.push_str(&line);
        said.push('\n');
    }
    let _ = child.kill();
    let _ = child.wait();
    let last = said.lines().last().unwrap_or("no output");
    Err(format!("redis-server ended before it was ready: {last}"))
}
