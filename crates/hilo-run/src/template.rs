//! The command template: the user's command words with replacement strings
//! (`{}`, `{.}`, `{/}`, `{//}`, `{/.}`, `{#}`, `{%}`, `{n}`…), rendered into
//! the argv of one job. Owns quoting: an input value is never interpreted
//! by a shell. Never runs anything.
//!
//! GNU parallel joins the command words with spaces and hands the line to
//! a shell. `hilo run` does the same only when the words need a shell
//! (shell syntax in them, or `--shell`), and then single-quotes every
//! value it substitutes. Otherwise it runs the words directly, each value
//! going into exactly the argument it was written in: what a shell would
//! have made of those plain words anyway, without starting one.
//!
//! Values are bytes, not text: a file name in Latin-1 is a file name too,
//! and GNU parallel passes it through untouched. The edits only look for
//! `.` and `/`, which are single bytes in UTF-8 and every ASCII superset.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// What a job's command is rendered from, besides the template.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JobContext<'a> {
    /// The job's values, `{1}` … `{n}`.
    pub(crate) args: &'a [OsString],
    /// The job's sequence number, `{#}` (from 1).
    pub(crate) seq: u64,
    /// The job slot it runs in, `{%}` (from 1).
    pub(crate) slot: usize,
}

/// Why a command template is unusable.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TemplateError {
    /// No command words.
    #[error("no command given")]
    Empty,
}

/// A parsed command template.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    words: Vec<Word>,
    /// Some word holds a replacement string; if none does, the values are
    /// appended as arguments.
    replaces: bool,
    shell: bool,
    /// No command was given: each job's values, joined with spaces, are
    /// its shell command line, as written (`hilo run < commands.txt`).
    values_are_commands: bool,
}

/// One command word: literal text and replacement strings, in order.
type Word = Vec<Piece>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Value(Which, Edit),
    /// `{#}`
    Seq,
    /// `{%}`
    Slot,
}

/// Which values a replacement string takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    /// `{}`: all of them, each edited: one argument each (in shell mode,
    /// each quoted on its own, joined with spaces).
    All,
    /// `{n}` (from 1); beyond the last value it is empty.
    Nth(usize),
    /// `{-n}`: the n-th from the end (from 1).
    NthLast(usize),
}

/// What a replacement string makes of a value (GNU parallel 20221122,
/// e.g. `parallel -k echo '[{.}]' '[{/}]' '[{//}]' '[{/.}]' ::: a.b/c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    /// `{}`: as is.
    Whole,
    /// `{.}`: without the extension: from the last `.` if no `/` follows it.
    NoExt,
    /// `{/}`: after the last `/`.
    Basename,
    /// `{//}`: the directory, as POSIX `dirname` gives it.
    Dirname,
    /// `{/.}`: the basename without its extension.
    BasenameNoExt,
}

impl Edit {
    fn apply(self, v: &[u8]) -> &[u8] {
        match self {
            Edit::Whole => v,
            Edit::NoExt => no_ext(v),
            Edit::Basename => basename(v),
            Edit::Dirname => dirname(v),
            Edit::BasenameNoExt => no_ext(basename(v)),
        }
    }
}

/// GNU: `.hidden` -> ``, `file.tar.gz` -> `file.tar`, `a.b/c` -> `a.b/c`,
/// `x.` -> `x`, `a/.hidden` -> `a/`.
fn no_ext(v: &[u8]) -> &[u8] {
    match v.iter().rposition(|&b| b == b'.') {
        Some(i) if !v[i..].contains(&b'/') => &v[..i],
        _ => v,
    }
}

/// GNU: `dir/` -> ``, `/` -> ``, `a//b` -> `b`, `noslash` -> `noslash`.
fn basename(v: &[u8]) -> &[u8] {
    v.iter()
        .rposition(|&b| b == b'/')
        .map_or(v, |i| &v[i + 1..])
}

/// `v` without the `/`s it ends with.
fn trim_slashes(v: &[u8]) -> &[u8] {
    let end = v.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    &v[..end]
}

/// GNU (POSIX `dirname`): `` -> `.`, `dir/` -> `.`, `/` -> `/`,
/// `//a` -> `/`, `a//b` -> `a`, `///a//b//` -> `///a`.
fn dirname(v: &[u8]) -> &[u8] {
    if v.is_empty() {
        return b".";
    }
    let trimmed = trim_slashes(v);
    if trimmed.is_empty() {
        return b"/";
    }
    match trimmed.iter().rposition(|&b| b == b'/') {
        None => b".",
        Some(i) => match trim_slashes(&trimmed[..i]) {
            b"" => b"/",
            dir => dir,
        },
    }
}

