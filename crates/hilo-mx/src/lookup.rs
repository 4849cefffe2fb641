//! What DNS says about a domain's mail: its MX records; without any, the
//! A/AAAA fallback of RFC 5321 §5.1; a null MX (RFC 7505) as "no mail";
//! and what each resolver failure means. Owns the questions and their
//! reading; the resolver itself is `resolver`'s.

use std::net::IpAddr;
use std::time::Duration;

use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::rdata::MX;
use hickory_resolver::proto::ProtoErrorKind;
use hickory_resolver::{Name, ResolveError};

use crate::resolver::{Dns, Servers};
use crate::verdict::Verdict;

/// Checks domains, one at a time per calling thread: many threads may
/// call [`Checker::check`] at once (the pool's workers do).
pub(crate) struct Checker {
    dns: Dns,
    timeout: Duration,
}

/// A question DNS did not answer with records.
enum Miss {
    /// The name exists, without records of the type asked (NODATA).
    NoData,
    /// The name does not exist.
    NxDomain,
    /// No usable answer: a timeout, SERVFAIL, REFUSED...
    Failed(String),
}

impl Checker {
    pub(crate) fn new(servers: Servers, timeout: Duration) -> Result<Checker, String> {
        Ok(Checker {
            dns: Dns::new(servers, timeout)?,
            timeout,
        })
    }

    /// The verdict on `domain` (ASCII, as `syntax` gives it), within the
    /// timeout: its MX query and, if needed, its A and AAAA queries (at
    /// once) share that one deadline.
    pub(crate) fn check(&self, domain: &str) -> Verdict {
        // The trailing dot makes the name fully qualified: no search list.
        let name = match Name::from_ascii(format!("{domain}.")) {
            Ok(name) => name,
            Err(e) => return Verdict::invalid(format!("not a DNS name: {e}")),
        };
        // The deadline's timer must be made inside the runtime: in the
        // async block, not before it.
        let lookup = async { tokio::time::timeout(self.timeout, self.mail_servers(name)).await };
        self.dns
            .block_on(lookup)
            .unwrap_or_else(|_| Verdict::unverifiable(self.no_answer()))
    }

    async fn mail_servers(&self, name: Name) -> Verdict {
        match self.dns.resolver().mx_lookup(name.clone()).await {
            Ok(found) => {
                let records: Vec<MX> = found.iter().cloned().collect();
                if records.is_empty() {
                    // Only an alias came back: as NODATA.
                    return self.address_fallback(name).await;
                }
                from_mx(records)
            }
            Err(e) => match self.miss(&e) {
                Miss::NoData => self.address_fallback(name).await,
                Miss::NxDomain => Verdict::invalid("NXDOMAIN: the domain does not exist"),
                Miss::Failed(why) => Verdict::unverifiable(why),
            },
        }
    }

    /// RFC 5321 §5.1: without MX records, the domain itself is the mail
    /// server if it has an address.
    async fn address_fallback(&self, name: Name) -> Verdict {
        let resolver = self.dns.resolver();
        let (v4, v6) = tokio::join!(
            resolver.ipv4_lookup(name.clone()),
            resolver.ipv6_lookup(name)
        );
        let v4 = v4.map(|found| found.iter().map(|a| IpAddr::V4(a.0)).next());
        let v6 = v6.map(|found| found.iter().map(|a| IpAddr::V6(a.0)).next());
        let mut failed = None;
        for (kind, answer) in [("A", v4), ("AAAA", v6)] {
            match answer {
                Ok(Some(address)) => {
                    return Verdict::valid(format!("no MX; {kind} {address} (RFC 5321 fallback)"))
                }
                Ok(None) => {}
                Err(e) => {
                    if let Miss::Failed(why) = self.miss(&e) {
                        failed.get_or_insert(format!("no MX; {kind}: {why}"));
                    }
                }
            }
        }
        match failed {
            Some(why) => Verdict::unverifiable(why),
            None => Verdict::invalid("no MX, A or AAAA records"),
        }
    }

    /// What a failed query means.
    fn miss(&self, e: &ResolveError) -> Miss {
        let Some(proto) = e.proto() else {
            return Miss::Failed(format!("lookup failed: {e}"));
        };
        match proto.kind() {
            ProtoErrorKind::NoRecordsFound { response_code, .. } => match *response_code {
                ResponseCode::NoError => Miss::NoData,
                ResponseCode::NXDomain => Miss::NxDomain,
                ResponseCode::ServFail => Miss::Failed("SERVFAIL from the name server".into()),
                ResponseCode::Refused => Miss::Failed("REFUSED by the name server".into()),
                code => Miss::Failed(format!("{} from the name server", code.to_str())),
            },
            ProtoErrorKind::Timeout => Miss::Failed(self.no_answer()),
            _ => Miss::Failed(format!("lookup failed: {proto}")),
        }
    }

    fn no_answer(&self) -> String {
        format!(
            "timed out: no answer within {}",
            hilo_term::show_duration(self.timeout)
        )
    }
}

/// The verdict of an MX answer: a null MX (every exchange `.`) means the
/// domain takes no mail; otherwise its servers, best first.
fn from_mx(mut records: Vec<MX>) -> Verdict {
    records.retain(|mx| !mx.exchange().is_root());
    if records.is_empty() {
        return Verdict::invalid("null MX (RFC 7505): the domain accepts no mail");
    }
    records.sort_by_key(|mx| mx.preference());
    let servers: Vec<String> = records
        .iter()
        .map(|mx| {
            let host = mx.exchange().to_ascii();
            format!("{} {}", mx.preference(), host.trim_end_matches('.'))
        })
        .collect();
    Verdict::valid(format!("MX {}", servers.join(", ")))
}
