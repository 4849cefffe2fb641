#!/usr/bin/env bash
# `hilo compress -6` against `gzip -6` and `pigz -6 -p2` on the text corpus
# (bench/make_corpus.py): the 40 small files compressed in place with -k,
# then big.txt (200 MB) to stdout with -c. Every contender runs RUNS times,
# alternating with the others; the median time is used. Every output is
# checked with `gzip -t` and decompressed and compared with the original,
# so a wrong byte fails the benchmark.
#
# Usage (from anywhere): bash bench/workload_compress.sh
# Environment knobs:
#   RUNS=N        runs per contender, median      (default 3)
#   JOBS=N        hilo -j and pigz -p             (default 2)
#   CORPUS=DIR    corpus directory, made when missing (default target/bench-corpus)
#   STRICT=1      exit with status 3 if a ratio misses its target
# Needs gzip; pigz is used when installed (apt-get install pigz) and
# reported as skipped otherwise.
set -euo pipefail
export LC_ALL=C

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS="${RUNS:-3}"
JOBS="${JOBS:-2}"
CORPUS="${CORPUS:-target/bench-corpus}"

# Targets: hilo's throughput over pigz's (higher is better), hilo's
# compressed size over gzip's (lower is better).
TARGET_PIGZ=1.0
TARGET_SIZE=1.01

section "setup"
echo "cores online: $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo unknown)"
echo "gzip: $(gzip --version | head -1)"
have_pigz=0
if have_tool pigz; then have_pigz=1; fi
ensure_corpus "$CORPUS"
build_bench hilo-cli hilo
hilo="$bin"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Copies, so compressing in place never touches the corpus.
mkdir "$work/small"
cp "$CORPUS"/small/*.txt "$work/small/"
small_files=("$work"/small/*.txt)
small_bytes=$(cat "${small_files[@]}" | wc -c)
big_bytes=$(wc -c <"$CORPUS/big.txt")
echo "small: ${#small_files[@]} files, $small_bytes bytes; big.txt: $big_bytes bytes"

# Seconds and compressed sizes, one word per run, by contender.
declare -A times=() sizes=()

# clock NAME COMMAND...: runs COMMAND and appends the seconds it took to
# the list of NAME.
clock() {
  local name="$1" start end
  shift
  start="$EPOCHREALTIME"
  if ! "$@"; then
    echo "error: $name failed" >&2
    exit 1
  fi
  end="$EPOCHREALTIME"
  times[$name]+="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }') "
}

# check_small NAME: every small/*.txt.gz passes gzip -t and decompresses
# to its original; records the total size, then removes them.
check_small() {
  local f total=0
  for f in "${small_files[@]}"; do
    if ! gzip -t "$f.gz" || ! gzip -dc "$f.gz" | cmp -s - "$f"; then
      echo "error: $1 made a wrong $f.gz" >&2
      exit 1
    fi
    total=$((total + $(wc -c <"$f.gz")))
    rm -f "$f.gz"
  done
  sizes[$1]+="$total "
}

# check_big NAME: $work/big.gz passes gzip -t and decompresses to big.txt.
check_big() {
  if ! gzip -t "$work/big.gz" || ! gzip -dc "$work/big.gz" | cmp -s - "$CORPUS/big.txt"; then
    echo "error: $1 made a wrong big.txt.gz" >&2
    exit 1
  fi
  sizes[$1]+="$(wc -c <"$work/big.gz") "
  rm -f "$work/big.gz"
}

to_big() { "$@" -c "$CORPUS/big.txt" >"$work/big.gz"; }

section "$RUNS runs per contender, level 6, $JOBS jobs"
for ((run = 1; run <= RUNS; run++)); do
  clock hilo_small "$hilo" compress -q -6 -k -j "$JOBS" "${small_files[@]}"
  check_small hilo_small
  clock gzip_small gzip -6 -k "${small_files[@]}"
  check_small gzip_small
  clock hilo_big to_big "$hilo" compress -q -6 -j "$JOBS"
  check_big hilo_big
  clock gzip_big to_big gzip -6
  check_big gzip_big
  clock hiloproc_big to_big "$hilo" compress -q -6 -j "$JOBS" --engine processes
  check_big hiloproc_big
  if [ "$have_pigz" = 1 ]; then
    clock pigz_small pigz -6 -k -p "$JOBS" "${small_files[@]}"
    check_small pigz_small
    clock pigz_big to_big pigz -6 -p "$JOBS"
    check_big pigz_big
  fi
  echo "run $run done"
done

# shellcheck disable=SC2086  # one word per run
med() { median ${times[$1]}; }
# shellcheck disable=SC2086
size() { median ${sizes[$1]}; }
mbs() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }

section "median seconds, MB/s and compressed bytes"
for name in hilo_small gzip_small pigz_small hilo_big hiloproc_big gzip_big pigz_big; do
  if [ -n "${times[$name]:-}" ]; then
    bytes=$small_bytes
    case "$name" in *_big) bytes=$big_bytes ;; esac
    printf '  %-13s %8s s %8s MB/s %11s bytes   runs: %s\n' "$name" "$(med "$name")" \
      "$(mbs "$bytes" "$(med "$name")")" "$(size "$name")" "${times[$name]}"
  else
    printf '  %-13s %8s\n' "$name" "skipped"
  fi
done

section "ratios"
ratios_begin 50
if [ "$have_pigz" = 1 ]; then
  ratio "hilo / pigz throughput, 40 x 5 MB" "$(div "$(med pigz_small)" "$(med hilo_small)")" ">=" "$TARGET_PIGZ"
  ratio "hilo / pigz throughput, 200 MB" "$(div "$(med pigz_big)" "$(med hilo_big)")" ">=" "$TARGET_PIGZ"
else
  ratio_skipped "hilo / pigz throughput, 40 x 5 MB" ">=$TARGET_PIGZ" "no pigz"
  ratio_skipped "hilo / pigz throughput, 200 MB" ">=$TARGET_PIGZ" "no pigz"
fi
ratio "hilo / gzip size, 40 x 5 MB (lower wins)" "$(div "$(size hilo_small)" "$(size gzip_small)")" "<=" "$TARGET_SIZE"
ratio "hilo / gzip size, 200 MB (lower wins)" "$(div "$(size hilo_big)" "$(size gzip_big)")" "<=" "$TARGET_SIZE"
echo
echo "  for information (no target):"
ratio_info "hilo / gzip throughput, 40 x 5 MB" "$(div "$(med gzip_small)" "$(med hilo_small)")"
ratio_info "hilo / gzip throughput, 200 MB" "$(div "$(med gzip_big)" "$(med hilo_big)")"
ratio_info "hilo processes / threads throughput, 200 MB" "$(div "$(med hilo_big)" "$(med hiloproc_big)")"
if [ "$have_pigz" = 1 ]; then
  ratio_info "hilo / pigz size, 200 MB" "$(div "$(size hilo_big)" "$(size pigz_big)")"
fi
ratios_end
