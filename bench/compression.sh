#!/usr/bin/env bash
# Measures response compression end to end for docs/performance.md (issue 4): orders-list
# (parent, limit=20, and admin, limit=100) on the medium SQLite database, against one server
# thread, once per Accept-Encoding: identity, gzip, br, zstd. For each: the body size on the wire
# (checked to carry the expected Content-Encoding), peak requests/s with `wrk -t1 -c32`, p50/p99
# at a paced ~1 000 requests/s (bench/lua/paced.lua), and server CPU per request.
# Reuses the seeded database of bench/functions.sh (<functions work dir>/seed), seeding it the
# same way when it is missing or from another day; works on a copy. Loopback only; every process
# started is stopped by its PID.
#
# usage: bench/compression.sh [work dir]      (default /tmp/hasivu-bench-compression)
#   needs a release build: cmake --preset release && cmake --build --preset release --target hasivu
#   env: HASIVU_BUILD_DIR   build folder holding app/hasivu (default build/release)
#        BENCH_FUNCTIONS_WORK  functions.sh's work dir with seed/ (default /tmp/hasivu-bench-functions)
#        BENCH_PORT         hasivu's port (default 18095)
#        BENCH_DURATION     wrk duration per run (default 10s; e.g. 2s for a smoke run)
#        BENCH_SERVER_ARGS  extra `hasivu serve` flags (e.g. "--compression-brotli-level 4")
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
repo="$PWD"
work="${1:-/tmp/hasivu-bench-compression}"
functions_work="${BENCH_FUNCTIONS_WORK:-/tmp/hasivu-bench-functions}"
build="${HASIVU_BUILD_DIR:-build/release}"
bin="$build/app/hasivu"
port="${BENCH_PORT:-18095}"
duration="${BENCH_DURATION:-10s}"
read -r -a extra_args <<<"${BENCH_SERVER_ARGS:-}"
secret="hasivu-bench-only-jwt-secret-0123456789abcdef"
base="http://127.0.0.1:$port"

for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "compression.sh: $tool is required" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "compression.sh: no $bin (build it, or set HASIVU_BUILD_DIR)" >&2; exit 1; }
mkdir -p "$work/run" "$work/out" "$functions_work/seed"

server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then stop_pid "$server_pid"; fi
}
trap cleanup EXIT


echo "## machine"
echo "$(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)," \
  "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src app 2>/dev/null || echo ' (+ uncommitted changes in src/app)'), binary $bin built $(date -r "$bin" '+%F %T')"

echo "## database: medium, SQLite (shared with bench/functions.sh)"
seed="$functions_work/seed"
fixtures="$seed/fixtures.json"
school_today() {
  python3 -c "
import json,sys,datetime,zoneinfo
d=json.load(open(sys.argv[1]))
print(datetime.datetime.now(zoneinfo.ZoneInfo(d['schools'][0]['timezone'])).date())" "$fixtures"
}
if [ -f "$seed/hasivu.db" ] && [ -f "$fixtures" ] && [ -f "$seed/done" ] &&
  [ "$(json "$fixtures" "d['baseDate']")" = "$(school_today)" ]; then
  echo "reusing $seed (base date $(json "$fixtures" "d['baseDate']"))"
else
  rm -f "$seed/"* && echo "seeding $seed"
  "$bin" seed --store "sqlite:$seed/hasivu.db" --size medium --fixtures-out "$fixtures"
  touch "$seed/done"
fi
working_copy "$seed" "$work/run"
cp "$fixtures" "$work/run/fixtures.json"

python3 - "$fixtures" "$work/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); out = sys.argv[2]
parent = next(p for p in d["schools"][0]["parents"] if len(p["children"]) >= 2)
for name, who in (("parent", parent), ("admin", d["admin"])):
    json.dump({"email": who["email"], "password": who["password"]}, open(f"{out}/{name}.json", "w"))
PY

echo "## hasivu serve --threads 1 ${extra_args[*]:-}"
"$bin" serve --threads 1 --access-log false --log-level warn --jwt-secret "$secret" \
  --data-dir "$work/run" --listen "127.0.0.1:$port" "${extra_args[@]}" >"$work/out/serve.log" 2>&1 &
