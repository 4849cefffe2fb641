//! Tasks registered by name with `#[hilo::task]`, and [`Call`], a typed
//! request to run one of them.
//!
//! The registry is name-based on purpose: a worker finds the function by
//! the name the pool sends, so the same names can later be served by other
//! machines. It is filled at program start (by `inventory`), never changed.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::TaskError;

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
/// and result types are checked at compile time. Any executor of calls runs
/// it: a [`ProcessPool`](super::ProcessPool) encodes the arguments and a
/// worker process runs the task by name; a [`ThreadPool`](crate::ThreadPool)
/// calls the function on a thread, with nothing encoded.
pub struct Call<R> {
    pub(crate) name: &'static str,
    pub(crate) timeout: Option<std::time::Duration>,
    args: Args<R>,
}

/// A call's arguments.
enum Args<R> {
    /// Encoded already ([`Call::new`]); a thread runs them through the
    /// registry, as a worker process would.
    Encoded(Result<Vec<u8>, String>),
    /// The values and the function ([`Call::typed`]): encoded only to
    /// cross to a worker process.
    Typed(Box<dyn TypedArgs<R>>),
}

/// Arguments bound to the function they are for, type-erased.
trait TypedArgs<R>: Send {
    fn encode(&self) -> Result<Vec<u8>, String>;
    fn run(self: Box<Self>) -> R;
}

struct Bound<A, R> {
    args: A,
    run: fn(A) -> R,
}

impl<A: Serialize + Send, R> TypedArgs<R> for Bound<A, R> {
    fn encode(&self) -> Result<Vec<u8>, String> {
        super::protocol::to_bytes(&self.args)
    }

    fn run(self: Box<Self>) -> R {
        (self.run)(self.args)
    }
}

impl<R: DeserializeOwned> Call<R> {
    /// A call of the task `name` with `args` (a tuple of the arguments),
    /// encoded at once.
    pub fn new<A: Serialize>(name: &'static str, args: &A) -> Self {
        Call {
            name,
            timeout: None,
            args: Args::Encoded(super::protocol::to_bytes(args)),
        }
    }
}

impl<R> Call<R> {
    /// A call of the task `name` with `args` (a tuple of the arguments),
    /// which `run` applies to the function. Used by the code
    /// `#[hilo::task]` generates.
    pub fn typed<A>(name: &'static str, args: A, run: fn(A) -> R) -> Self
    where
        A: Serialize + Send + 'static,
        R: 'static,
    {
        Call {
            name,
            timeout: None,
            args: Args::Typed(Box::new(Bound { args, run })),
        }
    }

    /// Kill the task (and its worker) if it runs longer than `timeout`;
    /// its future then fails with `TaskError::TimedOut`. Overrides the
    /// pool's default timeout. Only a process can be killed: on a
    /// `ThreadPool` the timeout does not apply (bound the wait with
    /// `Future::result_timeout` instead).
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The name of the task this calls.
    pub fn task_name(&self) -> &'static str {
        self.name
    }

    /// The timeout set with [`Call::timeout`], if any.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let call = hilo::process::Call::<u8>::new("t", &(1u8,));
    /// assert_eq!(call.time_limit(), None);
    /// assert_eq!(call.timeout(Duration::from_secs(2)).time_limit(), Some(Duration::from_secs(2)));
    /// ```
    pub fn time_limit(&self) -> Option<std::time::Duration> {
        self.timeout
    }

    /// The arguments as a worker process receives them (postcard bytes),
    /// or why they cannot be encoded. For executors that carry calls
    /// elsewhere; see [`ProcessPool::submit_encoded`](super::ProcessPool::submit_encoded).
    ///
    /// ```
    /// let call = hilo::process::Call::<u8>::new("t", &(300u16,));
    /// assert_eq!(call.encoded_args(), Ok(vec![0xac, 0x02]));
    /// ```
    pub fn encoded_args(&self) -> Result<Vec<u8>, String> {
        match &self.args {
            Args::Encoded(bytes) => bytes.clone(),
            Args::Typed(typed) => typed.encode(),
        }
    }
}

