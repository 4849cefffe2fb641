//! What each key does, on a frame made up by hand.

use super::*;
use crate::frame::{test_row, Header};
use ratatui::crossterm::event::KeyEventKind;

fn press(app: &mut App, code: KeyCode) -> Effect {
    app.key(KeyEvent::new_with_kind(
        code,
        KeyModifiers::NONE,
        KeyEventKind::Press,
    ))
}

fn app() -> App {
    let frame = Frame {
        system: Header {
            load: [0.0; 3],
            cpus: vec![],
            mem_used: 0,
            mem_total: 0,
            swap_used: 0,
            swap_total: 0,
            states: Default::default(),
            switches_per_s: 0.0,
            forks_per_s: 0.0,
        },
        processes: vec![
            test_row(10, 1, 5.0, 1, "p10"),
            test_row(20, 1, 1.0, 9, "p20"),
            test_row(30, 1, 3.0, 5, "p30"),
        ],
    };
    App::new(frame, SortKey::Cpu, false, String::new())
}

fn pids(app: &App) -> Vec<i32> {
    app.shown
        .iter()
        .map(|s| app.frame.processes[s.index].pid)
        .collect()
}

#[test]
fn sort_keys_reorder_and_the_selection_follows_its_process() {
    let mut a = app();
    assert_eq!(pids(&a), [10, 30, 20]);
    press(&mut a, KeyCode::Down);
    assert_eq!(a.selected_row().unwrap().pid, 30);
    press(&mut a, KeyCode::Char('M'));
    assert_eq!(pids(&a), [20, 30, 10]);
    assert_eq!(a.selected_row().unwrap().pid, 30, "selection kept");
    press(&mut a, KeyCode::Char('N'));
    assert_eq!(pids(&a), [10, 20, 30]);
    press(&mut a, KeyCode::Char('s'));
    assert_eq!(a.sort, SortKey::Switches);
}

#[test]
fn the_filter_is_typed_then_kept_or_cleared() {
    let mut a = app();
    press(&mut a, KeyCode::Char('/'));
    press(&mut a, KeyCode::Char('2'));
    press(&mut a, KeyCode::Char('0'));
    assert_eq!(pids(&a), [20]);
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(pids(&a), [20]);
    press(&mut a, KeyCode::Char('/'));
    press(&mut a, KeyCode::Esc);
    assert_eq!(pids(&a), [10, 30, 20]);
}

#[test]
fn kill_asks_which_signal_then_asks_again() {
    let mut a = app();
    press(&mut a, KeyCode::Char('k'));
    assert_eq!(a.mode, Mode::Signal("TERM".into()));
    for _ in 0..4 {
        press(&mut a, KeyCode::Backspace);
    }
    press(&mut a, KeyCode::Char('9'));
    press(&mut a, KeyCode::Enter);
    let Mode::Confirm(act) = a.mode.clone() else {
        panic!("no question: {:?}", a.mode)
    };
    assert_eq!(act.question(), "send SIGKILL to 10 (p10)? y/n");
    // n: nothing.
    assert_eq!(press(&mut a, KeyCode::Char('n')), Effect::Redraw);
    assert_eq!(a.message.as_deref(), Some("nothing done"));
    press(&mut a, KeyCode::Char('k'));
    press(&mut a, KeyCode::Enter);
    let effect = press(&mut a, KeyCode::Char('y'));
    assert_eq!(
        effect,
        Effect::Do(Act::Signal {
            pid: 10,
            start: 100,
            signal: Signal::TERM,
            command: "p10".into()
        })
    );
}

#[test]
fn renice_refuses_a_value_out_of_range() {
    let mut a = app();
    press(&mut a, KeyCode::Char('r'));
    assert_eq!(a.mode, Mode::Renice("0".into()), "starts at its nice");
    press(&mut a, KeyCode::Backspace);
    press(&mut a, KeyCode::Char('2'));
    press(&mut a, KeyCode::Char('5'));
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.mode, Mode::Normal);
    assert!(a.message.as_deref().unwrap().contains("-20 to 19"));
    press(&mut a, KeyCode::Char('r'));
    press(&mut a, KeyCode::Backspace);
    press(&mut a, KeyCode::Char('5'));
    press(&mut a, KeyCode::Enter);
    assert!(matches!(a.mode, Mode::Confirm(Act::Renice { nice: 5, .. })));
}

#[test]
fn enter_opens_the_threads_and_esc_comes_back() {
    let mut a = app();
    press(&mut a, KeyCode::Down);
    assert_eq!(press(&mut a, KeyCode::Enter), Effect::Refresh);
    assert!(matches!(a.view, View::Threads { pid: 30, .. }));
    assert!(a.selected_row().is_none());
    press(&mut a, KeyCode::Esc);
    assert_eq!(a.view, View::Processes);
    assert_eq!(a.selected_row().unwrap().pid, 30);
    press(&mut a, KeyCode::Char('q'));
    assert!(a.quit);
}
