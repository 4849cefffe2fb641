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

/// What a job's command is rendered from, besides the template.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JobContext<'a> {
    /// The job's values, `{1}` … `{n}`.
    pub(crate) args: &'a [String],
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
    /// `{}`: all of them, each edited, joined with a space.
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
    fn apply(self, v: &str) -> String {
        match self {
            Edit::Whole => v.to_owned(),
            Edit::NoExt => no_ext(v).to_owned(),
            Edit::Basename => basename(v).to_owned(),
            Edit::Dirname => dirname(v).to_owned(),
            Edit::BasenameNoExt => no_ext(basename(v)).to_owned(),
        }
    }
}

/// GNU: `.hidden` -> ``, `file.tar.gz` -> `file.tar`, `a.b/c` -> `a.b/c`,
/// `x.` -> `x`, `a/.hidden` -> `a/`.
fn no_ext(v: &str) -> &str {
    match v.rfind('.') {
        Some(i) if !v[i..].contains('/') => &v[..i],
        _ => v,
    }
}

/// GNU: `dir/` -> ``, `/` -> ``, `a//b` -> `b`, `noslash` -> `noslash`.
fn basename(v: &str) -> &str {
    v.rfind('/').map_or(v, |i| &v[i + 1..])
}

/// GNU (POSIX `dirname`): `` -> `.`, `dir/` -> `.`, `/` -> `/`,
/// `//a` -> `/`, `a//b` -> `a`, `///a//b//` -> `///a`.
fn dirname(v: &str) -> &str {
    if v.is_empty() {
        return ".";
    }
    let trimmed = v.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/";
    }
    match trimmed.rfind('/') {
        None => ".",
        Some(i) => match trimmed[..i].trim_end_matches('/') {
            "" => "/",
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
        })
    }

    /// Whether jobs run through `/bin/sh -c`.
    pub(crate) fn uses_shell(&self) -> bool {
        self.shell
    }

    /// The argv of one job (in shell mode `["/bin/sh", "-c", script]`).
    pub(crate) fn render(&self, ctx: &JobContext<'_>) -> Vec<String> {
        if self.uses_shell() {
            return vec!["/bin/sh".to_owned(), "-c".to_owned(), self.script(ctx)];
        }
        self.argv(ctx)
    }

    /// The command line as a user would type it, for `--dry-run`, the job
    /// log and `--json`.
    pub(crate) fn display(&self, ctx: &JobContext<'_>) -> String {
        if self.uses_shell() {
            return self.script(ctx);
        }
        self.argv(ctx)
            .iter()
            .map(|w| shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Direct mode: each word with its values in place, then the values
    /// as arguments of their own if no word took any.
    fn argv(&self, ctx: &JobContext<'_>) -> Vec<String> {
        let mut argv: Vec<String> = self
            .words
            .iter()
            .map(|w| render_word(w, ctx, |v| v))
            .collect();
        if !self.replaces {
            argv.extend(ctx.args.iter().cloned());
        }
        argv
    }

    /// Shell mode: the words as written (they are shell code) joined with
    /// spaces, every value single-quoted so the shell reads it as one
    /// literal word.
    fn script(&self, ctx: &JobContext<'_>) -> String {
        let mut words: Vec<String> = self
            .words
            .iter()
            .map(|w| render_word(w, ctx, |v| shell_quote(&v)))
            .collect();
        if !self.replaces {
            words.extend(ctx.args.iter().map(|v| shell_quote(v)));
        }
        words.join(" ")
    }
}

/// `word` with its replacement strings replaced, each through `quote`.
fn render_word(word: &Word, ctx: &JobContext<'_>, quote: impl Fn(String) -> String) -> String {
    let mut out = String::new();
    for piece in word {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Seq => out.push_str(&quote(ctx.seq.to_string())),
            Piece::Slot => out.push_str(&quote(ctx.slot.to_string())),
            Piece::Value(which, edit) => out.push_str(&quote(value(ctx.args, *which, *edit))),
        }
    }
    out
}

/// The text a value replacement string stands for.
fn value(args: &[String], which: Which, edit: Edit) -> String {
    let one = |i: Option<usize>| {
        i.and_then(|i| args.get(i))
            .map_or_else(String::new, |v| edit.apply(v))
    };
    match which {
        Which::All => args
            .iter()
            .map(|v| edit.apply(v))
            .collect::<Vec<_>>()
            .join(" "),
        Which::Nth(n) => one(n.checked_sub(1)),
        Which::NthLast(n) => one(args.len().checked_sub(n)),
    }
}

