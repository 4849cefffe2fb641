//! `cow`: `fork()` copies no memory. Parent and child share every page,
//! marked read-only, until one of them writes: then the kernel copies that
//! one page (a minor fault) for the writer. This experiment makes it
//! visible: a process fills a large heap, forks (timed), and the child
//! writes 25 %, 50 %, then 100 % of the heap's pages, reading its own
//! `/proc/self/smaps_rollup` (private, PSS, shared) and `/proc/self/stat`
//! (minor faults) after each step.
//!
//! Why Python: the process that forks must be a real process holding a real
//! heap, and Rust has no safe `fork()` (std and rustix offer none: after a
//! fork only async-signal-safe calls are sound in a multithreaded parent,
//! which the type system cannot check). hilo forbids `unsafe`, so the
//! forking process is a short `python3` program ([`SCRIPT`]) whose
//! `os.fork()` is the lesson's own `fork()`. This module runs it, in its
//! own process group so that a stuck run can be killed whole, and turns
//! its JSON into the table. Without `python3` the experiment is skipped,
//! not failed. [`run_python`] is shared with the `gil` experiment.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Deserialize;

use super::{human, Ctx, Data, Report};

/// The forking program. Arguments: heap size in MiB, the cumulative
/// fractions to write (comma-separated), fork repetitions. Prints one JSON
/// object on stdout.
const SCRIPT: &str = r#"
import json, os, sys, time

def rollup():
    sizes = {}
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                sizes[parts[0].rstrip(":")] = int(parts[1]) * 1024
    return sizes

def minor_faults():
    with open("/proc/self/stat") as f:
        stat = f.read()
    # The name field may hold spaces: count fields after its ")". minflt
    # is field 10 of stat, the 8th after the name.
    return int(stat[stat.rindex(")") + 2:].split()[7])

def snapshot():
    r = rollup()
    return {"rss": r["Rss"], "pss": r["Pss"],
            "private_dirty": r["Private_Dirty"], "private_clean": r["Private_Clean"],
            "shared_dirty": r["Shared_Dirty"], "shared_clean": r["Shared_Clean"],
            "minflt": minor_faults()}

def fork_and_exit():
    # The child leaves at once: only the fork is timed.
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    took = time.perf_counter() - t0
    os.waitpid(pid, 0)
    return took

mib, fractions, reps = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
fractions = [float(f) for f in fractions.split(",")]
page = os.sysconf("SC_PAGE_SIZE")
size = mib << 20

small = min(fork_and_exit() for _ in range(reps))
# Non-zero bytes: every page really allocated and dirty in the parent
# (a zero-filled buffer could stay mapped to the shared zero page).
heap = bytearray(b"\x01") * size
parent = snapshot()
forks = [fork_and_exit() for _ in range(reps - 1)]

r, w = os.pipe()
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    code = 1
    try:
        os.close(r)
        steps = [{"fraction": 0.0, "seconds": 0.0, **snapshot()}]
        done = 0
        for frac in fractions:
            upto = int(size * frac) // page * page
            t0 = time.perf_counter()
            if upto > done:
                # One byte per page, written in C (an extended slice): the
                # time is the kernel's copying, not the interpreter's loop.
                heap[done:upto:page] = b"\x02" * len(range(done, upto, page))
            took = time.perf_counter() - t0
            done = max(done, upto)
            steps.append({"fraction": frac, "seconds": took, **snapshot()})
        os.write(w, json.dumps({"pid": os.getpid(), "steps": steps}).encode())
        code = 0
    finally:
        # Never run the parent's code (or its exit handlers) in the child.
        os._exit(code)
