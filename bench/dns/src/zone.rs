//! What the server knows: a table from domain to [`Answer`], and the
//! records each answer gives for each type of question. Serves nothing.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use hickory_server::proto::op::ResponseCode;
use hickory_server::proto::rr::rdata::{A, AAAA, MX};
use hickory_server::proto::rr::{Name, RData, Record, RecordType};

/// How the server answers every question about one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// MX records (preference, exchange); other types: no records.
    Mx(Vec<(u16, String)>),
    /// One MX record with exchange `.` (RFC 7505); other types: none.
    NullMx,
    /// An A record and nothing else.
    A(Ipv4Addr),
    /// An AAAA record and nothing else.
    Aaaa(Ipv6Addr),
    /// The name exists, with no records (NOERROR, empty).
    NoData,
    /// The name does not exist (NXDOMAIN).
    NxDomain,
    /// SERVFAIL.
    ServFail,
    /// REFUSED.
    Refused,
    /// No answer at all, ever.
    Silent,
}

/// A reply: its code and answer records, or none for [`Answer::Silent`].
pub(crate) type Reply = Option<(ResponseCode, Vec<Record>)>;

impl Answer {
    /// The reply to a question of type `asked` about `name`.
    pub(crate) fn reply(&self, name: &Name, asked: RecordType) -> Reply {
        let record = |data: RData| vec![Record::from_rdata(name.clone(), 300, data)];
        let records = match (self, asked) {
            (Answer::Mx(list), RecordType::MX) => list
                .iter()
                .filter_map(|(pref, host)| {
                    let exchange = Name::from_ascii(format!("{host}.")).ok()?;
                    Some(Record::from_rdata(
                        name.clone(),
                        300,
                        RData::MX(MX::new(*pref, exchange)),
                    ))
                })
                .collect(),
            (Answer::NullMx, RecordType::MX) => record(RData::MX(MX::new(0, Name::root()))),
            (Answer::A(ip), RecordType::A) => record(RData::A(A(*ip))),
            (Answer::Aaaa(ip), RecordType::AAAA) => record(RData::AAAA(AAAA(*ip))),
            (Answer::NxDomain, _) => return Some((ResponseCode::NXDomain, vec![])),
            (Answer::ServFail, _) => return Some((ResponseCode::ServFail, vec![])),
            (Answer::Refused, _) => return Some((ResponseCode::Refused, vec![])),
            (Answer::Silent, _) => return None,
            _ => vec![],
        };
        Some((ResponseCode::NoError, records))
    }
}

/// Domains and their answers; a name not in the table gets the fallback
/// answer (NXDOMAIN unless changed).
///
/// ```
/// use hilo_bench_dns::{Answer, Zone};
///
/// let zone = Zone::parse("a.test mx\nb.test servfail\n").unwrap();
/// assert_eq!(zone.answer("A.TEST."), &Answer::Mx(vec![(10, "mx.a.test".into())]));
/// assert_eq!(zone.answer("c.test"), &Answer::NxDomain);
/// ```
#[derive(Debug, Clone)]
pub struct Zone {
    names: HashMap<String, Answer>,
    otherwise: Answer,
}

impl Default for Zone {
    fn default() -> Self {
        Zone {
            names: HashMap::new(),
            otherwise: Answer::NxDomain,
        }
    }
}

impl Zone {
    /// An empty zone: every name NXDOMAIN.
    pub fn new() -> Self {
        Zone::default()
    }

    /// `name` (any case, with or without the final dot) answers `answer`.
    pub fn with(mut self, name: &str, answer: Answer) -> Self {
        self.names.insert(key(name), answer);
        self
    }

    /// Names not in the table answer `answer`.
    pub fn otherwise(mut self, answer: Answer) -> Self {
        self.otherwise = answer;
        self
    }

    /// The answer for `name`.
    pub fn answer(&self, name: &str) -> &Answer {
        self.names.get(&key(name)).unwrap_or(&self.otherwise)
    }

    /// A zone from lines `NAME KIND`, KIND one of `mx` (one record,
    /// `10 mx.NAME`), `nullmx`, `a` (192.0.2.1), `aaaa` (2001:db8::1),
    /// `nodata`, `nxdomain`, `servfail`, `refused`, `silent`; blank lines
    /// and `#` comments skipped.
    ///
    /// # Errors
    /// The first line that is not of that form.
    pub fn parse(text: &str) -> Result<Zone, String> {
        let mut zone = Zone::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let bad = || format!("line {}: expected NAME KIND, got {line:?}", i + 1);
            let mut words = line.split_whitespace();
            let (Some(name), Some(kind), None) = (words.next(), words.next(), words.next()) else {
                return Err(bad());
            };
            let answer = match kind {
                "mx" => Answer::Mx(vec![(10, format!("mx.{}", key(name)))]),
                "nullmx" => Answer::NullMx,
                "a" => Answer::A(Ipv4Addr::new(192, 0, 2, 1)),
                "aaaa" => Answer::Aaaa(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
                "nodata" => Answer::NoData,
                "nxdomain" => Answer::NxDomain,
                "servfail" => Answer::ServFail,
                "refused" => Answer::Refused,
                "silent" => Answer::Silent,
                _ => return Err(bad()),
            };
            zone = zone.with(name, answer);
        }
        Ok(zone)
    }
}

/// The table's key: small letters, no final dot.
pub(crate) fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}
