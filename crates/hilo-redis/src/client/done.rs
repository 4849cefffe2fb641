//! How a reply completes its future: one call's value decoded, or a
//! chunk's values one by one; or the future cancelled.

use hilo::process::decode_result;
use hilo::{Promise, TaskError};
use serde::de::DeserializeOwned;

use crate::every;

/// Completes one future from the task's outcomes (one per call), or
/// cancels it: type-erased over the future's value type.
pub(super) trait Done: Send {
    fn complete(self: Box<Self>, outcomes: Vec<Result<Vec<u8>, TaskError>>);
    fn cancel(self: Box<Self>);
}

/// The future of one call.
pub(super) struct One<R>(pub(super) Promise<R>);

impl<R: DeserializeOwned + Send + 'static> Done for One<R> {
    fn complete(self: Box<Self>, outcomes: Vec<Result<Vec<u8>, TaskError>>) {
        let outcome = match <[_; 1]>::try_from(outcomes) {
            Ok([one]) => one.and_then(|bytes| decode_result(&bytes)),
            Err(many) => Err(miscount(many.len(), 1)),
        };
        self.0.complete(outcome);
    }
    fn cancel(self: Box<Self>) {
        self.0.cancel();
    }
}

/// The future of a chunk of calls: one `Result` per call.
pub(super) struct Chunk<R>(
    pub(super) Promise<Vec<Result<R, TaskError>>>,
    pub(super) usize,
);

impl<R: DeserializeOwned + Send + 'static> Done for Chunk<R> {
    fn complete(self: Box<Self>, outcomes: Vec<Result<Vec<u8>, TaskError>>) {
        let Chunk(promise, n) = *self;
        let values = if outcomes.len() == n {
            outcomes
                .into_iter()
                .map(|o| o.and_then(|bytes| decode_result(&bytes)))
                .collect()
        } else {
            every(&miscount(outcomes.len(), n), n)
        };
        promise.complete(Ok(values));
    }
    fn cancel(self: Box<Self>) {
        self.0.cancel();
    }
}

fn miscount(got: usize, want: usize) -> TaskError {
    TaskError::Failed {
        message: format!("the worker answered {got} outcomes for {want} calls"),
    }
}