impl<R: DeserializeOwned> Call<R> {
    /// Runs the task on this thread: the function itself for a typed call,
    /// the registry's entry for an encoded one. A panic unwinds to the
    /// caller, as a thread pool's task's does.
    pub(crate) fn run_here(self) -> Result<R, TaskError> {
        let bytes = match self.args {
            Args::Typed(typed) => return Ok(typed.run()),
            Args::Encoded(bytes) => bytes.map_err(|m| super::protocol::args_not_encoded(&m))?,
        };
        let entry = find(self.name).ok_or_else(|| TaskError::UnknownTask {
            name: self.name.to_owned(),
        })?;
        let value = entry
            .run(&bytes)
            .map_err(|message| TaskError::Failed { message })?;
        super::protocol::decode_value(&value)
    }
}

impl<R> Call<R> {
    /// The arguments encoded, or the task's error for arguments that do
    /// not encode: what an executor that carries calls elsewhere sends.
    ///
    /// ```
    /// let call = hilo::process::Call::<u8>::new("t", &(300u16,));
    /// assert_eq!(call.encode(), Ok(vec![0xac, 0x02]));
    /// ```
    pub fn encode(&self) -> Result<Vec<u8>, TaskError> {
        self.encoded_args()
            .map_err(|m| super::protocol::args_not_encoded(&m))
    }
}

/// The calls of one chunk, encoded for one round trip: the task they all
/// call, the first one's timeout, each call's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedChunk {
    /// The task every call of the chunk calls.
    pub task: &'static str,
    /// The first call's timeout, which applies to the chunk.
    pub timeout: Option<std::time::Duration>,
    /// Each call's arguments, in order.
    pub args: Vec<Vec<u8>>,
}

/// Encodes `calls` as one chunk (`None` for none). A chunk calls one task:
/// calls of two tasks, or arguments that do not encode, are the error
/// every call of the chunk gets.
///
/// ```
/// use hilo::process::{encode_chunk, Call};
/// let calls = vec![Call::<u8>::new("t", &(1u8,)), Call::<u8>::new("t", &(2u8,))];
/// let chunk = encode_chunk(&calls).unwrap().unwrap();
/// assert_eq!((chunk.task, chunk.args), ("t", vec![vec![1], vec![2]]));
/// let mixed = vec![Call::<u8>::new("t", &(1u8,)), Call::<u8>::new("u", &(2u8,))];
/// assert!(encode_chunk(&mixed).is_err());
/// ```
pub fn encode_chunk<R>(calls: &[Call<R>]) -> Result<Option<EncodedChunk>, TaskError> {
    let Some(first) = calls.first() else {
        return Ok(None);
    };
    let mut args = Vec::with_capacity(calls.len());
    for call in calls {
        if call.name != first.name {
            return Err(TaskError::Failed {
                message: format!(
                    "a chunk must call one task, not both {} and {}",
                    first.name, call.name
                ),
            });
        }
        args.push(
            call.encoded_args()
                .map_err(|message| TaskError::Failed { message })?,
        );
    }
    Ok(Some(EncodedChunk {
        task: first.name,
        timeout: first.timeout,
        args,
    }))
}

impl<R> std::fmt::Debug for Call<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("task", &self.name)
            .finish_non_exhaustive()
    }
}

/// Runs the registered task `name` on arguments already encoded, on this
/// thread, and returns its value encoded: what a worker that runs some
/// tasks on its own threads (not in its process pool) calls. A panic
/// unwinds to the caller, as a thread pool's task's does.
///
/// # Errors
/// `TaskError::UnknownTask` for a name no `#[hilo::task]` registered;
/// `TaskError::Failed` if the arguments do not decode or the value does
/// not encode.
///
/// ```
/// let err = hilo::process::run_encoded_here("no::such::task", &[]).unwrap_err();
/// assert_eq!(err, hilo::TaskError::UnknownTask { name: "no::such::task".into() });
/// ```
pub fn run_encoded_here(name: &str, args: &[u8]) -> Result<Vec<u8>, TaskError> {
    let entry = find(name).ok_or_else(|| TaskError::UnknownTask {
        name: name.to_owned(),
    })?;
    entry
        .run(args)
        .map_err(|message| TaskError::Failed { message })
}

/// Decodes a task's value as [`ProcessPool::submit_encoded`](super::ProcessPool::submit_encoded)
/// leaves it; a value of another type is `TaskError::Failed`, never a panic.
///
/// ```
/// let bytes = hilo::process::encode_value(&49u64).unwrap();
/// assert_eq!(hilo::process::decode_result::<u64>(&bytes), Ok(49));
/// assert!(hilo::process::decode_result::<String>(&[0xff]).is_err());
/// ```
pub fn decode_result<R: DeserializeOwned>(bytes: &[u8]) -> Result<R, TaskError> {
    super::protocol::decode_value(bytes)
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
