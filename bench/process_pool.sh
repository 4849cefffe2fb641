#!/usr/bin/env bash
# Process pool: hilo's ProcessPool against Python's ProcessPoolExecutor, 2
# worker processes each: no-op round trips (submit all, then result() each),
# a chunked map of no-ops, the time from creating a pool to its first
# result, and the CPU speedup of the pool over the bench process alone.
# Prints every measurement, then the ratios with their targets.
#
# Usage (from anywhere): bash bench/process_pool.sh
# Environment knobs:
#   ROUND_TRIPS=N  no-op tasks per round-trip run, both sides (default 20000)
#   MAP_ITEMS=N    items per chunked-map run, both sides    (default 100000)
#   CHUNK_SIZE=N   items per chunk of the map               (default 100)
#   RUNS=N         runs per hilo measurement, median        (default 5)
#   CPU_RUNS=N     runs per CPU measurement, median         (default 5)
#   CPU_BELOW=N    count the primes below N                 (default 20000000)
#   PY_RUNS=N      runs per Python measurement, median      (default 3)
#   STRICT=1       exit with status 3 if a ratio misses its target
# Exit status: 0 when every step ran and every result checked out (a ratio
# that misses its target is reported, not fatal unless STRICT=1); non-zero
# otherwise.
set -euo pipefail
export LC_ALL=C

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROUND_TRIPS="${ROUND_TRIPS:-20000}"
MAP_ITEMS="${MAP_ITEMS:-100000}"
CHUNK_SIZE="${CHUNK_SIZE:-100}"
RUNS="${RUNS:-5}"
CPU_RUNS="${CPU_RUNS:-5}"
CPU_BELOW="${CPU_BELOW:-20000000}"
PY_RUNS="${PY_RUNS:-3}"
STRICT="${STRICT:-0}"

# Targets: hilo's rate over Python's (higher is better), hilo's time to the
# first result over Python's (lower is better), and the CPU speedup.
TARGET_ROUND_TRIPS=20
TARGET_MAP=5
TARGET_FIRST_RESULT=1.0
TARGET_CPU=1.8

section "setup"
echo "cores online: $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo unknown)"
if [ -r /proc/loadavg ]; then
  echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
build_bench hilo-bench-process-pool

section "Rust: hilo ProcessPool, 2 workers, $RUNS runs (CPU part $CPU_RUNS runs)"
if ! rust_out="$("$bin" --round-trips "$ROUND_TRIPS" --map-items "$MAP_ITEMS" \
  --chunk-size "$CHUNK_SIZE" --runs "$RUNS" --cpu-below "$CPU_BELOW" --cpu-runs "$CPU_RUNS")"; then
  echo "error: the Rust benchmark failed (see above)" >&2
  exit 1
fi
printf '%s\n' "$rust_out"

section "Python: ProcessPoolExecutor(max_workers=2), $PY_RUNS runs"
py_out=""
if have_python; then
  # The script goes to a file rather than stdin, so that start methods that
  # import the main module in the workers (spawn, forkserver) work too.
  py_script="$(mktemp)"
  trap 'rm -f "$py_script"' EXIT
  cat >"$py_script" <<'PY'
import multiprocessing
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

WORKERS = 2


def noop(x):
    return x


def check(name, count, total, n):
    if count != n or total != n * (n - 1) // 2:
        sys.exit(
            f"{name}: results lost or wrong: {count} results summing to {total}, "
            f"expected {n} summing to {n * (n - 1) // 2}"
        )


def warm_pool():
    # Started and warmed up outside the clock, like hilo's pools.
    ex = ProcessPoolExecutor(max_workers=WORKERS)
    for f in [ex.submit(noop, i) for i in range(8 * WORKERS)]:
        f.result()
    return ex


def round_trips(n):
    ex = warm_pool()
    start = time.perf_counter()
    futures = [ex.submit(noop, i) for i in range(n)]
    total = count = 0
    for f in futures:
        total += f.result()
        count += 1
    elapsed = time.perf_counter() - start
    ex.shutdown(wait=True)
    check("python_round_trips", count, total, n)
    return elapsed


def chunked_map(n, chunk_size):
    ex = warm_pool()
    start = time.perf_counter()
    total = count = 0
    for v in ex.map(noop, range(n), chunksize=chunk_size):
        total += v
        count += 1
    elapsed = time.perf_counter() - start
    ex.shutdown(wait=True)
    check("python_map", count, total, n)
    return elapsed


def first_result():
    # The pool's creation is inside the clock; its shutdown is not.
    start = time.perf_counter()
    ex = ProcessPoolExecutor(max_workers=WORKERS)
    value = ex.submit(noop, 7).result()
    elapsed = time.perf_counter() - start
    ex.shutdown(wait=True)
    if value != 7:
        sys.exit(f"python_first_result: noop(7) returned {value}")
    return elapsed


