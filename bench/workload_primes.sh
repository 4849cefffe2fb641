#!/usr/bin/env bash
# `hilo primes` against primesieve and a pure-Python segmented sieve, in one
# run: the primes up to N (default 1e10) and those in a window of WIDTH
# numbers from HIGH (default 1e10 from 1e18), with `hilo primes -j2` and
# with `primesieve -t2`, two threads each (target: hilo's time at most
# primesieve's, both times), then the primes up to PY_N (default 1e8) with
# hilo on every core and with the single-threaded Python sieve written
# below (for information: what the lesson's exercise costs in Python).
# Every contender runs RUNS times, alternating with the others; the median
# time is used. Every count is checked: against each other, and pi(1e9) =
# 50,847,534 against the published tables.
#
# Usage (from anywhere): bash bench/workload_primes.sh
# Environment knobs:
#   N=NUM      range for hilo vs primesieve     (default 1e10)
#   HIGH=INT   start of the window high up      (default 10^18, digits)
#   WIDTH=INT  its width                        (default 10^10, digits)
#   PY_N=NUM   range for hilo vs Python         (default 1e8)
#   RUNS=N     runs per contender, median       (default 5)
#   STRICT=1   exit with status 3 if a ratio misses its target
# primesieve (apt-get install primesieve) and python3 are used when installed
# and reported as skipped otherwise.
set -euo pipefail
export LC_ALL=C

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

N="${N:-1e10}"
HIGH="${HIGH:-1000000000000000000}"
WIDTH="${WIDTH:-10000000000}"
HIGH_END=$((HIGH + WIDTH))
high_label="$(awk -v h="$HIGH" -v w="$WIDTH" 'BEGIN { printf "%g wide at %g", w, h }')"
PY_N="${PY_N:-1e8}"
RUNS="${RUNS:-5}"

# Target: hilo's time over primesieve's (lower is better), on both ranges.
TARGET_PRIMESIEVE=1.0

section "setup"
cores="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)"
echo "cores online: $cores"
have_primesieve=0
if have_tool primesieve; then have_primesieve=1; fi
have_py=0
if have_python; then have_py=1; else echo "python3 not found: skipping it"; fi
build_bench hilo-cli hilo
hilo="$bin"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The exercise's sieve as a Python programmer would write it well: segments
# of a bytearray, odd numbers only, slice assignment for the crossing off.
cat >"$work/sieve.py" <<'PY'
import math, sys

def count_primes(n, segment=1 << 20):
    if n < 2:
        return 0
    root = math.isqrt(n)
    small = bytearray([1]) * (root + 1)
    small[0:2] = b"\0\0"
    for i in range(2, math.isqrt(root) + 1):
        if small[i]:
            small[i * i :: i] = bytes(len(range(i * i, root + 1, i)))
    base = [p for p in range(3, root + 1) if small[p]]
    count = 1  # the prime 2
    # seg[k] stands for the odd number lo + 2k.
    for lo in range(1, n + 1, 2 * segment):
        hi = min(lo + 2 * segment - 1, n)
        size = (hi - lo) // 2 + 1
        seg = bytearray([1]) * size
        for p in base:
            if p * p > hi:
                break
            first = max(p * p, (lo + p - 1) // p * p)
            if first % 2 == 0:
                first += p
            k = (first - lo) // 2
            if k < size:
                seg[k::p] = bytes(len(range(k, size, p)))
        if lo == 1:
            seg[0] = 0  # 1 is not a prime
        count += seg.count(1)
    return count

print(count_primes(int(float(sys.argv[1]))))
PY

# timed NAME EXPECTED_VAR COMMAND...: runs COMMAND, checks that its output
# is the count in EXPECTED_VAR (set from the first contender), and appends
# the seconds it took to the list of NAME.
declare -A times=() counts=()
timed() {
  local name="$1" key="$2" start end out
  shift 2
  start="$EPOCHREALTIME"
  if ! out="$("$@" 2>"$work/err")"; then
    echo "error: $name failed: $(head -1 "$work/err")" >&2
    exit 1
  fi
  end="$EPOCHREALTIME"
  if [ -z "${counts[$key]:-}" ]; then
    counts[$key]="$out"
  elif [ "$out" != "${counts[$key]}" ]; then
    echo "error: $name counted $out primes up to $key, another counted ${counts[$key]}" >&2
    exit 1
  fi
  times[$name]+="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }') "
}

section "pi(1e9) against the tables"
pi9="$("$hilo" primes 1e9)"
if [ "$pi9" != 50847534 ]; then
  echo "error: hilo primes 1e9 says $pi9, the tables 50847534" >&2
  exit 1
fi
echo "hilo primes 1e9 = $pi9 (ok)"

section "primes up to $N and $PY_N, $RUNS runs per contender, $cores cores"
for ((run = 1; run <= RUNS; run++)); do
  timed hilo "$N" "$hilo" primes -j2 "$N"
  if [ "$have_primesieve" = 1 ]; then
    timed primesieve "$N" primesieve "$N" -t2 -q
  fi
  timed hilo_high "$HIGH" "$hilo" primes -j2 "$HIGH" "$HIGH_END"
  if [ "$have_primesieve" = 1 ]; then
    timed primesieve_high "$HIGH" primesieve "$HIGH" "$HIGH_END" -t2 -q
  fi
  timed hilo_small "$PY_N" "$hilo" primes "$PY_N"
  if [ "$have_py" = 1 ]; then
    timed python "$PY_N" python3 "$work/sieve.py" "$PY_N"
  fi
  echo "run $run done"
done

section "counts"
for key in "$N" "$PY_N"; do
  printf '  primes up to %-6s %s\n' "$key" "${counts[$key]}"
done
printf '  primes in [%s, %s]: %s\n' "$HIGH" "$HIGH_END" "${counts[$HIGH]}"

section "median seconds"
print_medians 16 hilo primesieve hilo_high primesieve_high hilo_small python
section "ratios"
ratios_begin 56
if [ "$have_primesieve" = 1 ]; then
  ratio "hilo / primesieve -t2 time, $N (lower wins)" "$(div "$(med hilo)" "$(med primesieve)")" "<=" "$TARGET_PRIMESIEVE"
  ratio "hilo / primesieve -t2 time, $high_label" "$(div "$(med hilo_high)" "$(med primesieve_high)")" "<=" "$TARGET_PRIMESIEVE"
else
  ratio_skipped "hilo / primesieve -t2 time, $N" "<=$TARGET_PRIMESIEVE" "no primesieve"
  ratio_skipped "hilo / primesieve -t2 time, $high_label" "<=$TARGET_PRIMESIEVE" "no primesieve"
fi
echo
echo "  for information (no target):"
if [ "$have_py" = 1 ]; then
  ratio_info "Python sieve / hilo time, $PY_N" "$(div "$(med python)" "$(med hilo_small)")"
else
  echo "  Python sieve / hilo time, $PY_N: skipped (no python3)"
fi
ratios_end
