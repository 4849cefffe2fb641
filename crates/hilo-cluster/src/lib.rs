//! hilo on many machines, at the shell: `hilo worker URL` serves the
//! tasks built into the `hilo` binary (shell jobs, prime chunks, word-count
//! chunks) from a Redis server; `hilo cluster status URL` shows the workers
//! and the queues; `hilo cluster demo` runs a prime count over two local
//! workers for a first look. The tools' `--cluster URL` sends their work
//! to the workers.

mod demo;
mod status;
mod worker;

pub use demo::Args as DemoArgs;
pub use status::Args as StatusArgs;
pub use worker::WorkerArgs;

/// The key prefix the `hilo` binary's clients and workers share.
pub(crate) const PREFIX: &str = hilo_redis::DEFAULT_PREFIX;

/// `hilo cluster`'s subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum ClusterCommand {
    /// The live workers, the queues per priority, tasks in flight and done per second
    Status(StatusArgs),
    /// Start a local redis-server and two workers, count primes on them, show who did what
    Demo(DemoArgs),
}

/// `hilo cluster …`; returns the exit status.
pub fn cluster_main(command: ClusterCommand) -> u8 {
    match command {
        ClusterCommand::Status(args) => {
            hilo_term::exit_status("cluster status", status::run(&args))
        }
        ClusterCommand::Demo(args) => hilo_term::exit_status("cluster demo", demo::run(&args)),
    }
}

/// `hilo worker …`; returns the exit status.
pub fn worker_main(args: WorkerArgs) -> u8 {
    hilo_term::exit_status("worker", worker::run(&args))
}

/// A broker error as one line, naming the server without its password.
pub(crate) fn unreachable(url: &str, e: &hilo_redis::BrokerError) -> hilo_term::Failure {
    hilo_term::Failure::failed(e.at(url))
}
