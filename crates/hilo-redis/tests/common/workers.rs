//! Worker processes for the executor tests: this test binary started again
//! with `--helper worker URL SLOTS LEASE_MS [PREFETCH]`. Each serves until its stdin
//! closes, then prints its report (`name done dropped`) and exits.
#![allow(dead_code)]

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rustix::process::{kill_process, Pid, Signal};

/// The helper's side: serve, stop on stdin's end, print the report.
pub(crate) fn serve_until_stdin_closes(args: &[String]) {
    let (url, slots, lease_ms, prefetch) = match args {
        [url, slots, lease_ms] => (url, slots, lease_ms, "0"),
        [url, slots, lease_ms, prefetch] => (url, slots, lease_ms, prefetch.as_str()),
        _ => panic!("worker URL SLOTS LEASE_MS [PREFETCH], not {args:?}"),
    };
    let options = hilo_redis::ServeOptions {
        prefix: "test".into(),
        slots: slots.parse().unwrap(),
        prefetch: prefetch.parse().unwrap(),
        lease: Duration::from_millis(lease_ms.parse().unwrap()),
        ..Default::default()
    };
    let stop = options.stop.clone();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        stop.request_stop();
    });
    let report = hilo_redis::serve(url, &options).unwrap();
    println!("{} {} {}", report.name, report.done, report.dropped);
}

/// A worker process started by a test; killed when dropped.
pub(crate) struct WorkerProcess {
    child: Child,
}

impl WorkerProcess {
    pub(crate) fn start(url: &str, slots: usize, lease: Duration) -> WorkerProcess {
        WorkerProcess::start_prefetching(url, slots, 0, lease)
    }

    /// A worker that holds `prefetch` tasks beyond its running ones.
    pub(crate) fn start_prefetching(
        url: &str,
        slots: usize,
        prefetch: usize,
        lease: Duration,
    ) -> WorkerProcess {
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--helper", "worker", url, &slots.to_string()])
            .arg(lease.as_millis().to_string())
            .arg(prefetch.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        WorkerProcess { child }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal`. The child is not reaped before `self` drops, so its
    /// pid cannot have been recycled.
    pub(crate) fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(self.child.id() as i32).unwrap();
        kill_process(pid, signal).unwrap();
    }

    /// Closes its stdin, waits for it to finish what it holds and leave:
    /// `(done, dropped)` from its report.
    pub(crate) fn stop(mut self) -> (u64, u64) {
        drop(self.child.stdin.take());
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "worker: {status}; said {out:?}");
        let fields: Vec<u64> = out
            .split_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap())
            .collect();
        (fields[0], fields[1])
    }

    /// SIGKILL, then reaped.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
