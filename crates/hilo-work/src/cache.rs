//! Cache hints shared by the kernels.

/// Starts fetching the cache line that holds `item` into the L1 cache, so
/// that a read or write of it a little later does not wait for memory.
/// Only a hint: it changes no value, and is a no-op off x86_64.
#[inline(always)]
pub(crate) fn prefetch<T>(item: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` needs SSE, which every x86_64 CPU has (it is
    // in the target's baseline), and it never faults: it is a hint that
    // reads nothing the program sees, whatever the address (here that of
    // a live reference).
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((item as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = item;
}
