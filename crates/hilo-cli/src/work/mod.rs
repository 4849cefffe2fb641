//! One module per tool: `gzip` (parallel gzip blocks with a shared
//! dictionary), `sieve` (segmented sieve of Eratosthenes), `words`
//! (MapReduce word count).

pub mod gzip;
pub mod sieve;
pub mod words;
