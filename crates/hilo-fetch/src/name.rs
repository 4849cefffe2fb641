//! What a downloaded file is called: `NAME-MD5.EXT`, NAME and EXT from the
//! URL's last path segment (percent-decoded; `index` and `.html` when it
//! is empty), MD5 the 32 hex digits of the content's MD5. The same content
//! from anywhere under the same name is one file.

/// The longest file name most file systems take, in bytes.
const NAME_MAX: usize = 255;

/// The file name for content with MD5 `md5` (32 hex digits) fetched from
/// `url` (an http(s) URL that parsed).
pub fn file_name(url: &url::Url, md5: &str) -> String {
    let segment = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
    // No path separators, no control characters, no hidden files.
    let clean: String = decoded
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let clean = clean.trim_start_matches('.');
    let (stem, ext) = if clean.is_empty() {
        ("index", ".html")
    } else {
        match clean.rfind('.') {
            Some(dot) if dot > 0 => clean.split_at(dot),
            _ => (clean, ""),
        }
    };
    // Long names are cut (on a character boundary) to leave room for the
    // hash and the extension.
    let ext = cut(ext, 32);
    let room = NAME_MAX - 1 - md5.len() - ext.len();
    format!("{}-{md5}{ext}", cut(stem, room))
}

/// The longest prefix of `s` of at most `max` bytes that ends on a
/// character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD5: &str = "0123456789abcdef0123456789abcdef";

    fn name(url: &str) -> String {
        file_name(&url::Url::parse(url).unwrap(), MD5)
    }

    #[test]
    fn name_and_extension_come_from_the_last_segment() {
        assert_eq!(
            name("https://a.example/pub/report.pdf"),
            format!("report-{MD5}.pdf")
        );
        assert_eq!(
            name("https://a.example/x/archive.tar.gz?x=1#f"),
            format!("archive.tar-{MD5}.gz")
        );
        assert_eq!(
            name("https://a.example/download"),
            format!("download-{MD5}")
        );
    }

    #[test]
    fn an_empty_segment_is_index_html() {
        assert_eq!(name("https://a.example"), format!("index-{MD5}.html"));
        assert_eq!(name("https://a.example/docs/"), format!("index-{MD5}.html"));
    }

    #[test]
    fn decoded_names_stay_one_plain_file() {
        assert_eq!(
            name("http://a.example/caf%C3%A9.txt"),
            format!("café-{MD5}.txt")
        );
        assert_eq!(name("http://a.example/a%2Fb.txt"), format!("a_b-{MD5}.txt"));
        assert_eq!(name("http://a.example/.hidden"), format!("hidden-{MD5}"));
        let up = name("http://a.example/..%2F..%2Fetc");
        assert!(!up.contains('/') && !up.starts_with('.'), "{up}");
        let long = format!("http://a.example/{}.bin", "é".repeat(300));
        let n = name(&long);
        assert!(n.len() <= 255, "{}", n.len());
        assert!(n.ends_with(&format!("-{MD5}.bin")), "{n}");
    }
}
