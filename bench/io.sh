#!/usr/bin/env bash
# I/O-bound work, where threads shine (the lesson's downloader):
#   - 1,000 downloads of 100 KB from a local server that answers each after
#     20 ms (bench/http-server, keep-alive): `hilo fetch -j 50` against
#     Python's ThreadPoolExecutor + urllib (bench/io_peers.py) as the
#     lesson writes it (max_workers=10, its scraper's) and given the same
#     50 threads, and `xargs -P 50 curl`;
#   - `hilo fetch --compare` on 200 of them: the speedup of -j 50 over one
#     at a time (the lab's claim);
#   - then bench/io_mx.sh: `hilo mx` against Python + dnspython on a local
#     DNS server (its own knobs; see its header).
# Every run is checked: as many files as URLs, every byte there. Prints the
# measurements, then the ratios with their targets, and how far hilo and
# Python are from the floor no client can beat (DOWNLOADS / JOBS x DELAY).
#
# Usage (from anywhere): bash bench/io.sh
# Needs python3; curl is skipped with a note if missing.
# Environment knobs:
#   DOWNLOADS=N   downloads per contender          (default 1000)
#   SIZE=BYTES    bytes per download                (default 100000)
#   DELAY_MS=N    the server's wait per request     (default 20)
#   JOBS=N        downloads at once                 (default 50)
#   LESSON_JOBS=N the lesson's Python's max_workers (default 10)
#   COMPARE=N     downloads for --compare           (default 200)
#   STRICT=1      exit with status 3 if a ratio misses its target
set -euo pipefail
export LC_ALL=C

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DOWNLOADS="${DOWNLOADS:-1000}"
SIZE="${SIZE:-100000}"
DELAY_MS="${DELAY_MS:-20}"
JOBS="${JOBS:-50}"
COMPARE="${COMPARE:-200}"

LESSON_JOBS="${LESSON_JOBS:-10}"

TARGET_PYTHON=3   # hilo's downloads/s over the lesson's Python's
TARGET_CURL=1     # hilo's downloads/s over xargs + curl's
TARGET_COMPARE=20 # --compare's speedup

command -v python3 >/dev/null || { echo "error: python3 not found (apt-get install python3)" >&2; exit 1; }

section "setup"
echo "cores online: $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo unknown)"
echo "rustc: $(rustc --version 2>/dev/null || echo unknown)"
build_bench hilo-bench-http
cargo build --release --quiet -p hilo-cli
hilo="${CARGO_TARGET_DIR:-target}/release/hilo"
echo "python3: $(python3 --version 2>&1)"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
"$bin" "$work/port" "$DELAY_MS" "$SIZE" &
server_pid=$!
for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { echo "error: the test server did not start" >&2; exit 1; }
base="http://127.0.0.1:$(cat "$work/port")/f"
for i in $(seq "$DOWNLOADS"); do echo "$base/$i"; done >"$work/urls.txt"
echo "server: $base/N, ${SIZE} bytes after ${DELAY_MS} ms, keep-alive"

# check DIR: every download is there, whole.
check() {
  local n bytes
  n=$(find "$1" -type f | wc -l)
  bytes=$(find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  if [ "$n" != "$DOWNLOADS" ] || [ "$bytes" != $((DOWNLOADS * SIZE)) ]; then
    echo "error: $1 has $n files and $bytes bytes, not $DOWNLOADS and $((DOWNLOADS * SIZE))" >&2
    exit 1
  fi
}
# timed NAME CMD...: runs CMD, prints NAME secs=S, sets secs.
timed() {
  local name="$1" start
  shift
  start=$(date +%s.%N)
  "$@"
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.4f", b - a }')
  echo "$name n=$DOWNLOADS secs=$secs per_sec=$(awk -v n="$DOWNLOADS" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')"
}

section "$DOWNLOADS downloads, $JOBS at once"
mkdir "$work/hilo" "$work/python" "$work/lesson" "$work/curl"
timed hilo_fetch sh -c "'$hilo' fetch -j '$JOBS' -o '$work/hilo' -i '$work/urls.txt' >/dev/null 2>'$work/hilo.err'"
hilo_s=$secs
check "$work/hilo"
out="$(python3 bench/io_peers.py "$work/urls.txt" "$work/python" "$JOBS")"
echo "$out"
python_s=$(field "$out" python_fetch secs)
check "$work/python"
echo "the lesson's code: ThreadPoolExecutor(max_workers=$LESSON_JOBS)"
out="$(python3 bench/io_peers.py "$work/urls.txt" "$work/lesson" "$LESSON_JOBS")"
echo "$out"
lesson_s=$(field "$out" python_fetch secs)
check "$work/lesson"
curl_s=""
if have_tool curl; then
  timed xargs_curl sh -c "xargs -P '$JOBS' -n 1 curl -sSf --output-dir '$work/curl' -O <'$work/urls.txt'"
  curl_s=$secs
  check "$work/curl"
fi

section "hilo fetch --compare on $COMPARE downloads"
head -n "$COMPARE" "$work/urls.txt" >"$work/compare.txt"
mkdir "$work/compare"
"$hilo" fetch --compare -j "$JOBS" -o "$work/compare" -i "$work/compare.txt" >/dev/null 2>"$work/compare.err"
grep "faster" "$work/compare.err"
speedup=$(sed -n 's/.*: \([0-9.]*\)x faster.*/\1/p' "$work/compare.err")

section "e-mail domains: bench/io_mx.sh"
mx_status=0
env -u DELAY_MS bash bench/io_mx.sh || mx_status=$?

section "ratios (downloads)"
ratios_begin 50
ratio "downloads/s, hilo fetch / the lesson's Python ($LESSON_JOBS)" "$(div "$lesson_s" "$hilo_s")" ">=" "$TARGET_PYTHON"
# The same 50 threads: no client can be 3x a Python that is already within
# 3x of the floor below; how far each is from the floor says the rest.
ratio_info "downloads/s, hilo fetch / Python with $JOBS threads" "$(div "$python_s" "$hilo_s")"
if [ -n "$curl_s" ]; then
  ratio "downloads/s, hilo fetch / xargs -P curl" "$(div "$curl_s" "$hilo_s")" ">=" "$TARGET_CURL"
else
  ratio_skipped "downloads/s, hilo fetch / xargs -P curl" ">=$TARGET_CURL" "no curl"
fi
ratio "--compare: -j $JOBS over one at a time" "$speedup" ">=" "$TARGET_COMPARE"
# No client can beat DOWNLOADS / JOBS waits of DELAY_MS: how far each is
# from that floor says what is left to win.
floor=$(awk -v n="$DOWNLOADS" -v j="$JOBS" -v d="$DELAY_MS" 'BEGIN { printf "%.4f", n / j * d / 1000 }')
ratio_info "time over the floor ($floor s), hilo fetch" "$(div "$hilo_s" "$floor")"
ratio_info "time over the floor ($floor s), Python" "$(div "$python_s" "$floor")"
if [ "$mx_status" != 0 ]; then
  echo "bench/io_mx.sh failed (status $mx_status)" >&2
  exit "$mx_status"
fi
ratios_end
