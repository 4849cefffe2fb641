//! [`retry`]: run a job again when it fails, with exponential backoff and
//! jitter, on any [`Executor`].
//!
//! Between attempts nothing blocks: the next attempt is scheduled on hilo's
//! timer thread, which only resubmits. This module decides *whether* and
//! *when* to try again; the executor decides where the job runs.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{panic_message, TaskError};
use crate::executor::Executor;
use crate::future::{Cell, Future, Promise};
use crate::relay::Relay;
use crate::sync::{lock, Mutex};

type Predicate<T> = Arc<dyn Fn(&Result<T, TaskError>) -> bool + Send + Sync>;
type Hint<T> = Arc<dyn Fn(&Result<T, TaskError>) -> Option<Duration> + Send + Sync>;

/// When and how often [`retry`] tries a job again.
///
/// Attempt `n` (counting from 1) that fails is followed, after
/// `initial × multiplier^(n-1)` capped at `max_delay`, by attempt `n + 1`,
/// up to `max_attempts` in all. With jitter (the default) each delay is
/// drawn uniformly from its upper half, so many clients that failed
/// together do not retry together.
///
/// What counts as a failure is `retry_if`; by default a panic. For jobs
/// that return `Result`, [`RetryPolicy::on_err`] also retries `Ok(Err(_))`.
///
/// ```
/// use std::time::Duration;
/// use hilo::RetryPolicy;
///
/// let p = RetryPolicy::<()>::new(4).backoff(Duration::from_millis(100), Duration::from_secs(1)).no_jitter();
/// assert_eq!(p.delay(1), Duration::from_millis(100));
/// assert_eq!(p.delay(2), Duration::from_millis(200));
/// assert_eq!(p.delay(5), Duration::from_secs(1)); // capped
/// ```
pub struct RetryPolicy<T> {
    max_attempts: u32,
    initial: Duration,
    max_delay: Duration,
    multiplier: f64,
    jitter: bool,
    retry_if: Predicate<T>,
    delay_from: Option<Hint<T>>,
}

impl<T> Clone for RetryPolicy<T> {
    fn clone(&self) -> Self {
        RetryPolicy {
            max_attempts: self.max_attempts,
            initial: self.initial,
            max_delay: self.max_delay,
            multiplier: self.multiplier,
            jitter: self.jitter,
            retry_if: Arc::clone(&self.retry_if),
            delay_from: self.delay_from.clone(),
        }
    }
}

