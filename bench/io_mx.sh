#!/usr/bin/env bash
# I/O-bound work, the lesson's exercise 2: `hilo mx` against Python's
# ThreadPoolExecutor(20) + dnspython, both asking one local DNS server
# (hilo-bench-dns, hickory-server on 127.0.0.1) that answers every question
# after DELAY_MS. 5,000 addresses over 1,000 domains: 60% with MX records,
# 10% with an A record only and 10% with an AAAA record only (the RFC 5321
# fallback: valid), 20% that do not exist (NXDOMAIN: invalid).
#   - hilo mx -j 20 (one lookup per distinct domain);
#   - Python, the lesson's shape: ex.map(verificar_email, emails), one
#     lookup per address;
#   - Python doing hilo's work: one lookup per distinct domain.
# Every run's classes are checked against the zone (and so against each
# other). Each contender runs RUNS times on a fresh server; medians.
# Prints the measurements, then the ratios with their targets.
#
# Usage (from anywhere): bash bench/io_mx.sh
# dnspython is installed with pip into a virtualenv under
# ${XDG_CACHE_HOME:-~/.cache} the first time (Python is skipped, with a
# note, if that fails).
# Environment knobs:
#   ADDRESSES=N  addresses                         (default 5000)
#   DOMAINS=N    distinct domains                  (default 1000)
#   DELAY_MS=N   the server's delay before a reply (default 5)
#   RUNS=N       runs per contender, median        (default 3)
#   STRICT=1     exit with status 3 if a ratio misses its target
set -euo pipefail
export LC_ALL=C

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ADDRESSES="${ADDRESSES:-5000}"
DOMAINS="${DOMAINS:-1000}"
DELAY_MS="${DELAY_MS:-5}"
RUNS="${RUNS:-3}"

TARGET_LESSON=3 # hilo's addresses/s over the lesson's Python

section "setup"
echo "cores online: $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo unknown)"
build_bench hilo-bench-dns
dns_bin="$bin"
cargo build --release --quiet -p hilo-cli
hilo="${CARGO_TARGET_DIR:-target}/release/hilo"

work="$(mktemp -d)"
dns_pid=""
cleanup() {
  if [ -n "$dns_pid" ]; then kill "$dns_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The zone, and the class each domain must get: d0...: 6 in 10 mx, then a,
# aaaa, and 2 in 10 absent.
awk -v n="$DOMAINS" -v zone="$work/zone.txt" -v want="$work/domain_class" 'BEGIN {
  split("mx mx mx mx mx mx a aaaa - -", kinds, " ")
  for (i = 0; i < n; i++) {
    kind = kinds[i % 10 + 1]
    name = "d" i ".bench.test"
    if (kind != "-") print name, kind > zone
    print name, (kind == "-" ? "invalid" : "valid") > want
  }
}'
# The addresses: user K at domain (K x 7919) mod DOMAINS, every domain
# used about ADDRESSES / DOMAINS times, scattered.
awk -v n="$ADDRESSES" -v d="$DOMAINS" 'BEGIN {
  for (k = 0; k < n; k++) printf "user%d@d%d.bench.test\n", k, (k * 7919) % d
}' >"$work/addresses.txt"
awk 'NR == FNR { want[$1] = $2; next }
  { split($0, p, "@"); print $0 "," want[p[2]] }' \
  "$work/domain_class" "$work/addresses.txt" >"$work/expected.csv"
echo "$ADDRESSES addresses over $DOMAINS domains; $(grep -c ',valid$' "$work/expected.csv") valid, $(grep -c ',invalid$' "$work/expected.csv") invalid"

