//! What the CPU tools (`compress`, `primes`, `wordcount`) share on the
//! command line: `-j`, the engine choice and the pool it makes. Never computes
//! anything.

use hilo::process::{Call, ProcessPool};
use hilo::{Executor, Future, SubmitError, ThreadPool};
use serde::de::DeserializeOwned;

/// The workers `-j` asks for (one per core without it): for CPU work, `0`
/// (as many as can usefully run) is one per core too.
pub(crate) fn jobs(asked: Option<hilo_term::Jobs>) -> usize {
    let cores = hilo::default_workers();
    asked.map_or(cores, |j| j.resolve(cores, cores))
}

/// Which hilo pool runs the work (`--engine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum Engine {
    /// A `ThreadPool`: cheapest, shares memory.
    #[default]
    Threads,
    /// A `ProcessPool`: each chunk in a worker process (crash isolation).
    Processes,
}

impl Engine {
    /// Its name in reports and JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Engine::Threads => "threads",
            Engine::Processes => "processes",
        }
    }
}

/// The pool `--engine` picks. The tools submit the same `#[hilo::task]`
/// calls to either (a thread calls the function, a worker process gets it
/// by name); an executor on more machines will be one more variant.
pub(crate) enum Pool {
    Threads(ThreadPool),
    Processes(ProcessPool),
}

impl Pool {
    /// A pool of `jobs` workers; threads are named `name-N`.
    pub(crate) fn new(engine: Engine, jobs: usize, name: &str) -> Result<Pool, String> {
        match engine {
            Engine::Threads => ThreadPool::builder()
                .max_workers(jobs)
                .thread_name_prefix(name)
                .build()
                .map(Pool::Threads)
                .map_err(|e| format!("cannot start the threads: {e}")),
            Engine::Processes => ProcessPool::builder()
                .max_workers(jobs)
                .build()
                .map(Pool::Processes)
                .map_err(|e| format!("cannot start the worker processes: {e}")),
        }
    }

    /// Its number of workers (`-j`).
    pub(crate) fn jobs(&self) -> usize {
        match self {
            Pool::Threads(pool) => pool.max_workers(),
            Pool::Processes(pool) => pool.max_workers(),
        }
    }
}

impl<R> Executor<Call<R>> for Pool
where
    R: DeserializeOwned + Send + 'static,
{
    type Output = R;

    fn submit(&self, call: Call<R>) -> Result<Future<R>, SubmitError> {
        match self {
            Pool::Threads(pool) => Executor::submit(pool, call),
            Pool::Processes(pool) => pool.submit(call),
        }
    }

    fn max_workers(&self) -> usize {
        self.jobs()
    }
}
