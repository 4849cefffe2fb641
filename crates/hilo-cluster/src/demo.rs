//! `hilo cluster demo`: for a first look, on one machine: a `redis-server`
//! on a unix socket in a temporary directory, two `hilo worker`s, and
//! `hilo primes --cluster` across them; then who did what, and everything
//! stopped and removed.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hilo_term::Failure;

/// Run a prime count on two local workers through a local Redis
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Count the primes up to this number
    #[arg(value_name = "END", default_value = "1e10")]
    end: String,

    /// Tasks each worker runs at once
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 1)]
    jobs: usize,
}

/// A child process stopped (killed through its handle, then reaped) when
/// dropped, so that nothing outlives the demo.
struct Owned(Child);

impl Drop for Owned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    if args.jobs == 0 {
        return Err(Failure::usage("-j must be at least 1"));
    }
    let redis = hilo_redis::LocalRedis::start().map_err(Failure::failed)?;
    let url = redis.url();
    println!("redis-server: listening on {url} (no TCP port)");
    let hilo = std::env::current_exe()
        .map_err(|e| Failure::failed(format!("cannot find the hilo program: {e}")))?;
    let jobs = args.jobs.to_string();
    let workers: Vec<Owned> = (0..2)
        .map(|_| {
            Command::new(&hilo)
                .args(["worker", "-j", &jobs, "--lease", "5", &url])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map(Owned)
                .map_err(|e| Failure::failed(format!("cannot start a worker: {e}")))
        })
        .collect::<Result<_, _>>()?;
    for w in &workers {
        println!("worker: pid {}, {} at once", w.0.id(), args.jobs);
    }
    wait_for_workers(&url, workers.len())?;
    println!("client: hilo primes --cluster {url} {}", args.end);
    let began = Instant::now();
    let count = Command::new(&hilo)
        .args(["primes", "--cluster", &url, &args.end])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Failure::failed(format!("cannot run hilo primes: {e}")))?;
    if !count.status.success() {
        return Err(Failure::failed("the prime count failed (see above)"));
    }
    println!(
        "primes up to {}: {} ({:.2} s)",
        args.end,
        String::from_utf8_lossy(&count.stdout).trim(),
        began.elapsed().as_secs_f64()
    );
    println!("who did what:");
    for mut worker in workers {
        let pid = worker.0.id();
        // SIGTERM: it finishes, leaves, reports. The child is not reaped
        // yet, so its pid cannot name another process.
        if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let mut said = String::new();
        if let Some(mut err) = worker.0.stderr.take() {
            let _ = err.read_to_string(&mut said);
        }
        let _ = worker.0.wait();
        let report = said
            .lines()
            .find(|l| l.contains(" stopped: "))
            .and_then(|l| l.strip_prefix("hilo worker: "))
            .unwrap_or("no report");
        println!("  pid {pid}: {report}");
    }
    let dir = redis.dir().to_owned();
    drop(redis);
    println!(
        "stopped the workers and redis-server; removed {}",
        dir.display()
    );
    Ok(())
}

/// Waits until `n` workers have said they are alive.
fn wait_for_workers(url: &str, n: usize) -> Result<(), Failure> {
    let mut broker = hilo_redis::Streams::connect(url, crate::PREFIX)
        .map_err(|e| crate::unreachable(url, &e))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while hilo_redis::Presence::live_workers(&mut broker)
        .map_err(|e| crate::unreachable(url, &e))?
        .len()
        < n
    {
        if Instant::now() > deadline {
            return Err(Failure::failed("the workers did not start"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}
