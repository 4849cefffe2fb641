#!/usr/bin/env bash
# The CPU tools against their peers, in one run, on one corpus:
#   hilo compress  vs gzip -6 and pigz -6 -p2   (bench/workload_compress.sh)
#   hilo primes    vs primesieve and a Python sieve (bench/workload_primes.sh)
#   hilo wordcount vs Python's Counter and sort | uniq -c
#                                              (bench/workload_wordcount.sh)
# The corpus (40 x 5 MB of text plus one 200 MB file) is made once by
# bench/make_corpus.py and kept. Each part prints its measurements and its
# ratio rows; this script then repeats every ratio row together.
#
# Usage (from anywhere): bash bench/workloads.sh
# Environment knobs: CORPUS=DIR (default target/bench-corpus), RUNS=N (runs
# per contender, passed on), STRICT=1 (exit 3 if a ratio misses its target).
set -euo pipefail
export LC_ALL=C

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CORPUS="${CORPUS:-target/bench-corpus}"

section "corpus in $CORPUS"
python3 bench/make_corpus.py "$CORPUS"

summary=""
failed=0
for part in compress primes wordcount; do
  section "workload: $part"
  log="$(mktemp)"
  # STRICT is judged here, over all parts; a part fails only if it broke.
  if ! STRICT=0 bash "bench/workload_$part.sh" 2>&1 | tee "$log"; then
    echo "error: bench/workload_$part.sh failed" >&2
    failed=1
  fi
  # The ratio rows: "  label   1.23x   >=1.0x  ok" (or BELOW TARGET).
  summary+="$part:"$'\n'"$(grep -E '^  .* [0-9.]+x +([<>]=[0-9.]+x|-)? *(ok|BELOW TARGET|skipped.*)?$' "$log" || true)"$'\n'
  rm -f "$log"
done

section "all ratios"
printf '%s' "$summary"
if [ "$failed" != 0 ]; then
  exit 1
fi
if [ "${STRICT:-0}" = 1 ] && grep -q 'BELOW TARGET' <<<"$summary"; then
  exit 3
fi