impl<T> RetryPolicy<T> {
    /// At most `max_attempts` attempts in all (at least 1); backoff from
    /// 100 ms doubling up to 30 s, with jitter; retries panics.
    ///
    /// ```
    /// let p = hilo::RetryPolicy::<u8>::new(3);
    /// assert_eq!(p.max_attempts(), 3);
    /// ```
    pub fn new(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            initial: Duration::from_millis(100),
            max_delay: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: true,
            retry_if: Arc::new(|r| matches!(r, Err(TaskError::Panicked { .. }))),
            delay_from: None,
        }
    }

    /// The first delay and the largest one.
    ///
    /// ```
    /// let p = hilo::RetryPolicy::<u8>::new(3).backoff(std::time::Duration::ZERO, std::time::Duration::ZERO);
    /// assert_eq!(p.delay(1), std::time::Duration::ZERO);
    /// ```
    pub fn backoff(mut self, initial: Duration, max_delay: Duration) -> Self {
        self.initial = initial;
        self.max_delay = max_delay.max(initial);
        self
    }

    /// Growth factor between delays (default 2; values below 1 count as 1).
    ///
    /// ```
    /// let p = hilo::RetryPolicy::<u8>::new(3).multiplier(3.0).no_jitter();
    /// assert_eq!(p.delay(2), std::time::Duration::from_millis(300));
    /// ```
    pub fn multiplier(mut self, factor: f64) -> Self {
        self.multiplier = if factor.is_finite() {
            factor.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// Use the exact delays, without jitter.
    ///
    /// ```
    /// let p = hilo::RetryPolicy::<u8>::new(2).no_jitter();
    /// assert_eq!(p.delay(1), p.delay(1));
    /// ```
    pub fn no_jitter(mut self) -> Self {
        self.jitter = false;
        self
    }

    /// Retry when `pred` says an attempt's outcome is a failure worth
    /// retrying. [`TaskError::Cancelled`], [`TaskError::Shutdown`] and
    /// [`TaskError::Broken`] are never retried.
    ///
    /// ```
    /// // Retry everything that did not produce a value.
    /// let p = hilo::RetryPolicy::<u8>::new(3).retry_if(|r| r.is_err());
    /// # drop(p);
    /// ```
    pub fn retry_if<P>(mut self, pred: P) -> Self
    where
        P: Fn(&Result<T, TaskError>) -> bool + Send + Sync + 'static,
    {
        self.retry_if = Arc::new(pred);
        self
    }

    /// Lets a failed attempt name its own delay: where `hint` gives one
    /// (an HTTP 429 or 503 with `Retry-After`), it replaces the backoff's
    /// delay for that retry, as is (no jitter, no cap); elsewhere the
    /// backoff applies. Whether to retry at all is still `retry_if`'s call.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = hilo::RetryPolicy::<Result<u8, Option<u64>>>::new(3)
    ///     .on_err()
    ///     .delay_from(|r| match r {
    ///         Ok(Err(Some(secs))) => Some(Duration::from_secs(*secs)),
    ///         _ => None,
    ///     });
    /// assert_eq!(p.delay_after(1, &Ok(Err(Some(2)))), Duration::from_secs(2));
    /// assert!(p.delay_after(1, &Ok(Err(None))) <= Duration::from_millis(100));
    /// ```
    pub fn delay_from<H>(mut self, hint: H) -> Self
    where
        H: Fn(&Result<T, TaskError>) -> Option<Duration> + Send + Sync + 'static,
    {
        self.delay_from = Some(Arc::new(hint));
        self
    }

    /// The delay after failed attempt `attempt` (1-based) whose outcome was
    /// `outcome`: the outcome's own ([`delay_from`](Self::delay_from)), else
    /// [`delay`](Self::delay)'s.
    pub fn delay_after(&self, attempt: u32, outcome: &Result<T, TaskError>) -> Duration {
        self.delay_from
            .as_ref()
            .and_then(|hint| hint(outcome))
            .unwrap_or_else(|| self.delay(attempt))
    }

    /// The most attempts, the first included.
    ///
    /// ```
    /// assert_eq!(hilo::RetryPolicy::<()>::new(0).max_attempts(), 1);
    /// ```
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The delay after failed attempt `attempt` (1-based) before the next.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = hilo::RetryPolicy::<()>::new(3); // jitter: within [50, 100] ms
    /// let d = p.delay(1);
    /// assert!(d >= Duration::from_millis(50) && d <= Duration::from_millis(100));
    /// ```
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(64) as i32;
        let secs = self.initial.as_secs_f64() * self.multiplier.powi(exp);
        let full = if secs.is_finite() {
            Duration::from_secs_f64(secs.min(self.max_delay.as_secs_f64()))
        } else {
            self.max_delay
        };
        if self.jitter {
            full / 2 + full.mul_f64(random_unit() / 2.0)
        } else {
            full
        }
    }

    fn should_retry(&self, outcome: &Result<T, TaskError>) -> bool {
        let final_error = matches!(
            outcome,
            Err(TaskError::Cancelled | TaskError::Shutdown | TaskError::Broken { .. })
        );
        !final_error && (self.retry_if)(outcome)
    }
}

impl<U, E> RetryPolicy<Result<U, E>> {
    /// Also retry attempts whose value is `Err(_)` (and panics).
    ///
    /// ```
    /// let p = hilo::RetryPolicy::<Result<u8, String>>::new(3).on_err();
    /// # drop(p);
    /// ```
    pub fn on_err(self) -> Self {
        self.retry_if(|r| matches!(r, Ok(Err(_)) | Err(TaskError::Panicked { .. })))
    }
}

impl<T> std::fmt::Debug for RetryPolicy<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &self.max_attempts)
            .field("initial", &self.initial)
            .field("max_delay", &self.max_delay)
            .field("multiplier", &self.multiplier)
            .field("jitter", &self.jitter)
            .finish_non_exhaustive()
    }
}

/// A number in [0, 1) from a per-process SplitMix64 stream: jitter needs
/// spread, not cryptographic quality.
fn random_unit() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let seed = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    let seed = if seed == 0 {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        STATE.store(t | 1, Ordering::Relaxed);
        t
    } else {
        seed
    };
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

struct Attempts<E, M, T> {
    exec: E,
    make_job: Mutex<M>,
    policy: RetryPolicy<T>,
    attempt: AtomicU32,
    /// The returned future's record: relays a cancel to the attempt in
    /// flight.
    relay: Arc<Relay<T>>,
    promise: Mutex<Option<Promise<T>>>,
}

