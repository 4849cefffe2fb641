//! The live view's state and what each key does to it. No terminal here:
//! keys come in as crossterm events and go out as changes to `App` and, for
//! `k` and `r` once confirmed, an [`Act`] for the loop to carry out.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::act::{parse_signal, signal_name};
use crate::frame::{Frame, Row, ThreadRow};
use crate::order::{order, Shown, SortKey};
use rustix::process::Signal;

/// Which table is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum View {
    /// Every process (flat or tree).
    Processes,
    /// The threads of one process.
    Threads {
        /// Its pid.
        pid: i32,
        /// Its start time (who it is).
        start: u64,
        /// Its command, for the title.
        command: String,
    },
}

/// What the bottom line is doing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mode {
    /// Keys are commands.
    Normal,
    /// Typing the filter.
    Filter,
    /// Typing the signal for `k`.
    Signal(String),
    /// Typing the nice value for `r`.
    Renice(String),
    /// Waiting for y or n.
    Confirm(Act),
    /// The help screen.
    Help,
}

/// An action on a process, once confirmed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Act {
    /// Send a signal.
    Signal {
        /// To which pid.
        pid: i32,
        /// That started when.
        start: u64,
        /// Which signal.
        signal: Signal,
        /// Its command, for the question.
        command: String,
    },
    /// Change its nice value.
    Renice {
        /// Which pid.
        pid: i32,
        /// That started when.
        start: u64,
        /// The new value.
        nice: i32,
        /// Its command, for the question.
        command: String,
    },
}

impl Act {
    /// The question asked before doing it.
    pub(crate) fn question(&self) -> String {
        match self {
            Act::Signal {
                pid,
                signal,
                command,
                ..
            } => format!("send SIG{} to {pid} ({command})? y/n", signal_name(*signal)),
            Act::Renice {
                pid, nice, command, ..
            } => format!("renice {pid} ({command}) to {nice}? y/n"),
        }
    }
}

/// Everything the live view shows and remembers.
pub(crate) struct App {
    /// The sort key.
    pub(crate) sort: SortKey,
    /// Tree view.
    pub(crate) tree: bool,
    /// Filter text.
    pub(crate) filter: String,
    /// Which table.
    pub(crate) view: View,
    /// What keys do now.
    pub(crate) mode: Mode,
    /// The latest frame.
    pub(crate) frame: Frame,
    /// Its rows in the order shown.
    pub(crate) shown: Vec<Shown>,
    /// The threads, in the threads view.
    pub(crate) threads: Vec<ThreadRow>,
    /// The highlighted line of the table shown.
    pub(crate) selected: usize,
    /// The pid highlighted, kept across refreshes.
    selected_pid: Option<i32>,
    /// The first line drawn (scrolling).
    pub(crate) offset: usize,
    /// Lines of rows that fit (set when drawing).
    pub(crate) page: usize,
    /// The outcome of the last action, shown on the bottom line.
    pub(crate) message: Option<String>,
    /// `q` was pressed.
    pub(crate) quit: bool,
}

/// What the loop must do after a key.
#[derive(Debug, PartialEq)]
pub(crate) enum Effect {
    /// Only draw again.
    Redraw,
    /// Read `/proc` again now (the view changed).
    Refresh,
    /// Carry out this action.
    Do(Act),
}

impl App {
    /// A view of `frame`, sorted by `sort`.
    pub(crate) fn new(frame: Frame, sort: SortKey, tree: bool, filter: String) -> Self {
        let mut app = App {
            sort,
            tree,
            filter,
            view: View::Processes,
            mode: Mode::Normal,
            frame,
            shown: Vec::new(),
            threads: Vec::new(),
            selected: 0,
            selected_pid: None,
            offset: 0,
            page: 20,
            message: None,
            quit: false,
        };
        app.reorder();
        app
    }

    /// Takes a new frame (and the threads, in the threads view).
    pub(crate) fn update(&mut self, frame: Frame, threads: Vec<ThreadRow>) {
        self.frame = frame;
        self.threads = threads;
        self.reorder();
    }

    /// Lines in the table shown.
    pub(crate) fn len(&self) -> usize {
        match self.view {
            View::Processes => self.shown.len(),
            View::Threads { .. } => self.threads.len(),
        }
    }

    /// The highlighted process, in the processes view.
    pub(crate) fn selected_row(&self) -> Option<&Row> {
        match self.view {
            View::Processes => self
                .shown
                .get(self.selected)
                .map(|s| &self.frame.processes[s.index]),
            View::Threads { .. } => None,
        }
    }

    fn reorder(&mut self) {
        self.shown = order(&self.frame.processes, self.sort, &self.filter, self.tree);
        if let (View::Processes, Some(pid)) = (&self.view, self.selected_pid) {
            if let Some(i) = self
                .shown
                .iter()
                .position(|s| self.frame.processes[s.index].pid == pid)
            {
                self.selected = i;
            }
        }
        self.clamp();
    }

    fn clamp(&mut self) {
        let len = self.len();
        self.selected = self.selected.min(len.saturating_sub(1));
        if self.selected < self.offset {
            self.offset = self.selected;
        }
        let page = self.page.max(1);
        if self.selected >= self.offset + page {
            self.offset = self.selected + 1 - page;
        }
        if let Some(pid) = self.selected_row().map(|r| r.pid) {
            self.selected_pid = Some(pid);
        }
    }

    fn move_to(&mut self, line: usize) {
        self.selected = line;
        self.selected_pid = None;
        self.clamp();
    }

