//! A real `redis-server` for the tests: on a unix socket in a temporary
//! directory, no disk writes (unless started persistent, to be
//! restarted), stopped (through its child handle, which cannot point at a
//! recycled pid) when dropped.

pub(crate) mod workers;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub(crate) struct RedisServer {
    child: Child,
    socket: PathBuf,
    /// Keeps its data (append-only file, fsync on every write) so that a
    /// restart loses nothing.
    persistent: bool,
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts a server and returns once it says it accepts connections.
    pub(crate) fn start() -> RedisServer {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("redis.sock");
        let child = spawn(&socket, dir.path(), false);
        RedisServer {
            child,
            socket,
            persistent: false,
            dir,
        }
    }

    /// A server with `appendonly yes` and `appendfsync always`.
    #[allow(dead_code)]
    pub(crate) fn start_persistent() -> RedisServer {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("redis.sock");
        let child = spawn(&socket, dir.path(), true);
        RedisServer {
            child,
            socket,
            persistent: true,
            dir,
        }
    }

    /// Kills the server (SIGKILL, through its child handle) and starts it
    /// again on the same socket, with the same data directory.
    #[allow(dead_code)]
    pub(crate) fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
        self.child = spawn(&self.socket, self.dir.path(), self.persistent);
    }

    /// The URL clients connect with.
    pub(crate) fn url(&self) -> String {
        format!("redis+unix://{}", self.socket.display())
    }

    /// A plain connection, to look at the server's state directly.
    pub(crate) fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .unwrap()
            .get_connection()
            .unwrap()
    }
}

/// Starts redis-server on `socket`, data in `dir`; returns once it says it
/// accepts connections.
fn spawn(socket: &std::path::Path, dir: &std::path::Path, persistent: bool) -> Child {
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
        .expect("redis-server runs (apt-get install redis-server)");
    let mut said = String::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        said.push_str(&line);
        said.push('\n');
        if line.contains("ready to accept connections") {
            // Its log goes on: read it, so that the pipe never fills.
            std::thread::spawn(move || lines.for_each(drop));
            return child;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("redis-server ended before it was ready:\n{said}");
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `(name, function)` for [`run_needing_redis`].
#[allow(unused_macros)]
macro_rules! test {
    ($test:ident) => {
        (stringify!($test), $test as fn())
    };
}

/// The runner of a `harness = false` test binary whose tests all need a
/// redis-server: each is ignored unless asked for, as
/// `#[ignore = "needs redis-server"]` would make it (so `.ci/run` installs
/// it and runs them with `--ignored`). Takes libtest's options.
#[allow(dead_code)]
pub(crate) fn run_needing_redis(tests: &[(&'static str, fn())]) {
    let args = libtest_mimic::Arguments::from_args();
    let trials = tests
        .iter()
        .map(|&(name, test)| {
            libtest_mimic::Trial::test(name, move || {
                test();
                Ok(())
            })
            .with_ignored_flag(true)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