/// Runs `make_job()` on `exec`, and again after each retryable failure, as
/// `policy` says; the returned future ends with the first success or the
/// last failure.
///
/// `make_job` is called once per attempt. Cancelling the returned future
/// stops the retries and cancels the attempt in flight as its executor
/// cancels: a queued attempt never runs, a running process task is killed
/// (the future is then cancelled); an attempt running on a thread cannot
/// be stopped, so `cancel()` returns false while one runs. Between
/// attempts (waiting out a backoff) a cancel always succeeds. A panic in
/// `make_job`, in the `retry_if` predicate or in `delay_from` ends the
/// future with [`TaskError::Panicked`]. The executor must be ownable and
/// shareable, such as `Arc<ThreadPool>`.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
/// use hilo::{retry, RetryPolicy, ThreadPool};
///
/// let pool = Arc::new(ThreadPool::new());
/// let calls = Arc::new(AtomicU32::new(0));
/// let policy = RetryPolicy::new(5).backoff(Duration::from_millis(1), Duration::from_millis(10)).on_err();
/// let c = Arc::clone(&calls);
/// let fut = retry(pool, policy, move || {
///     let c = Arc::clone(&c);
///     // Fails twice, then succeeds: a flaky download.
///     move || if c.fetch_add(1, Ordering::SeqCst) < 2 { Err("flaky") } else { Ok("data") }
/// });
/// assert_eq!(fut.result(), Ok(Ok("data")));
/// assert_eq!(calls.load(Ordering::SeqCst), 3);
/// ```
pub fn retry<E, J, M>(exec: E, policy: RetryPolicy<E::Output>, make_job: M) -> Future<E::Output>
where
    E: Executor<J> + Send + Sync + 'static,
    M: FnMut() -> J + Send + 'static,
{
    let relay = Arc::new(Relay::new());
    let (promise, future) = Promise::with_cell(Arc::clone(&relay) as Arc<dyn Cell<E::Output>>);
    // Running from the start: between attempts there is nothing queued
    // anywhere, and a cancel then stops the next one.
    promise.set_running();
    let attempts = Arc::new(Attempts {
        exec,
        make_job: Mutex::new(make_job),
        policy,
        attempt: AtomicU32::new(0),
        relay,
        promise: Mutex::new(Some(promise)),
    });
    Attempts::start(attempts);
    future
}

impl<E, J, M> Attempts<E, M, E::Output>
where
    E: Executor<J> + Send + Sync + 'static,
    M: FnMut() -> J + Send + 'static,
{
    fn cancelled(&self) -> bool {
        self.relay.inner().state().is_done()
    }

    /// Submits the next attempt. Runs on the caller's thread first, then on
    /// the timer thread; a panic in `make_job` (or in the executor) ends the
    /// future with [`TaskError::Panicked`] instead of unwinding there.
    fn start(this: Arc<Self>) {
        let n = this.attempt.fetch_add(1, Ordering::SeqCst) + 1;
        // `make_job` runs before the relay's lock is taken (user code never
        // runs under it); only the hand-over to the executor does.
        let submitted = catch_unwind(AssertUnwindSafe(|| {
            let job = (lock(&this.make_job))();
            this.relay.attach(|| this.exec.submit(job))
        }));
        match submitted {
            Ok(None) => {} // cancelled
            Ok(Some(Ok(fut))) => fut.on_complete(move |outcome| Self::finished(this, n, outcome)),
            Ok(Some(Err(e))) => this.resolve(Err(e.into())),
            Err(payload) => this.resolve(Err(panicked_in("make_job", &*payload))),
        }
    }

    /// An attempt ended: retry it later, or end the future. Runs where the
    /// attempt completed; a panic in `retry_if` ends the future with
    /// [`TaskError::Panicked`].
    fn finished(this: Arc<Self>, attempt: u32, outcome: Result<E::Output, TaskError>) {
        if this.cancelled() {
            return;
        }
        let again = catch_unwind(AssertUnwindSafe(|| {
            let again = attempt < this.policy.max_attempts && this.policy.should_retry(&outcome);
            again.then(|| this.policy.delay_after(attempt, &outcome))
        }));
        match again {
            Ok(Some(delay)) => {
                // Between attempts nothing runs: a cancel now succeeds.
                // (While the outcome is being judged, the finished attempt
                // is still attached and a cancel is refused.)
                this.relay.detach();
                let at = Instant::now() + delay;
                crate::timer::schedule(at, move || {
                    if !this.cancelled() {
                        Self::start(this);
                    }
                });
            }
            Ok(None) => this.resolve(outcome),
            Err(payload) => this.resolve(Err(panicked_in("retry_if", &*payload))),
        }
    }

    fn resolve(&self, outcome: Result<E::Output, TaskError>) {
        if let Some(promise) = lock(&self.promise).take() {
            self.relay.complete(promise, outcome);
        }
    }
}

/// The error of a retry whose own code (not the job's) panicked.
fn panicked_in(what: &str, payload: &(dyn Any + Send)) -> TaskError {
    TaskError::Panicked {
        message: format!("the retry's {what} panicked: {}", panic_message(payload)),
    }
}
