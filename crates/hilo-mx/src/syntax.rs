//! The syntax rule an address must pass before its domain is looked up.
//! Owns the rule and the words that say why an address breaks it; never
//! looks anything up.
//!
//! The rule (also in `hilo mx --help`):
//!
//! - one `@`, the last one, splits the address into a local part and a
//!   domain;
//! - the local part is a dot-atom of RFC 5322: 1 to 64 octets of atext
//!   (ASCII letters, digits and ``! # $ % & ' * + - / = ? ^ _ ` { | } ~``)
//!   in runs joined by single dots, no dot first or last;
//! - the domain is converted to ASCII by IDNA (UTS 46: `bücher.de` becomes
//!   `xn--bcher-kva.de`, capitals become small), then must be a host name:
//!   at least two labels, each 1 to 63 letters, digits and hyphens, no
//!   hyphen first or last, 253 octets at most, the last label not all
//!   digits;
//! - quoted local parts (`"john doe"@example.com`) and address literals
//!   (`user@[192.0.2.1]`) are not supported: such addresses are invalid,
//!   and their detail says so.

/// An address that passed the rule.
///
/// ```
/// let a = hilo_mx::syntax::parse("Info@Bücher.DE").unwrap();
/// assert_eq!(a.local, "Info");
/// assert_eq!(a.domain, "xn--bcher-kva.de");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The local part, as written (its case matters to the mail server).
    pub local: String,
    /// The domain in ASCII (punycode for international names), small
    /// letters: the name that is looked up.
    pub domain: String,
}

/// Why an address breaks the rule; its text is the detail printed for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    /// No `@` at all.
    #[error("no @ between a local part and a domain")]
    NoAt,
    /// The local part is quoted.
    #[error("quoted local parts are not supported")]
    QuotedLocal,
    /// The domain is an address literal in brackets.
    #[error("address literals ([...]) are not supported")]
    AddressLiteral,
    /// Nothing before the `@`.
    #[error("empty local part")]
    EmptyLocal,
    /// More than 64 octets before the `@`.
    #[error("the local part is {0} octets long, the most is 64")]
    LocalTooLong(usize),
    /// A dot first or last in the local part.
    #[error("the local part starts or ends with a dot")]
    LocalDotAtEnd,
    /// Two dots in a row in the local part.
    #[error("the local part has two dots in a row")]
    LocalDoubleDot,
    /// A character that is not atext.
    #[error("the local part has {0:?}, which is not allowed unquoted (RFC 5322 atext)")]
    LocalChar(char),
    /// Nothing after the `@`.
    #[error("empty domain")]
    EmptyDomain,
    /// IDNA refused the domain.
    #[error("the domain is not a valid internationalized name (IDNA)")]
    Idna,
    /// Two dots in a row, or a dot first or last, in the domain.
    #[error("the domain has an empty label (two dots in a row, or a dot at an end)")]
    EmptyLabel,
    /// A label of more than 63 octets.
    #[error("the domain label {0:?} is longer than 63 octets")]
    LabelTooLong(String),
    /// A label with something other than a letter, digit or hyphen.
    #[error("the domain label {label:?} has {ch:?}: only letters, digits and hyphens are allowed")]
    LabelChar {
        /// The label, in ASCII.
        label: String,
        /// The first character not allowed.
        ch: char,
    },
    /// A label with a hyphen first or last.
    #[error("the domain label {0:?} starts or ends with a hyphen")]
    LabelHyphen(String),
    /// More than 253 octets in ASCII.
    #[error("the domain is {0} octets long in ASCII, the most is 253")]
    DomainTooLong(usize),
    /// A single label, such as `localhost`.
    #[error("the domain has one label: at least two are needed (name.tld)")]
    OneLabel,
    /// An all-digit last label, as in `user@192.0.2.1`.
    #[error("the domain's last label {0:?} is all digits (address literals are not supported)")]
    NumericTld(String),
}

/// Checks `address` (already trimmed) against the rule.
///
/// # Errors
/// The first way it breaks the rule.
///
/// ```
/// use hilo_mx::syntax::{parse, SyntaxError};
///
/// assert_eq!(parse("a.b@example.com").unwrap().domain, "example.com");
/// assert_eq!(parse("a..b@example.com"), Err(SyntaxError::LocalDoubleDot));
/// assert_eq!(parse("\"a b\"@example.com"), Err(SyntaxError::QuotedLocal));
/// ```
pub fn parse(address: &str) -> Result<Address, SyntaxError> {
    let (local, domain) = address.rsplit_once('@').ok_or(SyntaxError::NoAt)?;
    check_local(local)?;
    Ok(Address {
        local: local.to_owned(),
        domain: ascii_domain(domain)?,
    })
}

/// RFC 5322's atext, the characters a dot-atom is made of.
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

fn check_local(local: &str) -> Result<(), SyntaxError> {
    if local.starts_with('"') {
        return Err(SyntaxError::QuotedLocal);
    }
    if local.is_empty() {
        return Err(SyntaxError::EmptyLocal);
    }
    if local.len() > 64 {
        return Err(SyntaxError::LocalTooLong(local.len()));
    }
    if local.starts_with('.') || local.ends_with('.') {
        return Err(SyntaxError::LocalDotAtEnd);
    }
    if local.contains("..") {
        return Err(SyntaxError::LocalDoubleDot);
    }
    match local.chars().find(|&c| c != '.' && !is_atext(c)) {
        Some(c) => Err(SyntaxError::LocalChar(c)),
        None => Ok(()),
    }
}

/// The domain in ASCII, once it is a host name.
fn ascii_domain(domain: &str) -> Result<String, SyntaxError> {
    if domain.starts_with('[') {
        return Err(SyntaxError::AddressLiteral);
    }
    if domain.is_empty() {
        return Err(SyntaxError::EmptyDomain);
    }
    // No deny list here: characters IDNA would pass but a host name may
    // not have (`_`, a space) are named by the label check below.
    let ascii = idna::domain_to_ascii_cow(domain.as_bytes(), idna::AsciiDenyList::EMPTY)
        .map_err(|_| SyntaxError::Idna)?;
    check_host_name(&ascii)?;
    Ok(ascii.into_owned())
}

/// RFC 1123's host name, in ASCII.
fn check_host_name(ascii: &str) -> Result<(), SyntaxError> {
    let labels: Vec<&str> = ascii.split('.').collect();
    for label in &labels {
        check_label(label)?;
    }
    if ascii.len() > 253 {
        return Err(SyntaxError::DomainTooLong(ascii.len()));
    }
    match labels.as_slice() {
        [_] => Err(SyntaxError::OneLabel),
        [.., last] if last.bytes().all(|b| b.is_ascii_digit()) => {
            Err(SyntaxError::NumericTld((*last).to_owned()))
        }
        _ => Ok(()),
    }
}

fn check_label(label: &str) -> Result<(), SyntaxError> {
    if label.is_empty() {
        return Err(SyntaxError::EmptyLabel);
    }
    if label.len() > 63 {
        return Err(SyntaxError::LabelTooLong(label.to_owned()));
    }
    if let Some(ch) = label
        .chars()
        .find(|&c| !c.is_ascii_alphanumeric() && c != '-')
    {
        return Err(SyntaxError::LabelChar {
            label: label.to_owned(),
            ch,
        });
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(SyntaxError::LabelHyphen(label.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
