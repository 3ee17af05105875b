#!/usr/bin/env bash
# Cost of idle keep-alive connections (issue 15, aim 6): RSS per connection held open, and the
# served requests' p99 with BENCH_IDLE idle connections beside them against the same server
# without, alternating A B / B A for BENCH_REPEAT repetitions, each on a fresh server and a fresh
# copy of the medium SQLite database, with the host's steal per phase.
#
# A repetition: `serve --threads 1 --max-connections <BENCH_IDLE + 1000>
# --max-connections-per-address 0` (every connection comes from loopback), one parent logged in, a 3 s warm-up, then two phases in alternating order:
#   without: `wrk -t1 -c32 -d<BENCH_SECS>s --latency` on the parent's orders-list (cached);
#   with:    bench/idle_hold.py opens BENCH_IDLE connections (each asks GET /healthz once, then
#            sends nothing: idle keep-alive, held by the server's 60 s idle timeout), the server's
#            RSS is read before and after, and the same wrk runs beside them.
# KiB per connection = (VmRSS with them - VmRSS before) / the connections held.
#
# usage: bench/idle_connections.sh [build dir] [work dir]
#          (defaults build/release, /tmp/hasivu-bench-idle)
#   env: BENCH_IDLE (10000), BENCH_REPEAT (3), BENCH_SECS (10), BENCH_PORT (18098)
#   out: a Markdown report on stdout; <work>/results.tsv
# Loopback only; the server, wrk and the holder are stopped by their PIDs on exit.
set -euo pipefail
build=$(realpath -e "${1:-build/release}")
work=$(realpath -m "${2:-/tmp/hasivu-bench-idle}")
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
idle="${BENCH_IDLE:-10000}"
repeat="${BENCH_REPEAT:-3}"
secs="${BENCH_SECS:-10}"
port="${BENCH_PORT:-18098}"
require_tools idle_connections.sh wrk curl python3
require_builds idle_connections.sh "$build"
mkdir -p "$work/seed" "$work/run"
results="$work/results.tsv"
printf 'repetition\tphase\tidle_held\trss_before_kib\trss_with_kib\trequests_per_s\tp99_ms\tsteal_ms\tfd_limit\n' >"$results"

