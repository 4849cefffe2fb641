//! `hilo top`: the lesson's mini-htop, made real. Processes, their threads
//! and the system's counters from `/proc` (through the `procfs` crate),
//! live in the terminal, or one snapshot as a table or JSON.
//!
//! What it shows is what the lesson teaches: each process's state (R
//! running, S sleeping, D in uninterruptible I/O, Z zombie, T stopped, I
//! idle kernel thread), its parent, nice value and threads; CPU % between
//! refreshes; voluntary context switches (it waited) and involuntary ones
//! (the scheduler preempted it); zombies in red and the parents that have
//! not waited for them in yellow; the threads of one process with the
//! CPU each last ran on.
//!
//! The parts: `probe` reads `/proc` (each small file in one read by
//! `procfile`, parsed by procfs's types; `switches` keeps the costly
//! context-switch counts); `frame` turns two readings into rates
//! and rows; `order` sorts, filters and builds the tree; `text` writes the
//! numbers; `once` prints a snapshot; `ui` is the live view (`app`: state
//! and keys, `draw`: ratatui); `act` signals (through a pidfd) and renices.

use std::io::IsTerminal;
use std::time::Duration;

use clap::Parser;
use hilo_term::Failure;

mod act;
mod frame;
mod once;
mod order;
mod probe;
mod procfile;
mod sampler;
mod switches;
mod text;
mod ui;
mod users;

pub use order::SortKey;

const AFTER_HELP: &str = "\
Keys (live view):
  P M N W   sort by CPU%, memory, PID, context switches (s: next key)
  t         tree by parent          /  filter (command, user or pid)
  Enter     threads of a process    Esc  back
  k         send a signal           r  renice (each asks, then confirms)
  ?         help                    q  quit

Columns: CPU% is of one core since the last refresh (200 = two cores busy);
RSS is resident memory; VCSW/s and IVCSW/s are voluntary (waited for I/O, a
lock, a sleep) and involuntary (preempted) context switches per second, all
threads counted. Zombies (Z) are red, their parents yellow.

Examples:
  hilo top
  hilo top --tree --filter nginx
  hilo top --once --sort mem | head -20
  hilo top --once --json -d 200ms | jq '.processes[] | select(.state==\"Z\")'";

/// Processes and threads from /proc, live (the lessons' mini-htop)
#[derive(Parser, Debug, Clone)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Time between refreshes (and, with --once, the window CPU% and the
    /// rates are measured over): 1s, 500ms; at least 100ms
    #[arg(short, long, default_value = "1s", value_parser = hilo_term::parse_sample_interval)]
    pub delay: Duration,
    /// Print one snapshot (a table, like ps) and exit
    #[arg(long)]
    pub once: bool,
    /// With --once: one JSON object {"system": {...}, "processes": [...]}
    #[arg(long, requires = "once")]
    pub json: bool,
    /// Sort by
    #[arg(short, long, value_enum, default_value = "cpu")]
    pub sort: SortKey,
    /// Show processes as a tree by parent
    #[arg(short, long)]
    pub tree: bool,
    /// Only processes whose command, user or pid matches (case-insensitive)
    #[arg(short, long, default_value = "")]
    pub filter: String,
}

/// Runs `hilo top`; returns the exit status (0, or 2 with one line on
/// stderr when there is no terminal for the live view, 1 when `/proc`
/// cannot be read).
pub fn main(args: Args) -> u8 {
    hilo_term::exit_status("top", run(&args))
}

fn run(args: &Args) -> Result<(), Failure> {
    let mut sampler = sampler::Sampler::new();
    let proc_err = |e: probe::ProbeError| Failure::failed(e.to_string());
    if args.once {
        sampler.next().map_err(proc_err)?;
        std::thread::sleep(args.delay);
        let frame = sampler.next().map_err(proc_err)?;
        let shown = order::order(&frame.processes, args.sort, &args.filter, args.tree);
        let stdout = std::io::stdout();
        return once::print(&mut stdout.lock(), &frame, &shown, args.json);
    }
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Failure::usage(
            "the live view needs a terminal; for a snapshot use --once (or --once --json)",
        ));
    }
    ui::run(
        &mut sampler,
        args.delay,
        args.sort,
        args.tree,
        args.filter.clone(),
    )
    .map_err(Failure::failed)
}
