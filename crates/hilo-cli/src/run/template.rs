//! The command template: the user's command words with replacement strings
//! (`{}`, `{.}`, `{/}`, `{//}`, `{/.}`, `{#}`, `{%}`, `{n}`…), rendered into
//! the argv of one job. Owns quoting: an input value is never interpreted
//! by a shell. Never runs anything.
//!
//! STUB: the interface is final, the implementation is a placeholder
//! (`{}` only, no shell) until the real one lands.
#![allow(dead_code)] // STUB: the real module uses every field

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
    words: Vec<String>,
}

impl Template {
    /// Parses the command words. `force_shell` (`--shell`) runs the command
    /// through `/bin/sh` even when it needs no shell.
    pub(crate) fn parse(words: &[String], _force_shell: bool) -> Result<Template, TemplateError> {
        if words.is_empty() {
            return Err(TemplateError::Empty);
        }
        Ok(Template {
            words: words.to_vec(),
        })
    }

    /// Whether jobs run through `/bin/sh -c`.
    pub(crate) fn uses_shell(&self) -> bool {
        false
    }

    /// The argv of one job (in shell mode `["/bin/sh", "-c", script]`).
    pub(crate) fn render(&self, ctx: &JobContext<'_>) -> Vec<String> {
        let mut argv: Vec<String> = Vec::new();
        let mut replaced = false;
        for w in &self.words {
            if w.contains("{}") {
                replaced = true;
            }
            argv.push(w.replace("{}", &ctx.args.join(" ")));
        }
        if !replaced {
            argv.extend(ctx.args.iter().cloned());
        }
        argv
    }

    /// The command line as a user would type it, for `--dry-run`, the job
    /// log and `--json`.
    pub(crate) fn display(&self, ctx: &JobContext<'_>) -> String {
        self.render(ctx).join(" ")
    }
}

/// `s` quoted for a POSIX shell, unchanged when no quoting is needed.
pub(crate) fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}
