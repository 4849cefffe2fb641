//! `io`: an I/O-bound job, and the lesson's claim that threads pay off for
//! I/O waits far beyond the core count (hence its 10–20 workers for
//! downloads on any machine). A local echo server answers each request
//! after a fixed delay; clients on 1 to 64 threads make requests, every
//! echo is checked, and throughput is set against the ideal, threads /
//! delay.
//!
//! The server lives only on 127.0.0.1, on a port the OS picks, and is
//! stopped (listener closed, every connection thread joined) when the
//! experiment ends, also on error: [`Server`]'s `Drop` does it.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use hilo::ThreadPool;

use super::{human, Ctx, Data, Report};

/// How long the server waits before answering: a fast network round trip.
const DELAY: Duration = Duration::from_millis(20);

/// Client thread counts, as in the issue.
const THREADS: [usize; 7] = [1, 2, 4, 8, 16, 32, 64];

/// How long a socket operation may block before the request counts as
/// failed (nothing here should take more than `DELAY` plus scheduling).
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the accept loop looks at its stop flag when idle; bounds how
/// long stopping the server takes.
const STOP_POLL: Duration = Duration::from_millis(50);

/// A delayed echo server: one thread accepting, one thread per connection
/// (each sleeps through its delay, as a thread blocked on a slow backend
/// would). Dropping it stops it.
struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(delay: Duration) -> Result<Server, String> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot read the echo server's port: {e}"))?;
        // Non-blocking, so that accept after poll never hangs the loop
        // (and with it the stop) should the connection be gone already.
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("cannot make the listener non-blocking: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::Builder::new()
            .name("hilo-bench-echo".into())
            .spawn(move || serve(&listener, delay, &flag))
            .map_err(|e| format!("cannot start the echo server's thread: {e}"))?;
        Ok(Server {
            addr,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Relaxed is enough: the flag carries no data, and join below
        // synchronises everything the server thread did.
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The accept loop: until `stop`, hands each connection to a thread of
/// its own; then closes the listener and joins every connection thread.
fn serve(listener: &TcpListener, delay: Duration, stop: &AtomicBool) {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let wait = Timespec {
        tv_sec: 0,
        tv_nsec: STOP_POLL.as_nanos().try_into().unwrap_or(50_000_000),
    };
    let mut conns: Vec<JoinHandle<()>> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let mut fds = [PollFd::new(listener, PollFlags::IN)];
        // An error here (EINTR) just means: look at the flag, poll again.
        if !matches!(poll(&mut fds, Some(&wait)), Ok(n) if n > 0) {
            continue;
        }
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    let spawned = thread::Builder::new()
                        .name("hilo-bench-echo-conn".into())
                        .spawn(move || answer(stream, delay));
                    // No thread: the connection is dropped, and the client
                    // that made it reports the failed request.
                    if let Ok(h) = spawned {
                        conns.push(h);
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                // A connection reset before accept, or out of file
                // descriptors: its client reports it; keep serving.
                Err(_) => break,
            }
        }
        // Join the finished ones now, so a long run keeps few handles.
        let (done, running): (Vec<_>, Vec<_>) = conns.into_iter().partition(|h| h.is_finished());
        for h in done {
            let _ = h.join();
        }
        conns = running;
    }
    for h in conns {
        let _ = h.join();
    }
}

/// One connection: read a line, wait `delay`, send it back.
fn answer(stream: TcpStream, delay: Duration) {
    // Accepted sockets do not inherit the listener's O_NONBLOCK on Linux;
    // the timeouts make sure a silent client cannot keep this thread (and
    // so the server's stop) waiting.
    let setup = stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_read_timeout(Some(IO_TIMEOUT)))
        .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)));
    if setup.is_err() {
        return;
    }
    let mut line = String::new();
    let mut reader = BufReader::new(&stream);
    if reader.read_line(&mut line).is_err() {
        return;
    }
    thread::sleep(delay);
    let _ = (&stream).write_all(line.as_bytes());
}