forks.append(time.perf_counter() - t0)
os.close(w)
try:
    chunks = []
    while True:
        chunk = os.read(r, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
finally:
    _, status = os.waitpid(pid, 0)
if status != 0:
    sys.exit("the forked child failed (status %d)" % status)
print(json.dumps({"heap_bytes": size, "page_bytes": page, "fork_s": min(forks),
                  "fork_small_s": small, "parent": parent,
                  "child": json.loads(b"".join(chunks))}))
"#;

/// What `/proc/self/smaps_rollup` and `/proc/self/stat` said at one point.
#[derive(Debug, Deserialize)]
struct Snapshot {
    pss: u64,
    private_dirty: u64,
    private_clean: u64,
    shared_dirty: u64,
    shared_clean: u64,
    minflt: u64,
}

impl Snapshot {
    fn private(&self) -> u64 {
        self.private_dirty + self.private_clean
    }

    fn shared(&self) -> u64 {
        self.shared_dirty + self.shared_clean
    }
}

/// The child after writing `fraction` of the heap (cumulative).
#[derive(Debug, Deserialize)]
struct Step {
    fraction: f64,
    /// How long this step's writes took.
    seconds: f64,
    #[serde(flatten)]
    memory: Snapshot,
}

#[derive(Debug, Deserialize)]
struct Child {
    pid: u32,
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
struct Outcome {
    heap_bytes: u64,
    page_bytes: u64,
    fork_s: f64,
    fork_small_s: f64,
    parent: Snapshot,
    child: Child,
}

pub(crate) fn run(ctx: &Ctx) -> Result<Report, String> {
    let explain = "A forked child shares its parent's heap until it writes: each page it writes \
                   is copied then (one minor fault), so its private memory grows with what it \
                   writes, not with what it inherited.";
    let mib: u64 = ctx.pick(64, 512);
    let reps: u32 = ctx.pick(3, 5);
    let args = [mib.to_string(), "0.25,0.5,1".into(), reps.to_string()];
    let Some((value, python_pid)) = run_python(SCRIPT, &args, Duration::from_secs(120))? else {
        return Ok(skipped(explain, "needs python3"));
    };
    let out: Outcome = serde_json::from_value(value)
        .map_err(|e| format!("python3 printed an unexpected report: {e}"))?;
    Ok(report(explain, &out, python_pid))
}

fn report(explain: &str, out: &Outcome, python_pid: u32) -> Report {
    let mb = |bytes: u64| format!("{:.1}", bytes as f64 / (1 << 20) as f64);
    let heap_pages = out.heap_bytes / out.page_bytes.max(1);
    let rows = out
        .child
        .steps
        .iter()
        .map(|s| {
            let pages = (s.fraction * heap_pages as f64) as u64;
            vec![
                format!("{:.0} %", s.fraction * 100.0),
                pages.to_string(),
                mb(s.memory.private()),
                mb(s.memory.pss),
                mb(s.memory.shared()),
                s.memory.minflt.to_string(),
                human(Duration::from_secs_f64(s.seconds)),
            ]
        })
        .collect();
    let copy_s: f64 = out.child.steps.iter().map(|s| s.seconds).sum();
    let faults = out.child.steps.last().map_or(0, |s| s.memory.minflt);
    let notes = vec![
        format!(
            "fork() of a process holding {} MB took {} ({} with almost no heap): it copied \
             page tables, not the heap; writing every page in the child then copied it, in {}",
            mb(out.heap_bytes),
            human(Duration::from_secs_f64(out.fork_s)),
            human(Duration::from_secs_f64(out.fork_small_s)),
            human(Duration::from_secs_f64(copy_s)),
        ),
        format!(
            "each written page ({} bytes) cost a minor fault: {heap_pages} pages, {faults} faults \
             in the child; the parent's private memory before the fork: {} MB",
            out.page_bytes,
            mb(out.parent.private()),
        ),
        "the forking process is python3 (os.fork): Rust has no safe fork, and hilo starts \
         its workers with fork+exec (std's Command), never a bare fork"
            .into(),
    ];
    Report {
        explain: explain.into(),
        columns: [
            "written",
            "pages",
            "child private MB",
            "child PSS MB",
            "shared MB",
            "minor faults",
            "time",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        notes,
        data: Data::Cow(CowData::of(out, python_pid)),
    }
}

/// The numbers `--json` writes.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct CowData {
    heap_bytes: u64,
    page_bytes: u64,
    fork_s: f64,
    fork_small_heap_s: f64,
    parent_private_bytes: u64,
    python_pid: u32,
    child_pid: u32,
    steps: Vec<StepData>,
}

impl CowData {
    fn of(out: &Outcome, python_pid: u32) -> Self {
        let steps = out
            .child
            .steps
            .iter()
            .map(|s| StepData {
                fraction: s.fraction,
                seconds: s.seconds,
                private_bytes: s.memory.private(),
                private_dirty_bytes: s.memory.private_dirty,
                pss_bytes: s.memory.pss,
                shared_bytes: s.memory.shared(),
                minor_faults: s.memory.minflt,
            })
            .collect();
        CowData {
            heap_bytes: out.heap_bytes,
            page_bytes: out.page_bytes,
            fork_s: out.fork_s,
            fork_small_heap_s: out.fork_small_s,
            parent_private_bytes: out.parent.private(),
            python_pid,
            child_pid: out.child.pid,
            steps,
        }
    }
}

/// The child's memory after one step of writes.
#[derive(Debug, Clone, serde::Serialize)]
struct StepData {
    fraction: f64,
    seconds: f64,
    private_bytes: u64,
    private_dirty_bytes: u64,
    pss_bytes: u64,
    shared_bytes: u64,
    minor_faults: u64,
}

/// The report of an experiment that could not run here, and why: a row
/// that says so, not an error (the lab's exit status stays 0).
pub(super) fn skipped(explain: &str, why: &str) -> Report {
    Report {
        explain: explain.into(),
        columns: vec!["result".into()],
        rows: vec![vec![format!("skipped: {why}")]],
        notes: Vec::new(),
        data: Data::Skipped {
            skipped: why.into(),
        },
    }
}

/// Runs `python3 -c script args…` and parses the one JSON value it prints.
/// `Ok(None)` when there is no `python3`; also returns python's pid.
///
/// The program runs in a process group of its own: if it overstays
/// `limit` the whole group is killed (its forked children and pool
/// workers too), then reaped. On every path the `python3` process is
/// waited for before this returns.
pub(super) fn run_python(
    script: &str,
    args: &[String],
    limit: Duration,
) -> Result<Option<(serde_json::Value, u32)>, String> {
    let spawned = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot start python3: {e}")),
    };
    let pid = child.id();
    // Both pipes are drained by threads so that neither can fill up and
    // stall python; stdout's end (EOF) tells us the program is done.
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err("python3 started without its pipes".into());
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::Builder::new().spawn(move || {
        let mut out = Vec::new();
        let read = stdout.read_to_end(&mut out).map(|_| out);
        let _ = tx.send(read);
    });
    let errors = std::thread::Builder::new().spawn(move || {
        let mut err = Vec::new();
        let _ = stderr.read_to_end(&mut err);
        err
    });
    let errors = match (reader, errors) {
        (Ok(_), Ok(errors)) => errors,
        (Err(e), _) | (_, Err(e)) => {
            kill_group(pid);
            let _ = child.wait();
            return Err(format!(
                "cannot start a thread to read python3's output: {e}"
            ));
        }
    };
    let stdout = match rx.recv_timeout(limit) {
        Ok(read) => read.map_err(|e| format!("cannot read python3's output: {e}")),
        Err(_) => Err(format!("python3 did not finish within {}", human(limit))),
    };
    if stdout.is_err() {
        kill_group(pid);
    }
    let status = child
        .wait()
        .map_err(|e| format!("cannot reap python3: {e}"));
    let stderr = errors.join().unwrap_or_default();
    let (stdout, status) = (stdout?, status?);
    if !status.success() {
        let err = String::from_utf8_lossy(&stderr);
        let last = err.lines().last().unwrap_or("no message");
        return Err(format!("python3 failed ({status}): {last}"));
    }
    let value = serde_json::from_slice(&stdout)
        .map_err(|e| format!("python3 printed no JSON report: {e}"))?;
    Ok(Some((value, pid)))
}

/// Kills the process group led by `pid`, a child not reaped yet: until
/// then its pid, which is also the group's id, cannot be reused.
fn kill_group(pid: u32) {
    let group = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw);
    if let Some(group) = group {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Processes whose command line holds `marker`.
    fn holding(marker: &str) -> Vec<String> {
        let Ok(all) = procfs::process::all_processes() else {
            return Vec::new();
        };
        all.flatten()
            .filter(|p| {
                p.cmdline()
                    .is_ok_and(|args| args.iter().any(|a| a.contains(marker)))
            })
            .map(|p| p.pid().to_string())
            .collect()
    }

    #[test]
    #[ignore = "needs python3"]
    fn a_python_run_that_overstays_is_killed_with_its_forked_child() {
        // Both processes sleep far past the limit; the marker (an unused
        // argument) finds them in /proc afterwards.
        let marker = format!("hilo-cow-test-{}", std::process::id());
        let script = "import os, time\nos.fork()\ntime.sleep(60)\n";
        let started = std::time::Instant::now();
        let err = run_python(
            script,
            std::slice::from_ref(&marker),
            Duration::from_millis(500),
        )
        .unwrap_err();
        assert!(err.contains("did not finish"), "{err}");
        // A surviving child would hold python's stderr open for its 60 s.
        assert!(started.elapsed() < Duration::from_secs(30));
        // The orphaned child is reaped by init, not by us: give it a moment.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !holding(&marker).is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(holding(&marker), Vec::<String>::new());
    }

    #[test]
    #[ignore = "needs python3"]
    fn a_failing_python_run_is_an_error_with_its_last_line() {
        let err = run_python(
            "raise SystemExit('no smaps here')",
            &[],
            Duration::from_secs(30),
        )
        .unwrap_err();
        assert!(err.contains("no smaps here"), "{err}");
    }
}
