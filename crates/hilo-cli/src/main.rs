//! `hilo`: run many jobs at once from the shell. Each subcommand is a thin
//! layer over the `hilo` library; this file only parses the command line
//! and hands over.

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// hilo — concurrent.futures done right: run many jobs at once.
#[derive(Parser, Debug)]
#[command(name = "hilo", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    Run(hilo_run::RunArgs),
    /// Compress or decompress files in parallel, gzip-compatible (like pigz)
    Compress(hilo_tools::compress::Args),
    /// Count or list the primes in a range (segmented sieve)
    Primes(hilo_tools::primes::Args),
    /// Count words in files or stdin (MapReduce), most frequent first
    Wordcount(hilo_tools::wordcount::Args),
    /// Measure the lessons' claims about threads and processes on this machine
    Bench(hilo_lab::Args),
    Fetch(hilo_fetch::Args),
    /// Check e-mail addresses' domains for mail servers (MX), many at once
    Mx(hilo_mx::Args),
    Top(hilo_top::Args),
    /// Sample CPU, memory and disk on three workers and report averages (the lesson's exercise 4)
    Monitor(hilo_monitor::Args),
    /// Serve the tasks of --cluster from a Redis server (one per machine)
    Worker(hilo_cluster::WorkerArgs),
    /// Look at a cluster (status), or try one on this machine (demo)
    #[command(subcommand)]
    Cluster(hilo_cluster::ClusterCommand),
}

fn main() -> ExitCode {
    // With `--engine processes` (and in `hilo worker`), workers are this
    // program started again:
    // this line turns such a copy into a worker (it never returns then).
    hilo::init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // A usage error is 2 in every subcommand (clap's); help and
            // --version exit 0.
            if !e.use_stderr() {
                e.exit(); // --help, --version
            }
            // One line: clap's first, which names the problem, with the
            // indented lines right under it (the missing arguments' names).
            let rendered = e.render().to_string();
            let mut lines = rendered.lines();
            let first = lines.next().unwrap_or("error: bad usage");
            // The tools' own style: `hilo SUB: what is wrong`.
            let mut first = first.strip_prefix("error: ").unwrap_or(first).to_owned();
            for more in lines.take_while(|l| l.starts_with("  ")) {
                first.push(' ');
                first.push_str(more.trim());
            }
            let sub = std::env::args().nth(1).filter(|a| {
                Cli::command()
                    .get_subcommands()
                    .any(|c| c.get_name() == a.as_str())
            });
            match &sub {
                Some(s) => eprintln!("hilo {s}: {first} (see hilo {s} --help)"),
                None => eprintln!("hilo: {first} (see hilo --help)"),
            }
            return ExitCode::from(hilo_term::EXIT_USAGE);
        }
    };
    match cli.command {
        Some(Command::Run(args)) => ExitCode::from(hilo_run::main(args)),
        Some(Command::Compress(args)) => ExitCode::from(hilo_tools::compress::main(args)),
        Some(Command::Primes(args)) => ExitCode::from(hilo_tools::primes::main(args)),
        Some(Command::Wordcount(args)) => ExitCode::from(hilo_tools::wordcount::main(args)),
        Some(Command::Bench(args)) => ExitCode::from(hilo_lab::main(args)),
        Some(Command::Fetch(args)) => ExitCode::from(hilo_fetch::main(args)),
        Some(Command::Mx(args)) => ExitCode::from(hilo_mx::main(args)),
        Some(Command::Top(args)) => ExitCode::from(hilo_top::main(args)),
        Some(Command::Monitor(args)) => ExitCode::from(hilo_monitor::main(args)),
        Some(Command::Worker(args)) => ExitCode::from(hilo_cluster::worker_main(args)),
        Some(Command::Cluster(command)) => ExitCode::from(hilo_cluster::cluster_main(command)),
        None => {
            // No subcommand is a usage error: say what there is.
            let help = Cli::command().render_help();
            eprint!("{help}");
            ExitCode::from(hilo_term::EXIT_USAGE)
        }
    }
}
