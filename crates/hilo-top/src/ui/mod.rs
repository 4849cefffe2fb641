//! The live view: the terminal set up (raw mode, alternate screen) and put
//! back however the program ends, and the loop that refreshes every
//! `--delay`, reads keys between refreshes and draws only when something
//! changed.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event, KeyEventKind};

use crate::act;
use crate::order::SortKey;
use crate::sampler::Sampler;

pub(crate) mod app;
mod draw;

use app::{Act, App, Effect, View};

/// The longest a key or a signal waits to be noticed.
const TICK: Duration = Duration::from_millis(250);

/// Runs the live view until `q`, Ctrl+C (a key in raw mode, or SIGINT sent
/// from elsewhere), SIGTERM or SIGHUP.
///
/// # Errors
/// The terminal cannot be driven, or `/proc` cannot be read.
pub(crate) fn run(
    sampler: &mut Sampler,
    delay: Duration,
    sort: SortKey,
    tree: bool,
    filter: String,
) -> Result<(), String> {
    let stop = Arc::new(AtomicBool::new(false));
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    for sig in [SIGTERM, SIGHUP, SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).map_err(|e| e.to_string())?;
    }
    let first = sampler.next().map_err(|e| e.to_string())?;
    let mut app = App::new(first, sort, tree, filter);
    // ratatui::init also makes a panic put the terminal back first.
    let mut terminal = ratatui::init();
    let outcome = live(&mut terminal, sampler, &mut app, delay, &stop);
    ratatui::restore();
    outcome
}

fn live(
    terminal: &mut ratatui::DefaultTerminal,
    sampler: &mut Sampler,
    app: &mut App,
    delay: Duration,
    stop: &AtomicBool,
) -> Result<(), String> {
    let err = |e: io::Error| format!("terminal: {e}");
    let mut next = Instant::now() + delay;
    let mut dirty = true;
    while !app.quit && !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now >= next {
            refresh(sampler, app)?;
            next += delay;
            if next < now {
                next = now + delay;
            }
            dirty = true;
        }
        if dirty {
            terminal.draw(|f| draw::draw(f, app)).map_err(err)?;
            dirty = false;
        }
        let wait = next.saturating_duration_since(Instant::now()).min(TICK);
        if !event::poll(wait).map_err(err)? {
            if hung_up() {
                break;
            }
            continue;
        }
        match event::read().map_err(err)? {
            Event::Key(key) if key.kind != KeyEventKind::Release => match app.key(key) {
                Effect::Redraw => {}
                Effect::Refresh => refresh(sampler, app)?,
                Effect::Do(action) => {
                    app.message = Some(carry_out(&action));
                    refresh(sampler, app)?;
                }
            },
            Event::Resize(..) => {}
            _ => continue,
        }
        dirty = true;
    }
    Ok(())
}

/// Whether the terminal is gone (its window closed, its tmux session
/// killed): then standard input polls as hung up, and the view ends even
/// if no SIGHUP came.
fn hung_up() -> bool {
    use rustix::event::{poll, PollFd, PollFlags};
    let stdin = io::stdin();
    let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
    let zero = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    poll(&mut fds, Some(&zero)).is_ok()
        && fds[0]
            .revents()
            .intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL)
}

/// Reads `/proc` again into `app`; leaves the threads view when its
/// process is gone.
fn refresh(sampler: &mut Sampler, app: &mut App) -> Result<(), String> {
    let frame = sampler.next().map_err(|e| e.to_string())?;
    let threads = match &app.view {
        View::Processes => Vec::new(),
        View::Threads { pid, start, .. } => {
            let alive = frame
                .processes
                .iter()
                .any(|r| r.pid == *pid && r.start == *start);
            match sampler.threads(*pid).filter(|_| alive) {
                Some(t) => t,
                None => {
                    let pid = *pid;
                    app.update(frame, Vec::new());
                    app.back_to_processes();
                    app.message = Some(format!("process {pid} is gone"));
                    return Ok(());
                }
            }
        }
    };
    app.update(frame, threads);
    Ok(())
}

fn carry_out(action: &Act) -> String {
    match action {
        Act::Signal {
            pid, start, signal, ..
        } => match act::send_signal(*pid, *start, *signal) {
            Ok(()) => format!("sent SIG{} to {pid}", act::signal_name(*signal)),
            Err(e) => e.to_string(),
        },
        Act::Renice {
            pid, start, nice, ..
        } => match act::renice(*pid, *start, *nice) {
            Ok(()) => format!("{pid} is now nice {nice}"),
            Err(e) => e.to_string(),
        },
    }
}
