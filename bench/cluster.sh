#!/usr/bin/env bash
# Many machines, on one: hilo's Redis executor against Celery and RQ on the
# same redis-server (a unix socket in a temporary directory), 2 workers
# each, in one run:
#   - 10,000 no-op round trips (submit all, then every result) and the
#     submit -> result latency of one task at a time (median, p99);
#   - 100,000 no-op tasks in chunks of 100 (hilo map_chunked, Celery
#     chunks);
#   - 2,000 jobs of `true` through `hilo run --cluster` on 2 `hilo worker`s
#     against local `hilo run`;
#   - how many tasks/s the one Redis carries with 4 clients and 8 workers.
# Every result is checked (count and sum). Prints the measurements, then
# the ratios with their targets.
#
# Usage (from anywhere): bash bench/cluster.sh
# Needs redis-server (apt-get install redis-server). Celery and RQ are
# installed with pip into a virtualenv under ${XDG_CACHE_HOME:-~/.cache}
# the first time (skipped, with a note, if that fails).
# Environment knobs:
#   ROUND_TRIPS=N  no-op round trips, hilo and Celery    (default 10000)
#   LATENCY=N      one-at-a-time tasks for the latency    (default 2000)
#   MAP_ITEMS=N    items in chunks of CHUNK_SIZE          (default 100000)
#   CHUNK_SIZE=N                                          (default 100)
#   RQ_TASKS=N     round trips for RQ (it forks per task) (default 500)
#   RUN_JOBS=N     jobs of `true` through hilo run        (default 2000)
#   PREFETCH=N     tasks a hilo bench worker holds beyond the one it runs
#                  (Celery's default prefetch is 4 per process)  (default 4)
#   STRICT=1       exit with status 3 if a ratio misses its target
set -euo pipefail
export LC_ALL=C

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROUND_TRIPS="${ROUND_TRIPS:-10000}"
LATENCY="${LATENCY:-2000}"
MAP_ITEMS="${MAP_ITEMS:-100000}"
CHUNK_SIZE="${CHUNK_SIZE:-100}"
RQ_TASKS="${RQ_TASKS:-500}"
RUN_JOBS="${RUN_JOBS:-2000}"
PREFETCH="${PREFETCH:-4}"

TARGET_CELERY=10     # hilo's round trips/s over Celery's
TARGET_LATENCY_MS=1  # hilo's median submit -> result
TARGET_RUN=2         # hilo run --cluster's time over local hilo run's

command -v redis-server >/dev/null || { echo "error: redis-server not found (apt-get install redis-server)" >&2; exit 1; }

section "setup"
echo "cores online: $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo unknown)"
echo "redis-server: $(redis-server --version | head -1)"
build_bench hilo-bench-cluster
cargo build --release --quiet -p hilo-cli
hilo="${CARGO_TARGET_DIR:-target}/release/hilo"

work="$(mktemp -d)"
worker_pids=()
redis_pid=""
cleanup() {
  local p
  for p in "${worker_pids[@]}" $redis_pid; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
redis-server --port 0 --save "" --appendonly no --unixsocket "$work/redis.sock" \
  --unixsocketperm 700 --dir "$work" >"$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 100); do [ -S "$work/redis.sock" ] && break; sleep 0.05; done
sock="$work/redis.sock"
url="redis+unix://$sock"

# start_workers N CMD...: N workers, each with a FIFO as stdin; the
# bench's own workers stop when it closes, `hilo worker` and RQ on TERM.
# stop_workers does both and waits for them.
start_workers() {
  local n="$1" i fd
  shift
  worker_fds=()
  worker_pids=()
  for i in $(seq "$n"); do
    mkfifo "$work/w$i.in"
    "$@" <"$work/w$i.in" &
    worker_pids+=("$!")
    exec {fd}>"$work/w$i.in"
    worker_fds+=("$fd")
  done
}
stop_workers() {
  local fd p
  for fd in "${worker_fds[@]}"; do exec {fd}>&-; done
  for p in "${worker_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${worker_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  worker_pids=()
  rm -f "$work"/w*.in
}

section "hilo: RedisExecutor, 2 workers of 1 slot (prefetch $PREFETCH)"
start_workers 2 "$bin" worker "$url" 1 --prefetch "$PREFETCH"
hilo_out="$("$bin" client "$url" --round-trips "$ROUND_TRIPS" --latency "$LATENCY" \
  --map-items "$MAP_ITEMS" --chunk-size "$CHUNK_SIZE")"
printf '%s\n' "$hilo_out"
stop_workers

section "hilo run: $RUN_JOBS jobs of true, local -j 2 and --cluster on 2 hilo workers"
seq "$RUN_JOBS" >"$work/jobs.txt"
start=$(date +%s.%N)
"$hilo" run -j 2 true :::: "$work/jobs.txt"
local_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
start_workers 2 "$hilo" worker -q -j 1 "$url"
sleep 0.5 # their first heartbeat, so the client sizes -j from them
start=$(date +%s.%N)
"$hilo" run --cluster "$url" true :::: "$work/jobs.txt"
cluster_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
stop_workers
echo "local: ${local_s} s; --cluster: ${cluster_s} s"

section "one Redis, 4 clients and 8 workers of 1 slot, $ROUND_TRIPS round trips each"
start_workers 8 "$bin" worker "$url" 1 --prefetch "$PREFETCH"
start=$(date +%s.%N)
client_pids=()
for c in 1 2 3 4; do
  "$bin" client "$url" --round-trips "$ROUND_TRIPS" --latency 1 --map-items 1 >"$work/c$c.out" &
  client_pids+=("$!")
done
for p in "${client_pids[@]}"; do wait "$p"; done
scale_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
stop_workers
scale_rate=$(awk -v n="$ROUND_TRIPS" -v s="$scale_s" 'BEGIN { printf "%.0f", 4 * n / s }')
echo "4 x $ROUND_TRIPS tasks in $scale_s s: $scale_rate tasks/s"

peers=""
venv="${XDG_CACHE_HOME:-$HOME/.cache}/hilo-bench-venv"
if [ ! -x "$venv/bin/celery" ] || [ ! -x "$venv/bin/rq" ]; then
  echo "installing celery, rq and redis-py into $venv (once)..."
  if python3 -m venv "$venv" >/dev/null 2>&1 &&
    "$venv/bin/pip" install -q celery redis rq packaging >/dev/null 2>&1; then :; else
    echo "could not install Celery and RQ: skipping them"
  fi
fi
if [ -x "$venv/bin/celery" ] && [ -x "$venv/bin/rq" ]; then
  peers=1
  echo "celery: $("$venv/bin/celery" --version | head -1); rq: $("$venv/bin/rq" --version 2>&1 | head -1)"
  py_out=""
  for pool in prefork threads; do
    section "Celery, --pool=$pool -c 2 (its default prefetch)"
    (cd bench && HILO_BENCH_URL="redis+socket://$sock" "$venv/bin/celery" -A cluster_peers \
      worker --pool="$pool" -c 2 --loglevel=warning >"$work/celery-$pool.log" 2>&1) &
    celery_pid=$!
    out="$(cd bench && HILO_BENCH_URL="redis+socket://$sock" "$venv/bin/python" cluster_peers.py \
      celery "celery_$pool" "$ROUND_TRIPS" "$LATENCY" "$MAP_ITEMS" "$CHUNK_SIZE")"
    printf '%s\n' "$out"
    py_out+="$out"$'\n'
    pkill -TERM -P "$celery_pid" 2>/dev/null || true
    kill -TERM "$celery_pid" 2>/dev/null || true
    wait "$celery_pid" 2>/dev/null || true
  done
  section "RQ, 2 workers (a fork per task), $RQ_TASKS round trips"
  start_workers 2 env -C bench "$venv/bin/rq" worker bench --url "unix://$sock" -q
  out="$(cd bench && HILO_BENCH_URL="unix://$sock" "$venv/bin/python" cluster_peers.py rq rq "$RQ_TASKS")"
  printf '%s\n' "$out"
  py_out+="$out"$'\n'
  stop_workers