def report(name, times, extra):
    median = statistics.median_high(times)
    rate = ""
    if "per_s" in extra:
        rate = f" {extra.pop('per_s')}={extra.pop('n') / median:.0f}"
    fields = " ".join(f"{k}={v}" for k, v in extra.items())
    print(
        f"{name} {fields} workers={WORKERS} runs={len(times)} median_s={median:.4f} "
        f"best_s={min(times):.4f}{rate} runs_s={','.join(f'{t:.4f}' for t in times)}"
    )


def main():
    n_trips, n_map, chunk_size, runs = (int(a) for a in sys.argv[1:5])
    trips, maps, firsts = [], [], []
    for _ in range(runs):
        trips.append(round_trips(n_trips))
        maps.append(chunked_map(n_map, chunk_size))
        firsts.append(first_result())
    report("python_round_trips", trips, {"tasks": n_trips, "n": n_trips, "per_s": "tasks_per_s"})
    report(
        "python_map",
        maps,
        {"items": n_map, "chunk_size": chunk_size, "n": n_map, "per_s": "items_per_s"},
    )
    report("python_first_result", firsts, {"start_method": multiprocessing.get_start_method()})


if __name__ == "__main__":
    main()
PY
  if ! py_out="$(python3 "$py_script" "$ROUND_TRIPS" "$MAP_ITEMS" "$CHUNK_SIZE" "$PY_RUNS")"; then
    echo "error: the Python benchmark failed (see above)" >&2
    exit 1
  fi
  printf '%s\n' "$py_out"
else
  echo "python3 not found: skipping the Python part (no hilo vs Python ratios)"
fi

hilo_trips=$(field "$rust_out" hilo_round_trips tasks_per_s)
hilo_map=$(field "$rust_out" hilo_map_chunked items_per_s)
hilo_first=$(field "$rust_out" hilo_first_result median_s)
cpu_seq=$(field "$rust_out" cpu_primes_sequential median_s)
cpu_pool=$(field "$rust_out" cpu_primes_process_pool median_s)
cpu_primes=$(field "$rust_out" cpu_primes_process_pool primes)
speedup=$(field "$rust_out" cpu_speedup value)
require_values Rust hilo_trips hilo_map hilo_first cpu_seq cpu_pool cpu_primes speedup
py_trips="" py_map="" py_first="" py_method=""
if [ -n "$py_out" ]; then
  py_trips=$(field "$py_out" python_round_trips tasks_per_s)
  py_map=$(field "$py_out" python_map items_per_s)
  py_first=$(field "$py_out" python_first_result median_s)
  py_method=$(field "$py_out" python_first_result start_method)
  require_values Python py_trips py_map py_first
fi

section "results (median of runs, 2 worker processes)"
row() { printf '  %-60s %14s %14s\n' "$1" "$2" "$3"; }
row "" "hilo" "Python"
row "round trips, $ROUND_TRIPS no-op tasks (tasks/s)" "$hilo_trips" "${py_trips:-skipped}"
row "map, $MAP_ITEMS items in chunks of $CHUNK_SIZE (items/s)" "$hilo_map" "${py_map:-skipped}"
row "pool creation to first result (s)${py_method:+, Python start method $py_method}" \
  "$hilo_first" "${py_first:-skipped}"
printf '  %-60s %14s\n' "CPU primes below $CPU_BELOW: alone / ProcessPool (s)" "$cpu_seq / $cpu_pool"
printf '  %-60s %14s\n' "primes counted (both ways, checked)" "$cpu_primes"

section "ratios"
ratios_begin 48
if [ -n "$py_out" ]; then
  ratio "round trips, hilo vs Python (tasks/s)" "$(div "$hilo_trips" "$py_trips")" ">=" "$TARGET_ROUND_TRIPS"
  ratio "chunked map, hilo vs Python (items/s)" "$(div "$hilo_map" "$py_map")" ">=" "$TARGET_MAP"
  ratio "first result, hilo / Python time (lower wins)" "$(div "$hilo_first" "$py_first")" "<=" "$TARGET_FIRST_RESULT"
else
  ratio_skipped "round trips, hilo vs Python (tasks/s)" ">=$TARGET_ROUND_TRIPS"
  ratio_skipped "chunked map, hilo vs Python (items/s)" ">=$TARGET_MAP"
  ratio_skipped "first result, hilo / Python time (lower wins)" "<=$TARGET_FIRST_RESULT"
fi
ratio "CPU speedup, ProcessPool (2 workers) over alone" "$speedup" ">=" "$TARGET_CPU"

if [ -r /proc/loadavg ]; then
  echo
  echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
ratios_end
