#!/usr/bin/env bash
# What the monitoring layer costs a request: orders-list (parent, limit=20) requests/s and server
# CPU per request, uncached (--cache none) and cached (--cache memory), build A against build B
# with extra serve flags (default: the EMF flusher writing every second to a file), alternating
# A B A B ... (BENCH_REPS pairs) in the same minutes on one seeded medium SQLite database. Both
# builds run with the access log on (to /dev/null), as an operator runs them; the A build is the
# "before" (no tracing, no EMF), so B/A is the price of tracing + EMF + the async access log.
#
# usage: bench/monitoring_vs.sh <build dir A> <build dir B> [work dir]
#          (default work dir /tmp/hasivu-bench-monitoring; a build dir holds app/hasivu)
#   env: BENCH_REPS      pairs A B (default 3)
#        BENCH_SECS      wrk -d per run (default 10)
#        BENCH_PORT      the servers' port, one at a time (default 18095)
#        BENCH_B_FLAGS   extra `serve` flags for B (default "--emf-output <work>/emf.jsonl
#                        --emf-interval 1"); BENCH_A_FLAGS the same for A (default none)
#   out: a Markdown report on stdout; <work>/results.tsv every run, with the host's steal and the
#        CPU other processes of the machine used during it (both as % of all its CPU time) and
#        the 1-minute load average at its start.
# Loopback only; the server and wrk of the run in progress are stopped by their PIDs on exit.
set -euo pipefail
usage() {
  echo "usage: $0 <build dir A> <build dir B> [work dir]" >&2
  exit 2
}
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
build_a=$(realpath -e "$1") || usage
build_b=$(realpath -e "$2") || usage
work=$(realpath -m "${3:-/tmp/hasivu-bench-monitoring}")
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
reps="${BENCH_REPS:-3}"
secs="${BENCH_SECS:-10}"
port="${BENCH_PORT:-18095}"
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || { echo "monitoring_vs.sh: BENCH_REPS must be 1 or more" >&2; exit 1; }
read -r -a flags_a <<<"${BENCH_A_FLAGS-}"
read -r -a flags_b <<<"${BENCH_B_FLAGS---emf-output $work/emf.jsonl --emf-interval 1}"
require_tools monitoring_vs.sh wrk curl python3
require_builds monitoring_vs.sh "$build_a" "$build_b"
mkdir -p "$work/seed" "$work/run"
results="$work/results.tsv"
printf 'pair\tbuild\tcache\trequests/s\tcpu us/request\tsteal %%\tnon-2xx\tother %%\tload\n' >"$results"

server_pid=""
wrk_pid=""
cleanup() {
  if [ -n "$wrk_pid" ]; then stop_pid "$wrk_pid"; fi
  if [ -n "$server_pid" ]; then stop_pid "$server_pid" 30; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

secret="monitoring-bench-secret-0123456789abcdef"
base="http://127.0.0.1:$port"
seed_medium_once "$build_a/app/hasivu" "$work/seed"
parent_login_json "$work/seed/fixtures.json" "$work/parent.json"

all_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
steal_ticks() { awk '/^cpu /{print $9}' /proc/stat; }
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# user + nice + system of every process: less the server's and wrk's, what other work on the
# machine (another build, tests) took during the run.
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4}' /proc/stat; }
# CPU time of this script's finished children (wrk, once waited for).
children_ticks() { sed 's/^.*) //' "/proc/$$/stat" | awk '{print $14 + $15}'; }

