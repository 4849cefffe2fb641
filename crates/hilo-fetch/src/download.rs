//! Running the downloads: `-j` threads of a `ThreadPool` behind a
//! `PriorityExecutor` (every pending high before any medium, medium before
//! low, first come first served within a level), each request tried again
//! by `hilo::retry` at its own level, each try logged, each body saved in
//! the output directory under its name (`name.rs`), unnamed until whole.

use std::borrow::Borrow;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use hilo::{BoxJob, Future, Priority, PriorityExecutor, RetryPolicy, TaskError, ThreadPool};
use hilo_term::Unnamed;

use crate::http::{Client, Failed, Progress, Retry};
use crate::input::{Level, Request};
use crate::log::{Log, Record};

/// A body received whole, and what was kept of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub status: u16,
    pub bytes: u64,
    pub md5: String,
    pub kept: Kept,
}

/// What a download leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// A file; `existed`: the same content was there already (under the
    /// same name), so it is one file.
    File { path: PathBuf, existed: bool },
    /// `--scrape`: the page's `<title>`, if it has one.
    Page { title: Option<String> },
}

/// What a download does with a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Saves it in the output directory.
    Save,
    /// Reads its title (from its first [`crate::scrape::HEAD`] bytes).
    Scrape,
}

/// What one try gives.
pub type Tried = Result<Saved, Failed>;

/// How the downloads run.
pub struct Settings {
    pub mode: Mode,
    pub dir: PathBuf,
    pub jobs: usize,
    /// Tries after the first.
    pub retries: u32,
    /// The wait before the first retry; doubled for each next one (with
    /// jitter), at most `MAX_BACKOFF`.
    pub retry_delay: Duration,
    pub log: Option<Arc<Log>>,
    /// Progress bars, if any are drawn.
    pub bars: Option<Arc<dyn Bars>>,
}

/// Where downloads show their progress (a terminal's bars).
pub trait Bars: Send + Sync {
    /// A try of `request` starts: the callback hears its progress until
    /// it is dropped.
    fn start(&self, request: &Request) -> Box<dyn FnMut(Progress) + Send>;
}

/// The longest wait between two tries, unless the server asks for more.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The longest `Retry-After` honoured: a server asking for more has the
/// download fail now rather than hold it.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// One request's end.
#[derive(Debug)]
pub struct Outcome {
    pub request: Request,
    pub result: Tried,
    pub tries: u32,
    /// From its first try's start to its end (waits between tries
    /// included, its time in the queue not).
    pub elapsed: Duration,
}

/// A request in flight.
struct Tracked {
    request: Request,
    tries: Arc<AtomicU32>,
    /// When its first try started (not when it was queued).
    began: Arc<OnceLock<Instant>>,
    future: Future<Tried>,
}

impl Borrow<Future<Tried>> for Tracked {
    fn borrow(&self) -> &Future<Tried> {
        &self.future
    }
}

/// Downloads every request; hands each outcome to `done` as it ends
/// (completion order, on this thread).
///
/// # Errors
/// The pool cannot start.
pub fn run(
    requests: Vec<Request>,
    settings: &Settings,
    client: &Arc<Client>,
    mut done: impl FnMut(Outcome),
) -> Result<(), hilo::BuildError> {
    let pool = Arc::new(
        ThreadPool::builder()
            .max_workers(settings.jobs.max(1))
            .thread_name_prefix("hilo-fetch")
            .build()?,
    );
    let prio: PriorityExecutor<_, BoxJob<Tried>> = PriorityExecutor::new(pool);
    let policy = RetryPolicy::<Tried>::new(settings.retries.saturating_add(1))
        .backoff(settings.retry_delay, MAX_BACKOFF.max(settings.retry_delay))
        .retry_if(|r| matches!(r, Ok(Err(f)) if f.retry != Retry::No))
        .delay_from(|r| match r {
            Ok(Err(Failed {
                retry: Retry::After(d),
                ..
            })) => Some(*d),
            _ => None,
        });
    let tracked: Vec<Tracked> = requests
        .into_iter()
        .map(|request| {
            let tries = Arc::new(AtomicU32::new(0));
            let began = Arc::new(OnceLock::new());
            let future = hilo::retry(
                prio.at(priority(request.level)),
                policy.clone(),
                attempts(&request, settings, client, &tries, &began),
            );
            Tracked {
                request,
                tries,
                began,
                future,
            }
        })
        .collect();
    for finished in hilo::as_completed(tracked, None) {
        let Ok(t) = finished else { continue };
        let result = t.future.result().unwrap_or_else(|e| {
            Err(Failed {
                status: None,
                bytes: 0,
                error: task_error(&e),
                retry: Retry::No,
            })
        });
        done(Outcome {
            request: t.request,
            result,
            tries: t.tries.load(Ordering::SeqCst),
            elapsed: t.began.get().map_or(Duration::ZERO, Instant::elapsed),
        });
    }
    Ok(())
}

