//! The examples' command lines: clap, with a bad argument said in one line
//! (`NAME: what is wrong (see --help)`, exit status 2), as hilo's tools do.

use std::process::ExitCode;

/// This program's options, or the exit status to return at once.
pub(crate) fn parse<A: clap::Parser>(name: &str) -> Result<A, ExitCode> {
    A::try_parse().map_err(|e| {
        if !e.use_stderr() {
            e.exit(); // --help: printed on stdout, status 0
        }
        let text = e.render().to_string();
        let first = text.lines().next().unwrap_or("bad arguments");
        eprintln!(
            "{name}: {} (see --help)",
            first.trim_start_matches("error: ")
        );
        ExitCode::from(2)
    })
}