# run_one PAIR A|B BUILD CACHE FLAGS...: a fresh server on a fresh copy, one login, one wrk run.
run_one() {
  local pair="$1" name="$2" bin="$3/app/hasivu" cache="$4"
  shift 4
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "monitoring_vs.sh: something already listens on 127.0.0.1:$port (set BENCH_PORT)" >&2
    exit 1
  fi
  working_copy "$work/seed" "$work/run"
  rm -f "$work/emf.jsonl"
  "$bin" serve --threads 1 --cache "$cache" --access-log true --log-level warn \
    --jwt-secret "$secret" --store "sqlite:$work/run/hasivu.db" --listen "127.0.0.1:$port" \
    "$@" >/dev/null 2>"$work/server.err" &
  server_pid=$!
  wait_up "$base/healthz"
  local token
  token=$(curl -s --max-time 30 -X POST -H 'Content-Type: application/json' \
    --data @"$work/parent.json" "$base/api/v1/auth/login" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['data']['tokens']['accessToken'])")
  # Warm the first pages (the first request is cold start's, not this measure's).
  for _ in 1 2 3; do
    curl -s -o /dev/null -H "Authorization: Bearer $token" "$base/api/v1/orders?limit=20"
  done
  local steal0 all0 cpu0 busy0 kids0 load out="$work/wrk.out"
  load=$(cut -d' ' -f1 /proc/loadavg)
  steal0=$(steal_ticks)
  all0=$(all_ticks)
  cpu0=$(proc_ticks "$server_pid")
  busy0=$(busy_ticks)
  kids0=$(children_ticks)
  BENCH_TOKEN="$token" wrk -t2 -c50 -d"${secs}s" -H 'Accept-Encoding: br' -s bench/lua/bearer.lua \
    "$base/api/v1/orders?limit=20" >"$out" &
  wrk_pid=$!
  wait "$wrk_pid"
  wrk_pid=""
  local cpu1 steal1 all1 busy1 kids1
  cpu1=$(proc_ticks "$server_pid")
  busy1=$(busy_ticks)
  kids1=$(children_ticks)
  steal1=$(steal_ticks)
  all1=$(all_ticks)
  stop_pid "$server_pid" 30
  server_pid=""
  python3 - "$out" "$pair" "$name" "$cache" "$((cpu1 - cpu0))" "$((steal1 - steal0))" \
    "$((all1 - all0))" "$(getconf CLK_TCK)" "$((busy1 - busy0 - (cpu1 - cpu0) - (kids1 - kids0)))" \
    "$load" >>"$results" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
pair, name, cache = sys.argv[2:5]
cpu, steal, every, hz, other = (int(x) for x in sys.argv[5:10])
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
total = int(re.search(r"(\d+) requests in", text).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{pair}\t{name}\t{cache}\t{rps:.0f}\t{cpu / hz * 1e6 / max(total, 1):.1f}\t"
      f"{100 * steal / max(every, 1):.1f}\t{int(non2xx.group(1)) if non2xx else 0}\t"
      f"{100 * max(other, 0) / max(every, 1):.1f}\t{sys.argv[10]}")
PY
}

echo "# monitoring cost: orders-list A/B, $reps pair(s), $(date '+%F %T %Z')"
echo
echo "- machine: $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- A: $build_a/app/hasivu ${flags_a[*]:-}"
echo "- B: $build_b/app/hasivu ${flags_b[*]:-}"
echo "- each run: a fresh \`serve --threads 1 --access-log true\` (stdout to /dev/null) on a fresh" \
  "copy of one medium SQLite database, \`wrk -t2 -c50 -d${secs}s -H 'Accept-Encoding: br'\` on" \
  "/api/v1/orders?limit=20 as a parent"
echo
for pair in $(seq 1 "$reps"); do
  for cache in none memory; do
    run_one "$pair" A "$build_a" "$cache" "${flags_a[@]}"
    run_one "$pair" B "$build_b" "$cache" "${flags_b[@]}"
  done
done
echo "- the last B run's EMF file: $( [ -f "$work/emf.jsonl" ] && wc -l <"$work/emf.jsonl" || echo no) lines"
echo

python3 - "$results" <<'PY'
import collections, csv, statistics, sys
rows = collections.defaultdict(lambda: collections.defaultdict(list))
for r in csv.DictReader(open(sys.argv[1]), delimiter="\t"):
    rows[r["cache"]][r["build"]].append(r)
print("| cache | figure | A runs | B runs | A median | B median | B/A (pairwise min–max) | steal % per run (A; B) | other processes' CPU % per run (A; B) |")
print("|---|---|---|---|---|---|---|---|---|")
for cache, builds in rows.items():
    for figure in ("requests/s", "cpu us/request"):
        a = [float(r[figure]) for r in builds["A"]]
        b = [float(r[figure]) for r in builds["B"]]
        pairs = [y / x for x, y in zip(a, b) if x]
        steal = "; ".join(" ".join(r["steal %"] for r in builds[k]) for k in "AB")
        other = "; ".join(" ".join(r["other %"] for r in builds[k]) for k in "AB")
        print(f"| {cache} | {figure} | {' '.join(f'{v:g}' for v in a)} | {' '.join(f'{v:g}' for v in b)} | "
              f"{statistics.median(a):g} | {statistics.median(b):g} | "
              f"{statistics.median(b) / statistics.median(a):.3f} ({min(pairs):.3f}–{max(pairs):.3f}) | {steal} | {other} |")
bad = sum(int(r["non-2xx"]) for b in rows.values() for rs in b.values() for r in rs)
print()
print(f"non-2xx answers over all runs: {bad}")
PY
