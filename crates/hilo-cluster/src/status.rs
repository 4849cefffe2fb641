//! `hilo cluster status URL`: the live workers, the queues per priority,
//! the tasks in flight, and how many finish per second.

use std::time::{Duration, Instant};

use hilo_redis::{Presence, Streams};
use hilo_term::{Align, Failure};

/// Show the live workers, the queues and the rate of finished tasks
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The Redis server (as for hilo worker)
    #[arg(value_name = "URL")]
    url: String,

    /// Seconds over which to measure the tasks finished per second
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = hilo_term::parse_secs)]
    interval: Duration,

    /// Print it as JSON: workers, queues, in_flight, finished, per_second
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    if args.interval.is_zero() {
        return Err(Failure::usage("--interval must be more than 0 seconds"));
    }
    let url = args.url.as_str();
    let mut broker =
        Streams::connect(url, crate::PREFIX).map_err(|e| crate::unreachable(url, &e))?;
    let before = broker
        .finished_total()
        .map_err(|e| crate::unreachable(url, &e))?;
    let began = Instant::now();
    std::thread::sleep(args.interval);
    let finished = broker
        .finished_total()
        .map_err(|e| crate::unreachable(url, &e))?;
    let per_second = finished.saturating_sub(before) as f64 / began.elapsed().as_secs_f64();
    let workers = broker
        .live_workers()
        .map_err(|e| crate::unreachable(url, &e))?;
    let queues = broker
        .queue_stats()
        .map_err(|e| crate::unreachable(url, &e))?;
    let in_flight: u64 = queues.iter().map(|q| q.held).sum();
    if args.json {
        let json = serde_json::json!({
            "workers": workers.iter().map(|w| serde_json::json!({
                "name": w.name, "host": w.host, "pid": w.pid, "slots": w.slots,
                "running": w.running, "done": w.done, "dropped": w.dropped,
            })).collect::<Vec<_>>(),
            "queues": queues.iter().map(|q| serde_json::json!({
                "level": q.level.name(), "queued": q.queued, "held": q.held,
            })).collect::<Vec<_>>(),
            "in_flight": in_flight,
            "finished": finished,
            "per_second": (per_second * 10.0).round() / 10.0,
        });
        println!("{json}");
        return Ok(());
    }
    let slots: u32 = workers.iter().map(|w| w.slots).sum();
    println!("workers: {} live, {slots} slots", workers.len());
    if !workers.is_empty() {
        let rows = workers.iter().map(|w| {
            vec![
                w.name.clone(),
                w.host.clone(),
                w.pid.to_string(),
                w.slots.to_string(),
                w.running.to_string(),
                w.done.to_string(),
                w.dropped.to_string(),
            ]
        });
        let align = [
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
        ];
        let header = ["name", "host", "pid", "slots", "running", "done", "dropped"];
        println!("{}", hilo_term::table(&align, header, rows));
    }
    println!("queues:");
    let rows = queues.iter().map(|q| {
        vec![
            q.level.name().to_owned(),
            q.queued.to_string(),
            q.held.to_string(),
        ]
    });
    println!(
        "{}",
        hilo_term::table(
            &[Align::Left, Align::Right, Align::Right],
            ["priority", "queued", "running"],
            rows
        )
    );
    println!("in flight: {in_flight}; finished: {finished}, {per_second:.1} per second");
    Ok(())
}