server_pid=$!
wait_up "$base/healthz"

token_for() {
  curl -s --max-time 60 -X POST -H 'Content-Type: application/json' --data @"$work/out/$1.json" \
    "$base/api/v1/auth/login" >"$work/out/$1.login"
  json "$work/out/$1.login" "d['data']['tokens']['accessToken']"
}
parent_token=$(token_for parent)
admin_token=$(token_for admin)

clk_tck=$(getconf CLK_TCK)
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
summary="$work/out/summary.md"
echo "| request | Accept-Encoding | body bytes | ratio | peak req/s | p50 | p99 (paced 1000/s) | CPU us/request |" >"$summary"
echo "|---|---|---|---|---|---|---|---|" >>"$summary"
lua="$repo/bench/lua"

# measure LABEL TOKEN URL ENCODING
measure() {
  local label="$1" token="$2" url="$3" enc="$4"
  local header="Accept-Encoding: $enc"
  local tag
  tag=$(echo "$label-$enc" | tr -c 'A-Za-z0-9\n-' '_')
  # What the server sends for this Accept-Encoding.
  curl -s --max-time 10 -D "$work/out/$tag.headers" -o "$work/out/$tag.body" \
    -H "Authorization: Bearer $token" -H "$header" "$url"
  local got size
  got=$(tr -d '\r' <"$work/out/$tag.headers" | awk -F': ' 'tolower($1)=="content-encoding"{print $2}')
  size=$(wc -c <"$work/out/$tag.body")
  if [ "$enc" = identity ]; then
    [ -z "$got" ] || { echo "compression.sh: identity request answered $got" >&2; exit 1; }
    identity_size="$size"
  else
    [ "$got" = "$enc" ] || { echo "compression.sh: asked for $enc, got '${got:-identity}'" >&2; exit 1; }
  fi
  echo "### $label, Accept-Encoding: $enc ($size bytes)"
  local before after peak_file paced_file
  peak_file="$work/out/$tag-peak.txt"
  paced_file="$work/out/$tag-paced.txt"
  before=$(cpu_ticks "$server_pid")
  BENCH_TOKEN="$token" wrk -t1 -c32 -d"$duration" --latency -H "$header" -s "$lua/bearer.lua" "$url" >"$peak_file"
  after=$(cpu_ticks "$server_pid")
  BENCH_RATE=1000 BENCH_TOKEN="$token" wrk -t1 -c10 -d"$duration" --latency -H "$header" -s "$lua/paced.lua" "$url" >"$paced_file"
  grep -E "Requests/sec|Non-2xx|Socket errors" "$peak_file" || true
  local rps requests p50 p99 cpu_us ratio
  rps=$(awk '/Requests\/sec/{print $2}' "$peak_file")
  requests=$(awk '/requests in/{print $1}' "$peak_file")
  p50=$(awk '$1=="50%"{print $2}' "$paced_file")
  p99=$(awk '$1=="99%"{print $2}' "$paced_file")
  cpu_us=$(python3 -c "import sys; t,hz,n=map(int,sys.argv[1:]); print(f'{t/hz*1e6/n:.0f}' if n else '-')" \
    "$((after - before))" "$clk_tck" "${requests:-0}")
  ratio=$(python3 -c "import sys; print(f'{int(sys.argv[1])/int(sys.argv[2]):.3f}')" "$size" "$identity_size")
  echo "peak $rps req/s; paced p50 $p50, p99 $p99; $cpu_us us CPU/request"
  echo "| $label | $enc | $size | $ratio | $rps | $p50 | $p99 | $cpu_us |" >>"$summary"
}

for enc in identity gzip br zstd; do
  measure "orders-list (parent, limit=20)" "$parent_token" "$base/api/v1/orders?limit=20" "$enc"
done
for enc in identity gzip br zstd; do
  measure "orders-list (admin, limit=100)" "$admin_token" "$base/api/v1/orders?limit=100" "$enc"
done

echo "## summary (wrk -t1 -c32 -d$duration peak; BENCH_RATE=1000 wrk -t1 -c10 -d$duration paced)"
cat "$summary"
curl -s "$base/metrics" | grep -E '^hasivu_http_compress(ed_responses_total|ion_errors_total)' || true
