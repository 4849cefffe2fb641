//! The resolver `hilo mx` asks: hickory's, on one tokio runtime, pointed at
//! the system's name servers (`/etc/resolv.conf`) or at the one server
//! `--nameserver` names, with the options that keep the timeout promise.
//! Owns the runtime and the options; interprets no answer.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{NameServerConfigGroup, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::TokioResolver;

/// Which name servers to ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Servers {
    /// The system's, from `/etc/resolv.conf`.
    System,
    /// This one: UDP, and TCP for an answer too long for UDP.
    At(SocketAddr),
}

/// Parses `--nameserver`: `IP:PORT`, `[IPv6]:PORT`, or an IP alone (port
/// 53).
///
/// # Errors
/// One line saying what is expected.
///
/// ```
/// use hilo_mx::{parse_nameserver, Servers};
///
/// assert_eq!(parse_nameserver("127.0.0.1:5353").unwrap(), Servers::At("127.0.0.1:5353".parse().unwrap()));
/// assert_eq!(parse_nameserver("::1").unwrap(), Servers::At("[::1]:53".parse().unwrap()));
/// assert!(parse_nameserver("dns.example:53").is_err());
/// assert!(parse_nameserver("127.0.0.1:0").is_err());
/// ```
pub fn parse_nameserver(text: &str) -> Result<Servers, String> {
    let address = text
        .parse::<SocketAddr>()
        .or_else(|_| text.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
        .map_err(|_| format!("expected IP:PORT (127.0.0.1:53, [::1]:53) or an IP, got {text:?}"))?;
    if address.port() == 0 {
        return Err(format!(
            "port 0 is not a port a server listens on: {text:?}"
        ));
    }
    Ok(Servers::At(address))
}

/// A resolver and the runtime its sockets and timers run on.
pub(crate) struct Dns {
    // Declared first, dropped first: the resolver's connections go before
    // the runtime that drives them.
    resolver: TokioResolver,
    runtime: tokio::runtime::Runtime,
}

impl Dns {
    /// A resolver asking `servers`, each query waiting at most `timeout`
    /// and never retried.
    pub(crate) fn new(servers: Servers, timeout: Duration) -> Result<Dns, String> {
        // One thread drives every socket and timer; the lookups themselves
        // are polled on the pool's workers (`block_on`), each blocked on
        // its own, as the lesson's threads are.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("hilo-mx-dns")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the DNS runtime: {e}"))?;
        let (config, options) = match servers {
            Servers::System => hickory_resolver::system_conf::read_system_conf().map_err(|e| {
                format!(
                    "cannot read the system's resolver configuration (/etc/resolv.conf): {e}; \
                     name a server with --nameserver IP:PORT"
                )
            })?,
            Servers::At(at) => {
                let group = NameServerConfigGroup::from_ips_clear(&[at.ip()], at.port(), true);
                (
                    ResolverConfig::from_parts(None, vec![], group),
                    ResolverOpts::default(),
                )
            }
        };
        let _in_runtime = runtime.enter();
        let resolver =
            TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
                .with_options(promise_keeping(options, timeout))
                .build();
        Ok(Dns { resolver, runtime })
    }

    /// Runs `lookup` to its end on this thread, the runtime's thread
    /// driving its I/O and timers.
    pub(crate) fn block_on<F: std::future::Future>(&self, lookup: F) -> F::Output {
        self.runtime.handle().block_on(lookup)
    }

    pub(crate) fn resolver(&self) -> &TokioResolver {
        &self.resolver
    }
}

/// `options` changed so that what `hilo mx` promises holds: a query waits
/// `timeout` once (hickory would try 3 times: 3 × the timeout), nothing is
/// cached (every domain is asked once anyway, and a cached answer would
/// hide what the server says now), `/etc/hosts` is not consulted (it
/// names hosts, not mail domains), and an answer lost on UDP is asked
/// again over TCP. EDNS offers 1,232-octet UDP answers: a long MX list
/// comes in one datagram, and a server that would overrun a plain
/// query's 512 octets (hickory-server does, without setting TC) is told
/// the size to keep to. Names are asked fully qualified, so the search
/// list of resolv.conf never turns `example.com` into
/// `example.com.home.lan`.
fn promise_keeping(mut options: ResolverOpts, timeout: Duration) -> ResolverOpts {
    options.timeout = timeout;
    options.attempts = 0;
    options.cache_size = 0;
    options.use_hosts_file = ResolveHosts::Never;
    options.try_tcp_on_error = true;
    options.edns0 = true;
    options
}
