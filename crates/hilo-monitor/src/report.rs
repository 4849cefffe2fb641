//! What a report says about a window of samples: per metric, how many, the
//! average, the least and the most; as a plain table (with a sparkline per
//! metric when a person watches) or as one JSON object on one line. Owns
//! the statistics and the words; decides nothing about when.

use std::collections::BTreeMap;
use std::time::Duration;

use hilo_term::{table, Align};
use serde::Serialize;

use crate::metric::Metric;
use crate::store::Sample;

/// The samples one report covers: those due after `from` up to `to`
/// (the first report's also at 0).
pub(crate) struct Window<'a> {
    /// 1 for the first report.
    pub(crate) number: u32,
    /// The run's last report.
    pub(crate) is_final: bool,
    pub(crate) from: Duration,
    pub(crate) to: Duration,
    pub(crate) samples: &'a [Sample],
}

/// One metric's numbers over a window; `None` when it has no sample there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Stats {
    n: usize,
    avg: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
}

impl Stats {
    /// The numbers of `values`, summed in the order given.
    fn of(values: &[f64]) -> Stats {
        let n = values.len();
        let (avg, min, max) = if n == 0 {
            (None, None, None)
        } else {
            let sum: f64 = values.iter().sum();
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (Some(sum / n as f64), Some(min), Some(max))
        };
        Stats { n, avg, min, max }
    }
}

/// A `--json` line.
#[derive(Serialize)]
struct JsonReport {
    report: u32,
    #[serde(rename = "final")]
    is_final: bool,
    from_s: f64,
    to_s: f64,
    metrics: BTreeMap<Metric, Stats>,
}

impl Window<'_> {
    /// Each metric's values, in the order they were recorded.
    fn values(&self, metric: Metric) -> Vec<f64> {
        self.samples
            .iter()
            .filter(|s| s.metric == metric)
            .map(|s| s.value)
            .collect()
    }

    /// The report as one line of JSON (no newline).
    pub(crate) fn json(&self) -> String {
        let report = JsonReport {
            report: self.number,
            is_final: self.is_final,
            from_s: seconds(self.from),
            to_s: seconds(self.to),
            metrics: Metric::ALL
                .iter()
                .map(|&m| (m, Stats::of(&self.values(m))))
                .collect(),
        };
        serde_json::to_string(&report).expect("numbers and names serialize")
    }

    /// The report as a title line and a table (no newline after it), with a
    /// sparkline column if `sparklines`.
    pub(crate) fn text(&self, sparklines: bool) -> String {
        let title = if self.is_final {
            "final report"
        } else {
            "report"
        };
        let mut header = vec!["metric", "n", "avg", "min", "max"];
        let mut align = vec![
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
        ];
        if sparklines {
            header.push("trend");
            align.push(Align::Left);
        }
        let rows = Metric::ALL.iter().map(|&m| {
            let values = self.values(m);
            let stats = Stats::of(&values);
            let show = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| m.show(v));
            let mut row = vec![
                m.label().to_owned(),
                stats.n.to_string(),
                show(stats.avg),
                show(stats.min),
                show(stats.max),
            ];
            if sparklines {
                row.push(sparkline(m, &values));
            }
            row
        });
        format!(
            "{title} {}: {:.1} s to {:.1} s\n{}",
            self.number,
            seconds(self.from),
            seconds(self.to),
            table(&align, header, rows)
        )
    }
}

/// A duration in seconds, to the millisecond (the schedule's unit).
fn seconds(d: Duration) -> f64 {
    d.as_millis() as f64 / 1000.0
}

/// The most recent values drawn with ▁▂▃▄▅▆▇█ (at most 60): percentages
/// on their 0–100 scale, rates from 0 to the window's highest.
fn sparkline(metric: Metric, values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let values = &values[values.len().saturating_sub(60)..];
    let top = if metric.is_percent() {
        100.0
    } else {
        values.iter().copied().fold(0.0, f64::max)
    };
    values
        .iter()
        .map(|&v| {
            let level = if top > 0.0 { v / top * 7.0 } else { 0.0 };
            BARS[(level.round().clamp(0.0, 7.0)) as usize]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(tick: u64, metric: Metric, value: f64) -> Sample {
        Sample {
            tick,
            due: Duration::from_secs(tick),
            metric,
            value,
        }
    }

    #[test]
    fn stats_of_nothing_are_null() {
        assert_eq!(
            Stats::of(&[]),
            Stats {
                n: 0,
                avg: None,
                min: None,
                max: None
            }
        );
        let s = Stats::of(&[3.0, 1.0, 2.0]);
        assert_eq!(
            (s.n, s.avg, s.min, s.max),
            (3, Some(2.0), Some(1.0), Some(3.0))
        );
    }

    #[test]
    fn the_json_line_has_every_metric_in_order() {
        let samples = [
            sample(0, Metric::Cpu, 10.0),
            sample(1, Metric::Cpu, 30.0),
            sample(0, Metric::DiskRead, 512.0),
        ];
        let w = Window {
            number: 2,
            is_final: true,
            from: Duration::from_secs(4),
            to: Duration::from_millis(5250),
            samples: &samples,
        };
        let none = r#"{"n":0,"avg":null,"min":null,"max":null}"#;
        assert_eq!(
            w.json(),
            format!(
                r#"{{"report":2,"final":true,"from_s":4.0,"to_s":5.25,"metrics":{{"cpu_pct":{{"n":2,"avg":20.0,"min":10.0,"max":30.0}},"mem_used_pct":{none},"swap_used_pct":{none},"disk_used_pct":{none},"disk_read_bytes_per_s":{{"n":1,"avg":512.0,"min":512.0,"max":512.0}},"disk_write_bytes_per_s":{none}}}}}"#
            )
        );
    }

    #[test]
    fn the_text_report_is_a_table_with_units() {
        let samples = [
            sample(0, Metric::Cpu, 0.0),
            sample(1, Metric::Cpu, 100.0),
            sample(0, Metric::DiskWrite, 2_500_000.0),
        ];
        let w = Window {
            number: 1,
            is_final: false,
            from: Duration::ZERO,
            to: Duration::from_secs(2),
            samples: &samples,
        };
        let text = w.text(true);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "report 1: 0.0 s to 2.0 s");
        assert_eq!(lines.len(), 2 + Metric::ALL.len(), "{text}");
        assert!(lines[2].starts_with("  cpu"), "{text}");
        assert!(
            lines[2].contains("50.0 %") && lines[2].ends_with("▁█"),
            "{text}"
        );
        assert!(
            lines[7].contains("2.5 MB/s") && lines[7].ends_with('█'),
            "{text}"
        );
        assert!(lines[3].contains(" -"), "{text}");
        assert!(!w.text(false).contains('█'));
    }

    #[test]
    fn sparklines_scale_percentages_to_100_and_rates_to_their_top() {
        assert_eq!(sparkline(Metric::Memory, &[0.0, 50.0, 100.0]), "▁▅█");
        assert_eq!(sparkline(Metric::DiskRead, &[0.0, 5.0, 10.0]), "▁▅█");
        assert_eq!(sparkline(Metric::DiskRead, &[0.0, 0.0]), "▁▁");
        assert_eq!(sparkline(Metric::Cpu, &[1.0; 100]).chars().count(), 60);
    }
}
