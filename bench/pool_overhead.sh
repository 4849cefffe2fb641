#!/usr/bin/env bash
# Pool overhead: tasks/s of hilo's ThreadPool against rayon::spawn + channel,
# the threadpool crate + channel and Python's ThreadPoolExecutor (2 workers
# each, no-op tasks), plus the CPU speedup of hilo with 2 workers over 1.
# hilo submits a million tasks both with one submit_all and one submit at a
# time; the targets against rayon and threadpool are on submit_all, the
# Python one on single submits (Python's pattern). Prints every measurement,
# then the ratios with their targets.
#
# Usage (from anywhere): bash bench/pool_overhead.sh
# Environment knobs:
#   TASKS=N     no-op tasks per Rust run            (default 1000000)
#   ROUNDS=N    fresh processes per Rust contender  (default 5)
#   RUNS=N      runs per process, median            (default 3)
#   CPU_RUNS=N  runs of each CPU measurement        (default 5)
#   PY_TASKS=N  no-op tasks per Python run          (default 100000)
#   PY_RUNS=N   Python runs, median                 (default 3)
#   STRICT=1    exit with status 3 if a ratio is below its target
# Exit status: 0 when every step ran and no result was lost (a ratio below
# target is reported, not fatal unless STRICT=1); non-zero otherwise.
set -euo pipefail
export LC_ALL=C

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TASKS="${TASKS:-1000000}"
ROUNDS="${ROUNDS:-5}"
RUNS="${RUNS:-3}"
CPU_RUNS="${CPU_RUNS:-5}"
PY_TASKS="${PY_TASKS:-100000}"
PY_RUNS="${PY_RUNS:-3}"
STRICT="${STRICT:-0}"

# Targets: hilo's tasks/s over the other contender's, and the CPU speedup.
TARGET_PYTHON=40
TARGET_RAYON=1.2
TARGET_THREADPOOL=1.0
TARGET_CPU=1.8

section "setup"
echo "cores online: $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo unknown)"
build_bench hilo-bench-pool-overhead

# Each overhead contender runs in fresh processes, alternating with the
# others: in one process, every run inherits the heap the runs before it
# left behind (pages already faulted in, free lists of another contender's
# sizes), which moved one contender's rate by up to 2x depending on what ran
# before it. A process runs RUNS runs and reports their median; the figure
# for a contender is the median over its ROUNDS processes.
contenders=(hilo_submit_all hilo_threadpool hilo_pipelined hilo_map rayon_spawn_channel threadpool_channel)
section "Rust: $TASKS no-op tasks, $ROUNDS processes x $RUNS runs per contender"
declare -A rates=()
rust_out=""
for ((round = 1; round <= ROUNDS; round++)); do
  for c in "${contenders[@]}"; do
    if ! line="$("$bin" --only "$c" --tasks "$TASKS" --runs "$RUNS" --no-cpu | grep "^$c ")"; then
      echo "error: the Rust benchmark failed for $c (see above)" >&2
      exit 1
    fi
    printf 'round %d: %s\n' "$round" "$line"
    rates[$c]+="$(field "$line" "$c" tasks_per_s) "
  done
done
for c in "${contenders[@]}"; do
  # shellcheck disable=SC2086  # one word per round
  rust_out+="$c tasks_per_s=$(median ${rates[$c]})"$'\n'
done

section "Rust: CPU-bound workload, hilo with 1 and 2 workers"
if ! cpu_out="$("$bin" --no-overhead --cpu-runs "$CPU_RUNS")"; then
  echo "error: the Rust CPU benchmark failed (see above)" >&2
  exit 1
fi
printf '%s\n' "$cpu_out"
rust_out+="$cpu_out"

section "Python: $PY_TASKS no-op tasks x $PY_RUNS runs, ThreadPoolExecutor(max_workers=2)"
py_out=""
if have_python; then
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

batch=$(field "$rust_out" hilo_submit_all tasks_per_s)
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
require_values Rust batch hilo pipelined hmap rayon tpool cpu1 cpu2 speedup

section "tasks/s (median over processes, 2 workers)"
row() { printf '  %-52s %14s\n' "$1" "$2"; }
row "hilo ThreadPool::submit_all, then result() each" "$batch"
row "hilo ThreadPool: submit one by one, then result() each" "$hilo"
row "hilo ThreadPool: pipelined (result() 1024 behind)" "$pipelined"
row "hilo ThreadPool::map, default window" "$hmap"
row "rayon ThreadPool::spawn + crossbeam channel" "$rayon"
row "threadpool crate + crossbeam channel" "$tpool"
row "Python ThreadPoolExecutor ($PY_TASKS tasks)" "${python:-skipped}"
printf '  %-52s %14s\n' "CPU primes, hilo 1 worker / 2 workers (s)" "$cpu1 / $cpu2"

section "ratios"
ratios_begin 52
if [ -n "$python" ]; then
  ratio "hilo submit vs Python ThreadPoolExecutor" "$(div "$hilo" "$python")" ">=" "$TARGET_PYTHON"
else
  ratio_skipped "hilo submit vs Python ThreadPoolExecutor" ">=$TARGET_PYTHON"
fi
ratio "hilo submit_all vs rayon::spawn + channel" "$(div "$batch" "$rayon")" ">=" "$TARGET_RAYON"
ratio "hilo submit_all vs threadpool crate + channel" "$(div "$batch" "$tpool")" ">=" "$TARGET_THREADPOOL"
ratio "CPU speedup, hilo 2 workers over 1" "$speedup" ">=" "$TARGET_CPU"
echo
echo "  for information (no target):"
ratio_info "hilo submit one by one vs rayon::spawn + channel" "$(div "$hilo" "$rayon")"
ratio_info "hilo submit one by one vs threadpool crate + channel" "$(div "$hilo" "$tpool")"
ratio_info "hilo pipelined vs rayon::spawn + channel" "$(div "$pipelined" "$rayon")"
ratio_info "hilo pipelined vs threadpool crate + channel" "$(div "$pipelined" "$tpool")"
ratio_info "hilo map (default window) vs hilo submit one by one" "$(div "$hmap" "$hilo")"
ratios_end