venv="${XDG_CACHE_HOME:-$HOME/.cache}/hilo-bench-venv"
python=""
if have_python; then
  if ! "$venv/bin/python" -c 'import dns.resolver' >/dev/null 2>&1; then
    echo "installing dnspython into $venv (once)..."
    if [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" >/dev/null 2>&1; then
      "$venv/bin/pip" install -q dnspython >/dev/null 2>&1 || true
    fi
  fi
  if "$venv/bin/python" -c 'import dns.resolver' >/dev/null 2>&1; then
    python="$venv/bin/python"
    echo "dnspython: $("$python" -c 'import dns.version; print(dns.version.version)')"
  else
    echo "could not install dnspython: skipping Python"
  fi
fi

# start_dns / stop_dns: a fresh server per contender, its stdin a FIFO
# (it serves until that closes, then prints what it was asked).
start_dns() {
  rm -f "$work/dns.in" "$work/dns.out"
  mkfifo "$work/dns.in"
  "$dns_bin" --delay-ms "$DELAY_MS" "$work/zone.txt" <"$work/dns.in" >"$work/dns.out" &
  dns_pid=$!
  exec {dns_fd}>"$work/dns.in"
  for _ in $(seq 200); do
    grep -q '^dns_listening' "$work/dns.out" 2>/dev/null && break
    sleep 0.05
  done
  dns_addr=$(field "$(cat "$work/dns.out")" dns_listening addr)
  [ -n "$dns_addr" ] || { echo "error: the DNS server did not start" >&2; exit 1; }
}
stop_dns() {
  exec {dns_fd}>&-
  wait "$dns_pid" || true
  dns_pid=""
  asked=$(field "$(cat "$work/dns.out")" dns_served questions)
}

# same_classes NAME FILE: FILE's `email,class` lines must be the expected.
same_classes() {
  if ! cmp -s "$2" "$work/expected.csv"; then
    echo "error: $1 gave other classes than the zone's:" >&2
    diff "$work/expected.csv" "$2" | head -5 >&2
    exit 1
  fi
}

declare -A times=() questions=()
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.4f", b - a }'; }

section "hilo mx -j 20, $RUNS runs"
start_dns
for ((run = 1; run <= RUNS; run++)); do
  start="$EPOCHREALTIME"
  status=0
  "$hilo" mx -j 20 --nameserver "$dns_addr" "$work/addresses.txt" >"$work/hilo.csv" 2>"$work/hilo.err" || status=$?
  times[hilo]+="$(elapsed "$start") "
  [ "$status" -le 1 ] || { cat "$work/hilo.err" >&2; exit 1; }
  tail -n +2 "$work/hilo.csv" | cut -d, -f1,2 >"$work/hilo.classes"
  same_classes "hilo mx" "$work/hilo.classes"
done
cat "$work/hilo.err"
stop_dns
questions[hilo]=$((asked / RUNS))

if [ -n "$python" ]; then
  for mode in per-address per-domain; do
    section "Python ThreadPoolExecutor(20) + dnspython, $mode, $RUNS runs"
    start_dns
    for ((run = 1; run <= RUNS; run++)); do
      out="$("$python" bench/io_mx_peer.py "$mode" "$work/addresses.txt" "$work/py.csv" \
        "${dns_addr%:*}" "${dns_addr##*:}")"
      echo "$out"
      times[$mode]+="$(field "$out" "python_mx_${mode//-/_}" seconds) "
      same_classes "Python $mode" "$work/py.csv"
    done
    stop_dns
    questions[$mode]=$((asked / RUNS))
  done
fi

section "results (median seconds; questions the server got per run)"
print_medians 12 hilo per-address per-domain
for name in hilo per-address per-domain; do
  if [ -n "${questions[$name]:-}" ]; then
    printf "  %-12s %8s questions, %s addresses/s\n" "$name" "${questions[$name]}" \
      "$(awk -v n="$ADDRESSES" -v s="$(med "$name")" 'BEGIN { printf "%.0f", n / s }')"
  fi
done

section "ratios"
ratios_begin 52
if [ -n "$python" ]; then
  ratio "hilo / Python, lesson's shape (addresses/s)" "$(div "$(med per-address)" "$(med hilo)")" ">=" "$TARGET_LESSON"
  ratio_info "hilo / Python, one lookup per domain too" "$(div "$(med per-domain)" "$(med hilo)")"
else
  ratio_skipped "hilo / Python, lesson's shape (addresses/s)" ">=$TARGET_LESSON" "no dnspython"
fi
ratios_end