fi

hilo_trips=$(field "$hilo_out" hilo_round_trips per_sec)
hilo_lat=$(field "$hilo_out" hilo_latency median_ms)
hilo_p99=$(field "$hilo_out" hilo_latency p99_ms)
hilo_map=$(field "$hilo_out" hilo_map_chunked per_sec)
require_values hilo hilo_trips hilo_lat hilo_p99 hilo_map

section "results"
row() { printf '  %-44s %12s %12s %12s %12s\n' "$@"; }
if [ -n "$peers" ]; then
  c1=celery_prefork c2=celery_threads
  row "" "hilo" "Celery fork" "Celery thr" "RQ"
  row "round trips (tasks/s)" "$hilo_trips" "$(field "$py_out" ${c1}_round_trips per_sec)" \
    "$(field "$py_out" ${c2}_round_trips per_sec)" "$(field "$py_out" rq_round_trips per_sec)"
  row "latency median / p99 (ms)" "$hilo_lat/$hilo_p99" \
    "$(field "$py_out" ${c1}_latency median_ms)/$(field "$py_out" ${c1}_latency p99_ms)" \
    "$(field "$py_out" ${c2}_latency median_ms)/$(field "$py_out" ${c2}_latency p99_ms)" "-"
  row "chunks of $CHUNK_SIZE (items/s)" "$hilo_map" "$(field "$py_out" ${c1}_map_chunked per_sec)" \
    "$(field "$py_out" ${c2}_map_chunked per_sec)" "-"
else
  row "" "hilo"
  row "round trips (tasks/s)" "$hilo_trips"
  row "latency median / p99 (ms)" "$hilo_lat/$hilo_p99"
  row "chunks of $CHUNK_SIZE (items/s)" "$hilo_map"
fi
echo "  hilo run, $RUN_JOBS jobs of true: local $local_s s, --cluster $cluster_s s"
echo "  one Redis, 4 clients x 8 workers: $scale_rate tasks/s"

section "ratios"
ratios_begin 52
if [ -n "$peers" ]; then
  for pool in prefork threads; do
    theirs=$(field "$py_out" "celery_${pool}_round_trips" per_sec)
    ratio "round trips, hilo / Celery $pool" "$(div "$hilo_trips" "$theirs")" ">=" "$TARGET_CELERY"
    theirs=$(field "$py_out" "celery_${pool}_map_chunked" per_sec)
    ratio_info "chunks, hilo / Celery $pool" "$(div "$hilo_map" "$theirs")"
  done
  ratio_info "round trips, hilo / RQ" "$(div "$hilo_trips" "$(field "$py_out" rq_round_trips per_sec)")"
else
  ratio_skipped "round trips, hilo / Celery" ">=$TARGET_CELERY" "no Celery"
fi
ratio "latency median, hilo / ${TARGET_LATENCY_MS} ms" "$(div "$hilo_lat" "$TARGET_LATENCY_MS")" "<=" 1
ratio "hilo run --cluster / local hilo run (time)" "$(div "$cluster_s" "$local_s")" "<=" "$TARGET_RUN"
ratios_end