/// What `hilo::retry` calls for each try of `request`: a job that tries
/// once and logs it.
fn attempts(
    request: &Request,
    settings: &Settings,
    client: &Arc<Client>,
    tries: &Arc<AtomicU32>,
    first_began: &Arc<OnceLock<Instant>>,
) -> impl FnMut() -> BoxJob<Tried> + Send + 'static {
    let (request, dir, log) = (request.clone(), settings.dir.clone(), settings.log.clone());
    let (mode, bars) = (settings.mode, settings.bars.clone());
    let (client, tries) = (Arc::clone(client), Arc::clone(tries));
    let first_began = Arc::clone(first_began);
    move || {
        let (request, dir, log) = (request.clone(), dir.clone(), log.clone());
        let (client, tries, bars) = (Arc::clone(&client), Arc::clone(&tries), bars.clone());
        let first_began = Arc::clone(&first_began);
        Box::new(move || {
            let attempt = tries.fetch_add(1, Ordering::SeqCst) + 1;
            let began = Instant::now();
            first_began.get_or_init(|| began);
            let mut progress = bars.as_ref().map(|b| b.start(&request));
            let mut heard = |p: Progress| {
                if let Some(bar) = progress.as_mut() {
                    bar(p);
                }
            };
            let mut tried = match mode {
                Mode::Save => try_once(&client, &dir, &request.url, &mut heard),
                Mode::Scrape => crate::scrape::try_once(&client, &request.url, &mut heard),
            };
            drop(progress);
            if let Err(f) = &mut tried {
                if let Retry::After(d) = f.retry {
                    if d > MAX_RETRY_AFTER {
                        f.error = format!(
                            "{} (the server asks to retry after {} s, more than the {} s hilo waits)",
                            f.error,
                            d.as_secs(),
                            MAX_RETRY_AFTER.as_secs()
                        );
                        f.retry = Retry::No;
                    }
                }
            }
            if let Some(log) = &log {
                log.write(&Record::of(&request, attempt, began.elapsed(), &tried));
            }
            tried
        })
    }
}

/// One try: the body into an unnamed file in `dir`, then named.
fn try_once(client: &Client, dir: &Path, url: &str, progress: &mut dyn FnMut(Progress)) -> Tried {
    let parsed = crate::input::check_url(url).map_err(|why| Failed {
        status: None,
        bytes: 0,
        error: why,
        retry: Retry::No,
    })?;
    let mut out = Unnamed::new_in(dir).map_err(|e| Failed {
        status: None,
        bytes: 0,
        error: format!("cannot create a file in {}: {e}", dir.display()),
        retry: Retry::No,
    })?;
    let got = client.get(url, out.file_mut(), progress)?;
    let path = dir.join(crate::name::file_name(&parsed, &got.md5));
    let existed = match out.place(&path, false) {
        Ok(()) => false,
        // The same content under the same name: one file.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => true,
        Err(e) => {
            return Err(Failed {
                status: Some(got.status),
                bytes: got.bytes,
                error: format!("cannot save {}: {e}", path.display()),
                retry: Retry::No,
            })
        }
    };
    Ok(Saved {
        status: got.status,
        bytes: got.bytes,
        md5: got.md5,
        kept: Kept::File { path, existed },
    })
}

fn priority(level: Level) -> Priority {
    match level {
        Level::High => Priority::HIGH,
        Level::Medium => Priority::NORMAL,
        Level::Low => Priority::LOW,
    }
}

/// A try that did not even end with a value (a bug, or a cancel).
fn task_error(e: &TaskError) -> String {
    format!("the download did not finish: {e}")
}
