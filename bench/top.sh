#!/usr/bin/env bash
# What watching costs: `hilo top` refreshing every second with PROCS extra
# processes on the machine, next to htop (and procps top) doing the same,
# each drawn into its own tmux pane of 200x50. The figure is each tool's
# CPU time (utime + stime from /proc/PID/stat) over SECONDS seconds after a
# warm-up, as a percentage of one core. Target: hilo top < 2% of a core
# with 1,000 processes, and no more than htop (procps top, which reads
# less, is shown for information).
#
# Usage (from anywhere): bash bench/top.sh
# Needs tmux (apt-get install tmux); htop and top are measured if present.
# Environment knobs:
#   PROCS=N     extra processes (sleep), on top of the machine's (default 1000)
#   SECONDS_=N  measured seconds per tool                       (default 20)
#   RUNS=N      runs per tool, median                           (default 3)
#   STRICT=1    exit with status 3 if a target is missed
set -euo pipefail
export LC_ALL=C

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PROCS="${PROCS:-1000}"
SECS="${SECONDS_:-20}"
RUNS="${RUNS:-3}"
TARGET_PCT=2

section "setup"
if ! command -v tmux >/dev/null; then
  echo "tmux not found: the tools are measured in its panes (apt-get install tmux)" >&2
  exit 1
fi
echo "tmux: $(tmux -V)"
build_bench hilo-cli hilo
hilo="$bin"
tick=$(getconf CLK_TCK)

# The crowd: PROCS sleeping processes, killed on exit by their pids (they
# are our children, so their pids cannot be reused while we live).
crowd=()
cleanup() {
  tmux kill-session -t hilo-bench-top 2>/dev/null || true
  if [ "${#crowd[@]}" -gt 0 ]; then kill "${crowd[@]}" 2>/dev/null || true; fi
}
trap cleanup EXIT
for _ in $(seq "$PROCS"); do
  sleep 3600 &
  crowd+=("$!")
done
echo "processes on the machine: $(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)"

# ticks PID: utime + stime of PID, in clock ticks.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# measure COMMAND...: the percentage of one core COMMAND uses while it
# draws into a tmux pane for SECS seconds (after 3 s of warm-up).
measure() {
  tmux new-session -d -s hilo-bench-top -x 200 -y 50 "exec $*"
  local pid
  pid=$(tmux list-panes -t hilo-bench-top -F '#{pane_pid}')
  sleep 3
  local a b
  a=$(ticks "$pid")
  sleep "$SECS"
  b=$(ticks "$pid")
  tmux kill-session -t hilo-bench-top
  awk -v d="$((b - a))" -v t="$tick" -v s="$SECS" 'BEGIN { printf "%.3f", d / t / s * 100 }'
}

declare -A pct
run_tool() {
  local name="$1"
  shift
  local all=()
  for _ in $(seq "$RUNS"); do all+=("$(measure "$@")"); done
  pct[$name]=$(median "${all[@]}")
  printf '%-10s %s%% of a core (runs: %s)\n' "$name" "${pct[$name]}" "${all[*]}"
}

section "CPU while refreshing every second, $SECS s, median of $RUNS"
run_tool "hilo top" "$hilo" top -d 1s
if have_tool htop >/dev/null; then run_tool htop htop -d 10; else echo "htop not found: skipping it (apt-get install htop)"; fi
if command -v top >/dev/null; then run_tool top top -d 1; fi

section "ratios"
ratios_begin 40
# The budget is absolute (a share of one core), not a ratio to a peer.
if awk -v h="${pct[hilo top]}" -v t="$TARGET_PCT" 'BEGIN { exit !(h < t) }'; then
  status=ok
else
  status="BELOW TARGET"
  below=$((below + 1))
fi
printf "  %-40s %8s%% %8s%%  %s\n" "hilo top, CPU of one core" "${pct[hilo top]}" "<$TARGET_PCT" "$status"
if [ -n "${pct[htop]:-}" ]; then
  ratio "htop's CPU / hilo top's" "$(div "${pct[htop]}" "${pct[hilo top]}")" ">=" 1
else
  ratio_skipped "htop's CPU / hilo top's" ">=1" "no htop"
fi
# procps top shows fewer columns (no context switches, no threads' sums):
# a figure to know, not a target.
if [ -n "${pct[top]:-}" ]; then
  ratio_info "procps top's CPU / hilo top's" "$(div "${pct[top]}" "${pct[hilo top]}")"
fi
ratios_end
