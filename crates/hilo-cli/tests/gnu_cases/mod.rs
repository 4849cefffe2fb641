//! The cases `hilo run` is cross-checked on: against GNU parallel
//! (`gnu_parallel.rs`) and, run on cluster workers, against itself run
//! here (`cluster.rs`). Each test file passes its own macro to
//! [`with_gnu_cases`], which calls it with `name: case;` lines.
#![allow(dead_code)]

/// One case: the words after `hilo run` / `parallel --will-cite -k`, what
/// stdin holds and the files (in the working directory) it reads.
pub(crate) struct Case {
    pub(crate) args: Vec<String>,
    pub(crate) stdin: Vec<u8>,
    pub(crate) files: Vec<(&'static str, &'static [u8])>,
}

pub(crate) fn args(words: &[&str]) -> Case {
    Case {
        args: words.iter().map(|w| (*w).to_owned()).collect(),
        stdin: Vec::new(),
        files: Vec::new(),
    }
}

impl Case {
    pub(crate) fn stdin(mut self, bytes: &[u8]) -> Case {
        self.stdin = bytes.to_vec();
        self
    }

    pub(crate) fn file(mut self, name: &'static str, bytes: &'static [u8]) -> Case {
        self.files.push((name, bytes));
        self
    }
}

/// `words ::: ` values that trip up quoting and path editing.
pub(crate) fn tricky(words: &[&str]) -> Case {
    let values = [
        "a b.c/d e.f",
        "it's",
        "x$y.z",
        "a;b|c",
        "ñandú.txt",
        "dir/ñandú.tar.gz",
        ".hidden",
        "dir/",
        "/",
        "file.tar.gz",
        "*",
        "\"q\".x",
        "~/x.y",
        "a  b",
        "a.b/c",
        "noslash",
        "x.",
        "//a",
        "a//b",
    ];
    let mut all: Vec<&str> = words.to_vec();
    all.push(":::");
    all.extend(values);
    args(&all)
}

/// `-j1 --halt RULE sh ex.sh ::: STATUSES`: each job exits with its value.
pub(crate) fn exits(rule: &[&str], statuses: &[&str]) -> Case {
    let mut all = vec!["-j1", "--halt"];
    all.extend(rule);
    all.extend(["sh", "ex.sh", ":::"]);
    all.extend(statuses);
    args(&all).file("ex.sh", b"echo $1; exit $1\n")
}

