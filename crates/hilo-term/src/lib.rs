//! What `hilo`'s command-line tools share at the terminal: how progress
//! reaches a person (on stderr, and only when stderr is a terminal, so piped
//! and redirected output stays clean) and the exit status of a usage error.
//! Never computes anything and never decides what a tool prints.

use std::io::IsTerminal;

/// The exit status of a usage error (a bad option or value), as clap's own:
/// every subcommand but `hilo run`, which follows GNU parallel (255).
pub const EXIT_USAGE: u8 = 2;

pub use indicatif::ProgressBar;

/// A progress bar on stderr in indicatif's `template` (`len` `None`: no
/// known end), or `None` when stderr is not a terminal.
///
/// ```
/// // Under `cargo test` stderr is captured, not a terminal: no bar.
/// # if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
/// assert!(hilo_term::progress_bar(Some(10), "{bar} {pos}/{len}").is_none());
/// # }
/// ```
pub fn progress_bar(len: Option<u64>, template: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(len, indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    Some(bar)
}
