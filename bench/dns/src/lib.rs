//! A DNS server that answers from a table, for `hilo mx`'s tests and
//! `bench/io_mx.sh`: MX records, a null MX, A-only and AAAA-only names,
//! NODATA, NXDOMAIN, SERVFAIL, REFUSED, or silence; each reply after a
//! delay if asked. It counts the questions per name and the most it was
//! answering at once, so a test can see how many lookups a client made
//! and how many overlapped, from the server's side.
//!
//! ```
//! use std::time::Duration;
//! use hilo_bench_dns::{Answer, DnsServer, Zone};
//!
//! let zone = Zone::new()
//!     .with("mail.test", Answer::Mx(vec![(10, "mx.mail.test".into())]))
//!     .with("down.test", Answer::ServFail);
//! let server = DnsServer::start(zone, Duration::from_millis(5)).unwrap();
//! println!("ask {}", server.addr()); // 127.0.0.1:PORT, UDP and TCP
//! drop(server); // stops it and joins its thread
//! ```

#![deny(missing_docs)]

mod server;
mod stats;
mod zone;

pub use server::DnsServer;
pub use zone::{Answer, Zone};
