//! The computing kernels behind `hilo`'s CPU tools, as plain functions the
//! binary, its tests and the benchmarks share; no command line and no I/O
//! policy. A tool in the binary parses its options, spreads this work over
//! a hilo pool and prints.
//!
//! One module per tool: `gzip` (parallel gzip blocks with a shared
//! dictionary), `sieve` (segmented sieve of Eratosthenes), `words`
//! (MapReduce word count); and `trial`, trial division, the CPU-bound
//! workload the lab and the benchmarks time.

mod cache;
pub mod gzip;
pub mod sieve;
pub mod trial;
pub mod words;

/// An I/O error's message without Rust's " (os error N)" suffix: one
/// short phrase for a one-line error.
pub fn io_message(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}