/// Parses the replacement string at the start of `s` (which starts with
/// `{`): the piece and its length, or `None` if it is not one.
fn replacement(s: &str) -> Option<(Piece, usize)> {
    let close = s.find('}')?;
    let inner = &s[1..close];
    let piece = match inner {
        "#" => Piece::Seq,
        "%" => Piece::Slot,
        _ => {
            let digits_end = inner
                .char_indices()
                .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
                .map_or(inner.len(), |(i, _)| i);
            let (number, edit) = inner.split_at(digits_end);
            let edit = match edit {
                "" => Edit::Whole,
                "." => Edit::NoExt,
                "/" => Edit::Basename,
                "//" => Edit::Dirname,
                "/." => Edit::BasenameNoExt,
                _ => return None,
            };
            let which = match number {
                "" => Which::All,
                _ => {
                    let (negative, digits) = match number.strip_prefix('-') {
                        Some(d) => (true, d),
                        None => (false, number),
                    };
                    if digits.is_empty() {
                        return None;
                    }
                    // So many digits that they overflow: past any value.
                    let n = digits.parse::<usize>().unwrap_or(usize::MAX);
                    match (negative, n) {
                        // `{0}` is not documented by GNU parallel: left as text.
                        (_, 0) => return None,
                        (false, n) => Which::Nth(n),
                        (true, n) => Which::NthLast(n),
                    }
                }
            };
            Piece::Value(which, edit)
        }
    };
    Some((piece, close + 1))
}

fn parse_word(w: &str) -> Word {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = w;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        rest = &rest[open..];
        match replacement(rest) {
            Some((piece, len)) => {
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(piece);
                rest = &rest[len..];
            }
            None => {
                // A `{` that starts no replacement string is literal.
                text.push('{');
                rest = &rest[1..];
            }
        }
    }
    text.push_str(rest);
    if !text.is_empty() || pieces.is_empty() {
        pieces.push(Piece::Text(text));
    }
    pieces
}

/// Characters that mean something to a shell outside quotes. Some only in
/// places (`~` and `#` at a word's start; `{` `}` as a group, or brace
/// expansion in the bash GNU parallel may use), but a shell costs little
/// next to a wrong guess.
const SHELL_CHARS: &[char] = &[
    '|', '&', ';', '<', '>', '(', ')', '$', '`', '\\', '"', '\'', '*', '?', '[', ']', '#', '~',
    '!', '{', '}',
];

/// First words a shell reads as syntax or runs as a builtin that has no
/// program of the same name (`cd`, `export`, ...): run directly, they
/// would fail or do something else.
const SHELL_FIRST_WORDS: &[&str] = &[
    "!", "{", "}", "case", "do", "done", "elif", "else", "esac", "fi", "for", "function", "if",
    "in", "then", "until", "while", "[[", "select", ".", "source", "alias", "unalias", "break",
    "continue", "cd", "eval", "exec", "exit", "export", "readonly", "local", "return", "set",
    "unset", "shift", "trap", "times", "ulimit", "umask", "wait", "jobs", "fg", "bg", "hash",
];

