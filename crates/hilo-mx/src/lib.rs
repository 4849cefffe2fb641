//! `hilo mx`: check e-mail addresses' domains for mail servers (MX), many
//! at once — the lesson's exercise 2 (an e-mail validator on a
//! `ThreadPoolExecutor` of 20 workers with a 5 s timeout), done properly.
//!
//! Each address goes through three steps:
//!
//! 1. **Syntax** ([`syntax`]): the local part is a dot-atom of RFC 5322
//!    atext (1 to 64 octets, no dot first, last or twice in a row); the
//!    domain is converted to ASCII by IDNA (`user@bücher.de` is looked up
//!    as `xn--bcher-kva.de`) and must be a host name: at least two labels
//!    of 1 to 63 letters, digits and hyphens (no hyphen first or last),
//!    253 octets at most. Quoted local parts and address literals
//!    (`user@[192.0.2.1]`) are not supported and are `invalid`, with a
//!    detail saying so.
//! 2. **Lookup**, once per distinct domain, on a hilo
//!    [`ThreadPool`](hilo::ThreadPool) of `-j` workers (20 by default):
//!    the MX records; without any (NODATA), the A and AAAA records, as
//!    RFC 5321 §5.1 falls back to the domain itself; a null MX (one MX
//!    record whose exchange is `.`, RFC 7505) says the domain takes no
//!    mail. The resolver is hickory's, on one tokio runtime whose single
//!    thread drives the sockets; each worker blocks on its own lookup, so
//!    `-j 20` means 20 questions in the air at once.
//! 3. **Class**: [`Class::Valid`] (MX records, or an address to fall back
//!    on), [`Class::Invalid`] (bad syntax, NXDOMAIN, a null MX, no
//!    records at all), [`Class::Unverifiable`] (a timeout, SERVFAIL,
//!    REFUSED, any other failure of the resolver).
//!
//! A domain's check (its MX query and, if needed, its A and AAAA queries,
//! sent together) gets `--timeout` (5 s) in all: queries are not retried
//! and nothing is cached, so a domain whose server never answers is
//! `unverifiable` after the timeout and not three times it.
//!
//! Rows come out in input order (CSV `email,class,detail` with a header,
//! or JSON lines), then one line of counts on stderr. Exit status: 0 when
//! every address is valid, 1 when some are not, 2 for a usage error (a
//! bad option, an unreadable input, a bad `--nameserver`), with one line
//! on stderr and nothing on stdout.

#![deny(missing_docs)]

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hilo_term::Failure;

mod input;
mod lookup;
mod output;
mod plan;
mod resolver;
pub mod syntax;
mod verdict;
mod work;

pub use resolver::{parse_nameserver, Servers};
pub use verdict::{Class, Verdict};

const AFTER_HELP: &str = "\
Syntax (checked before any lookup):
  The local part is a dot-atom of RFC 5322: 1-64 octets of letters, digits and
  ! # $ % & ' * + - / = ? ^ _ ` { | } ~ in runs joined by single dots. The domain
  is converted to ASCII by IDNA (bücher.de -> xn--bcher-kva.de) and must have at
  least two labels of 1-63 letters, digits and hyphens (none first or last),
  253 octets in all. Quoted local parts (\"john doe\"@example.com) and address
  literals (user@[192.0.2.1]) are not supported: they are invalid.

Classes:
  valid         MX records, or none but an A/AAAA record (RFC 5321 fallback)
  invalid       bad syntax, NXDOMAIN, a null MX (RFC 7505), no records at all
  unverifiable  a timeout, SERVFAIL, REFUSED or another resolver failure

Each distinct domain is looked up once; its MX query and its A/AAAA fallback
share --timeout, and are not retried.

Examples:
  hilo mx list.txt > checked.csv
  grep -h @ *.txt | hilo mx --json - | jq -r 'select(.class==\"invalid\").email'
  hilo mx --nameserver 127.0.0.1:5353 --timeout 1s list.txt

Exit status:
  0  every address is valid    1  some are invalid or unverifiable
  2  bad usage: a bad option, an unreadable input, a bad --nameserver";

/// Check e-mail addresses' domains for mail servers (MX), many at once.
///
/// Reads one address per line from FILE (or standard input: -) and prints
/// `email,class,detail` for each, in input order.
#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The addresses, one per line (- for standard input)
    #[arg(value_name = "FILE")]
    input: PathBuf,

    /// Lookups at once: N, N% of the cores, +N or -N cores, or 0 for the default [default: 20]
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = hilo_term::parse_jobs,
          allow_negative_numbers = true)]
    jobs: Option<hilo_term::Jobs>,

    /// The most a domain's check may take: 5s, 1.5s, 500ms
    #[arg(long, value_name = "DURATION", value_parser = hilo_term::parse_timeout, default_value = "5s")]
    timeout: Duration,

    /// Ask this DNS server (IP:PORT; UDP, TCP for long answers) instead of the system's (/etc/resolv.conf)
    #[arg(long, value_name = "IP:PORT", value_parser = parse_nameserver)]
    nameserver: Option<Servers>,

    /// One JSON object per line ({"email","class","detail","domain"}) instead of CSV
    #[arg(long)]
    json: bool,
}

/// Runs `hilo mx`; returns the exit status.
pub fn main(args: Args) -> u8 {
    match run(args) {
        Ok(status) => status,
        Err(failure) => failure.report("mx"),
    }
}

/// Checks every address; returns 0 if all are valid, else 1.
fn run(args: Args) -> Result<u8, Failure> {
    let began = Instant::now();
    let plan = plan::Plan::of(args);
    // Everything that can be refused is refused before any output: the
    // input here, the resolver's set-up in `check_all` before its first
    // row (`Rows` writes the header with that row).
    let addresses = input::read(&plan.input).map_err(Failure::usage)?;
    let checker = || lookup::Checker::new(plan.servers, plan.timeout).map_err(Failure::usage);
    let stdout = std::io::stdout().lock();
    let mut report = Report {
        rows: output::Rows::new(BufWriter::new(stdout), plan.json),
        counts: output::Counts::default(),
    };
    let domains = work::check_all(&addresses, checker, plan.jobs, &mut report)?;
    report.rows.flush().map_err(Failure::output)?;
    eprintln!(
        "hilo mx: {}",
        report.counts.summary(domains, began.elapsed())
    );
    Ok(report.counts.status())
}

/// The rows and the counts, filled in input order.
struct Report<W: Write> {
    rows: output::Rows<W>,
    counts: output::Counts,
}

impl<W: Write> work::Sink for Report<W> {
    fn row(&mut self, email: &str, domain: Option<&str>, verdict: &Verdict) -> Result<(), Failure> {
        self.counts.add(verdict.class);
        self.rows
            .row(email, domain, verdict)
            .map_err(Failure::output)
    }

    fn pause(&mut self) -> Result<(), Failure> {
        self.rows.flush().map_err(Failure::output)
    }
}
