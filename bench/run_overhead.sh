#!/usr/bin/env bash
# Per-job overhead of `hilo run` against `xargs -P` and GNU parallel, 2 slots
# each, in one run: 2,000 jobs of `true` (nothing but starting and reaping
# processes), then 2,000 `echo {}` jobs whose output must come back in input
# order (-k; xargs cannot keep order, so its output is only checked as a set).
# Every contender runs RUNS times, alternating with the others; the median
# time is used. Every run's output and exit status are checked, so a lost
# or reordered job fails the benchmark.
#
# Usage (from anywhere): bash bench/run_overhead.sh
# Environment knobs:
#   JOBS=N     jobs per run                (default 2000)
#   RUNS=N     runs per contender, median  (default 5)
#   STRICT=1   exit with status 3 if a ratio misses its target
# Needs xargs (findutils); GNU parallel is used when installed
# (apt-get install parallel) and reported as skipped otherwise.
set -euo pipefail
export LC_ALL=C

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

JOBS="${JOBS:-2000}"
RUNS="${RUNS:-5}"

# Targets: hilo's time over xargs' (lower is better), GNU parallel's time
# over hilo's (higher is better).
TARGET_XARGS=1.0
TARGET_PARALLEL=5

section "setup"
echo "cores online: $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo unknown)"
echo "xargs: $(xargs --version 2>/dev/null | head -1 || echo unknown)"
have_parallel=0
if have_tool parallel "GNU parallel"; then have_parallel=1; fi
build_bench hilo-cli hilo
hilo="$bin"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
seq "$JOBS" >"$work/input"

# timed NAME CHECK COMMAND...: runs COMMAND with the input on stdin and its
# stdout in $work/out, checks it with CHECK, and appends the seconds it took
# to the list of NAME.
declare -A times=()
timed() {
  local name="$1" check="$2" start end
  shift 2
  start="$EPOCHREALTIME"
  if ! "$@" <"$work/input" >"$work/out"; then
    echo "error: $name failed (exit status $?)" >&2
    exit 1
  fi
  end="$EPOCHREALTIME"
  "$check" "$name"
  times[$name]+="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }') "
}
no_output() {
  if [ -s "$work/out" ]; then
    echo "error: $1 printed output for jobs that print nothing" >&2
    exit 1
  fi
}
in_order() {
  if ! cmp -s "$work/out" "$work/input"; then
    echo "error: $1 lost, changed or reordered job output" >&2
    exit 1
  fi
}
as_a_set() {
  if ! sort -n "$work/out" | cmp -s - "$work/input"; then
    echo "error: $1 lost or changed job output" >&2
    exit 1
  fi
}

section "$JOBS jobs x $RUNS runs per contender, 2 slots"
for ((run = 1; run <= RUNS; run++)); do
  timed hilo_true no_output "$hilo" run -j2 true
  timed xargs_true no_output xargs -P2 -n1 true
  timed hilo_echo in_order "$hilo" run -k -j2 echo '{}'
  timed xargs_echo as_a_set xargs -P2 -I'{}' echo '{}'
  if [ "$have_parallel" = 1 ]; then
    timed parallel_true no_output parallel --will-cite -j2 true
    timed parallel_echo in_order parallel --will-cite -k -j2 echo '{}'
  fi
  echo "run $run done"
done

section "median seconds for $JOBS jobs"
print_medians 16 hilo_true xargs_true parallel_true hilo_echo xargs_echo parallel_echo
section "ratios"
ratios_begin 46
ratio "hilo / xargs time, true (lower wins)" "$(div "$(med hilo_true)" "$(med xargs_true)")" "<=" "$TARGET_XARGS"
if [ "$have_parallel" = 1 ]; then
  ratio "GNU parallel / hilo time, true" "$(div "$(med parallel_true)" "$(med hilo_true)")" ">=" "$TARGET_PARALLEL"
  echo
  echo "  for information (no target):"
  ratio_info "hilo / xargs time, echo (hilo keeps order)" "$(div "$(med hilo_echo)" "$(med xargs_echo)")"
  ratio_info "GNU parallel / hilo time, echo -k" "$(div "$(med parallel_echo)" "$(med hilo_echo)")"
else
  ratio_skipped "GNU parallel / hilo time, true" ">=$TARGET_PARALLEL" "no GNU parallel"
fi
ratios_end