/// Whether `word` is shell code: with the replacement strings taken out,
/// does any text in it mean something to a shell? An empty word does (the
/// shell drops it, as GNU parallel's joined command line does).
fn needs_shell(word: &Word, first: bool) -> bool {
    let text: String = word
        .iter()
        .filter_map(|p| match p {
            Piece::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    if word == &[Piece::Text(String::new())] {
        return true;
    }
    if text
        .chars()
        .any(|c| c.is_whitespace() || SHELL_CHARS.contains(&c))
    {
        return true;
    }
    if !first {
        return false;
    }
    if let [Piece::Text(t), ..] = word.as_slice() {
        if is_assignment(t) || (word.len() == 1 && SHELL_FIRST_WORDS.contains(&t.as_str())) {
            return true;
        }
    }
    false
}

/// `NAME=...`: a variable assignment when it starts a command.
fn is_assignment(t: &str) -> bool {
    let Some((name, _)) = t.split_once('=') else {
        return false;
    };
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Template {
    /// Parses the command words. `force_shell` (`--shell`) runs the command
    /// through `/bin/sh` even when it needs no shell.
    pub(crate) fn parse(words: &[String], force_shell: bool) -> Result<Template, TemplateError> {
        if words.is_empty() {
            return Err(TemplateError::Empty);
        }
        let words: Vec<Word> = words.iter().map(|w| parse_word(w)).collect();
        let replaces = words.iter().flatten().any(|p| !matches!(p, Piece::Text(_)));
        let shell = force_shell
            || words
                .iter()
                .enumerate()
                .any(|(i, w)| needs_shell(w, i == 0));
        Ok(Template {
            words,
            replaces,
            shell,
            values_are_commands: false,
        })
    }

    /// The template of a run without a command: each job's values are a
    /// shell command line, run as written, as GNU parallel runs them.
    pub(crate) fn values_are_commands() -> Template {
        Template {
            words: Vec::new(),
            replaces: false,
            shell: true,
            values_are_commands: true,
        }
    }

    /// Whether jobs run through `/bin/sh -c`.
    pub(crate) fn uses_shell(&self) -> bool {
        self.shell
    }

    /// The argv of one job (in shell mode `["/bin/sh", "-c", script]`).
    pub(crate) fn render(&self, ctx: &JobContext<'_>) -> Vec<OsString> {
        if self.uses_shell() {
            return vec![
                "/bin/sh".into(),
                "-c".into(),
                OsString::from_vec(self.script(ctx)),
            ];
        }
        self.argv(ctx).into_iter().map(OsString::from_vec).collect()
    }

    /// The command line of `argv` (as [`Template::render`] made it) as a
    /// user would type it, for `--dry-run`, the job log and `--json`: the
    /// script itself in shell mode, else each word shell-quoted.
    pub(crate) fn display(&self, argv: &[OsString]) -> Vec<u8> {
        if self.uses_shell() {
            return argv.last().map_or_else(Vec::new, |s| s.as_bytes().to_vec());
        }
        let words: Vec<Vec<u8>> = argv.iter().map(|w| shell_quote(w.as_bytes())).collect();
        words.join(&b' ')
    }

    /// Direct mode: each word with its values in place, then the values
    /// as arguments of their own if no word took any.
    fn argv(&self, ctx: &JobContext<'_>) -> Vec<Vec<u8>> {
        let mut argv = Vec::new();
        for word in &self.words {
            split_word(word, ctx, &mut argv);
        }
        if !self.replaces {
            argv.extend(ctx.args.iter().map(|v| v.as_bytes().to_vec()));
        }
        argv
    }

    /// Shell mode: the words as written (they are shell code) joined with
    /// spaces, every value single-quoted so the shell reads it as one
    /// literal word.
    fn script(&self, ctx: &JobContext<'_>) -> Vec<u8> {
        if self.values_are_commands {
            let lines: Vec<&[u8]> = ctx.args.iter().map(|v| v.as_bytes()).collect();
            return lines.join(&b' ');
        }
        let mut words: Vec<Vec<u8>> = self.words.iter().map(|w| quoted_word(w, ctx)).collect();
        if !self.replaces {
            words.extend(ctx.args.iter().map(|v| shell_quote(v.as_bytes())));
        }
        words.join(&b' ')
    }
}

/// Direct mode: `word` with its replacement strings replaced, pushed onto
/// `argv`. A `{}` (or `{.}`…) of several values (several input sources)
/// is that many arguments, as a shell would split GNU parallel's `'a' '1'`:
/// text before it joins the first value, text after it the last.
fn split_word(word: &Word, ctx: &JobContext<'_>, argv: &mut Vec<Vec<u8>>) {
    let mut current = Vec::new();
    for piece in word {
        match piece {
            Piece::Value(Which::All, edit) => {
                for (i, v) in ctx.args.iter().enumerate() {
                    if i > 0 {
                        argv.push(std::mem::take(&mut current));
                    }
                    current.extend_from_slice(edit.apply(v.as_bytes()));
                }
            }
            other => current.extend(render_piece(other, ctx, <[u8]>::to_vec)),
        }
    }
    argv.push(current);
}

/// Shell mode: `word` with its replacement strings replaced, each value
/// quoted on its own (several values joined with spaces, as GNU parallel).
fn quoted_word(word: &Word, ctx: &JobContext<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in word {
        out.extend(render_piece(piece, ctx, shell_quote));
    }
    out
}

/// One piece of a word, each value through `quote`; several values (of
/// `{}`) joined with spaces.
fn render_piece(piece: &Piece, ctx: &JobContext<'_>, quote: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    match piece {
        Piece::Text(t) => t.as_bytes().to_vec(),
        Piece::Seq => quote(ctx.seq.to_string().as_bytes()),
        Piece::Slot => quote(ctx.slot.to_string().as_bytes()),
        Piece::Value(Which::All, edit) => {
            let values: Vec<Vec<u8>> = ctx
                .args
                .iter()
                .map(|v| quote(edit.apply(v.as_bytes())))
                .collect();
            values.join(&b' ')
        }
        Piece::Value(which, edit) => quote(&value(ctx.args, *which, *edit)),
    }
}

/// The bytes a one-value replacement string (`{n}`, `{-n}`) stands for:
/// empty beyond the values there are.
fn value(args: &[OsString], which: Which, edit: Edit) -> Vec<u8> {
    let i = match which {
        Which::All => None,
        Which::Nth(n) => n.checked_sub(1),
        Which::NthLast(n) => args.len().checked_sub(n),
    };
    i.and_then(|i| args.get(i))
        .map_or_else(Vec::new, |v| edit.apply(v.as_bytes()).to_vec())
}

/// `s` quoted for a POSIX shell, unchanged when no quoting is needed.
pub(crate) fn shell_quote(s: &[u8]) -> Vec<u8> {
    // No `=`: a value `X=1` first on a line would be an assignment; no
    // `~`, `#`, non-ASCII: kept simple, quoting is always right.
    if !s.is_empty()
        && s.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"-_./:,+@%".contains(&b))
    {
        return s.to_vec();
    }
    let mut quoted = Vec::with_capacity(s.len() + 2);
    quoted.push(b'\'');
    for &b in s {
        if b == b'\'' {
            quoted.extend_from_slice(br"'\''");
        } else {
            quoted.push(b);
        }
    }
    quoted.push(b'\'');
    quoted
}

#[cfg(test)]
mod tests;
