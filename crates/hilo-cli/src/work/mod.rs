//! One module per tool: `gzip` (parallel gzip blocks with a shared
//! dictionary), `sieve` (segmented sieve of Eratosthenes), `words`
//! (MapReduce word count).

pub mod gzip;
pub mod sieve;
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
