//! The metrics `hilo monitor` samples: their names (in the CSV and the
//! JSON), their units and how a report shows a value. A leaf: knows nothing
//! of how a value is read or stored.

use serde::Serialize;

/// One quantity, sampled again and again.
///
/// The order of the variants is the order of a report's rows and of the
/// keys of its JSON object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Metric {
    /// Percent of all cores busy since the previous sample (0–100).
    #[serde(rename = "cpu_pct")]
    Cpu,
    /// Percent of memory in use: (MemTotal − MemAvailable) / MemTotal.
    #[serde(rename = "mem_used_pct")]
    Memory,
    /// Percent of swap in use; 0 on a machine without swap.
    #[serde(rename = "swap_used_pct")]
    Swap,
    /// Percent of the filesystem's space in use, as `df` counts it.
    #[serde(rename = "disk_used_pct")]
    DiskUsed,
    /// Bytes read from the disks per second since the previous sample.
    #[serde(rename = "disk_read_bytes_per_s")]
    DiskRead,
    /// Bytes written to the disks per second since the previous sample.
    #[serde(rename = "disk_write_bytes_per_s")]
    DiskWrite,
}

impl Metric {
    /// Every metric, in report order.
    pub const ALL: [Metric; 6] = [
        Metric::Cpu,
        Metric::Memory,
        Metric::Swap,
        Metric::DiskUsed,
        Metric::DiskRead,
        Metric::DiskWrite,
    ];

    /// The name in the CSV's `metric` column and as a JSON key.
    ///
    /// ```
    /// assert_eq!(hilo_monitor::Metric::Cpu.name(), "cpu_pct");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Metric::Cpu => "cpu_pct",
            Metric::Memory => "mem_used_pct",
            Metric::Swap => "swap_used_pct",
            Metric::DiskUsed => "disk_used_pct",
            Metric::DiskRead => "disk_read_bytes_per_s",
            Metric::DiskWrite => "disk_write_bytes_per_s",
        }
    }

    /// The words in the text report's first column.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Metric::Cpu => "cpu",
            Metric::Memory => "memory used",
            Metric::Swap => "swap used",
            Metric::DiskUsed => "disk used",
            Metric::DiskRead => "disk read",
            Metric::DiskWrite => "disk write",
        }
    }

    /// True for a percentage (0–100), false for a rate in bytes per second.
    pub(crate) fn is_percent(self) -> bool {
        !matches!(self, Metric::DiskRead | Metric::DiskWrite)
    }

    /// `value` as the text report shows it: `12.3 %` or `4.5 MB/s`.
    pub(crate) fn show(self, value: f64) -> String {
        if self.is_percent() {
            format!("{value:.1} %")
        } else {
            bytes_per_s(value)
        }
    }
}

/// A rate in decimal units: `512 B/s`, `1.5 kB/s`, `12.0 MB/s`.
fn bytes_per_s(value: f64) -> String {
    format!("{}/s", hilo_term::decimal_size(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_json_keys() {
        for m in Metric::ALL {
            let key = serde_json::to_string(&m).unwrap();
            assert_eq!(key, format!("\"{}\"", m.name()));
        }
    }

    #[test]
    fn rates_are_shown_in_decimal_units() {
        assert_eq!(Metric::DiskRead.show(0.0), "0 B/s");
        assert_eq!(Metric::DiskRead.show(999.4), "999 B/s");
        assert_eq!(Metric::DiskRead.show(1500.0), "1.5 kB/s");
        assert_eq!(Metric::DiskWrite.show(12_000_000.0), "12.0 MB/s");
        assert_eq!(Metric::Cpu.show(7.26), "7.3 %");
    }
}