/// `s` quoted for a POSIX shell, unchanged when no quoting is needed.
pub(crate) fn shell_quote(s: &str) -> String {
    // No `=`: a value `X=1` first on a line would be an assignment; no
    // `~`, `#`, non-ASCII: kept simple, quoting is always right.
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:,+@%".contains(c))
    {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn template(words: &[&str]) -> Template {
        Template::parse(&strings(words), false).expect("a command")
    }

    /// The argv of `words` for a job with `values` (seq 7, slot 3).
    fn render(words: &[&str], values: &[&str]) -> Vec<String> {
        let args = strings(values);
        template(words).render(&JobContext {
            args: &args,
            seq: 7,
            slot: 3,
        })
    }

    /// `word` rendered for one value, unquoted.
    fn one(word: &str, value: &str) -> String {
        let args = strings(&[value]);
        let ctx = JobContext {
            args: &args,
            seq: 7,
            slot: 3,
        };
        render_word(&parse_word(word), &ctx, |v| v)
    }

    #[test]
    fn an_empty_command_is_an_error() {
        assert!(matches!(
            Template::parse(&[], false),
            Err(TemplateError::Empty)
        ));
    }

    // GNU: parallel -k echo '[{}]' '[{.}]' '[{/}]' '[{//}]' '[{/.}]' ::: VALUE
    // for each VALUE below; columns: value, {.}, {/}, {//}, {/.}.
    #[test]
    fn replacement_strings_edit_paths_as_gnu_parallel_does() {
        let cases = [
            ("a.b/c", "a.b/c", "c", "a.b", "c"),
            (".hidden", "", ".hidden", ".", ""),
            ("dir/", "dir/", "", ".", ""),
            ("/", "/", "", "/", ""),
            ("file.tar.gz", "file.tar", "file.tar.gz", ".", "file.tar"),
            ("noslash", "noslash", "noslash", ".", "noslash"),
            ("", "", "", ".", ""),
            ("a b.c/d e.f", "a b.c/d e", "d e.f", "a b.c", "d e"),
            ("../x.y", "../x", "x.y", "..", "x"),
            ("a/.hidden", "a/", ".hidden", "a", ""),
            ("/abs", "/abs", "abs", "/", "abs"),
            ("a//b", "a//b", "b", "a", "b"),
            ("dir/.x.y", "dir/.x", ".x.y", "dir", ".x"),
            ("x.", "x", "x.", ".", "x"),
            ("a.b.c/", "a.b.c/", "", ".", ""),
            ("a/b//", "a/b//", "", "a", ""),
            ("//a", "//a", "a", "/", "a"),
            ("//", "//", "", "/", ""),
            ("///a//b//", "///a//b//", "", "///a", ""),
            ("..", ".", "..", ".", "."),
            (".", "", ".", ".", ""),
            ("ñandú.txt", "ñandú", "ñandú.txt", ".", "ñandú"),
            ("a.b\\c", "a", "a.b\\c", ".", "a"),
        ];
        for (v, no_ext, base, dir, base_no_ext) in cases {
            assert_eq!(one("{}", v), v, "{{}} of {v:?}");
            assert_eq!(one("{.}", v), no_ext, "{{.}} of {v:?}");
            assert_eq!(one("{/}", v), base, "{{/}} of {v:?}");
            assert_eq!(one("{//}", v), dir, "{{//}} of {v:?}");
            assert_eq!(one("{/.}", v), base_no_ext, "{{/.}} of {v:?}");
            assert_eq!(one("{1}", v), v, "{{1}} of {v:?}");
            assert_eq!(one("{1.}", v), no_ext, "{{1.}} of {v:?}");
            assert_eq!(one("{1/}", v), base, "{{1/}} of {v:?}");
            assert_eq!(one("{1//}", v), dir, "{{1//}} of {v:?}");
            assert_eq!(one("{1/.}", v), base_no_ext, "{{1/.}} of {v:?}");
        }
    }

    // GNU: parallel -k echo '[{}]' '[{.}]' '[{/}]' '[{//}]' '[{/.}]' ::: a/x.y ::: b/c.d
    //   -> [a/x.y b/c.d] [a/x b/c] [x.y c.d] [a b] [x c]
    #[test]
    fn whole_value_strings_take_every_value_joined_with_a_space() {
        let argv = render(
            &["echo", "{}", "{.}", "{/}", "{//}", "{/.}"],
            &["a/x.y", "b/c.d"],
        );
        assert_eq!(
            argv,
            strings(&["echo", "a/x.y b/c.d", "a/x b/c", "x.y c.d", "a b", "x c"])
        );
    }

    // GNU: parallel -k echo '{1}-{2}' '[{5}]' '[{-1}]' '[{-2}]' '{2.}' '{1/}'
    //   '{1//}' '{2/.}' '{01}' ::: a/x.y ::: b/c.d
    //   -> a/x.y-b/c.d [] [b/c.d] [a/x.y] b/c x.y a c a/x.y
    // (here `:` for `[`, which is shell syntax)
    #[test]
    fn numbered_strings_take_one_value() {
        let argv = render(
            &[
                "echo", "{1}-{2}", ":{5}:", ":{-1}:", ":{-2}:", "{2.}", "{1/}", "{1//}", "{2/.}",
                "{01}",
            ],
            &["a/x.y", "b/c.d"],
        );
        assert_eq!(
            argv,
            strings(&[
                "echo",
                "a/x.y-b/c.d",
                "::",
                ":b/c.d:",
                ":a/x.y:",
                "b/c",
                "x.y",
                "a",
                "c",
                "a/x.y"
            ])
        );
        // GNU wraps `{-n}` past the first value around (`{-3}` of two
        // values is the second); hilo gives nothing, like `{n}` past the
        // last.
        assert_eq!(one("[{-2}]", "v"), "[]");
        assert_eq!(one("[{99999999999999999999999}]", "v"), "[]");
    }

    // GNU: parallel -k echo '{#}' ::: a b -> 1, 2 (values not appended);
    //      parallel -j1 -k echo 'x{%}y' ::: a b -> x1y, x1y
    #[test]
    fn seq_and_slot() {
        assert_eq!(render(&["echo", "{#}"], &["a"]), strings(&["echo", "7"]));
        assert_eq!(
            render(&["echo", "x{%}y"], &["a"]),
            strings(&["echo", "x3y"])
        );
        assert_eq!(
            render(&["echo", "{#}:{%}:{}"], &["a"]),
            strings(&["echo", "7:3:a"])
        );
    }

    // GNU: parallel -k echo 'pre{}post' '{}{}' '{.}.jpg' 'a{1}b{2}c' ::: x.1 ::: y
    //   -> prex.1 ypost x.1 yx.1 y x y.jpg ax.1byc
    #[test]
    fn strings_glue_inside_words() {
        assert_eq!(
            render(
                &["echo", "pre{}post", "{}{}", "{.}.jpg", "a{1}b{2}c"],
                &["x.1", "y"]
            ),
            strings(&["echo", "prex.1 ypost", "x.1 yx.1 y", "x y.jpg", "ax.1byc"])
        );
    }

    // GNU: parallel -k echo "'{foo}'" "'{1x}'" "'{}}'" "'{{}}'" "'{{}'" "'{.'"
    //   "'{/'" "'{+1}'" "'{ 1}'" ::: v -> {foo} {1x} v} {v} {v {. {/ {+1} { 1}
    #[test]
    fn a_brace_starting_no_replacement_string_is_literal() {
        let cases = [
            ("{", "{"),
            ("}", "}"),
            ("{foo}", "{foo}"),
            ("{1x}", "{1x}"),
            ("{}}", "v}"),
            ("{{}}", "{v}"),
            ("{{}", "{v"),
            ("{.", "{."),
            ("{/", "{/"),
            ("{+1}", "{+1}"),
            ("{ 1}", "{ 1}"),
            ("{-}", "{-}"),
            ("{//.}", "{//.}"),
        ];
        let args = strings(&["v"]);
        let ctx = JobContext {
            args: &args,
            seq: 1,
            slot: 1,
        };
        for (word, want) in cases {
            assert_eq!(render_word(&parse_word(word), &ctx, |v| v), want, "{word}");
        }
        // `{0}` is not documented by GNU parallel (which gives every value).
        assert_eq!(render_word(&parse_word("{0}"), &ctx, |v| v), "{0}");
    }

    #[test]
    fn without_replacement_strings_values_are_appended() {
        assert_eq!(
            render(&["echo", "-n"], &["a b", "c"]),
            strings(&["echo", "-n", "a b", "c"])
        );
        let t = Template::parse(&strings(&["echo {} |", "cat"]), false).expect("a command");
        assert!(t.uses_shell());
        assert_eq!(
            template(&["echo", "x;"]).render(&JobContext {
                args: &strings(&["a b"]),
                seq: 1,
                slot: 1
            }),
            strings(&["/bin/sh", "-c", "echo x; 'a b'"])
        );
    }

    #[test]
    fn plain_words_run_directly_without_splitting_values() {
        let t = template(&["cp", "{}", "/backup/{/}.bak"]);
        assert!(!t.uses_shell());
        assert_eq!(
            render(&["cp", "{}", "/backup/{/}.bak"], &["my dir/a b; c"]),
            strings(&["cp", "my dir/a b; c", "/backup/a b; c.bak"])
        );
        for words in [
            &["echo", "a=b", "{}"][..],
            &["./x-y_z.sh", "--opt=1", "+%", "@:,"],
            &["ñandú", "{}"],
        ] {
            assert!(!template(words).uses_shell(), "{words:?}");
        }
    }

    #[test]
    fn shell_syntax_or_force_shell_runs_sh() {
        for words in [
            &["echo {} | tr a-z A-Z"][..],
            &["echo", "a|b"],
            &["echo", "$HOME"],
            &["echo", "{}", ">", "out"],
            &["echo", "*.txt"],
            &["echo", "~"],
            &["echo", "a\tb"],
            &["echo", "'{}'"],
            &["FOO=1", "env"],
            &["_X={}", "env"],
            &["cd", "{}"],
            &["exit", "3"],
            &["if", "true;", "then", "echo", "{};", "fi"],
            &["echo", ""],
            &["echo", "{a,b}"],
        ] {
            assert!(template(words).uses_shell(), "{words:?}");
        }
        assert!(!template(&["env", "FOO=1"]).uses_shell());
        assert!(!template(&["./FOO=1"]).uses_shell());
        assert!(Template::parse(&strings(&["echo", "{}"]), true)
            .expect("a command")
            .uses_shell());
    }

    #[test]
    fn shell_mode_quotes_every_value() {
        let t = template(&["echo {} | tr a-z A-Z", "{2.}x", "{#}"]);
        let args = strings(&["it's $x", "a.b"]);
        let ctx = JobContext {
            args: &args,
            seq: 12,
            slot: 2,
        };
        let script = r"echo 'it'\''s $x a.b' | tr a-z A-Z ax 12";
        assert_eq!(t.render(&ctx), strings(&["/bin/sh", "-c", script]));
        assert_eq!(t.display(&ctx), script);
    }

    /// Runs a rendered argv and returns its stdout.
    fn run(argv: &[String], dir: &std::path::Path) -> String {
        let out = std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(dir)
            .output()
            .expect("the command runs");
        assert!(out.status.success(), "{argv:?}: {out:?}");
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    #[test]
    fn hostile_values_stay_one_literal_argument() {
        let hostile = [
            "x; rm -rf ~",
            "$(touch pwned)",
            "`touch pwned`",
            "a' ; touch pwned; echo '",
            "\"; touch pwned; \"",
            "*",
            "~",
            "a\nb",
            "-n",
            "",
            "X=1",
            "> pwned",
            "{}",
        ];
        let dir = tempfile::tempdir().expect("temp dir");
        for words in [
            &["printf", "%s", "{}"][..],
            &["printf %s {} | cat"],
            &["printf", "%s"],
            &["printf", "%s", "pre{}post"],
        ] {
            for force_shell in [false, true] {
                let t = Template::parse(&strings(words), force_shell).expect("a command");
                for v in hostile {
                    let args = strings(&[v]);
                    let ctx = JobContext {
                        args: &args,
                        seq: 1,
                        slot: 1,
                    };
                    let argv = t.render(&ctx);
                    let want = if words[words.len() - 1] == "pre{}post" {
                        format!("pre{v}post")
                    } else {
                        v.to_owned()
                    };
                    assert_eq!(run(&argv, dir.path()), want, "{argv:?}");
                    assert!(
                        !dir.path().join("pwned").exists(),
                        "{v:?} in {words:?} ran code"
                    );
                }
            }
        }
        // A value first on the command line is a command name, never code.
        let t = Template::parse(&strings(&["{}", "x"]), true).expect("a command");
        let args = strings(&["X=1 printf"]);
        let script = t.render(&JobContext {
            args: &args,
            seq: 1,
            slot: 1,
        });
        assert_eq!(script[2], "'X=1 printf' x");
    }

    #[test]
    fn display_quotes_direct_words_like_a_user_would() {
        let t = template(&["echo", "{}", "x{}"]);
        let args = strings(&["b c"]);
        let ctx = JobContext {
            args: &args,
            seq: 1,
            slot: 1,
        };
        assert_eq!(t.display(&ctx), "echo 'b c' 'xb c'");
        let t = template(&["echo"]);
        assert_eq!(t.display(&ctx), "echo 'b c'");
    }

    #[test]
    fn shell_quote_uses_single_quotes_only_when_needed() {
        assert_eq!(shell_quote("abc-1_2./x:y,z+@%"), "abc-1_2./x:y,z+@%");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("X=1"), "'X=1'");
        assert_eq!(shell_quote("ñandú"), "'ñandú'");
        assert_eq!(shell_quote("'"), r"''\'''");
    }
}