    /// Handles one key press.
    pub(crate) fn key(&mut self, key: KeyEvent) -> Effect {
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return Effect::Redraw;
        }
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Normal => self.normal_key(key),
            Mode::Help => Effect::Redraw, // any key closes it
            Mode::Filter => {
                match key.code {
                    KeyCode::Enter => {}
                    KeyCode::Esc => self.filter.clear(),
                    KeyCode::Backspace => {
                        self.filter.pop();
                        self.mode = Mode::Filter;
                    }
                    // Ctrl+U empties the line, as in a shell.
                    KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                        self.filter.clear();
                        self.mode = Mode::Filter;
                    }
                    KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                        self.filter.push(c);
                        self.mode = Mode::Filter;
                    }
                    _ => self.mode = Mode::Filter,
                }
                self.reorder();
                Effect::Redraw
            }
            Mode::Signal(text) => self.typed(key, text, Mode::Signal, |app, t| app.ask_signal(t)),
            Mode::Renice(text) => self.typed(key, text, Mode::Renice, |app, t| app.ask_renice(t)),
            Mode::Confirm(act) => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => Effect::Do(act),
                _ => {
                    self.message = Some("nothing done".into());
                    Effect::Redraw
                }
            },
        }
    }

    /// A key while typing the answer of `k` or `r`: edit, Esc to give up,
    /// Enter to go on to the question.
    fn typed(
        &mut self,
        key: KeyEvent,
        mut text: String,
        again: fn(String) -> Mode,
        enter: fn(&mut App, &str),
    ) -> Effect {
        match key.code {
            KeyCode::Esc => self.message = Some("nothing done".into()),
            KeyCode::Enter => enter(self, &text),
            KeyCode::Backspace => {
                text.pop();
                self.mode = again(text);
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.mode = again(String::new());
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                text.push(c);
                self.mode = again(text);
            }
            _ => self.mode = again(text),
        }
        Effect::Redraw
    }

    fn ask_signal(&mut self, text: &str) {
        let Some(row) = self.selected_row() else {
            return;
        };
        let (pid, start, command) = (row.pid, row.start, row.comm.clone());
        match parse_signal(text) {
            Ok(signal) => {
                self.mode = Mode::Confirm(Act::Signal {
                    pid,
                    start,
                    signal,
                    command,
                })
            }
            Err(e) => self.message = Some(e),
        }
    }

    fn ask_renice(&mut self, text: &str) {
        let Some(row) = self.selected_row() else {
            return;
        };
        let (pid, start, command) = (row.pid, row.start, row.comm.clone());
        match text.trim().parse::<i32>() {
            Ok(nice) if (-20..=19).contains(&nice) => {
                self.mode = Mode::Confirm(Act::Renice {
                    pid,
                    start,
                    nice,
                    command,
                })
            }
            _ => self.message = Some(format!("nice must be -20 to 19, not {text:?}")),
        }
    }

    fn normal_key(&mut self, key: KeyEvent) -> Effect {
        self.message = None;
        let sort = |app: &mut App, key: SortKey| {
            app.sort = key;
            app.reorder();
            Effect::Redraw
        };
        match key.code {
            KeyCode::Char('q') => {
                self.quit = true;
                Effect::Redraw
            }
            KeyCode::Char('?') | KeyCode::F(1) => {
                self.mode = Mode::Help;
                Effect::Redraw
            }
            KeyCode::Char('P') => sort(self, SortKey::Cpu),
            KeyCode::Char('M') => sort(self, SortKey::Mem),
            KeyCode::Char('N') => sort(self, SortKey::Pid),
            KeyCode::Char('W') => sort(self, SortKey::Switches),
            KeyCode::Char('s') => sort(self, self.sort.next()),
            KeyCode::Char('t') => {
                self.tree = !self.tree;
                self.reorder();
                Effect::Redraw
            }
            KeyCode::Char('/') => {
                self.mode = Mode::Filter;
                Effect::Redraw
            }
            KeyCode::Enter if self.view == View::Processes => match self.selected_row() {
                Some(row) => {
                    self.view = View::Threads {
                        pid: row.pid,
                        start: row.start,
                        command: row.command.clone(),
                    };
                    self.threads.clear();
                    self.selected = 0;
                    self.offset = 0;
                    Effect::Refresh
                }
                None => Effect::Redraw,
            },
            KeyCode::Esc | KeyCode::Backspace | KeyCode::Left
                if matches!(self.view, View::Threads { .. }) =>
            {
                self.back_to_processes();
                Effect::Redraw
            }
            KeyCode::Char('k') if self.selected_row().is_some() => {
                self.mode = Mode::Signal("TERM".into());
                Effect::Redraw
            }
            KeyCode::Char('r') => match self.selected_row() {
                Some(row) => {
                    self.mode = Mode::Renice(row.nice.to_string());
                    Effect::Redraw
                }
                None => Effect::Redraw,
            },
            KeyCode::Up => {
                self.move_to(self.selected.saturating_sub(1));
                Effect::Redraw
            }
            KeyCode::Down => {
                self.move_to(self.selected + 1);
                Effect::Redraw
            }
            KeyCode::PageUp => {
                self.move_to(self.selected.saturating_sub(self.page.max(1)));
                Effect::Redraw
            }
            KeyCode::PageDown => {
                self.move_to(self.selected + self.page.max(1));
                Effect::Redraw
            }
            KeyCode::Home => {
                self.move_to(0);
                Effect::Redraw
            }
            KeyCode::End => {
                self.move_to(usize::MAX);
                Effect::Redraw
            }
            _ => Effect::Redraw,
        }
    }

    /// Leaves the threads view (also when its process is gone).
    pub(crate) fn back_to_processes(&mut self) {
        let pid = match &self.view {
            View::Threads { pid, .. } => Some(*pid),
            View::Processes => None,
        };
        self.view = View::Processes;
        self.threads.clear();
        self.selected_pid = pid;
        self.reorder();
    }
}

#[cfg(test)]
mod tests;
