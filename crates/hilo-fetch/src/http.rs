//! One try of one download: a GET through a shared agent (connections
//! reused, gzip, at most [`MAX_REDIRECTS`] redirects, a timeout for the
//! whole request), the body streamed into a file while its MD5 is taken,
//! and, when it fails, whether another try may help.
//!
//! Tried again: connect errors, timeouts, resets, truncated bodies,
//! garbled responses, 5xx and 429 (after the `Retry-After` the server asks
//! for, if any). Never: other 4xx, too many redirects, a bad address.

use std::io::{self, Read, Write};
use std::time::{Duration, SystemTime};

use hilo_work::io_message;
use md5::{Digest, Md5};

/// Redirects followed before a download fails.
pub const MAX_REDIRECTS: u32 = 10;

/// The agent every download shares.
pub struct Client {
    agent: ureq::Agent,
}

/// What a download's progress bar hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The body's length, if the server said it.
    Length(Option<u64>),
    /// So many more bytes arrived.
    Got(u64),
}

/// A body received whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Got {
    pub status: u16,
    pub bytes: u64,
    /// 32 lower-case hex digits.
    pub md5: String,
}

/// Whether a failed try is worth another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    No,
    Yes,
    /// Yes, after this long (the server's `Retry-After`).
    After(Duration),
}

/// A try that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// The response's status, if one came.
    pub status: Option<u16>,
    /// Body bytes received before it failed.
    pub bytes: u64,
    pub error: String,
    pub retry: Retry,
}

impl Client {
    /// An agent whose requests each end within `timeout`.
    pub fn new(timeout: Duration) -> Client {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .max_redirects(MAX_REDIRECTS)
            .http_status_as_error(false)
            .user_agent(concat!("hilo-fetch/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            agent: config.into(),
        }
    }

    /// GETs `url` and writes its body to `sink`; `progress` hears of the
    /// body's length if the server says it, then of each piece's as it
    /// arrives.
    ///
    /// # Errors
    /// [`Failed`]: no response, a status other than 2xx, or a body that
    /// did not arrive whole or could not be written (the write error is
    /// not retried).
    pub fn get(
        &self,
        url: &str,
        sink: &mut dyn Write,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Got, Failed> {
        let mut response = self
            .agent
            .get(url)
            .call()
            .map_err(|e| failed(None, 0, &e))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let retry = match status {
                429 | 500..=599 => response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(retry_after)
                    .map_or(Retry::Yes, Retry::After),
                _ => Retry::No,
            };
            let reason = response.status().canonical_reason().unwrap_or("");
            return Err(Failed {
                status: Some(status),
                bytes: 0,
                error: format!("HTTP {status} {reason}").trim_end().to_owned(),
                retry,
            });
        }
        progress(Progress::Length(response.body().content_length()));
        let mut body = response.body_mut().as_reader_unlimited();
        let mut hash = Md5::new();
        let mut bytes = 0u64;
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(body_error(status, bytes, &e)),
            };
            hash.update(&buf[..n]);
            sink.write_all(&buf[..n]).map_err(|e| Failed {
                status: Some(status),
                bytes,
                error: format!("cannot write the file: {}", io_message(&e)),
                retry: Retry::No,
            })?;
            bytes += n as u64;
            progress(Progress::Got(n as u64));
        }
        Ok(Got {
            status,
            bytes,
            md5: hex::encode(hash.finalize()),
        })
    }
}

/// Reads the body with no size limit (a download is as large as it is).
trait Unlimited {
    fn as_reader_unlimited(&mut self) -> ureq::BodyReader<'_>;
}

impl Unlimited for ureq::Body {
    fn as_reader_unlimited(&mut self) -> ureq::BodyReader<'_> {
        self.with_config().limit(u64::MAX).reader()
    }
}

/// A request that got no usable response.
fn failed(status: Option<u16>, bytes: u64, e: &ureq::Error) -> Failed {
    let retry = match e {
        ureq::Error::TooManyRedirects
        | ureq::Error::BadUri(_)
        | ureq::Error::RedirectFailed
        | ureq::Error::RequireHttpsOnly(_) => Retry::No,
        _ => Retry::Yes,
    };
    let error = match e {
        ureq::Error::TooManyRedirects => format!("more than {MAX_REDIRECTS} redirects"),
        ureq::Error::Timeout(_) => "timed out".to_owned(),
        ureq::Error::Io(io) => io_message(io),
        other => other.to_string(),
    };
    Failed {
        status,
        bytes,
        error,
        retry,
    }
}

/// A body that stopped before its end.
fn body_error(status: u16, bytes: u64, e: &io::Error) -> Failed {
    // ureq wraps its own errors (a timeout, a short body) in io::Error.
    let inner = e
        .get_ref()
        .and_then(|i| i.downcast_ref::<ureq::Error>())
        .map(|u| failed(Some(status), bytes, u).error);
    let error = match (e.kind(), inner) {
        (io::ErrorKind::UnexpectedEof, _) => format!("the body ended after {bytes} bytes"),
        (_, Some(inner)) => inner,
        _ => io_message(e),
    };
    Failed {
        status: Some(status),
        bytes,
        error,
        retry: Retry::Yes,
    }
}

/// `Retry-After`: seconds, or an HTTP date (how long until then; a date
/// past is no wait).
pub fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(" 0 "), Some(Duration::ZERO));
        let soon = SystemTime::now() + Duration::from_secs(120);
        let d = retry_after(&httpdate::fmt_http_date(soon)).unwrap();
        assert!(
            d > Duration::from_secs(100) && d <= Duration::from_secs(120),
            "{d:?}"
        );
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon"), None);
        assert_eq!(retry_after("-1"), None);
    }
}
