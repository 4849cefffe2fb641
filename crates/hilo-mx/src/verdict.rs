//! What a check concludes about an address: its class and the detail that
//! says why. A leaf: `syntax` and `lookup` make verdicts, `output` prints
//! them.

/// The three answers `hilo mx` gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// The domain has mail servers: MX records, or (without any) an
    /// address to fall back on.
    Valid,
    /// Bad syntax, a domain that does not exist, a null MX, or no record
    /// at all: mail to it cannot be delivered.
    Invalid,
    /// DNS did not say: a timeout, SERVFAIL, REFUSED or another failure.
    Unverifiable,
}

impl Class {
    /// Its name in the output.
    ///
    /// ```
    /// assert_eq!(hilo_mx::Class::Unverifiable.name(), "unverifiable");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Class::Valid => "valid",
            Class::Invalid => "invalid",
            Class::Unverifiable => "unverifiable",
        }
    }
}

/// A class and the one line that says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The class.
    pub class: Class,
    /// Why: the records found, or what went wrong.
    pub detail: String,
}

impl Verdict {
    /// A valid verdict.
    pub fn valid(detail: impl Into<String>) -> Self {
        Verdict::new(Class::Valid, detail)
    }

    /// An invalid verdict.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Verdict::new(Class::Invalid, detail)
    }

    /// An unverifiable verdict.
    pub fn unverifiable(detail: impl Into<String>) -> Self {
        Verdict::new(Class::Unverifiable, detail)
    }

    fn new(class: Class, detail: impl Into<String>) -> Self {
        Verdict {
            class,
            detail: detail.into(),
        }
    }
}
