//! What the CPU tools (`compress`, `primes`, `wordcount`) share on the
//! command line: the engine choice and the progress bar. Never computes
//! anything.

use std::io::IsTerminal;

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

/// A progress bar on stderr with indicatif's `template` (`len` `None`: no
/// known end), or `None` when stderr is not a terminal (piped output stays
/// clean).
pub(crate) fn progress_bar(len: Option<u64>, template: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(len, indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    Some(bar)
}
