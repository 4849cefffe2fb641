//! `hilo bench --svg DIR`: the plotted experiments leave a readable SVG
//! each, drawn from the numbers they report; the others leave none.

use assert_cmd::Command;

mod common;

#[test]
fn svg_plots_are_written_for_plotted_experiments_only() {
    let dir = tempfile::tempdir().unwrap();
    let svg_dir = dir.path().to_str().unwrap();
    let (doc, _) = common::bench_json(&["io", "spawn", "zombie", "--svg", svg_dir]);
    for (name, must_show) in [("io", "requests"), ("spawn", "ThreadPool submit+result")] {
        let svg = std::fs::read_to_string(dir.path().join(format!("{name}.svg")))
            .unwrap_or_else(|e| panic!("{name}.svg: {e}"));
        assert!(svg.trim_start().starts_with("<svg"), "{name}: not an SVG");
        assert!(svg.trim_end().ends_with("</svg>"), "{name}: cut short");
        assert!(svg.contains(must_show), "{name}.svg lacks {must_show:?}");
        assert!(doc["experiments"][name]["data"].is_object());
    }
    // One point per measured thread count: a circle each in the io plot.
    let io = std::fs::read_to_string(dir.path().join("io.svg")).unwrap();
    let runs = doc["experiments"]["io"]["data"]["runs"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(io.matches("<circle").count(), runs, "io.svg points");
    assert!(!dir.path().join("zombie.svg").exists());
}

#[test]
fn an_unusable_svg_directory_is_a_one_line_error() {
    let out = Command::cargo_bin("hilo")
        .unwrap()
        .args(["bench", "zombie", "--svg", "/proc/no-such/dir"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
}
