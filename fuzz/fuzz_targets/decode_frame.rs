//! Feeds arbitrary bytes to the process pool's frame decoder, as either
//! direction's message: it must return an error for bad input, never
//! panic, hang or allocate without bound.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Whether the bytes parsed does not matter: only that decoding returns.
    let _ = hilo::process::fuzz_decode(data);
});