server_pid=""
wrk_pid=""
hold_pid=""
cleanup() {
  if [ -n "$hold_pid" ]; then stop_pid "$hold_pid"; fi
  if [ -n "$wrk_pid" ]; then stop_pid "$wrk_pid"; fi
  if [ -n "$server_pid" ]; then stop_pid "$server_pid" 30; fi
  exec 4>&- 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

secret="idle-bench-secret-0123456789abcdef0123"
base="http://127.0.0.1:$port"
seed_medium_once "$build/app/hasivu" "$work/seed"
parent_login_json "$work/seed/fixtures.json" "$work/parent.json"

rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$server_pid/status"; }
steal_ticks() { awk '/^cpu /{print $9}' /proc/stat; }
# p99 of a wrk --latency output, in ms.
p99_ms() {
  python3 -c '
import re, sys
m = re.search(r"^\s*99%\s+([0-9.]+)(us|ms|s)\s*$", open(sys.argv[1]).read(), re.M)
f = {"us": 0.001, "ms": 1, "s": 1000}
print("%.3f" % (float(m.group(1)) * f[m.group(2)]))' "$1"
}

# phase REP NAME: runs one phase (with or without the idle connections) on the running server.
phase() {
  local rep="$1" name="$2" held=0 failed=0 ready before after
  before=$(rss_kib)
  if [ "$name" = with ]; then
    coproc HOLD { exec python3 bench/idle_hold.py "$port" "$idle"; }
    hold_pid=$HOLD_PID
    read -r ready held failed <&"${HOLD[0]}"
    if [ "$ready" != ready ] || [ "$failed" != 0 ]; then
      echo "idle_connections.sh: $failed of $idle idle connections failed" >&2
      exit 1
    fi
    sleep 1
  fi
  after=$(rss_kib)
  local s0 s1
  s0=$(steal_ticks)
  BENCH_TOKEN="$token" wrk -t1 -c32 -d"${secs}s" --latency -s bench/lua/bearer.lua \
    "$base/api/v1/orders?limit=20" >"$work/wrk.out" &
  wrk_pid=$!
  wait "$wrk_pid"
  wrk_pid=""
  s1=$(steal_ticks)
  if grep -q "Non-2xx\|Socket errors" "$work/wrk.out"; then
    echo "idle_connections.sh: wrk saw errors in $name: $(grep -E 'Non-2xx|Socket errors' "$work/wrk.out")" >&2
    exit 1
  fi
  if [ "$name" = with ]; then
    after=$(( after > $(rss_kib) ? after : $(rss_kib) ))
    stop_pid "$hold_pid"
    hold_pid=""
  fi
  local rps p99 limit
  rps=$(awk '/^Requests\/sec:/{print $2}' "$work/wrk.out")
  p99=$(p99_ms "$work/wrk.out")
  limit=$(awk '/^Max open files/{print $4}' "/proc/$server_pid/limits")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$name" "$held" "$before" "$after" \
    "$rps" "$p99" "$(( (s1 - s0) * 1000 / $(getconf CLK_TCK) ))" "$limit" >>"$results"
}

for rep in $(seq 1 "$repeat"); do
  working_copy "$work/seed" "$work/run"
  "$build/app/hasivu" serve --threads 1 --access-log false --log-level warn \
    --max-connections "$((idle + 1000))" --max-connections-per-address 0 \
    --jwt-secret "$secret" --listen "127.0.0.1:$port" \
    --store "sqlite:$work/run/hasivu.db" >/dev/null 2>"$work/server.err" &
  server_pid=$!
  wait_up "$base/healthz"
  token=$(curl -s --max-time 60 -X POST -H 'Content-Type: application/json' \
    --data @"$work/parent.json" "$base/api/v1/auth/login" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['data']['tokens']['accessToken'])")
  BENCH_TOKEN="$token" wrk -t1 -c32 -d3s -s bench/lua/bearer.lua "$base/api/v1/orders?limit=20" \
    >/dev/null
  if [ $((rep % 2)) = 1 ]; then order=(without with); else order=(with without); fi
  for name in "${order[@]}"; do phase "$rep" "$name"; done
  stop_pid "$server_pid" 30
  server_pid=""
done

python3 - "$results" "$idle" "$secs" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
idle, secs = int(sys.argv[2]), sys.argv[3]
by = {}
for r in rows:
    by.setdefault(r["repetition"], {})[r["phase"]] = r
print(f"# {idle} idle keep-alive connections beside a loaded server")
print()
print(f"`serve --threads 1 --max-connections {idle + 1000} --max-connections-per-address 0`, medium SQLite, cache on; load: "
      f"`wrk -t1 -c32 -d{secs}s --latency` on a parent's orders-list; each repetition a fresh "
      "server, the two phases alternating A B / B A.")
print()
print("| repetition | order | connections held | RSS before → with (MiB) | KiB per connection | p99 without / with (ms) | p99 ratio | req/s without / with | steal (ms) | open-file limit |")
print("|---|---|---|---|---|---|---|---|---|---|")
kib, ratios = [], []
for rep, ph in sorted(by.items(), key=lambda kv: int(kv[0])):
    a, b = ph["without"], ph["with"]
    per = (int(b["rss_with_kib"]) - int(b["rss_before_kib"])) / max(int(b["idle_held"]), 1)
    ratio = float(b["p99_ms"]) / float(a["p99_ms"])
    kib.append(per)
    ratios.append(ratio)
    order = "A B" if int(rep) % 2 else "B A"
    print(f"| {rep} | {order} | {b['idle_held']} | {int(b['rss_before_kib'])/1024:.1f} → "
          f"{int(b['rss_with_kib'])/1024:.1f} | {per:.2f} | {a['p99_ms']} / {b['p99_ms']} | "
          f"{ratio:.2f}× | {float(a['requests_per_s']):.0f} / {float(b['requests_per_s']):.0f} | "
          f"{a['steal_ms']} / {b['steal_ms']} | {b['fd_limit']} |")
print()
print(f"Median: {statistics.median(kib):.2f} KiB per connection "
      f"({statistics.median(kib) * idle / 1024:.1f} MiB for {idle}; range {min(kib):.2f}–{max(kib):.2f}); "
      f"p99 with ÷ without {statistics.median(ratios):.2f}× (range {min(ratios):.2f}–{max(ratios):.2f}×).")
PY
