//! Where a job's arguments come from: lines of stdin, `:::` lists, `::::`
//! files and `-a` files, split by `-0` and `--colsep`, combined in GNU
//! parallel's order. Owns reading and splitting; never runs anything.
//!
//! STUB: the interface is final, the implementation is a placeholder
//! (one source, lines only) until the real one lands.
#![allow(dead_code)] // STUB: the real module uses every field

use std::io::BufRead;
use std::path::PathBuf;

/// One input source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// `::: a b c`: the values given on the command line.
    Args(Vec<String>),
    /// `:::: FILE` or `-a FILE`: one value per line (`-` is stdin).
    File(PathBuf),
    /// No source given: one value per line of stdin.
    Stdin,
}

/// How values are read and split.
#[derive(Debug, Clone, Default)]
pub(crate) struct InputOptions {
    /// `-0`: values end with NUL, not newline.
    pub(crate) null: bool,
    /// `--colsep REGEX`: split each value into columns `{1}`, `{2}`, ….
    pub(crate) colsep: Option<String>,
}

/// Why the input could not be read. One line, naming the file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InputError {
    /// A file could not be opened or read.
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
}

/// The values of one job, `{1}` … `{n}` (one per source, or per column).
pub(crate) type Args = Vec<String>;

/// A lazy stream of jobs' arguments, in GNU parallel's order.
pub(crate) struct Inputs {
    lines: Box<dyn Iterator<Item = Result<Args, InputError>> + Send>,
}

impl Iterator for Inputs {
    type Item = Result<Args, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.lines.next()
    }
}

impl Inputs {
    /// A stream over values already read (used when all jobs must be
    /// counted before the first starts).
    pub(crate) fn from_vec(all: Vec<Result<Args, InputError>>) -> Inputs {
        Inputs {
            lines: Box::new(all.into_iter()),
        }
    }
}

/// Opens every source (an unreadable file is an error here, before any
/// job runs) and returns the stream of arguments.
pub(crate) fn open(sources: Vec<Source>, _opts: &InputOptions) -> Result<Inputs, InputError> {
    match sources.into_iter().next() {
        Some(Source::Args(values)) => Ok(Inputs {
            lines: Box::new(values.into_iter().map(|v| Ok(vec![v]))),
        }),
        _ => {
            let stdin = std::io::stdin().lock();
            let lines: Vec<_> = stdin
                .lines()
                .map(|l| {
                    l.map(|l| vec![l]).map_err(|e| InputError::Read {
                        path: "stdin".into(),
                        reason: e.to_string(),
                    })
                })
                .collect();
            Ok(Inputs {
                lines: Box::new(lines.into_iter()),
            })
        }
    }
}
