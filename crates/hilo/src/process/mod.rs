//! [`ProcessPool`]: tasks in separate processes, with crash isolation,
//! killing timeouts and resource limits.
//!
//! # The life of a task
//!
//! ```text
//!  submit(square::call(7))            supervisor thread (one per slot)        worker process
//!  ───────────────────────            ────────────────────────────────        ──────────────
//!  args serialised (postcard)  ──▶    takes the call from the queue
//!  Future<u64> returned               marks the future Running           ──▶  Run{id,"crate::square",args}
//!                                     waits for the answer (timeout)           looks the name up, runs it,
//!  fut.result() == Ok(49)     ◀──     completes the future               ◀──   Done{id, Value(bytes)}
//! ```
//!
//! # The life of a worker
//!
//! A worker is this same program, started again with `HILO_WORKER` in its
//! environment and a socket as stdin. `hilo::init()`, the first line of
//! `main`, notices the marker and removes it (and the pool's other
//! variables) from the environment, takes the socket on a close-on-exec
//! descriptor (stdin becomes `/dev/null`; stdout and stderr stay the
//! user's; every other inherited descriptor is made close-on-exec), asks
//! the kernel to kill it when the pool's process dies, applies the limits,
//! runs the initializer, says `Ready`, then serves tasks one at a time. A
//! program a task starts therefore sees nothing of the pool. The pool
//! signals a worker only through a pidfd, never by its pid. While its tasks are short
//! (under 2 ms) and more are queued than idle workers will take, its
//! supervisor keeps it holding two: the one it runs and the next, already
//! sent, so the worker never waits for the pool between tasks; long tasks
//! are sent one at a time, so none waits behind another while a worker is
//! free. A task counts as running from the moment a worker holds it;
//! cancelling one that waits behind another kills the worker the moment it
//! gets to it, and tasks a dying worker held but never started go back to
//! the queue:
//!
//! ```text
//!  started ──Ready──▶ serving ──Exit / socket closed──▶ exits 0, reaped
//!                       │
//!                       ├── task panics ─────▶ Done{Panicked}, keeps serving
//!                       ├── exits, aborts, segfaults, is killed, hits a limit
//!                       │      ─▶ its task fails with WorkerDied, reaped, replaced
//!                       ├── task exceeds its timeout, or is cancelled while running
//!                       │      ─▶ killed, reaped, replaced
//!                       └── ran max_tasks_per_child tasks ─▶ told to Exit, replaced
//! ```
//!
//! Only the task on a dead worker fails; there is no `BrokenProcessPool`.
//! Tasks are plain functions marked [`#[hilo::task]`](crate::task), found by
//! name, with `serde` arguments and results checked at compile time.

mod cell;
mod child;
mod chunked;
mod fds;
mod pool;
pub(crate) mod protocol;
mod registry;
mod supervisor;
pub(crate) mod worker;

pub use chunked::{ChunkExecutor, ChunkFuture, ChunkedMap};
pub use pool::{ProcessPool, ProcessPoolBuilder};
pub use protocol::{decode_frame, FrameError};
pub use registry::{
    decode_args, decode_result, encode_chunk, encode_value, registered_tasks, run_encoded_here,
    Call, EncodedChunk, TaskEntry, TaskFn,
};
pub use worker::init;

use crate::sync::lock_std as lock;

/// For the fuzz target: decode untrusted bytes with each decoder the
/// worker, the pool and the handshake use; true if any of them parsed.
#[doc(hidden)]
pub fn fuzz_decode(bytes: &[u8]) -> bool {
    use protocol::{FromWorker, FromWorkerIn, ToWorkerIn, MAX_FRAME};
    let run = decode_frame::<ToWorkerIn<'_>>(bytes, MAX_FRAME).is_ok();
    let answer = decode_frame::<FromWorkerIn<'_>>(bytes, MAX_FRAME).is_ok();
    let hello = decode_frame::<FromWorker>(bytes, MAX_FRAME).is_ok();
    run || answer || hello
}
