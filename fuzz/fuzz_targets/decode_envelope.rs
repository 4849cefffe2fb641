//! Feeds arbitrary bytes to the Redis executor's decoders, as a task
//! envelope (what a worker reads from the queue) and as a reply (what a
//! client reads from its inbox): an error for bad input, never a panic, a
//! hang or an allocation without bound.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hilo_redis::fuzz_decode(data);
});
