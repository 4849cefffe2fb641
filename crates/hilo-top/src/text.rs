//! How numbers are written, the same in the live view and in `--once`:
//! sizes, bars, the header's lines and a row's cells.

use crate::frame::{Header, Row, ThreadRow};

/// Bytes in binary units, three significant figures (`812K`, `5.1G`).
pub(crate) fn size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "K", "M", "G", "T", "P"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 || v >= 100.0 {
        format!("{v:.0}{}", UNITS[unit])
    } else if v >= 10.0 {
        format!("{v:.1}{}", UNITS[unit]).replace(".0", "")
    } else {
        format!("{v:.2}{}", UNITS[unit])
    }
}

/// A rate per second: whole numbers, or one decimal below 10.
pub(crate) fn per_s(v: f64) -> String {
    if v < 10.0 && v > 0.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// `[|||||     ]` filled to `fraction` (0 to 1) over `width` cells.
pub(crate) fn bar(fraction: f64, width: usize) -> String {
    let filled = ((fraction.clamp(0.0, 1.0) * width as f64).round() as usize).min(width);
    format!("[{}{}]", "|".repeat(filled), " ".repeat(width - filled))
}

/// The header as lines of text: load and tasks, the rates, one bar per
/// CPU (two to a line), memory and swap.
pub(crate) fn header_lines(h: &Header, width: usize) -> Vec<String> {
    let tasks: usize = h.states.values().sum();
    let states: Vec<String> = h.states.iter().map(|(s, n)| format!("{n} {s}")).collect();
    let mut lines = vec![
        format!(
            "load {:.2} {:.2} {:.2}   tasks {tasks}: {}",
            h.load[0],
            h.load[1],
            h.load[2],
            states.join(", ")
        ),
        format!(
            "context switches {}/s   forks {}/s",
            per_s(h.switches_per_s),
            per_s(h.forks_per_s)
        ),
    ];
    let half = (width / 2).max(20);
    let bar_width = half.saturating_sub(16).max(4);
    let cpu_cells: Vec<String> = h
        .cpus
        .iter()
        .enumerate()
        .map(|(i, pct)| format!("cpu{i:<3}{} {pct:5.1}%", bar(pct / 100.0, bar_width)))
        .collect();
    for pair in cpu_cells.chunks(2) {
        lines.push(pair.join("  "));
    }
    let frac = |used: u64, total: u64| {
        if total == 0 {
            0.0
        } else {
            used as f64 / total as f64
        }
    };
    lines.push(format!(
        "mem    {} {}/{}  swap {} {}/{}",
        bar(
            frac(h.mem_used, h.mem_total),
            bar_width.saturating_sub(6).max(4)
        ),
        size(h.mem_used),
        size(h.mem_total),
        bar(
            frac(h.swap_used, h.swap_total),
            bar_width.saturating_sub(6).max(4)
        ),
        size(h.swap_used),
        size(h.swap_total),
    ));
    lines
}

/// The process table's column names.
pub(crate) const ROW_HEADER: [&str; 11] = [
    "PID", "PPID", "USER", "S", "NI", "THR", "CPU%", "RSS", "VCSW/s", "IVCSW/s", "COMMAND",
];

/// A process row's cells; `branch` goes before the command (tree view).
pub(crate) fn row_cells(r: &Row, branch: &str) -> [String; 11] {
    [
        r.pid.to_string(),
        r.ppid.to_string(),
        r.user.clone(),
        r.state.to_string(),
        r.nice.to_string(),
        r.threads.to_string(),
        format!("{:.1}", r.cpu),
        size(r.rss),
        per_s(r.voluntary_per_s),
        per_s(r.involuntary_per_s),
        format!("{branch}{}", r.command),
    ]
}

/// The threads table's column names.
pub(crate) const THREAD_HEADER: [&str; 5] = ["TID", "NAME", "S", "CPU%", "LAST CPU"];

/// A thread row's cells.
pub(crate) fn thread_cells(t: &ThreadRow) -> [String; 5] {
    [
        t.tid.to_string(),
        t.name.clone(),
        t.state.to_string(),
        format!("{:.1}", t.cpu),
        t.last_cpu.map_or_else(|| "-".into(), |c| c.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_bars() {
        assert_eq!(size(512), "512B");
        assert_eq!(size(1536), "1.50K");
        assert_eq!(size(20 * 1024 * 1024), "20M");
        assert_eq!(size(5_476_083_302), "5.10G");
        assert_eq!(size(300 * 1024), "300K");
        assert_eq!(bar(0.5, 4), "[||  ]");
        assert_eq!(bar(2.0, 3), "[|||]");
        assert_eq!(per_s(2.34), "2.3");
        assert_eq!(per_s(0.0), "0");
        assert_eq!(per_s(1234.4), "1234");
    }
}
