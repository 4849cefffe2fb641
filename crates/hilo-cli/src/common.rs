//! What the CPU tools (`compress`, `primes`, `wordcount`) share on the
//! command line: the engine choice. Never computes anything.

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
