//! `hilo`: run many jobs at once from the shell. Subcommands arrive with
//! later issues; for now the binary knows its name, version and help.

use clap::Parser;

/// hilo — concurrent.futures done right: run many jobs at once.
///
/// Subcommands (run, compress, primes, wordcount, fetch, mx, top, monitor,
/// bench) are being built; the library `hilo` is usable today.
#[derive(Parser, Debug)]
#[command(name = "hilo", version, about, long_about = None)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
    println!(
        "hilo {}: no subcommands yet; see --help",
        env!("CARGO_PKG_VERSION")
    );
}
