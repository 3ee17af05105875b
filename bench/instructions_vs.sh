#!/usr/bin/env bash
# Instructions per read request (by default orders-list: parent, limit=20, Accept-Encoding: br), build A against
# build B, counted by valgrind's callgrind: unlike a time, an instruction count does not follow the
# host's steal or a neighbour's cache, so a difference of 1 % between two builds shows. Each build
# runs `serve --threads 1 --access-log true` under callgrind on a fresh copy of one seeded medium
# SQLite database; after one login and a 5 s warm-up, the counters are zeroed, `wrk -t1 -c8` runs
# for BENCH_SECS seconds, the counters are dumped, and the total (every thread: the I/O thread,
# the blocking pool, the access-log writer, the monitor) is divided by the requests wrk completed.
# User-space instructions only: the kernel's share of a request (sockets, epoll) is not counted.
#
# usage: bench/instructions_vs.sh <build dir A> <build dir B> [work dir]
#          (default work dir /tmp/hasivu-bench-instructions; a build dir holds app/hasivu)
#   env: BENCH_CACHES    the --cache values to run (default "memory none")
#        BENCH_SECS      wrk -d per run (default 15; under callgrind a cached request takes ~1 ms)
#        BENCH_PORT      the servers' port, one at a time (default 18096)
#        BENCH_A_FLAGS / BENCH_B_FLAGS   extra `serve` flags for A / B (default none)
#        BENCH_TOP       how many functions to list by their change per request (default 25)
#        BENCH_PATH      the request, as the parent (default /api/v1/orders?limit=20); {school} and
#                        {date} become the parent's school id and the seed's base date, e.g.
#                        '/api/v1/menus/daily?schoolId={school}&date={date}' or /api/v1/users/me
#   out: a Markdown report on stdout: instructions per request for A and B and B/A per cache,
#        then the functions whose cost per request changed most (self cost, callgrind_annotate);
#        <work>/callgrind.<build>.<cache>.out.1 keeps each dump for callgrind_annotate.
# Loopback only; the server and wrk of the run in progress are stopped by their PIDs on exit.
set -euo pipefail
usage() {
  echo "usage: $0 <build dir A> <build dir B> [work dir]" >&2
  exit 2
}
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
build_a=$(realpath -e "$1") || usage
build_b=$(realpath -e "$2") || usage
work=$(realpath -m "${3:-/tmp/hasivu-bench-instructions}")
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
read -r -a caches <<<"${BENCH_CACHES:-memory none}"
secs="${BENCH_SECS:-15}"
port="${BENCH_PORT:-18096}"
top="${BENCH_TOP:-25}"
path_template="${BENCH_PATH:-/api/v1/orders?limit=20}"
read -r -a flags_a <<<"${BENCH_A_FLAGS-}"
read -r -a flags_b <<<"${BENCH_B_FLAGS-}"
require_tools instructions_vs.sh valgrind callgrind_control callgrind_annotate wrk curl python3
require_builds instructions_vs.sh "$build_a" "$build_b"
mkdir -p "$work/seed" "$work/run"
results="$work/results.tsv"
printf 'build\tcache\trequests\tinstructions\tinstructions/request\n' >"$results"

server_pid=""
wrk_pid=""
cleanup() {
  if [ -n "$wrk_pid" ]; then stop_pid "$wrk_pid"; fi
  if [ -n "$server_pid" ]; then stop_pid "$server_pid" 60; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

secret="instructions-bench-secret-0123456789abcdef"
base="http://127.0.0.1:$port"
seed_medium_once "$build_a/app/hasivu" "$work/seed"
parent_login_json "$work/seed/fixtures.json" "$work/parent.json"
read -r school_id base_date < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]));
print(d["schools"][0]["id"], d["baseDate"])' "$work/seed/fixtures.json")
path="${path_template//\{school\}/$school_id}"
path="${path//\{date\}/$base_date}"

