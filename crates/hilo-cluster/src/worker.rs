//! `hilo worker URL`: serves the `hilo` binary's tasks until Ctrl+C (or
//! SIGTERM); a second signal stops at once.

use std::time::Duration;

use hilo_redis::{ServeError, ServeOptions};
use hilo_term::Failure;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Serve the tasks of `hilo run/primes/wordcount --cluster` from a Redis server
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  hilo worker redis://queue.example:6379          # one task per core
  hilo worker -j 8 redis://user:secret@queue.example:6379
  hilo worker redis+unix:///run/redis/redis.sock

Ctrl+C: take no more tasks, finish the ones held, leave. A second Ctrl+C
stops at once (other workers take over what it held after --lease).")]
pub struct WorkerArgs {
    /// The Redis server: redis://[user:password@]host:port,
    /// rediss://… (TLS), or redis+unix:///path/to/socket
    #[arg(value_name = "URL")]
    url: String,

    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = hilo_term::parse_jobs, allow_negative_numbers = true,
          help = hilo_term::JOBS_HELP)]
    jobs: Option<hilo_term::Jobs>,

    /// Tasks to hold beyond the running ones (for many short tasks)
    #[arg(long, value_name = "N", default_value_t = 0)]
    prefetch: usize,

    /// Seconds without a renewal after which another worker takes over a
    /// task this one holds
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = hilo_term::parse_secs)]
    lease: Duration,

    /// Say nothing on stderr (no start and stop lines)
    #[arg(short, long)]
    quiet: bool,
}

pub(crate) fn run(args: &WorkerArgs) -> Result<(), Failure> {
    if args.lease < Duration::from_millis(100) {
        return Err(Failure::usage("--lease must be at least 0.1 seconds"));
    }
    let cores = hilo::default_workers();
    let slots = args.jobs.map_or(cores, |j| j.resolve(cores, cores));
    let options = ServeOptions {
        prefix: crate::PREFIX.to_owned(),
        slots,
        prefetch: args.prefetch,
        lease: args.lease,
        // A shell job is a process of its own: its task needs none.
        on_threads: vec![hilo_run::job_task_name().to_owned()],
        ..ServeOptions::default()
    };
    // First signal: stop taking tasks; second: go at once (the pool's
    // processes die with this one).
    let stop = options.stop.clone();
    let mut signals = Signals::new([SIGINT, SIGTERM])
        .map_err(|e| Failure::failed(format!("cannot handle signals: {e}")))?;
    let signals_handle = signals.handle();
    let watcher = std::thread::spawn(move || {
        for (n, _) in signals.forever().enumerate() {
            if n > 0 {
                std::process::exit(i32::from(hilo_term::EXIT_INTERRUPTED));
            }
            stop.request_stop();
        }
    });
    // Reachable? Only then say it serves.
    hilo_redis::Streams::connect(&args.url, crate::PREFIX)
        .map_err(|e| crate::unreachable(&args.url, &e))?;
    if !args.quiet {
        let at = hilo_redis::redacted(&args.url);
        eprintln!("hilo worker: serving {at}, {slots} tasks at once; Ctrl+C to stop");
    }
    let served = hilo_redis::serve(&args.url, &options);
    signals_handle.close();
    let _ = watcher.join();
    let report = served.map_err(|e| match e {
        ServeError::Broker(e) => crate::unreachable(&args.url, &e),
        ServeError::Pool(e) => Failure::failed(format!("cannot start the worker processes: {e}")),
    })?;
    if !args.quiet {
        eprintln!(
            "hilo worker: {} stopped: {} tasks done, {} results dropped (cancelled or taken over)",
            report.name, report.done, report.dropped
        );
    }
    Ok(())
}
