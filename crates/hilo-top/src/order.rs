//! Which rows are shown, in what order: sorted by a key, filtered by text,
//! flat or as a tree by parent. Pure: it only rearranges `frame`'s rows.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use crate::frame::Row;

/// What the rows are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    /// CPU %, busiest first.
    Cpu,
    /// Resident memory, largest first.
    Mem,
    /// Process id, lowest first.
    Pid,
    /// Context switches per second (voluntary and involuntary), most first.
    Switches,
}

impl SortKey {
    /// The next key, for the key that cycles through them.
    pub(crate) fn next(self) -> SortKey {
        match self {
            SortKey::Cpu => SortKey::Mem,
            SortKey::Mem => SortKey::Pid,
            SortKey::Pid => SortKey::Switches,
            SortKey::Switches => SortKey::Cpu,
        }
    }

    /// Its name in the UI.
    pub(crate) fn name(self) -> &'static str {
        match self {
            SortKey::Cpu => "CPU%",
            SortKey::Mem => "RSS",
            SortKey::Pid => "PID",
            SortKey::Switches => "switches",
        }
    }

    fn compare(self, a: &Row, b: &Row) -> Ordering {
        let by = match self {
            SortKey::Cpu => b.cpu.total_cmp(&a.cpu),
            SortKey::Mem => b.rss.cmp(&a.rss),
            SortKey::Pid => Ordering::Equal,
            SortKey::Switches => (b.voluntary_per_s + b.involuntary_per_s)
                .total_cmp(&(a.voluntary_per_s + a.involuntary_per_s)),
        };
        by.then(a.pid.cmp(&b.pid))
    }
}

/// One shown row: its index in the frame's rows and, in the tree view,
/// the branch drawn before its command (`│  ├─ `).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shown {
    /// Index into `Frame::processes`.
    pub(crate) index: usize,
    /// Tree branches, empty in the flat view.
    pub(crate) branch: String,
}

/// Does `row` match the filter text (case-insensitive, in its command,
/// its user or its pid)? An empty filter matches everything.
pub(crate) fn matches(row: &Row, filter: &str) -> bool {
    if filter.is_empty() {
        return true;
    }
    let f = filter.to_lowercase();
    row.command.to_lowercase().contains(&f)
        || row.user.to_lowercase().contains(&f)
        || row.pid.to_string() == f
}

/// The rows to show, in order. In the tree view a process that matches
/// the filter brings its whole subtree (a zombie has no command line to
/// match, so filtering by its parent shows it), and siblings are sorted
/// by `key`.
pub(crate) fn order(rows: &[Row], key: SortKey, filter: &str, tree: bool) -> Vec<Shown> {
    let mut picked: Vec<usize> = (0..rows.len())
        .filter(|&i| matches(&rows[i], filter))
        .collect();
    if !tree {
        picked.sort_by(|&a, &b| key.compare(&rows[a], &rows[b]));
        return picked
            .into_iter()
            .map(|index| Shown {
                index,
                branch: String::new(),
            })
            .collect();
    }
    let mut children: HashMap<i32, Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        children.entry(r.ppid).or_default().push(i);
    }
    for list in children.values_mut() {
        list.sort_by(|&a, &b| key.compare(&rows[a], &rows[b]));
    }
    // The roots: picked rows none of whose ancestors is picked.
    let picked_pids: HashSet<i32> = picked.iter().map(|&i| rows[i].pid).collect();
    let by_pid: HashMap<i32, usize> = rows.iter().enumerate().map(|(i, r)| (r.pid, i)).collect();
    let has_picked_ancestor = |mut i: usize| {
        let mut seen = HashSet::new();
        while let Some(&parent) = by_pid.get(&rows[i].ppid) {
            if !seen.insert(parent) {
                return false; // a cycle of pids read at different instants
            }
            if picked_pids.contains(&rows[parent].pid) {
                return true;
            }
            i = parent;
        }
        false
    };
    picked.retain(|&i| !has_picked_ancestor(i));
    picked.sort_by(|&a, &b| key.compare(&rows[a], &rows[b]));
    let mut shown = Vec::new();
    let mut visited = HashSet::new();
    for root in picked {
        walk(rows, &children, root, "", None, &mut shown, &mut visited);
    }
    shown
}

/// Appends `i` and its subtree. `last` is whether `i` is its parent's last
/// child (`None` for a root, which gets no branch).
fn walk(
    rows: &[Row],
    children: &HashMap<i32, Vec<usize>>,
    i: usize,
    indent: &str,
    last: Option<bool>,
    shown: &mut Vec<Shown>,
    visited: &mut HashSet<usize>,
) {
    if !visited.insert(i) {
        return;
    }
    let (branch, below) = match last {
        None => (String::new(), String::new()),
        Some(true) => (format!("{indent}└─ "), format!("{indent}   ")),
        Some(false) => (format!("{indent}├─ "), format!("{indent}│  ")),
    };
    shown.push(Shown { index: i, branch });
    // pid 0's "children" are the roots themselves; never descend into them.
    if rows[i].pid == 0 {
        return;
    }
    if let Some(kids) = children.get(&rows[i].pid) {
        for (n, &kid) in kids.iter().enumerate() {
            walk(
                rows,
                children,
                kid,
                &below,
                Some(n + 1 == kids.len()),
                shown,
                visited,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::test_row as row;

    fn rows() -> Vec<Row> {
        vec![
            row(1, 0, 0.0, 10, "init"),
            row(5, 1, 3.0, 30, "shell"),
            row(9, 5, 1.0, 20, "sleep 600"),
            row(7, 5, 2.0, 5, "editor"),
            row(3, 1, 4.0, 1, "daemon"),
        ]
    }

    fn pids(rows: &[Row], shown: &[Shown]) -> Vec<i32> {
        shown.iter().map(|s| rows[s.index].pid).collect()
    }

    #[test]
    fn flat_views_sort_by_each_key() {
        let r = rows();
        assert_eq!(
            pids(&r, &order(&r, SortKey::Cpu, "", false)),
            [3, 5, 7, 9, 1]
        );
        assert_eq!(
            pids(&r, &order(&r, SortKey::Mem, "", false)),
            [5, 9, 1, 7, 3]
        );
        assert_eq!(
            pids(&r, &order(&r, SortKey::Pid, "", false)),
            [1, 3, 5, 7, 9]
        );
        assert_eq!(
            pids(&r, &order(&r, SortKey::Switches, "", false)),
            [5, 9, 1, 7, 3]
        );
    }

    #[test]
    fn the_filter_matches_command_user_or_pid() {
        let r = rows();
        assert_eq!(pids(&r, &order(&r, SortKey::Pid, "SLEEP", false)), [9]);
        assert_eq!(pids(&r, &order(&r, SortKey::Pid, "7", false)), [7]);
        assert_eq!(order(&r, SortKey::Pid, "nobody", false), []);
    }

    #[test]
    fn the_tree_puts_children_under_parents_with_branches() {
        let r = rows();
        let shown = order(&r, SortKey::Pid, "", true);
        let lines: Vec<String> = shown
            .iter()
            .map(|s| format!("{}{}", s.branch, r[s.index].command))
            .collect();
        assert_eq!(
            lines,
            [
                "init",
                "├─ daemon",
                "└─ shell",
                "   ├─ editor",
                "   └─ sleep 600"
            ]
        );
        // Filtering by a parent shows its subtree.
        let shown = order(&r, SortKey::Cpu, "shell", true);
        assert_eq!(pids(&r, &shown), [5, 7, 9]);
        assert_eq!(shown[0].branch, "");
    }
}
