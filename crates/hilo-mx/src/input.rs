//! The addresses to check: one per line of a file or of standard input,
//! surrounding whitespace trimmed, blank lines skipped. Read whole before
//! anything is printed, so an input that cannot be read stops the run with
//! nothing written.

use std::io::Read;

use crate::plan::Input;

/// The addresses of `input`, in order.
///
/// # Errors
/// One line naming the input: it cannot be opened or read, or a line is
/// not UTF-8.
pub(crate) fn read(input: &Input) -> Result<Vec<String>, String> {
    let (name, bytes) = match input {
        Input::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            ("standard input".to_owned(), bytes)
        }
        Input::File(path) => {
            let name = path.display().to_string();
            let bytes = std::fs::read(path).map_err(|e| format!("cannot read {name}: {e}"))?;
            (name, bytes)
        }
    };
    addresses(&name, &bytes)
}

fn addresses(name: &str, bytes: &[u8]) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = std::str::from_utf8(line)
            .map_err(|_| format!("{name}: line {} is not UTF-8", i + 1))?
            .trim();
        if !line.is_empty() {
            found.push(line.to_owned());
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::addresses;

    #[test]
    fn lines_are_trimmed_and_blank_ones_skipped() {
        let text = b"  a@b.example \r\n\n\t\nc@d.example\n   \ne@f.example";
        let got = addresses("x", text).unwrap();
        assert_eq!(got, ["a@b.example", "c@d.example", "e@f.example"]);
        assert!(addresses("x", b"").unwrap().is_empty());
        assert!(addresses("x", b"\n \n").unwrap().is_empty());
    }

    #[test]
    fn a_line_that_is_not_utf8_is_named() {
        let err = addresses("list.txt", b"a@b.example\nbad\xff@c.example\n").unwrap_err();
        assert_eq!(err, "list.txt: line 2 is not UTF-8");
    }
}
