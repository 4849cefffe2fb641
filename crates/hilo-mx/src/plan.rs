//! The command line, checked once and turned into a [`Plan`]: where the
//! addresses come from, how many at once, how long to wait, whom to ask,
//! how to print. Computes nothing else.

use std::path::PathBuf;
use std::time::Duration;

use crate::resolver::Servers;
use crate::Args;

/// The default `-j`: the lesson's 20 threads.
pub(crate) const DEFAULT_JOBS: usize = 20;

/// What one run does.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) input: Input,
    pub(crate) jobs: usize,
    pub(crate) timeout: Duration,
    pub(crate) servers: Servers,
    pub(crate) json: bool,
}

/// Where the addresses come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Input {
    Stdin,
    File(PathBuf),
}

impl Plan {
    pub(crate) fn of(args: Args) -> Plan {
        // `0` (as many as useful) is the default too: for waiting on the
        // network, the lesson's 20, not the cores.
        let cores = hilo::default_workers();
        let jobs = args
            .jobs
            .map_or(DEFAULT_JOBS, |j| j.resolve(cores, DEFAULT_JOBS));
        let input = match args.input.to_str() {
            Some("-") => Input::Stdin,
            _ => Input::File(args.input),
        };
        Plan {
            input,
            jobs,
            timeout: args.timeout,
            servers: args.nameserver.unwrap_or(Servers::System),
            json: args.json,
        }
    }
}
