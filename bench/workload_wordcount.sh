#!/usr/bin/env bash
# `hilo wordcount` against Python's collections.Counter and against the
# classic `tr | sort | uniq -c` pipeline, in one run.
#
# On the whole text corpus (40 x 5 MB files plus one 200 MB file, made by
# bench/make_corpus.py): `hilo wordcount --top 0` (threads, then processes)
# and a Python script counting the same words (re.findall(r'[^\W_]+') on
# lower-cased text, a Counter, 4 MB of lines at a time). Every output is
# compared in full: each word and count, in the same order.
#
# Python's fastest plain form runs too, `Counter` over `line.lower().split()`
# for each line: it splits at white space only (so "fin." and "fin" are two
# words to it) and its counts are not hilo's, but it is what a Python user
# writes first, and the speed to beat.
#
# Unicode costs hilo little: the 200 MB file (Spanish and English, accents
# in a quarter of its words) against the same file made ASCII by iconv's
# transliteration (niño -> nino), in MB/s.
#
# The tr pipeline is far slower and splits UTF-8 letters apart, so it runs
# on a smaller ASCII part: the first TR_FILES small files with every byte
# above 127 made a space (both tools then count the same words), and its
# output (after `sort -rn` to rank it like hilo) is compared in full too.
#
# Every contender runs RUNS times, alternating with the others; medians are
# used. The target is on wall-clock time; CPU seconds (user + sys, hilo's
# worker processes included) are printed too: on a machine busy with other
# work, a program using 2 cores loses more wall-clock time than one using 1,
# while its CPU time stays put.
#
# Usage (from anywhere): bash bench/workload_wordcount.sh
# Environment knobs:
#   RUNS=N       runs per contender, median        (default 3)
#   CORPUS=DIR   where the corpus is (made if missing, kept between runs;
#                about 35 s to make)              (default target/bench-corpus)
#   TR_FILES=N   small files in the tr pipeline's ASCII part (default 8, 40 MB)
#   STRICT=1     exit with status 3 if a ratio misses its target
# Needs python3 to make the corpus; coreutils for the pipeline.
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS="${RUNS:-3}"
CORPUS="${CORPUS:-target/bench-corpus}"
TR_FILES="${TR_FILES:-8}"

# Targets: Python's time over hilo's (higher is better), for the regex
# script that counts hilo's words and for the plain split() form; hilo's
# MB/s on the Unicode file over its MB/s on the same file in ASCII.
TARGET_PYTHON=10
TARGET_PYTHON_SPLIT=20
TARGET_UNICODE=0.7

section "setup"
echo "cores online: $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo unknown)"
have_py=0
if have_python; then
  have_py=1
else
  echo "python3 not found: skipping Python's Counter (apt-get install python3)"
fi
ensure_corpus "$CORPUS"
build_bench hilo-cli hilo
hilo="$bin"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

