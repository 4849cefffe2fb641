//! Tasks registered by name with `#[hilo::task]`, and [`Call`], a typed
//! request to run one of them.
//!
//! The registry is name-based on purpose: a worker finds the function by
//! the name the pool sends, so the same names can later be served by other
//! machines. It is filled at program start (by `inventory`), never changed.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// How a registered task runs: arguments in, value out, both postcard
/// bytes. Written by `#[hilo::task]`; not meant to be written by hand.
pub type TaskFn = fn(&[u8]) -> Result<Vec<u8>, String>;

/// One registered task. `#[hilo::task]` submits one per function.
#[derive(Debug)]
pub struct TaskEntry {
    name: &'static str,
    run: TaskFn,
}

impl TaskEntry {
    /// An entry; used by the code `#[hilo::task]` generates.
    pub const fn new(name: &'static str, run: TaskFn) -> Self {
        TaskEntry { name, run }
    }

    /// The task's name: its module path and function name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub(crate) fn run(&self, args: &[u8]) -> Result<Vec<u8>, String> {
        (self.run)(args)
    }
}

inventory::collect!(TaskEntry);

/// The task registered under `name`, if any.
pub(crate) fn find(name: &str) -> Option<&'static TaskEntry> {
    static BY_NAME: OnceLock<HashMap<&'static str, &'static TaskEntry>> = OnceLock::new();
    BY_NAME
        .get_or_init(|| {
            inventory::iter::<TaskEntry>
                .into_iter()
                .map(|e| (e.name, e))
                .collect()
        })
        .get(name)
        .copied()
}

/// Every registered task's name, sorted (for error messages and tools).
pub fn registered_tasks() -> Vec<&'static str> {
    let mut names: Vec<_> = inventory::iter::<TaskEntry>
        .into_iter()
        .map(TaskEntry::name)
        .collect();
    names.sort_unstable();
    names
}

/// A request to run a registered task on given arguments, returning `R`.
///
/// Made by the `call` function `#[hilo::task]` generates next to each
/// task (`square::call(7)` for `fn square(x: u64) -> u64`), so the argument
/// and result types are checked at compile time. The arguments are
/// serialised at once.
pub struct Call<R> {
    pub(crate) name: &'static str,
    pub(crate) args: Result<Vec<u8>, String>,
    pub(crate) timeout: Option<std::time::Duration>,
    _result: PhantomData<fn() -> R>,
}

impl<R: DeserializeOwned> Call<R> {
    /// A call of the task `name` with `args` (a tuple of the arguments).
    /// Used by the code `#[hilo::task]` generates.
    pub fn new<A: Serialize>(name: &'static str, args: &A) -> Self {
        Call {
            name,
            args: super::protocol::to_bytes(args),
            timeout: None,
            _result: PhantomData,
        }
    }

    /// Kill the task (and its worker) if it runs longer than `timeout`;
    /// its future then fails with `TaskError::TimedOut`. Overrides the
    /// pool's default timeout.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The name of the task this calls.
    pub fn task_name(&self) -> &'static str {
        self.name
    }
}

impl<R> std::fmt::Debug for Call<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("task", &self.name)
            .finish_non_exhaustive()
    }
}

/// Decodes a task's arguments; used by the code `#[hilo::task]` generates.
pub fn decode_args<A: DeserializeOwned>(bytes: &[u8]) -> Result<A, String> {
    super::protocol::from_bytes(bytes)
        .map_err(|e| format!("cannot decode the task's arguments: {e}"))
}

/// Encodes a task's value; used by the code `#[hilo::task]` generates.
pub fn encode_value<R: Serialize>(value: &R) -> Result<Vec<u8>, String> {
    super::protocol::to_bytes(value).map_err(|e| format!("cannot encode the task's result: {e}"))
}
