//! `--svg DIR`: plots of the experiments whose numbers read best as a
//! picture — speedup (measured against ideal and Amdahl), io (requests/s
//! against the ideal) and spawn (the cost of each way to start work, on a
//! log scale). Drawn from the same typed `data` the experiments report
//! (and `--json` writes), so a plot never shows anything the table does
//! not. Owns the SVG files; never measures anything.

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::io::IoData;
use super::spawn::SpawnData;
use super::speedup::{SeriesData, SpeedupData};
use super::Data;

const SIZE: (u32, u32) = (720, 440);

type PlotResult = Result<(), Box<dyn std::error::Error>>;

/// Writes `DIR/<experiment>.svg` for the experiments that have a plot;
/// returns the file written (none for the others).
pub(crate) fn write(dir: &Path, data: &Data) -> Result<Option<PathBuf>, String> {
    let name = match data {
        Data::Speedup(_) => "speedup",
        Data::Io(_) => "io",
        Data::Spawn(_) => "spawn",
        _ => return Ok(None),
    };
    let path = dir.join(format!("{name}.svg"));
    let drawn = match data {
        Data::Speedup(d) => speedup(&path, d),
        Data::Io(d) => io(&path, d),
        Data::Spawn(d) => spawn(&path, d),
        _ => Ok(()),
    };
    drawn.map_err(|e| format!("cannot draw {}: {e}", path.display()))?;
    Ok(Some(path))
}

/// (workers, speedup) of each run of `series`.
fn speedups(series: &SeriesData) -> Vec<(f64, f64)> {
    series
        .runs
        .iter()
        .map(|r| (r.workers as f64, r.speedup))
        .collect()
}

/// The series' labels, boxed in the upper left corner.
fn legend<'a, CT: CoordTranslate>(chart: &mut ChartContext<'a, SVGBackend<'a>, CT>) -> PlotResult {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .draw()?;
    Ok(())
}

/// A legend mark: a short line in `color`.
fn mark(color: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color)
}

fn speedup(path: &Path, data: &SpeedupData) -> PlotResult {
    let cores = data.cores as f64;
    let threads = speedups(&data.threads);
    let processes = speedups(&data.processes);
    let max_n = threads.iter().map(|p| p.0).fold(1.0, f64::max);
    let f = data.threads.serial_fraction;

    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "speedup: CPU-bound work on more workers",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.5..max_n + 0.5, 0.0..max_n + 0.5)?;
    chart
        .configure_mesh()
        .x_desc(format!("workers ({cores} cores)"))
        .y_desc("speedup over 1 worker")
        .draw()?;
    let ideal: Vec<(f64, f64)> = (1..=max_n as usize).map(|n| (n as f64, n as f64)).collect();
    chart
        .draw_series(LineSeries::new(ideal, BLACK.stroke_width(1)))?
        .label("ideal (n×)")
        .legend(mark(BLACK));
    if let Some(f) = f {
        let curve: Vec<(f64, f64)> = (4..=max_n as usize * 4)
            .map(|i| {
                let n = i as f64 / 4.0;
                // Past the core count, more workers only share the cores.
                (n, 1.0 / (f + (1.0 - f) / n.min(cores)))
            })
            .collect();
        chart
            .draw_series(LineSeries::new(curve, GREEN.stroke_width(2)))?
            .label(format!("Amdahl, f = {f:.3} (threads), capped at the cores"))
            .legend(mark(GREEN));
    }
    for (series, color, label) in [(threads, BLUE, "threads"), (processes, RED, "processes")] {
        chart
            .draw_series(LineSeries::new(series.clone(), color.stroke_width(2)))?
            .label(label)
            .legend(mark(color));
        chart.draw_series(series.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
    }
    legend(&mut chart)?;
    root.present()?;
    Ok(())
}

fn io(path: &Path, data: &IoData) -> PlotResult {
    let at = |y: fn(&super::io::IoRun) -> f64| -> Vec<(f64, f64)> {
        data.runs.iter().map(|r| (r.threads as f64, y(r))).collect()
    };
    let measured = at(|r| r.requests_per_s);
    let ideal = at(|r| r.ideal_per_s);
    let max_t = measured.iter().map(|p| p.0).fold(1.0, f64::max);
    let max_r = ideal
        .iter()
        .chain(&measured)
        .map(|p| p.1)
        .fold(1.0, f64::max);
    let min_r = ideal
        .iter()
        .chain(&measured)
        .map(|p| p.1)
        .fold(max_r, f64::min);
    let delay_ms = data.delay_s * 1e3;

    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("io: requests to a server answering in {delay_ms:.0} ms"),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (0.8..max_t * 1.25).log_scale(),
            (min_r / 1.5..max_r * 1.5).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("client threads (log scale)")
        .y_desc("requests per second (log scale)")
        .draw()?;
    chart
        .draw_series(LineSeries::new(ideal, BLACK.stroke_width(1)))?
        .label("ideal: threads / delay")
        .legend(mark(BLACK));
    chart
        .draw_series(LineSeries::new(measured.clone(), BLUE.stroke_width(2)))?
        .label("measured")
        .legend(mark(BLUE));
    chart.draw_series(measured.iter().map(|&p| Circle::new(p, 4, BLUE.filled())))?;
    legend(&mut chart)?;
    root.present()?;
    Ok(())
}

fn spawn(path: &Path, data: &SpawnData) -> PlotResult {
    let mut ops: Vec<(&str, f64)> = data
        .ops
        .values()
        .map(|op| (op.label, op.median_s * 1e6))
        .collect();
    ops.sort_by(|a, b| a.1.total_cmp(&b.1));
    let max_us = ops.iter().map(|o| o.1).fold(1.0, f64::max);
    let min_us = ops.iter().map(|o| o.1).fold(max_us, f64::min);
    let n = ops.len();

    let root = SVGBackend::new(path, (SIZE.0, 60 + 40 * n as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("spawn: median cost per operation", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(10)
        .build_cartesian_2d((min_us / 3.0..max_us * 3.0).log_scale(), 0.0..n as f64)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc("microseconds (log scale)")
        .draw()?;
    for (i, (label, us)) in ops.iter().enumerate() {
        let y = (n - 1 - i) as f64;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(min_us / 3.0, y + 0.15), (*us, y + 0.85)],
            BLUE.mix(0.6).filled(),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            format!(
                "{label}: {}",
                super::human(std::time::Duration::from_secs_f64(us / 1e6))
            ),
            (min_us / 2.8, y + 0.62),
            ("sans-serif", 14),
        )))?;
    }
    root.present()?;
    Ok(())
}
