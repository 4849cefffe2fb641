//! What happened to each file of a run: done (with its sizes), left
//! alone (an error, gzip's warning or a notice), and the exit status gzip
//! gives for that; with `-v`, each file's line as gzip says it.

use serde::{Deserialize, Serialize};

use super::{Mode, Opts};

/// Why a file was left alone: an error (exit status 1), what gzip calls a
/// warning (2: a file it leaves alone unless told `-f`), or a notice (no
/// change to the status: a file already compressed, by its name).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) enum Skip {
    Error(String),
    Warning(String),
    Notice(String),
}

impl From<String> for Skip {
    fn from(error: String) -> Skip {
        Skip::Error(error)
    }
}

impl From<&str> for Skip {
    fn from(error: &str) -> Skip {
        Skip::Error(error.to_owned())
    }
}

/// What the summary knows of one finished file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Sizes {
    pub(super) original: u64,
    pub(super) compressed: u64,
    /// Decompressed, but bytes after the last member were ignored.
    pub(super) trailing_garbage: bool,
    /// Bytes of the (first) member's header and trailer.
    pub(super) framing: u64,
    /// The input was stdin.
    pub(super) stdin: bool,
    /// Where the data went: a file's name, or `None` for stdout (or a
    /// test, which writes nothing).
    pub(super) output: Option<String>,
}

#[derive(Debug, Default)]
pub(super) struct Outcome {
    /// `-v`: each file's line is said as it is done, for this mode.
    pub(super) verbose: Option<Mode>,
    /// `-k` (what `-v` says: "created" instead of "replaced with").
    pub(super) keep: bool,
    pub(super) done: Vec<(String, Sizes)>,
    pub(super) errors: Vec<(String, String)>,
    /// Files done, with something to say (gzip's warnings).
    pub(super) warnings: usize,
    pub(super) interrupted: bool,
}

impl Outcome {
    pub(super) fn new(opts: &Opts) -> Outcome {
        Outcome {
            verbose: opts.verbose.then_some(opts.mode),
            keep: opts.keep,
            ..Outcome::default()
        }
    }

    pub(super) fn fail(&mut self, name: &str, error: &str) {
        eprintln!("hilo compress: {name}: {error}");
        self.errors.push((name.to_string(), error.to_string()));
    }

    /// A file left alone: an error, or gzip's warning.
    pub(super) fn skip(&mut self, name: &str, why: Skip) {
        match why {
            Skip::Error(e) => self.fail(name, &e),
            Skip::Warning(w) => {
                eprintln!("hilo compress: {name}: {w}");
                self.warnings += 1;
            }
            Skip::Notice(n) => eprintln!("hilo compress: {name}: {n}"),
        }
    }

    /// A file done, with gzip's warnings if any, and its line with `-v`.
    pub(super) fn finish(&mut self, name: String, sizes: Sizes) {
        if sizes.trailing_garbage {
            eprintln!("hilo compress: {name}: decompression OK, trailing garbage ignored");
            self.warnings += 1;
        }
        if let Some(mode) = self.verbose {
            eprintln!("{}", verbose_line(&name, &sizes, mode, self.keep));
        }
        self.done.push((name, sizes));
    }

    /// gzip's exit status: 1 if a file failed, else 2 after a warning.
    pub(super) fn status(&self) -> u8 {
        if self.interrupted {
            hilo_term::EXIT_INTERRUPTED
        } else if !self.errors.is_empty() {
            hilo_term::EXIT_FAILED
        } else if self.warnings > 0 {
            hilo_term::EXIT_USAGE
        } else {
            0
        }
    }
}

/// A file's line as `gzip -v` writes it: `NAME:\t 53.0% -- replaced with
/// NAME.gz` (or `created` with `-k`, `stdout` with `-c`), ` OK` for `-t`.
/// The ratio is gzip's: the deflate data's saving, header and trailer
/// left out.
fn verbose_line(name: &str, sizes: &Sizes, mode: Mode, keep: bool) -> String {
    // Stdin has no name to say.
    let name = if sizes.stdin {
        String::new()
    } else {
        format!("{name}:\t")
    };
    if mode == Mode::Test {
        return format!("{name} OK");
    }
    // Compressing or decompressing, the same: the saving over the
    // uncompressed size, of the deflate data alone.
    let original = sizes.original as f64;
    let data = sizes.compressed as f64 - sizes.framing as f64;
    let said = if original == 0.0 {
        0.0
    } else {
        100.0 * (original - data) / original
    };
    if sizes.stdin {
        return format!("{said:5.1}%");
    }
    let verb = match &sizes.output {
        Some(_) if keep => "created",
        _ => "replaced with",
    };
    let to = sizes.output.as_deref().unwrap_or("stdout");
    format!("{name}{said:5.1}% -- {verb} {to}")
}
