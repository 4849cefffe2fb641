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

/// Where the work runs: here (`--engine`), or on the workers of a Redis
/// server (`--cluster URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    Here(Engine),
    Cluster(String),
}

impl Place {
    pub(crate) fn of(engine: Engine, cluster: Option<&String>) -> Place {
        cluster.map_or(Place::Here(engine), |url| Place::Cluster(url.clone()))
    }

    /// Its name in reports and JSON.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Place::Here(engine) => engine.name(),
            Place::Cluster(_) => "cluster",
        }
    }
}

/// The help of `--cluster`.
pub(crate) const CLUSTER_HELP: &str =
    "Run the chunks on the workers (hilo worker URL) of this Redis \
     server: redis://[user:password@]host:port, rediss://... or redis+unix:///path";

/// The pool `--engine` picks, or the cluster. The tools submit the same
/// `#[hilo::task]` calls to each (a thread calls the function, a worker
/// process gets it by name, a cluster worker gets it through Redis).
pub(crate) enum Pool {
    Threads(ThreadPool),
    Processes(ProcessPool),
    Cluster(hilo_redis::RedisExecutor),
}

impl Pool {
    /// A pool of `jobs` workers at `place`; threads are named `name-N`. A
    /// cluster has as many as its live workers serve.
    pub(crate) fn new(place: &Place, jobs: usize, name: &str) -> Result<Pool, String> {
        let engine = match place {
            Place::Here(engine) => *engine,
            Place::Cluster(url) => return cluster(url, name),
        };
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
            Pool::Cluster(exec) => exec.max_workers(),
        }
    }
}

/// The client of the cluster at `url`. With no live worker it says so on
/// stderr (the tasks wait in the queue for one).
fn cluster(url: &str, name: &str) -> Result<Pool, String> {
    let exec = hilo_redis::RedisExecutor::connect(url).map_err(|e| e.at(url))?;
    if exec.live_workers().is_ok_and(|w| w.is_empty()) {
        eprintln!("hilo {name}: no worker is serving this Redis yet; the tasks wait for one (hilo worker URL)");
    }
    Ok(Pool::Cluster(exec))
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
            Pool::Cluster(exec) => exec.submit(call),
        }
    }

    fn max_workers(&self) -> usize {
        self.jobs()
    }
}
