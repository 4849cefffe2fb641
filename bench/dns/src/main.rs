//! `hilo-bench-dns`: serves a zone file on 127.0.0.1 until its standard
//! input closes (bench/io_mx.sh holds it open), then prints what it was
//! asked. The zone file has lines `NAME KIND` (see `Zone::parse`).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use hilo_bench_dns::{DnsServer, Zone};

/// Serve a zone on 127.0.0.1 until stdin closes.
#[derive(Parser, Debug)]
struct Args {
    /// Lines `NAME KIND`: KIND mx, nullmx, a, aaaa, nodata, nxdomain, servfail, refused or silent
    zone: PathBuf,

    /// Milliseconds to wait before each reply
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match serve(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hilo-bench-dns: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: &Args) -> Result<(), String> {
    let text = std::fs::read_to_string(&args.zone)
        .map_err(|e| format!("cannot read {}: {e}", args.zone.display()))?;
    let zone = Zone::parse(&text)?;
    let server = DnsServer::start(zone, Duration::from_millis(args.delay_ms))
        .map_err(|e| format!("cannot start: {e}"))?;
    // One line the script waits for, then one at the end: `name key=value`.
    println!("dns_listening addr={}", server.addr());
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    println!(
        "dns_served questions={} max_in_flight={}",
        server.asked_in_all(),
        server.max_in_flight()
    );
    Ok(())
}