files=("$CORPUS"/small/*.txt "$CORPUS/big.txt")
bytes=$(cat "${files[@]}" | wc -c)
echo "corpus: ${#files[@]} files, $((bytes / 1048576)) MiB"

# The tr pipeline's part: ASCII only, so that tr's byte-wise [:alnum:]
# and hilo's Unicode words agree.
small=("$CORPUS"/small/*.txt)
LC_ALL=C tr '\200-\377' ' ' < <(cat "${small[@]:0:$TR_FILES}") >"$work/ascii.txt"
ascii_bytes=$(wc -c <"$work/ascii.txt")
echo "tr pipeline part: $TR_FILES small files made ASCII, $((ascii_bytes / 1048576)) MiB"

cat >"$work/counter.py" <<'EOF'
"""Counts words as hilo wordcount does on this corpus; prints every word."""
import collections
import re
import sys

word = re.compile(r"[^\W_]+")
counts = collections.Counter()
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        while True:
            lines = f.readlines(1 << 22)
            if not lines:
                break
            counts.update(word.findall("".join(lines).lower()))
out = sys.stdout
for w, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
    out.write("%7d %s\n" % (n, w))
EOF

cat >"$work/split.py" <<'EOF'
"""Python's plainest word count: a Counter over line.lower().split()."""
import collections
import sys

counts = collections.Counter()
for path in sys.argv[1:]:
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            counts.update(line.lower().split())
out = sys.stdout
for w, n in counts.most_common():
    out.write("%7d %s\n" % (n, w))
EOF

# The 200 MB file, and the same text in ASCII (-c drops what iconv cannot
# transliterate: U+FFFD, made of the corpus's invalid bytes).
big="$CORPUS/big.txt"
iconv -c -f UTF-8 -t ASCII//TRANSLIT <"$big" >"$work/big_ascii.txt" || true
big_bytes=$(wc -c <"$big")
big_ascii_bytes=$(wc -c <"$work/big_ascii.txt")
echo "unicode check: $((big_bytes / 1048576)) MiB file, $((big_ascii_bytes / 1048576)) MiB in ASCII"

tr_pipeline() {
  LC_ALL=C tr -cs '[:alnum:]' '\n' <"$1" | LC_ALL=C tr '[:upper:]' '[:lower:]' |
    LC_ALL=C sort | LC_ALL=C uniq -c | LC_ALL=C sort -k1,1nr -k2,2
}

# timed NAME OUT COMMAND...: runs COMMAND with its stdout in OUT and
# appends the seconds it took to the list of NAME, and the CPU seconds it
# and its children (hilo's worker processes) used to cpu[NAME].
declare -A times=() cpu=()
timed() {
  local name="$1" out="$2" t real user sys TIMEFORMAT='%R %U %S'
  shift 2
  if ! t=$({ time "$@" >"$out" 2>"$work/stderr"; } 2>&1); then
    echo "error: $name failed: $(head -3 "$work/stderr")" >&2
    exit 1
  fi
  read -r real user sys <<<"$t"
  times[$name]+="$real "
  cpu[$name]+="$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }') "
}

# same NAME A B: exits unless files A and B are equal.
same() {
  if ! cmp -s "$2" "$3"; then
    echo "error: $1: the counts differ ($(diff "$2" "$3" | head -3 | tr '\n' ' '))" >&2
    exit 1
  fi
}

section "${#files[@]} files, $((bytes / 1048576)) MiB, x $RUNS runs per contender"
for ((run = 1; run <= RUNS; run++)); do
  timed hilo "$work/hilo.out" "$hilo" wordcount --top 0 "${files[@]}"
  if [ "$have_py" = 1 ]; then
    timed python "$work/python.out" python3 "$work/counter.py" "${files[@]}"
    same "Python's Counter vs hilo" "$work/python.out" "$work/hilo.out"
    timed python_split "$work/split.out" python3 "$work/split.py" "${files[@]}"
  fi
  timed hilo_unicode "$work/unicode.out" "$hilo" wordcount --top 0 "$big"
  timed hilo_translit "$work/translit.out" "$hilo" wordcount --top 0 "$work/big_ascii.txt"
  timed hilo_processes "$work/processes.out" "$hilo" wordcount --top 0 --engine processes "${files[@]}"
  same "hilo --engine processes vs threads" "$work/processes.out" "$work/hilo.out"
  timed hilo_ascii "$work/hilo_ascii.out" "$hilo" wordcount --top 0 "$work/ascii.txt"
  timed tr_pipeline "$work/tr.out" tr_pipeline "$work/ascii.txt"
  # tr makes an empty word of a leading separator: not a word.
  awk 'NF == 2' "$work/tr.out" >"$work/tr_words.out"
  same "tr | sort | uniq -c vs hilo" "$work/tr_words.out" "$work/hilo_ascii.out"
  echo "run $run done (all outputs agree)"
done
echo "distinct words: $(wc -l <"$work/hilo.out"); top 3:"
head -3 "$work/hilo.out"

section "median seconds (wall; CPU = user + sys of the command and its children)"
# shellcheck disable=SC2086  # one word per run
for name in hilo python python_split hilo_processes hilo_unicode hilo_translit hilo_ascii tr_pipeline; do
  if [ -n "${times[$name]:-}" ]; then
    m=$(median ${times[$name]})
    case "$name" in
      hilo_ascii | tr_pipeline) size=$ascii_bytes ;;
      hilo_unicode) size=$big_bytes ;;
      hilo_translit) size=$big_ascii_bytes ;;
      *) size=$bytes ;;
    esac
    printf '  %-16s %8s s  %8s MB/s  CPU %8s s   runs: %s\n' "$name" "$m" \
      "$(awk -v b="$size" -v s="$m" 'BEGIN { printf "%.1f", b / 1e6 / s }')" \
      "$(median ${cpu[$name]})" "${times[$name]}"
  else
    printf '  %-16s %8s\n' "$name" "skipped"
  fi
done

# shellcheck disable=SC2086
med() { median ${times[$1]}; }
# shellcheck disable=SC2086
med_cpu() { median ${cpu[$1]}; }
section "ratios"
ratios_begin 50
if [ "$have_py" = 1 ]; then
  ratio "Python Counter / hilo time (throughput)" "$(div "$(med python)" "$(med hilo)")" ">=" "$TARGET_PYTHON"
  ratio "Python Counter(line.lower().split()) / hilo time" "$(div "$(med python_split)" "$(med hilo)")" ">=" "$TARGET_PYTHON_SPLIT"
else
  ratio_skipped "Python Counter / hilo time (throughput)" ">=$TARGET_PYTHON"
  ratio_skipped "Python Counter(line.lower().split()) / hilo time" ">=$TARGET_PYTHON_SPLIT"
fi
# MB/s on the Unicode file over MB/s on its ASCII transliteration.
unicode_ratio=$(awk -v ub="$big_bytes" -v ut="$(med hilo_unicode)" -v ab="$big_ascii_bytes" \
  -v at="$(med hilo_translit)" 'BEGIN { printf "%.4f", (ub / ut) / (ab / at) }')
ratio "hilo MB/s, Unicode / the same text in ASCII" "$unicode_ratio" ">=" "$TARGET_UNICODE"
echo
echo "  for information (no target):"
if [ "$have_py" = 1 ]; then
  ratio_info "Python Counter / hilo --engine processes time" "$(div "$(med python)" "$(med hilo_processes)")"
  ratio_info "Python Counter / hilo CPU time (per-core work)" "$(div "$(med_cpu python)" "$(med_cpu hilo)")"
fi
ratio_info "tr|sort|uniq -c / hilo time, ${TR_FILES} files ASCII" "$(div "$(med tr_pipeline)" "$(med hilo_ascii)")"
ratios_end
