//! The CPU tools of `hilo`: `compress` (gzip-compatible, in parallel, like
//! pigz), `primes` (a segmented sieve over a range) and `wordcount`
//! (MapReduce word counts). Each parses its options, spreads the kernels of
//! `hilo-work` over a hilo pool (threads or worker processes, `--engine`)
//! and prints; the `hilo` binary hands each subcommand to its `main`.

pub mod compress;
pub mod primes;
pub mod wordcount;

mod common;