# run_one A|B BUILD CACHE FLAGS...
run_one() {
  local name="$1" bin="$2/app/hasivu" cache="$3"
  shift 3
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "instructions_vs.sh: something already listens on 127.0.0.1:$port (set BENCH_PORT)" >&2
    exit 1
  fi
  local out="$work/callgrind.$name.$cache.out"
  rm -f "$out" "$out".*
  working_copy "$work/seed" "$work/run"
  valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$bin" serve --threads 1 --cache "$cache" --access-log true --log-level warn \
    --jwt-secret "$secret" --store "sqlite:$work/run/hasivu.db" --listen "127.0.0.1:$port" \
    "$@" >/dev/null 2>"$work/server.err" &
  server_pid=$!
  wait_up "$base/healthz"
  local token
  token=$(curl -s --max-time 60 -X POST -H 'Content-Type: application/json' \
    --data @"$work/parent.json" "$base/api/v1/auth/login" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['data']['tokens']['accessToken'])")
  local load=(wrk -t1 -c8 -H 'Accept-Encoding: br' -s bench/lua/bearer.lua
    "$base$path")
  BENCH_TOKEN="$token" "${load[@]}" -d5s >/dev/null &
  wrk_pid=$!
  wait "$wrk_pid"
  callgrind_control -z "$server_pid" >/dev/null
  BENCH_TOKEN="$token" "${load[@]}" -d"${secs}s" >"$work/wrk.out" &
  wrk_pid=$!
  wait "$wrk_pid"
  wrk_pid=""
  callgrind_control -d "$server_pid" >/dev/null
  stop_pid "$server_pid" 60
  server_pid=""
  local requests instructions
  requests=$(grep -oP '\d+(?= requests in)' "$work/wrk.out")
  instructions=$(awk '/^summary:/{print $2}' "$out.1")
  if grep -q "Non-2xx" "$work/wrk.out"; then
    echo "instructions_vs.sh: $name/$cache answered non-2xx: $(grep Non-2xx "$work/wrk.out")" >&2
    exit 1
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$cache" "$requests" "$instructions" \
    "$((instructions / requests))" >>"$results"
}

echo "# instructions per request of $path: A/B under callgrind, $(date '+%F %T %Z')"
echo
echo "- A: $build_a/app/hasivu ${flags_a[*]:-} ($(git -C "$build_a" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "- B: $build_b/app/hasivu ${flags_b[*]:-} ($(git -C "$build_b" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "- each run: \`serve --threads 1 --access-log true\` under callgrind, one login, 5 s warm-up," \
  "then \`wrk -t1 -c8 -d${secs}s -H 'Accept-Encoding: br'\` on $path as a parent"
echo
for cache in "${caches[@]}"; do
  run_one A "$build_a" "$cache" "${flags_a[@]}"
  run_one B "$build_b" "$cache" "${flags_b[@]}"
done

python3 - "$results" "$work" "$top" <<'PY'
import collections, csv, re, subprocess, sys
results, work, top = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = collections.defaultdict(dict)
for r in csv.DictReader(open(results), delimiter="\t"):
    rows[r["cache"]][r["build"]] = r
print("| cache | A requests | B requests | A instructions/request | B instructions/request | B/A |")
print("|---|---|---|---|---|---|")
for cache, b in rows.items():
    a_ir, b_ir = int(b["A"]["instructions/request"]), int(b["B"]["instructions/request"])
    print(f"| {cache} | {b['A']['requests']} | {b['B']['requests']} | {a_ir:,} | {b_ir:,} | {b_ir / a_ir:.3f} |")

def self_costs(path, requests):
    text = subprocess.run(["callgrind_annotate", "--threshold=100", path],
                          capture_output=True, text=True, check=True).stdout
    costs = collections.Counter()
    for line in text.splitlines():
        m = re.match(r"^\s*([0-9,]+) \([ 0-9.]+%\)\s+(.*)$", line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        name = re.sub(r" \[.*\]$", "", m.group(2).strip())
        name = name.replace("std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >", "std::string")
        costs[name] += int(m.group(1).replace(",", "")) / requests
    return costs

for cache, b in rows.items():
    a = self_costs(f"{work}/callgrind.A.{cache}.out.1", int(b["A"]["requests"]))
    bb = self_costs(f"{work}/callgrind.B.{cache}.out.1", int(b["B"]["requests"]))
    # Threads' entry points carry their whole thread's cost; they say nothing of one function.
    names = [n for n in set(a) | set(bb) if "_State_impl" not in n and "start_thread" not in n
             and "clone" not in n and not n.startswith("???:0x")]
    names.sort(key=lambda n: -abs(bb[n] - a[n]))
    print()
    print(f"{cache}: the {top} functions whose own instructions per request changed most")
    print()
    print("| change | A | B | function |")
    print("|---|---|---|---|")
    for n in names[:top]:
        print(f"| {bb[n] - a[n]:+,.0f} | {a[n]:,.0f} | {bb[n]:,.0f} | `{n[:110]}` |")
PY
