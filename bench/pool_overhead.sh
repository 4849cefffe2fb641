#!/usr/bin/env bash
# Pool overhead: tasks/s of hilo's ThreadPool against rayon::spawn + channel,
# the threadpool crate + channel and Python's ThreadPoolExecutor (2 workers
# each, no-op tasks), plus the CPU speedup of hilo with 2 workers over 1.
# Prints every measurement, then the ratios with their targets.
#
# Usage (from anywhere): bash bench/pool_overhead.sh
# Environment knobs:
#   TASKS=N     no-op tasks per Rust run            (default 1000000)
#   RUNS=N      runs per Rust contender, median     (default 5)
#   PY_TASKS=N  no-op tasks per Python run          (default 100000)
#   PY_RUNS=N   Python runs, median                 (default 3)
#   STRICT=1    exit with status 3 if a ratio is below its target
# Exit status: 0 when every step ran and no result was lost (a ratio below
# target is reported, not fatal unless STRICT=1); non-zero otherwise.
set -euo pipefail
export LC_ALL=C

cd "$(dirname "${BASH_SOURCE[0]}")/.."

TASKS="${TASKS:-1000000}"
RUNS="${RUNS:-5}"
PY_TASKS="${PY_TASKS:-100000}"
PY_RUNS="${PY_RUNS:-3}"
STRICT="${STRICT:-0}"

# Targets: hilo's tasks/s over the other contender's, and the CPU speedup.
TARGET_PYTHON=40
TARGET_RAYON=1.0
TARGET_THREADPOOL=0.8
TARGET_CPU=1.8

section() { printf '\n== %s ==\n' "$*"; }

# field OUTPUT NAME KEY: the value of KEY=... on the line starting with NAME.
field() {
  awk -v name="$2" -v key="$3" '
    $1 == name {
      for (i = 2; i <= NF; i++) {
        p = index($i, "=")
        if (p > 0 && substr($i, 1, p - 1) == key) { print substr($i, p + 1); exit }
      }
    }' <<<"$1"
}

section "setup"
echo "cores online: $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo unknown)"
echo "rustc: $(rustc --version 2>/dev/null || echo unknown)"
echo "building hilo-bench-pool-overhead (release)..."
cargo build --release --quiet -p hilo-bench-pool-overhead
bin="${CARGO_TARGET_DIR:-target}/release/hilo-bench-pool-overhead"

section "Rust: $TASKS no-op tasks x $RUNS runs per contender, CPU-bound workload"
if ! rust_out="$("$bin" --tasks "$TASKS" --runs "$RUNS")"; then
  echo "error: the Rust benchmark failed (see above)" >&2
  exit 1
fi
printf '%s\n' "$rust_out"

section "Python: $PY_TASKS no-op tasks x $PY_RUNS runs, ThreadPoolExecutor(max_workers=2)"
py_out=""
if command -v python3 >/dev/null 2>&1; then
  echo "python3: $(python3 -c 'import platform; print(platform.python_implementation(), platform.python_version())')"
  if ! py_out="$(python3 - "$PY_TASKS" "$PY_RUNS" <<'PY'
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

n, runs = int(sys.argv[1]), int(sys.argv[2])


def task(i):
    return i


times = []
for _ in range(runs):
    with ThreadPoolExecutor(max_workers=2) as ex:
        for f in [ex.submit(task, i) for i in range(8)]:  # start the threads
            f.result()
        start = time.perf_counter()
        futures = [ex.submit(task, i) for i in range(n)]
        total = count = 0
        for f in futures:
            total += f.result()
            count += 1
        elapsed = time.perf_counter() - start
    if count != n or total != n * (n - 1) // 2:
        sys.exit(f"python_tpe: results lost or wrong: {count} results summing to {total}")
    times.append(elapsed)
