//! What `hilo mx` prints: one row per address, in input order, as CSV
//! (`email,class,detail`, a header first, fields quoted as RFC 4180 asks)
//! or as one JSON object per line (`--json`); and at the end the counts,
//! on stderr. Decides nothing about the addresses.

use std::borrow::Cow;
use std::io::{self, Write};
use std::time::Duration;

use crate::verdict::{Class, Verdict};

/// Rows on their way to `out`. The CSV header is written with the first
/// row or flush, so a run that stops before either writes nothing.
pub(crate) struct Rows<W: Write> {
    out: W,
    json: bool,
    started: bool,
}

/// A row of `--json`.
#[derive(serde::Serialize)]
struct JsonRow<'a> {
    email: &'a str,
    class: Class,
    detail: &'a str,
    /// The domain looked up (ASCII), `null` when the syntax is bad.
    domain: Option<&'a str>,
}

impl<W: Write> Rows<W> {
    /// Rows to `out`: CSV, or JSON lines if `json`.
    pub(crate) fn new(out: W, json: bool) -> Self {
        Rows {
            out,
            json,
            started: false,
        }
    }

    /// The CSV header (nothing for JSON), once.
    fn start(&mut self) -> io::Result<()> {
        if !self.started && !self.json {
            self.out.write_all(b"email,class,detail\n")?;
        }
        self.started = true;
        Ok(())
    }

    /// One address's row.
    pub(crate) fn row(
        &mut self,
        email: &str,
        domain: Option<&str>,
        verdict: &Verdict,
    ) -> io::Result<()> {
        self.start()?;
        if self.json {
            let row = JsonRow {
                email,
                class: verdict.class,
                detail: &verdict.detail,
                domain,
            };
            serde_json::to_writer(&mut self.out, &row)?;
            self.out.write_all(b"\n")
        } else {
            let (email, class, detail) = (csv(email), verdict.class.name(), csv(&verdict.detail));
            writeln!(self.out, "{email},{class},{detail}")
        }
    }

    /// Sends what is buffered on its way.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.start()?;
        self.out.flush()
    }
}

/// A CSV field: quoted (with `"` doubled) when it holds a comma, a quote
/// or a line break, as RFC 4180 says.
fn csv(field: &str) -> Cow<'_, str> {
    if field.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", field.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(field)
    }
}

/// How many addresses ended in each class.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) addresses: usize,
    pub(crate) valid: usize,
    pub(crate) invalid: usize,
    pub(crate) unverifiable: usize,
}

impl Counts {
    pub(crate) fn add(&mut self, class: Class) {
        self.addresses += 1;
        match class {
            Class::Valid => self.valid += 1,
            Class::Invalid => self.invalid += 1,
            Class::Unverifiable => self.unverifiable += 1,
        }
    }

    /// The closing line (without the tool's name).
    pub(crate) fn summary(&self, domains: usize, took: Duration) -> String {
        format!(
            "{} addresses, {} valid, {} invalid, {} unverifiable ({} domains, {:.1} s)",
            self.addresses,
            self.valid,
            self.invalid,
            self.unverifiable,
            domains,
            took.as_secs_f64()
        )
    }

    /// 0 when every address is valid, else 1.
    pub(crate) fn status(&self) -> u8 {
        u8::from(self.valid != self.addresses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_of(rows: &[(&str, Verdict)]) -> String {
        let mut out = Rows::new(Vec::new(), false);
        for (email, verdict) in rows {
            out.row(email, None, verdict).unwrap();
        }
        String::from_utf8(out.out).unwrap()
    }

    #[test]
    fn csv_quotes_only_what_needs_it() {
        let text = csv_of(&[
            ("a@b.example", Verdict::valid("MX 10 mx.b.example")),
            (
                "c@d.example",
                Verdict::valid("MX 10 a.d.example, 20 b.d.example"),
            ),
            ("e\"f@g.example", Verdict::invalid("has \"quotes\"")),
        ]);
        let expected = "email,class,detail\n\
                        a@b.example,valid,MX 10 mx.b.example\n\
                        c@d.example,valid,\"MX 10 a.d.example, 20 b.d.example\"\n\
                        \"e\"\"f@g.example\",invalid,\"has \"\"quotes\"\"\"\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn json_rows_are_one_object_per_line() {
        let mut out = Rows::new(Vec::new(), true);
        out.row(
            "a@b.example",
            Some("b.example"),
            &Verdict::unverifiable("x"),
        )
        .unwrap();
        out.row("bad", None, &Verdict::invalid("y")).unwrap();
        let text = String::from_utf8(out.out).unwrap();
        assert_eq!(
            text,
            "{\"email\":\"a@b.example\",\"class\":\"unverifiable\",\"detail\":\"x\",\"domain\":\"b.example\"}\n\
             {\"email\":\"bad\",\"class\":\"invalid\",\"detail\":\"y\",\"domain\":null}\n"
        );
    }

    #[test]
    fn nothing_is_written_before_the_first_row_or_flush() {
        let out = Rows::new(Vec::new(), false);
        assert!(out.out.is_empty());
        let mut out = Rows::new(Vec::new(), false);
        out.flush().unwrap();
        out.flush().unwrap();
        assert_eq!(out.out, b"email,class,detail\n");
    }

    #[test]
    fn status_is_zero_only_when_all_are_valid() {
        let mut c = Counts::default();
        assert_eq!(c.status(), 0);
        c.add(Class::Valid);
        assert_eq!(c.status(), 0);
        c.add(Class::Unverifiable);
        assert_eq!(c.status(), 1);
        assert_eq!(
            c.summary(2, Duration::from_millis(1234)),
            "2 addresses, 1 valid, 0 invalid, 1 unverifiable (2 domains, 1.2 s)"
        );
    }
}
