//! Unit tests of `template`.

use super::*;

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// Job values from text.
fn values(v: &[&str]) -> Vec<OsString> {
    v.iter().map(OsString::from).collect()
}

/// A rendered argv as text (the tests' values are all UTF-8).
fn texts(argv: Vec<OsString>) -> Vec<String> {
    argv.into_iter()
        .map(|a| a.into_string().expect("UTF-8"))
        .collect()
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("UTF-8")
}

fn template(words: &[&str]) -> Template {
    Template::parse(&strings(words), false).expect("a command")
}

/// The argv of `words` for a job with `values` (seq 7, slot 3).
fn render(words: &[&str], vals: &[&str]) -> Vec<String> {
    let args = values(vals);
    texts(template(words).render(&JobContext {
        args: &args,
        seq: 7,
        slot: 3,
    }))
}

/// `word` rendered in direct mode for one value: one argument.
fn direct(word: &Word, ctx: &JobContext<'_>) -> Vec<u8> {
    let mut argv = Vec::new();
    split_word(word, ctx, &mut argv);
    assert_eq!(argv.len(), 1, "one value makes one argument");
    argv.remove(0)
}

/// `word` rendered for one value, unquoted.
fn one(word: &str, value: &str) -> String {
    let args = values(&[value]);
    let ctx = JobContext {
        args: &args,
        seq: 7,
        slot: 3,
    };
    text(direct(&parse_word(word), &ctx))
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

// GNU: parallel -k printf '[%s]' {} {.} {/} {//} {/.} ::: a/x.y ::: b/c.d
//   -> [a/x.y][b/c.d][a/x][b/c][x.y][c.d][a][b][x][c]
#[test]
fn whole_value_strings_take_every_value_as_an_argument_of_its_own() {
    let argv = render(
        &["printf", "{}", "{.}", "{/}", "{//}", "{/.}"],
        &["a/x.y", "b/c.d"],
    );
    assert_eq!(
        argv,
        strings(&["printf", "a/x.y", "b/c.d", "a/x", "b/c", "x.y", "c.d", "a", "b", "x", "c"])
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
        // GNU: parallel -k printf '[%s]' pre{}post {}{} {.}.jpg a{1}b{2}c
        //   ::: x.1 ::: y -> [prex.1][ypost][x.1][yx.1][y][x][y.jpg][ax.1byc]
        strings(&["echo", "prex.1", "ypost", "x.1", "yx.1", "y", "x", "y.jpg", "ax.1byc"])
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
    let args = values(&["v"]);
    let ctx = JobContext {
        args: &args,
        seq: 1,
        slot: 1,
    };
    let word = |w: &str| text(direct(&parse_word(w), &ctx));
    for (w, want) in cases {
        assert_eq!(word(w), want, "{w}");
    }
    // `{0}` is not documented by GNU parallel (which gives every value).
    assert_eq!(word("{0}"), "{0}");
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
        texts(template(&["echo", "x;"]).render(&JobContext {
            args: &values(&["a b"]),
            seq: 1,
            slot: 1
        })),
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
    let args = values(&["it's $x", "a.b"]);
    let ctx = JobContext {
        args: &args,
        seq: 12,
        slot: 2,
    };
    // GNU (--dry-run): echo 'it'"'"'s $x' a.b | tr a-z A-Z ax 1
    let script = r"echo 'it'\''s $x' a.b | tr a-z A-Z ax 12";
    assert_eq!(texts(t.render(&ctx)), strings(&["/bin/sh", "-c", script]));
    assert_eq!(text(t.display(&t.render(&ctx))), script);
}

/// Runs a rendered argv and returns its stdout.
fn run(argv: &[OsString], dir: &std::path::Path) -> String {
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
                let args = values(&[v]);
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
    let args = values(&["X=1 printf"]);
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
    let args = values(&["b c"]);
    let ctx = JobContext {
        args: &args,
        seq: 1,
        slot: 1,
    };
    assert_eq!(text(t.display(&t.render(&ctx))), "echo 'b c' 'xb c'");
    let t = template(&["echo"]);
    assert_eq!(text(t.display(&t.render(&ctx))), "echo 'b c'");
}

#[test]
fn shell_quote_uses_single_quotes_only_when_needed() {
    let quote = |s: &str| text(shell_quote(s.as_bytes()));
    assert_eq!(quote("abc-1_2./x:y,z+@%"), "abc-1_2./x:y,z+@%");
    assert_eq!(quote(""), "''");
    assert_eq!(quote("it's"), r"'it'\''s'");
    assert_eq!(quote("a b"), "'a b'");
    assert_eq!(quote("X=1"), "'X=1'");
    assert_eq!(quote("ñandú"), "'ñandú'");
    assert_eq!(quote("'"), r"''\'''");
    assert_eq!(shell_quote(b"caf\xe9"), b"'caf\xe9'");
}

// GNU: printf 'd/caf\351.x\n' | parallel echo {} {.} {/} {//} {/.}
//   -> the same bytes, edited at `.` and `/` only.
#[test]
fn values_that_are_not_utf8_are_edited_and_passed_as_bytes() {
    use std::os::unix::ffi::OsStringExt;
    let args = vec![OsString::from_vec(b"d/caf\xe9.x".to_vec())];
    let ctx = JobContext {
        args: &args,
        seq: 1,
        slot: 1,
    };
    let t = template(&["echo", "{}", "{.}", "{/}", "{//}", "{/.}"]);
    let argv: Vec<Vec<u8>> = t.render(&ctx).into_iter().map(OsString::into_vec).collect();
    let want: [&[u8]; 6] = [
        b"echo",
        b"d/caf\xe9.x",
        b"d/caf\xe9",
        b"caf\xe9.x",
        b"d",
        b"caf\xe9",
    ];
    assert_eq!(argv, want);
    let shell = Template::parse(&strings(&["echo {} |", "cat"]), false).expect("a command");
    assert_eq!(
        shell.render(&ctx)[2].as_bytes(),
        b"echo 'd/caf\xe9.x' | cat"
    );
}