/// Calls `$callback! { name: case; ... }` with every case.
macro_rules! with_gnu_cases {
    ($callback:ident) => {
        $callback! {
    value_on_tricky_values: tricky(&["echo", ":{}:"]);
    no_extension_on_tricky_values: tricky(&["echo", ":{.}:"]);
    basename_on_tricky_values: tricky(&["echo", ":{/}:"]);
    dirname_on_tricky_values: tricky(&["echo", ":{//}:"]);
    basename_no_extension_on_tricky_values: tricky(&["echo", ":{/.}:"]);
    every_string_glued_in_one_word: tricky(&["echo", "{}={.}={/}={//}={/.}"]);
    numbered_strings_on_tricky_values: tricky(&["echo", "{1}={1.}={1/}={1//}={1/.}"]);
    strings_on_an_empty_value: args(&["echo", ":{}:{.}:{/}:{//}:{/.}:", ":::", ""]);
    dots: args(&["echo", "{.}", "{/.}", ":::", "a.b.c", ".x.y", "x.", "..", ".", "a.b/.c"]);
    nth_of_two_sources: args(&["echo", "{2}-{1}", ":::", "a", "b", ":::", "x y", "z;w"]);
    nth_edits: args(&["echo", "{1.}", "{2/}", "{1//}", "{2/.}", ":::", "a/b.c", "d.e/f", ":::", "g/h.i.j"]);
    nth_past_the_last_is_empty: args(&["echo", ":{5}:", "{1}", ":::", "a", ":::", "b"]);
    nth_from_the_end: args(&["echo", "{-1}", "{-2}", ":::", "a", ":::", "b", "c"]);
    all_values_of_several_sources: args(&["echo", ":{}:{.}:", ":::", "a.x", "b", ":::", "c.y"]);
    product_of_two: args(&["echo", ":::", "a", "b", ":::", "1", "2"]);
    several_sources_are_separate_arguments: args(&["printf", "[%s]", "{}", ":::", "a", "b c", ":::", "1", "2"]);
    several_sources_glued_and_edited: args(&["printf", "[%s]", "x{}y", "{.}", "{/}", "{//}", ":::", "a.x", "b", ":::", "c d/e.f", "g/"]);
    several_sources_through_a_shell: args(&["printf '[%s]' x{}y {/.}; echo", ":::", "a", "b c", ":::", "1", "d/e.f"]);
    linked_to_the_one_before: args(&["echo", ":::", "a", "b", ":::", "1", "2", ":::+", "x", "y", "z"]);
    linked_stops_at_the_shorter: args(&["echo", ":::", "a", "b", "c", ":::+", "1", "2"]);
    linked_then_product: args(&["echo", ":::", "a", "b", "c", ":::+", "1", "2", ":::", "x", "y"]);
    linked_first_marker_is_a_plain_source: args(&["echo", ":::+", "a", "b", ":::", "1", "2"]);
    linked_empty_source: args(&["echo", ":::", "a", "b", ":::+"]);
    linked_file: args(&["echo", "{2}-{1}", ":::", "a", "b", "::::+", "f"]).file("f", b"l1\nl2\nl3\n");
    linked_files: args(&["echo", ":::", "a", "b", "::::+", "f1", "f2"]).file("f1", b"1\n2\n").file("f2", b"x\ny\nz\n");
    link_starts_shorter_over: args(&["--link", "echo", ":::", "a", "b", "c", ":::", "1", "2", ":::", "x"]);
    link_with_linked_marker: args(&["--link", "echo", ":::", "a", "b", ":::", "1", "2", ":::+", "x", "y", "z"]);
    link_with_colsep: args(&["--link", "--colsep", ",", "echo", "{3}{2}{1}", ":::", "a,b", "c", ":::", "1", "2"]);
    xapply_is_link: args(&["--xapply", "echo", "{2}{1}", ":::", "a", "b", "c", ":::", "1", "2"]);
    halt_now_fail_1_is_the_jobs_status: exits(&["now,fail=1"], &["0", "3", "0"]);
    halt_soon_fail_1_is_the_first_failures_status: exits(&["soon,fail=1"], &["0", "3", "4", "0"]);
    halt_fail_count_is_the_number_failed: exits(&["now,fail=2"], &["5", "0", "3", "7"]);
    halt_fail_percent_fired: exits(&["now,fail=30%"], &["1", "1", "0", "0", "0"]);
    halt_fail_percent_never_fired: exits(&["now,fail=50%"], &["1", "0", "1", "0", "0", "0"]);
    halt_success_is_0: exits(&["now,success=1"], &["1", "0", "2"]);
    halt_success_never_fired: exits(&["now,success=1"], &["1", "2"]);
    halt_soon_success_percent: exits(&["soon,success=50%"], &["0", "1", "0", "1"]);
    halt_done: exits(&["now,done=2"], &["0", "6", "0"]);
    halt_short_form_2: exits(&["2"], &["0", "6", "0"]);
    halt_short_form_minus_2: exits(&["-2"], &["4", "0", "2"]);
    halt_short_form_percent: exits(&["50%"], &["4", "4", "0", "2"]);
    no_command_lines_are_commands: args(&[]).stdin(b"echo one\necho two; echo three\n");
    no_command_values_are_commands: args(&[":::", "echo a", "echo b | tr b c"]);
    no_command_values_of_two_sources: args(&[":::", "echo", "printf '%s\\n'", ":::", "x", "y"]);
    dry_run_tagged: args(&["--dry-run", "--tag", "echo", "{}", ":::", "a", "b"]);
    repeated_option_last_wins: args(&["-j2", "-j1", "echo", "{%}", ":::", "a", "b"]);
    timeout_zero_is_none: args(&["--timeout", "0", "sleep 0.2; echo", "{}", ":::", "a"]);
    product_of_three: args(&["echo", "{3}{2}{1}", ":::", "a", "b", ":::", "1", "2", ":::", "x", "y"]);
    glued_with_seq: args(&["echo", "pre{}post{#}", "{}{}", ":::", "a", "b c"]);
    seq: args(&["echo", "{#}-{}", ":::", "a", "b", "c"]);
    slot_with_one_job_at_a_time: args(&["-j", "1", "echo", "{%}:{}", ":::", "a", "b", "c"]);
    jobs_option_attached: args(&["-j1", "echo", "{%}:{}", ":::", "a", "b"]);
    lines_of_a_file: args(&["echo", ":{}:", "::::", "in.txt"]).file("in.txt", b"a\n\nb c\nlast without newline");
    two_files: args(&["echo", "{1}+{2}", "::::", "f1", "f2"]).file("f1", b"a\nb\n").file("f2", b"1\n2\n3\n");
    values_then_file: args(&["echo", "{1}", "{2}", ":::", "a", "b", "::::", "f"]).file("f", b"x\ny\n");
    file_then_values: args(&["echo", "{1}", "{2}", "::::", "f", ":::", "a", "b"]).file("f", b"x\ny\n");
    arg_file: args(&["-a", "f", "echo", ":{}:"]).file("f", b"x y\nz\n");
    arg_file_with_values: args(&["-a", "f", "echo", "{1}{2}", ":::", "1", "2"]).file("f", b"x\ny\n");
    empty_file_among_sources: args(&["echo", ":{1}:{2}:", "::::", "empty", ":::", "a", "b"]).file("empty", b"");
    lines_of_stdin: args(&["echo", ":{}:"]).stdin(b"a\nb c\n\nd\r\nlast");
    stdin_dash_with_values: args(&["echo", "{1}{2}", "::::", "-", ":::", "1", "2"]).stdin(b"a\nb\n");
    empty_stdin_runs_nothing: args(&["echo", "x"]).stdin(b"");
    nul_separated_stdin: args(&["-0", "echo", ":{}:"]).stdin(b"a b\0c\nd\0\0e");
    colsep_comma: args(&["--colsep", ",", "echo", "{3}:{2}:{1}:{4}:"]).stdin(b"a,b,c\nd,,f\n,x\n");
    colsep_tab: args(&["--colsep", "\\t", "echo", "{2}={1}"]).stdin(b"a\tb\nc d\te\n");
    colsep_on_several_sources: args(&["--colsep", ",", "echo", "{1}/{2}/{3}/{}", ":::", "a,b", "c", ":::", "1,2"]);
    colsep_appended: args(&["--colsep", ",", "echo", ":::", "a,b", "c"]);
    tag_one_source: args(&["--tag", "echo", "hi", ":::", "a", "b c"]);
    tag_two_sources: args(&["--tag", "echo", "hi", ":::", "a", "b", ":::", "c"]);
    shell_pipe: args(&["echo {} | tr a-z A-Z", ":::", "x; y", "$(z)", "it's"]);
    shell_metacharacters_in_values: args(&["'printf' '%s\\n'", "{}", ":::", "x; rm -rf ~", "$(touch pwned)", "`id`", "a'b", "\"c\"", "a\\b", "*", "&&", "|", "~", "#x", "a=b"]);
    shell_metacharacters_direct: args(&["printf", "%s=", "{}", ":::", "x; rm -rf ~", "$(touch pwned)", "`id`", "a'b", "\"c\"", "*", "&&"]);
    appended_values: args(&["echo", "pre", ":::", "a", "b c", "d;e"]);
    appended_values_of_two_sources: args(&["echo", ":::", "a", "b", ":::", "c d"]);
    appended_after_shell_code: args(&["echo x;", "echo", ":::", "a b", "$c"]);
    literal_braces: args(&["echo", "{foo}", "{{}}", "{}}", "{ }", "{1x}", ":::", "a"]);
    exit_status_counts_failures: args(&["test", "{}", "=", "a", ":::", "a", "b", "c"]);
    latin1_values_pass_through: args(&["echo", ":{}:{.}:{/}:{//}:{/.}:"]).stdin(b"d/caf\xe9.txt\n\xff\xfe\n\xe9t\xe9/x.\xe9\n");
    latin1_values_through_a_shell: args(&["echo {} | cat", "::::", "f"]).file("f", b"caf\xe9 cr\xe8me\n");
    latin1_values_tagged: args(&["--tag", "echo", "x", "::::", "f"]).file("f", b"caf\xe9\n");
    gnu_short_aliases: args(&["-P1", "-C", ",", "echo", "{%}{2}{1}", ":::", "a,b", "c,d"]);
    line_buffer_in_order: args(&["--lb", "-j0", "echo {}; sleep 0.{}; echo {}", ":::", "1", "3", "2", "4"]);
    line_buffer_in_order_tagged: args(&["--lb", "--tag", "-j2", "printf 'a\\nb'; sleep 0.{}; echo c", ":::", "2", "1"]);
        }
    };
}
