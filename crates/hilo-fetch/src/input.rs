//! What to download: lines `URL [high|medium|low]` (medium if the level is
//! left out), from the command line, a file or stdin. A line that is not a
//! download is that line's error; the others still run.

use std::fmt;

/// A download's level: every pending `High` starts before any `Medium`,
/// every `Medium` before any `Low`; first come, first served within one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Low,
    Medium,
    High,
}

impl Level {
    /// The word a line uses for it.
    pub fn name(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One download asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Where it was asked for: its 1-based line, 0 for a command-line
    /// argument.
    pub line: usize,
    /// The URL as written.
    pub url: String,
    pub level: Level,
}

/// Why a line asks for no download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// Not an `http` or `https` URL.
    BadUrl {
        line: usize,
        url: String,
        why: String,
    },
    /// A second word that is not a level, or more than two words.
    BadLevel { line: usize, word: String },
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Line 0: a URL given as an argument, named by itself.
            LineError::BadUrl { line: 0, url, why } => write!(f, "{url}: {why}"),
            LineError::BadUrl { line, url, why } => write!(f, "line {line}: {url}: {why}"),
            LineError::BadLevel { line, word } => write!(
                f,
                "line {line}: {word:?} is not a level (high, medium or low)"
            ),
        }
    }
}

impl std::error::Error for LineError {}

/// Reads one line: `None` for a blank line or a comment (`#`).
pub fn parse_line(line: usize, text: &str) -> Option<Result<Request, LineError>> {
    let text = text.trim();
    if text.is_empty() || text.starts_with('#') {
        return None;
    }
    let mut words = text.split_whitespace();
    let url = words.next()?.to_owned();
    if let Err(why) = check_url(&url) {
        return Some(Err(LineError::BadUrl { line, url, why }));
    }
    let level = match (words.next(), words.next()) {
        (None, _) => Level::Medium,
        (Some(word), None) => match word.to_ascii_lowercase().as_str() {
            "high" => Level::High,
            "medium" => Level::Medium,
            "low" => Level::Low,
            _ => {
                return Some(Err(LineError::BadLevel {
                    line,
                    word: word.to_owned(),
                }))
            }
        },
        (Some(_), Some(extra)) => {
            return Some(Err(LineError::BadLevel {
                line,
                word: extra.to_owned(),
            }))
        }
    };
    Some(Ok(Request { line, url, level }))
}

/// An `http` or `https` URL with a host, or why not.
pub fn check_url(url: &str) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => return Err(format!("{other}: only http and https are fetched")),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("no host".to_owned());
    }
    Ok(parsed)
}

/// Every line of `text`, numbered from 1.
pub fn parse_all(text: &str) -> Vec<Result<Request, LineError>> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| parse_line(i + 1, l))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_is_optional_and_medium_by_default() {
        let got = parse_all(
            "https://a.example/x.iso high\n\n# a comment\nhttp://b.example/\n  http://c.example/y LOW  \n",
        );
        let levels: Vec<_> = got.iter().map(|r| r.as_ref().unwrap().level).collect();
        assert_eq!(levels, [Level::High, Level::Medium, Level::Low]);
        let lines: Vec<_> = got.iter().map(|r| r.as_ref().unwrap().line).collect();
        assert_eq!(lines, [1, 4, 5]);
        assert_eq!(got[2].as_ref().unwrap().url, "http://c.example/y");
    }

    #[test]
    fn a_bad_line_is_its_own_error() {
        let got = parse_all(
            "ftp://a.example/f\nnot a url\nhttp://ok.example/ urgent\nhttp://\nhttp://ok.example/",
        );
        assert!(
            matches!(&got[0], Err(LineError::BadUrl { line: 1, why, .. }) if why.contains("only http"))
        );
        assert!(
            matches!(&got[1], Err(LineError::BadUrl { line: 2, .. })),
            "{got:?}"
        );
        assert!(matches!(&got[2], Err(LineError::BadLevel { line: 3, word }) if word == "urgent"));
        assert!(
            matches!(&got[3], Err(LineError::BadUrl { line: 4, .. })),
            "{:?}",
            got[3]
        );
        assert!(got[4].is_ok());
        assert_eq!(
            got[2].as_ref().unwrap_err().to_string(),
            "line 3: \"urgent\" is not a level (high, medium or low)"
        );
    }

    #[test]
    fn levels_order_high_first() {
        assert!(Level::High > Level::Medium && Level::Medium > Level::Low);
    }
}