median = statistics.median_high(times)
print(
    f"python_tpe tasks={n} workers=2 runs={runs} median_s={median:.4f} "
    f"best_s={min(times):.4f} tasks_per_s={n / median:.0f} "
    f"runs_s={','.join(f'{t:.4f}' for t in times)}"
)
PY
)"; then
    echo "error: the Python benchmark failed (see above)" >&2
    exit 1
  fi
  printf '%s\n' "$py_out"
else
  echo "python3 not found: skipping the Python part (no hilo vs Python ratio)"
fi

hilo=$(field "$rust_out" hilo_threadpool tasks_per_s)
pipelined=$(field "$rust_out" hilo_pipelined tasks_per_s)
hmap=$(field "$rust_out" hilo_map tasks_per_s)
rayon=$(field "$rust_out" rayon_spawn_channel tasks_per_s)
tpool=$(field "$rust_out" threadpool_channel tasks_per_s)
python=""
if [ -n "$py_out" ]; then
  python=$(field "$py_out" python_tpe tasks_per_s)
fi
cpu1=$(field "$rust_out" cpu_primes_1_worker median_s)
cpu2=$(field "$rust_out" cpu_primes_2_workers median_s)
speedup=$(field "$rust_out" cpu_speedup value)
for v in hilo pipelined hmap rayon tpool cpu1 cpu2 speedup; do
  if [ -z "${!v}" ]; then
    echo "error: no value for $v in the Rust benchmark's output" >&2
    exit 1
  fi
done

section "tasks/s (median of runs, 2 workers)"
row() { printf '  %-52s %14s\n' "$1" "$2"; }
row "hilo ThreadPool: submit all, then result() each" "$hilo"
row "hilo ThreadPool: pipelined (result() 1024 behind)" "$pipelined"
row "hilo ThreadPool::map, default window" "$hmap"
row "rayon ThreadPool::spawn + crossbeam channel" "$rayon"
row "threadpool crate + crossbeam channel" "$tpool"
row "Python ThreadPoolExecutor ($PY_TASKS tasks)" "${python:-skipped}"
printf '  %-52s %14s\n' "CPU primes, hilo 1 worker / 2 workers (s)" "$cpu1 / $cpu2"

section "ratios"
below=0
printf '  %-44s %9s %9s  %s\n' "ratio" "value" "target" "status"
# ratio LABEL VALUE TARGET: prints one row; counts the rows below target.
ratio() {
  local status
  status=$(awk -v v="$2" -v t="$3" 'BEGIN { print (v + 0 >= t + 0) ? "ok" : "BELOW TARGET" }')
  printf '  %-44s %8.2fx %8sx  %s\n' "$1" "$2" ">=$3" "$status"
  if [ "$status" != ok ]; then below=$((below + 1)); fi
}
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }
if [ -n "$python" ]; then
  ratio "hilo vs Python ThreadPoolExecutor" "$(div "$hilo" "$python")" "$TARGET_PYTHON"
else
  printf '  %-44s %9s %8sx  %s\n' "hilo vs Python ThreadPoolExecutor" "-" ">=$TARGET_PYTHON" "skipped (no python3)"
fi
ratio "hilo vs rayon::spawn + channel" "$(div "$hilo" "$rayon")" "$TARGET_RAYON"
ratio "hilo vs threadpool crate + channel" "$(div "$hilo" "$tpool")" "$TARGET_THREADPOOL"
ratio "CPU speedup, hilo 2 workers over 1" "$speedup" "$TARGET_CPU"
echo
echo "  for information (no target):"
printf '  %-44s %8.2fx\n' "hilo pipelined vs rayon::spawn + channel" "$(div "$pipelined" "$rayon")"
printf '  %-44s %8.2fx\n' "hilo pipelined vs threadpool crate + channel" "$(div "$pipelined" "$tpool")"
printf '  %-44s %8.2fx\n' "hilo map (default window) vs hilo submit-all" "$(div "$hmap" "$hilo")"

if [ "$below" -gt 0 ]; then
  echo
  echo "$below ratio(s) below target."
  if [ "$STRICT" = 1 ]; then
    exit 3
  fi
fi
