//! `--scrape`: the lesson's scraper. Each page is fetched as a download is
//! (retries included) but not saved: its status, size, time and `<title>`
//! are what is printed.

use std::io::{self, Write};

use crate::download::{Kept, Saved, Tried};
use crate::http::{Client, Failed, Progress, Retry};

/// How much of a page is kept to find its title in; the rest is counted.
pub const HEAD: usize = 1 << 20;

/// One try of `url`: its title, from its first [`HEAD`] bytes.
pub fn try_once(client: &Client, url: &str, progress: &mut dyn FnMut(Progress)) -> Tried {
    crate::input::check_url(url).map_err(|why| Failed {
        status: None,
        bytes: 0,
        error: why,
        retry: Retry::No,
    })?;
    let mut head = Head::default();
    let got = client.get(url, &mut head, progress)?;
    Ok(Saved {
        status: got.status,
        bytes: got.bytes,
        md5: got.md5,
        kept: Kept::Page {
            title: title(&String::from_utf8_lossy(&head.0)),
        },
    })
}

/// Keeps the first [`HEAD`] bytes written to it.
#[derive(Default)]
struct Head(Vec<u8>);

impl Write for Head {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = HEAD.saturating_sub(self.0.len());
        self.0.extend_from_slice(&buf[..room.min(buf.len())]);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The text of the first `<title>` of `html`: entities decoded, white
/// space collapsed; `None` if there is none or it is empty.
pub fn title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let text = decode_entities(&html[start..end]);
    let words: Vec<&str> = text.split_whitespace().collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&nbsp;` and numeric
/// references; anything else is left as written.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').filter(|&end| end <= 10).and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .map(|hex| u32::from_str_radix(hex, 16))
                    .or_else(|| name.strip_prefix('#').map(str::parse::<u32>))
                    .and_then(Result::ok)
                    .and_then(char::from_u32),
            }?;
            Some((c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_title_decoded_and_collapsed() {
        let page = "<html><head><TITLE lang=en>\n  Caf&eacute; &amp; Bar &#8212; &#x41;\t</TITLE></head><title>two</title>";
        assert_eq!(title(page).as_deref(), Some("Caf&eacute; & Bar \u{2014} A"));
        assert_eq!(title("<title></title>"), None);
        assert_eq!(title("<p>no title</p>"), None);
        assert_eq!(title("<title>never closed"), None);
        assert_eq!(
            title("<title>a &unknown b</title>").as_deref(),
            Some("a &unknown b")
        );
    }

    #[test]
    fn the_head_keeps_the_first_mebibyte() {
        let mut head = Head::default();
        head.write_all(&vec![b'a'; HEAD - 1]).unwrap();
        head.write_all(b"bcd").unwrap();
        assert_eq!(head.0.len(), HEAD);
        assert_eq!(head.0[HEAD - 1], b'b');
    }
}
