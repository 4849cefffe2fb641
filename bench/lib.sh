# shellcheck shell=bash
# Functions shared by the bench scripts (pool_overhead.sh, process_pool.sh,
# run_overhead.sh).
# Sourced, not run: `source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"`. The
# scripts set their own shell options (set -euo pipefail).

# section TITLE...: a blank line, then "== TITLE ==".
section() { printf '\n== %s ==\n' "$*"; }

# field OUTPUT NAME KEY: the value of KEY=... on the line starting with NAME.
field() {
  awk -v name="$2" -v key="$3" '
    $1 == name {
      for (i = 2; i <= NF; i++) {
        p = index($i, "=")
        if (p > 0 && substr($i, 1, p - 1) == key) { print substr($i, p + 1); exit }
      }
    }' <<<"$1"
}

# build_bench PACKAGE [BINARY]: prints the rustc version, builds PACKAGE in
# release mode and sets bin to the path of its binary (named BINARY, by
# default PACKAGE).
build_bench() {
  echo "rustc: $(rustc --version 2>/dev/null || echo unknown)"
  echo "building $1 (release)..."
  cargo build --release --quiet -p "$1"
  # shellcheck disable=SC2034  # read by the script that sources this file
  bin="${CARGO_TARGET_DIR:-target}/release/${2:-$1}"
}

# have_tool COMMAND [LABEL]: whether COMMAND is on the PATH; prints its
# version if so, and that it is skipped (and how to get it) if not.
have_tool() {
  local label="${2:-$1}"
  if command -v "$1" >/dev/null 2>&1; then
    echo "$label: $("$1" --version 2>&1 | head -1)"
  else
    echo "$label not found: skipping it (apt-get install $1)"
    return 1
  fi
}

# ensure_corpus DIR: makes the text corpus in DIR with bench/make_corpus.py
# (about 35 s the first time; files already there are kept, so it is cheap
# after that). Exits with status 1 if it is missing and python3 is too.
ensure_corpus() {
  local missing=0
  if [ ! -f "$1/big.txt" ] || [ ! -d "$1/small" ]; then
    missing=1
  fi
  if ! command -v python3 >/dev/null 2>&1; then
    if [ "$missing" = 1 ]; then
      echo "error: no corpus in $1 and no python3 to make it" >&2
      exit 1
    fi
    return 0
  fi
  if [ "$missing" = 1 ]; then
    echo "making the corpus in $1 (about 35 s, kept for next time)..."
  fi
  python3 bench/make_corpus.py "$1"
}

# have_python: whether python3 is on the PATH; if so, prints its version.
have_python() {
  command -v python3 >/dev/null 2>&1 || return 1
  echo "python3: $(python3 -c 'import platform; print(platform.python_implementation(), platform.python_version())')"
}

# require_values WHAT VAR...: exits with status 1 unless every VAR is
# non-empty (WHAT names the benchmark whose output they came from).
require_values() {
  local what="$1" v
  shift
  for v in "$@"; do
    if [ -z "${!v}" ]; then
      echo "error: no value for $v in the $what benchmark's output" >&2
      exit 1
    fi
  done
}

# median WORDS...: the middle value (the upper one of the two for an even
# count).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int(NR / 2) + 1] }'; }

# print_medians WIDTH NAME...: for each NAME, the median of the seconds the
# calling script keeps in its associative array `times` (one word per run)
# and the runs themselves, or "skipped" for a NAME without any; names are
# padded to WIDTH.
print_medians() {
  local width="$1" name
  shift
  for name in "$@"; do
    if [ -n "${times[$name]:-}" ]; then
      # shellcheck disable=SC2086  # one word per run
      printf "  %-${width}s %8s   runs: %s\n" "$name" "$(median ${times[$name]})" "${times[$name]}"
    else
      printf "  %-${width}s %8s\n" "$name" "skipped"
    fi
  done
}

# med NAME: the median of the seconds in ${times[NAME]}.
# shellcheck disable=SC2086  # one word per run
med() { median ${times[$1]}; }

# div A B: A / B with 4 decimals.
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }

# ratios_begin WIDTH: prints the header of the ratio table, whose label
# column is WIDTH wide, and resets the count of rows that miss their target.
ratios_begin() {
  ratio_width="$1"
  below=0
  printf "  %-${ratio_width}s %9s %9s  %s\n" "ratio" "value" "target" "status"
}

# ratio LABEL VALUE OP TARGET: prints one row (OP is >= or <=); counts the
# rows that miss their target.
ratio() {
  local status
  status=$(awk -v v="$2" -v op="$3" -v t="$4" 'BEGIN {
    ok = (op == ">=") ? (v + 0 >= t + 0) : (v + 0 <= t + 0)
    print ok ? "ok" : "BELOW TARGET"
  }')
  printf "  %-${ratio_width}s %8.2fx %8sx  %s\n" "$1" "$2" "$3$4" "$status"
  if [ "$status" != ok ]; then below=$((below + 1)); fi
}

# ratio_skipped LABEL OPTARGET [WHY]: a row whose peer did not run (WHY
# defaults to "no python3").
ratio_skipped() {
  printf "  %-${ratio_width}s %9s %8sx  %s\n" "$1" "-" "$2" "skipped (${3:-no python3})"
}

# ratio_info LABEL VALUE: a row with no target.
ratio_info() { printf "  %-${ratio_width}s %8.2fx\n" "$1" "$2"; }

# ratios_end: says how many rows missed their target; with STRICT=1, exits
# with status 3 if any did.
ratios_end() {
  if [ "$below" -gt 0 ]; then
    echo
    echo "$below ratio(s) below target."
    if [ "${STRICT:-0}" = 1 ]; then
      exit 3
    fi
  fi
}
