//! `--once`: one snapshot printed, like `ps` (a table after the header's
//! lines) or as one JSON object, for scripts and tests.

use std::io::Write;

use hilo_term::{table, Align, Failure};

use crate::frame::Frame;
use crate::order::Shown;
use crate::text;

/// Writes the table (or JSON) of `frame`'s `shown` rows to `out`.
///
/// # Errors
/// Standard output is closed or full.
pub(crate) fn print(
    out: &mut impl Write,
    frame: &Frame,
    shown: &[Shown],
    json: bool,
) -> Result<(), Failure> {
    if json {
        let processes: Vec<_> = shown.iter().map(|s| &frame.processes[s.index]).collect();
        let doc = serde_json::json!({ "system": frame.system, "processes": processes });
        serde_json::to_writer(&mut *out, &doc).map_err(|e| Failure::output(e.into()))?;
        writeln!(out).map_err(Failure::output)?;
        return Ok(());
    }
    for line in text::header_lines(&frame.system, 100) {
        writeln!(out, "{line}").map_err(Failure::output)?;
    }
    writeln!(out).map_err(Failure::output)?;
    let mut align = vec![Align::Right; text::ROW_HEADER.len()];
    align[2] = Align::Left;
    align[3] = Align::Left;
    align[10] = Align::Left;
    let rows = shown
        .iter()
        .map(|s| text::row_cells(&frame.processes[s.index], &s.branch).to_vec());
    writeln!(out, "{}", table(&align, text::ROW_HEADER, rows)).map_err(Failure::output)?;
    Ok(())
}
