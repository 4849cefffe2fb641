//! Draws `App` with ratatui: the header, the table (processes or threads)
//! and the bottom line; the help over them when asked for.

use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table};
use ratatui::Frame;

use super::app::{App, Mode, View};
use crate::text;

const HELP: &str = "\
hilo top: processes and threads from /proc

  P M N W   sort by CPU%, memory (RSS), PID, context switches
  s         next sort key
  t         tree by parent (on and off)
  /         filter by command, user or pid (Enter keeps, Esc clears)
  Enter     the threads of the highlighted process (Esc: back)
  k         send a signal (asks which, then asks again)
  r         renice (asks the value, then asks again)
  arrows, PgUp, PgDn, Home, End: move
  ?         this help
  q         quit

Red: zombies (Z). Yellow: a zombie's parent, which has not waited for it.
CPU% is of one core since the last refresh; VCSW/s and IVCSW/s are
voluntary (it waited) and involuntary (preempted) context switches.";

/// Draws the whole screen.
pub(crate) fn draw(f: &mut Frame<'_>, app: &mut App) {
    let area = f.area();
    let header = text::header_lines(&app.frame.system, area.width as usize);
    let [top, middle, bottom] = Layout::vertical([
        Constraint::Length(header.len() as u16),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    f.render_widget(
        Paragraph::new(header.into_iter().map(Line::from).collect::<Vec<_>>()),
        top,
    );
    // Rows that fit under the table's title and column names.
    app.page = middle.height.saturating_sub(2) as usize;
    match &app.view {
        View::Processes => processes(f, app, middle),
        View::Threads { .. } => threads(f, app, middle),
    }
    f.render_widget(Paragraph::new(bottom_line(app)), bottom);
    if app.mode == Mode::Help {
        help(f, area);
    }
}

fn title(app: &App) -> String {
    match &app.view {
        View::Processes => {
            let mut t = format!(
                " {} processes, by {}{} ",
                app.shown.len(),
                app.sort.name(),
                if app.tree { ", tree" } else { "" }
            );
            if !app.filter.is_empty() {
                t.push_str(&format!("— filter {:?} ", app.filter));
            }
            t
        }
        View::Threads { pid, command, .. } => {
            format!(
                " {} threads of {pid} {command} (Esc: back) ",
                app.threads.len()
            )
        }
    }
}

/// Cells, right-aligned where `right` says (numbers), left elsewhere.
fn cells<const N: usize>(texts: [impl Into<String>; N], right: &[usize]) -> Vec<Cell<'static>> {
    texts
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let line = Line::from(t.into());
            Cell::from(if right.contains(&i) {
                line.alignment(Alignment::Right)
            } else {
                line
            })
        })
        .collect()
}

/// The process table's number columns.
const PROCESS_NUMBERS: [usize; 8] = [0, 1, 4, 5, 6, 7, 8, 9];
/// The threads table's.
const THREAD_NUMBERS: [usize; 3] = [0, 3, 4];

fn bold() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

fn processes(f: &mut Frame<'_>, app: &App, area: Rect) {
    let lines = app.shown.iter().map(|s| {
        let r = &app.frame.processes[s.index];
        let style = if r.state == 'Z' {
            Style::default().fg(Color::Red)
        } else if r.has_zombie {
            Style::default().fg(Color::Yellow)
        } else {
            Style::default()
        };
        (text::row_cells(r, &s.branch), style)
    });
    let widths = [
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(9),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(4),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Min(10),
    ];
    page(
        f,
        app,
        area,
        lines,
        text::ROW_HEADER,
        &PROCESS_NUMBERS,
        widths,
    );
}

fn threads(f: &mut Frame<'_>, app: &App, area: Rect) {
    let lines = app
        .threads
        .iter()
        .map(|t| (text::thread_cells(t), Style::default()));
    let widths = [
        Constraint::Length(8),
        Constraint::Length(16),
        Constraint::Length(2),
        Constraint::Length(6),
        Constraint::Length(8),
    ];
    page(
        f,
        app,
        area,
        lines,
        text::THREAD_HEADER,
        &THREAD_NUMBERS,
        widths,
    );
}

/// The page of a table that is scrolled into view: each line's cells in
/// its colour, the highlighted one reversed, under the column names and
/// the title.
fn page<const N: usize>(
    f: &mut Frame<'_>,
    app: &App,
    area: Rect,
    lines: impl Iterator<Item = ([String; N], Style)>,
    header: [&str; N],
    numbers: &[usize],
    widths: [Constraint; N],
) {
    let rows = lines
        .enumerate()
        .skip(app.offset)
        .take(app.page)
        .map(|(line, (texts, style))| {
            let style = if line == app.selected {
                style.add_modifier(Modifier::REVERSED)
            } else {
                style
            };
            Row::new(cells(texts, numbers)).style(style)
        });
    let table = Table::new(rows, widths)
        .header(Row::new(cells(header, numbers)).style(bold()))
        .block(Block::default().borders(Borders::TOP).title(title(app)));
    f.render_widget(table, area);
}

fn bottom_line(app: &App) -> Line<'static> {
    let text = match &app.mode {
        Mode::Filter => format!("filter: {}▏ (Enter keeps, Esc clears)", app.filter),
        Mode::Signal(t) => format!("signal (name or number): {t}▏ (Enter, Esc)"),
        Mode::Renice(t) => format!("nice (-20 to 19): {t}▏ (Enter, Esc)"),
        Mode::Confirm(act) => act.question(),
        Mode::Normal | Mode::Help => match &app.message {
            Some(m) => m.clone(),
            None => "?: help  q: quit  P M N W: sort  t: tree  /: filter  Enter: threads  k: signal  r: renice".into(),
        },
    };
    Line::from(text).style(Style::default().add_modifier(Modifier::REVERSED))
}

fn help(f: &mut Frame<'_>, area: Rect) {
    let lines: Vec<Line<'_>> = HELP.lines().map(Line::from).collect();
    let height = (lines.len() as u16 + 2).min(area.height);
    let width =
        (HELP.lines().map(|l| l.chars().count()).max().unwrap_or(0) as u16 + 4).min(area.width);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" help (any key closes) "),
        ),
        popup,
    );
}
