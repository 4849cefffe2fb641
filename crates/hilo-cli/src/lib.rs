//! The computing code behind `hilo`'s CPU tools, as plain functions the
//! binary, the tests and the benchmarks share. No I/O policy, no CLI: a
//! subcommand in the binary parses its options, spreads this work over a
//! hilo pool and prints.

pub mod work;
