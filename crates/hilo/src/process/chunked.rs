//! [`ChunkedMap`]: a lazy map that sends items to an executor in chunks,
//! one round trip per chunk, over any [`ChunkExecutor`].

use std::collections::VecDeque;

use serde::de::DeserializeOwned;

use super::cell::every;
use super::registry::Call;
use crate::error::{SubmitError, TaskError};
use crate::future::Future;

/// The future of a chunk: one `Result` per call.
pub type ChunkFuture<R> = Future<Vec<Result<R, TaskError>>>;

/// An executor that runs several calls of one task in one round trip (a
/// [`ProcessPool`](super::ProcessPool), or an executor that sends them to
/// other machines): what [`ChunkedMap`] is written over.
pub trait ChunkExecutor {
    /// Runs `calls` (all of one task) as one unit: one `Result` per call,
    /// in order.
    ///
    /// # Errors
    /// [`SubmitError`] if the executor takes no more tasks.
    fn submit_chunk<R>(&self, calls: Vec<Call<R>>) -> Result<ChunkFuture<R>, SubmitError>
    where
        R: DeserializeOwned + Send + 'static;

    /// How many chunks run at once; a chunked map keeps twice as many in
    /// flight.
    fn chunk_workers(&self) -> usize;

    /// Maps `make_call` over `items` in chunks of `chunk_size` items per
    /// round trip, lazily, with at most `window` chunks in flight (default 2
    /// × workers): one `Result` per item, in input order. Dropping the
    /// iterator cancels the chunks not yet started.
    fn map_chunked<I, M, R>(
        &self,
        items: I,
        chunk_size: usize,
        make_call: M,
    ) -> ChunkedMap<'_, Self, I::IntoIter, M, R>
    where
        Self: Sized,
        I: IntoIterator,
        M: FnMut(I::Item) -> Call<R>,
        R: DeserializeOwned + Send + 'static,
    {
        ChunkedMap::new(self, items.into_iter(), chunk_size, make_call)
    }
}

/// The iterator of [`ChunkExecutor::map_chunked`] (and
/// [`ProcessPool::map_chunked`](super::ProcessPool::map_chunked)): one
/// `Result` per item.
pub struct ChunkedMap<'p, E, I: Iterator, M, R> {
    pool: &'p E,
    items: std::iter::Fuse<I>,
    make_call: M,
    chunk_size: usize,
    window: usize,
    /// Chunks submitted, oldest first, with how many items each holds.
    in_flight: VecDeque<(usize, ChunkFuture<R>)>,
    /// Results of the oldest finished chunk not yet yielded.
    ready: VecDeque<Result<R, TaskError>>,
}

impl<'p, E, I, M, R> ChunkedMap<'p, E, I, M, R>
where
    E: ChunkExecutor,
    I: Iterator,
    M: FnMut(I::Item) -> Call<R>,
    R: DeserializeOwned + Send + 'static,
{
    pub(super) fn new(pool: &'p E, items: I, chunk_size: usize, make_call: M) -> Self {
        ChunkedMap {
            pool,
            items: items.fuse(),
            make_call,
            chunk_size: chunk_size.max(1),
            window: 2 * pool.chunk_workers().max(1),
            in_flight: VecDeque::new(),
            ready: VecDeque::new(),
        }
    }

    /// At most `n` chunks queued or running at once (at least 1).
    pub fn window(mut self, n: usize) -> Self {
        self.window = n.max(1);
        self
    }

    fn fill(&mut self) {
        while self.in_flight.len() < self.window {
            let calls: Vec<Call<R>> = self
                .items
                .by_ref()
                .take(self.chunk_size)
                .map(&mut self.make_call)
                .collect();
            if calls.is_empty() {
                return;
            }
            let n = calls.len();
            let fut = self
                .pool
                .submit_chunk(calls)
                .unwrap_or_else(|e| Future::ready(Err(e.into())));
            self.in_flight.push_back((n, fut));
        }
    }
}

impl<E, I, M, R> Iterator for ChunkedMap<'_, E, I, M, R>
where
    E: ChunkExecutor,
    I: Iterator,
    M: FnMut(I::Item) -> Call<R>,
    R: DeserializeOwned + Send + 'static,
{
    type Item = Result<R, TaskError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(r) = self.ready.pop_front() {
            return Some(r);
        }
        self.fill();
        let (n, fut) = self.in_flight.pop_front()?;
        match fut.result() {
            Ok(results) => self.ready.extend(results),
            Err(e) => self.ready.extend(every(e, n)),
        }
        self.ready.pop_front()
    }
}

impl<E, I: Iterator, M, R> Drop for ChunkedMap<'_, E, I, M, R> {
    fn drop(&mut self) {
        for (_, fut) in &self.in_flight {
            // Pending chunks only: a running one finishes (killing a worker
            // for a dropped iterator would be a surprise).
            fut.cancel_pending();
        }
    }
}

impl<E, I: Iterator, M, R> std::fmt::Debug for ChunkedMap<'_, E, I, M, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkedMap")
            .field("chunk_size", &self.chunk_size)
            .field("window", &self.window)
            .field("chunks_in_flight", &self.in_flight.len())
            .finish_non_exhaustive()
    }
}