/// One request: connect, send a numbered line, check the echo.
fn request(addr: SocketAddr, i: usize) -> Result<(), String> {
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
        .map_err(|e| format!("request {i}: cannot connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
        .map_err(|e| format!("request {i}: cannot set socket timeouts: {e}"))?;
    let sent = format!("hilo echo {i}\n");
    (&stream)
        .write_all(sent.as_bytes())
        .map_err(|e| format!("request {i}: cannot send: {e}"))?;
    let mut got = String::new();
    BufReader::new(&stream)
        .read_line(&mut got)
        .map_err(|e| format!("request {i}: no reply: {e}"))?;
    if got == sent {
        Ok(())
    } else {
        Err(format!("request {i}: sent {sent:?}, the echo was {got:?}"))
    }
}

/// `requests` requests on a pool of `threads`; the time from the first
/// submit to the last checked echo.
fn run_clients(addr: SocketAddr, threads: usize, requests: usize) -> Result<Duration, String> {
    let pool = ThreadPool::builder()
        .max_workers(threads)
        .thread_name_prefix("hilo-bench-io")
        .build()
        .map_err(|e| format!("cannot build a pool of {threads} threads: {e}"))?;
    let start = Instant::now();
    let futs: Vec<_> = (0..requests)
        .map(|i| pool.submit(move || request(addr, i)))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot submit to the thread pool: {e}"))?;
    for f in futs {
        f.result()
            .map_err(|e| format!("a client task failed: {e}"))??;
    }
    Ok(start.elapsed())
}

/// One row of the table.
struct Run {
    threads: usize,
    requests: usize,
    took: Duration,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.took.as_secs_f64()
    }

    /// Every thread always waiting on a reply, with nothing else costing
    /// time: `threads` answers per `DELAY`.
    fn ideal(&self) -> f64 {
        self.threads as f64 / DELAY.as_secs_f64()
    }
}

pub(crate) fn run(ctx: &Ctx) -> Result<Report, String> {
    // Requests per thread: every level takes about rounds × DELAY.
    let rounds = ctx.pick(12, 50);
    let server = Server::start(DELAY)?;
    let addr = server.addr;
    let mut runs = Vec::new();
    for threads in THREADS {
        let requests = threads * rounds;
        let took = run_clients(addr, threads, requests)?;
        runs.push(Run {
            threads,
            requests,
            took,
        });
    }
    let stop_start = Instant::now();
    drop(server);
    let stopped_in = stop_start.elapsed();
    // The port must be closed now: a connection attempt is refused.
    if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
        return Err(format!(
            "the echo server still accepts on {addr} after stopping"
        ));
    }
    let total: usize = runs.iter().map(|r| r.requests).sum();
    let mut notes = notes(&runs);
    notes.push(format!(
        "{total} echoes checked; server on {addr}, closed after the runs (stopped in {})",
        human(stopped_in)
    ));
    Ok(Report {
        explain: format!(
            "Requests to a local echo server that answers after {} (I/O wait, no CPU), \
             from 1 to 64 client threads: requests per second against the ideal, \
             threads / delay.",
            human(DELAY)
        ),
        columns: [
            "threads",
            "requests",
            "time",
            "requests/s",
            "ideal",
            "of ideal",
        ]
        .map(String::from)
        .to_vec(),
        rows: rows(&runs),
        notes,
        data: Data::Io(IoData {
            delay_s: DELAY.as_secs_f64(),
            port: addr.port(),
            server_closed: true,
            server_stop_s: stopped_in.as_secs_f64(),
            echoes_checked: total,
            runs: runs
                .iter()
                .map(|r| IoRun {
                    threads: r.threads,
                    requests: r.requests,
                    seconds: r.took.as_secs_f64(),
                    requests_per_s: r.per_second(),
                    ideal_per_s: r.ideal(),
                })
                .collect(),
        }),
    })
}

/// The numbers `--json` writes and `--svg` plots.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct IoData {
    pub(crate) delay_s: f64,
    port: u16,
    server_closed: bool,
    server_stop_s: f64,
    echoes_checked: usize,
    pub(crate) runs: Vec<IoRun>,
}

/// One client thread count.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct IoRun {
    pub(crate) threads: usize,
    requests: usize,
    seconds: f64,
    pub(crate) requests_per_s: f64,
    pub(crate) ideal_per_s: f64,
}

/// The table: per thread count, requests, time and rate against the ideal.
fn rows(runs: &[Run]) -> Vec<Vec<String>> {
    runs.iter()
        .map(|r| {
            vec![
                r.threads.to_string(),
                r.requests.to_string(),
                human(r.took),
                format!("{:.0}", r.per_second()),
                format!("{:.0}", r.ideal()),
                format!("{:.0}%", 100.0 * r.per_second() / r.ideal()),
            ]
        })
        .collect()
}

/// What the rates say: many threads for I/O work, and the shortfall from
/// the ideal at the most threads.
fn notes(runs: &[Run]) -> Vec<String> {
    let cores = hilo::default_workers();
    let mut notes = Vec::new();
    let of = |n: usize| runs.iter().find(|r| r.threads == n);
    if let (Some(one), Some(sixteen)) = (of(1), of(16)) {
        notes.push(format!(
            "16 threads made {:.1}× the requests per second of 1 thread on {cores} core(s): \
             a thread waiting for a reply uses no CPU, so I/O work wants many more threads \
             than cores (the lesson's 10–20 workers)",
            sixteen.per_second() / one.per_second()
        ));
    }
    if let Some(last) = runs.last() {
        notes.push(format!(
            "at {} threads: {:.0}% of the ideal; the shortfall is each request's CPU cost \
             (connect, threads woken, a server thread started), paid more often as the \
             rate grows",
            last.threads,
            100.0 * last.per_second() / last.ideal()
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_echoes_after_its_delay_and_closes_its_port_when_dropped() {
        let server = Server::start(Duration::from_millis(30)).unwrap();
        let addr = server.addr;
        let start = Instant::now();
        request(addr, 7).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(30));
        drop(server);
        assert!(TcpStream::connect(addr).is_err());
    }
}
