#!/usr/bin/env bash
# Measures the platform functions for docs/performance.md (issue 3), with the Node.js baseline of
# orders-list in the same run, on the medium SQLite database with no cache:
#   - orders-list (parent, limit=20), menus-daily (the parent's child's school, today),
#     users-get (/users/me and a child), rfid-verify (kitchen staff): peak requests/s with
#     `wrk -t1 -c32 -d10s` against one server thread, and latency under a paced ~1 000
#     requests/s (`wrk -t1 -c10 -d15s` with bench/lua/paced.lua and BENCH_RATE=1000: 10
#     connections sharing one schedule of 1 000 requests/s); rfid-verify also under first scans
#     (deliveries: admin over every fixture card, 5 s so that no card repeats; BENCH_RFID_ROUNDS
#     runs, each on a fresh copy with a fresh server);
#   - the Node.js baseline (bench/node-baseline: Fastify + better-sqlite3, prepared statements)
#     serving the same orders-list from the same database file with the same token: peak, paced;
#   - login: N sequential logins with curl (ms per login) and the argon2id parameters.
# The seeded database is kept in <work dir>/seed and reused while its base date is today; every
# run works on a fresh copy in <work dir>/run (rfid-verify delivers orders, so a run changes it).
# Loopback only; bounded durations; every process started is stopped by its PID.
#
# usage: bench/functions.sh [work dir]      (default /tmp/hasivu-bench-functions)
#   needs a release build: cmake --preset release && cmake --build --preset release --target hasivu
#   env: HASIVU_BUILD_DIR  build folder holding app/hasivu (default build/release)
#        BENCH_PORT        hasivu's port (default 18093; the Node.js baseline uses BENCH_PORT+1)
#        BENCH_LOGINS      sequential logins timed (default 10; 0 skips the login section)
#        BENCH_NODE        0 skips the Node.js baseline (default 1)
#        BENCH_RFID_ROUNDS rfid-verify first-scan runs, each on a fresh copy (default 3)
#        BENCH_ARGON2_OPSLIMIT / BENCH_ARGON2_MEMLIMIT_KIB  login cost (default 2 / 65536,
#                          the server's defaults)
#        BENCH_CACHE       the server's --cache (default none: every read from the database, the
#                          uncached numbers of issue 3; bench/cache.sh measures the cache)
#        BENCH_PEAK_SECS / BENCH_PACED_SECS  wrk's -d for the peak and paced runs (default 10 / 15)
#        BENCH_FIRST_SCANS_SECS / BENCH_FIRST_SCANS_PEAK_SECS  the same for rfid first scans
#                          (default 5 / 2: short enough that few cards repeat)
# Besides the report on stdout, <work dir>/out/results.tsv has one row per wrk run (label, run,
# requests/s, p50, p99 as wrk prints them, requests, non-2xx, server CPU us/request; over the run,
# in clock ticks: the machine's steal, all its CPU time, the CPU time of all its processes, of the
# server and of wrk) for scripts that compare runs (bench/functions_vs.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
repo="$PWD"
work="${1:-/tmp/hasivu-bench-functions}"
build="${HASIVU_BUILD_DIR:-build/release}"
bin="$build/app/hasivu"
port="${BENCH_PORT:-18093}"
node_port=$((port + 1))
logins="${BENCH_LOGINS:-10}"
with_node="${BENCH_NODE:-1}"
rfid_rounds="${BENCH_RFID_ROUNDS:-3}"
opslimit="${BENCH_ARGON2_OPSLIMIT:-2}"
memlimit_kib="${BENCH_ARGON2_MEMLIMIT_KIB:-65536}"
cache="${BENCH_CACHE:-none}"
peak_secs="${BENCH_PEAK_SECS:-10}"
paced_secs="${BENCH_PACED_SECS:-15}"
first_scans_secs="${BENCH_FIRST_SCANS_SECS:-5}"
first_scans_peak_secs="${BENCH_FIRST_SCANS_PEAK_SECS:-2}"
# A fixed benchmark-only secret (never a deployment's), shared with the Node.js baseline.
secret="hasivu-bench-only-jwt-secret-0123456789abcdef"
base="http://127.0.0.1:$port"
node_base="http://127.0.0.1:$node_port"

tools=(wrk curl python3)
[ "$with_node" = 0 ] || tools+=(node)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || { echo "functions.sh: $tool is required" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "functions.sh: no $bin (build it, or set HASIVU_BUILD_DIR)" >&2; exit 1; }
mkdir -p "$work/seed" "$work/run" "$work/out"

server_pid=""
node_pid=""
wrk_pid=""
cleanup() {
  if [ -n "$wrk_pid" ]; then stop_pid "$wrk_pid"; fi
  if [ -n "$node_pid" ]; then stop_pid "$node_pid"; fi
  if [ -n "$server_pid" ]; then stop_pid "$server_pid"; fi
}
trap cleanup EXIT

echo "## machine"
echo "$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)," \
  "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src app 2>/dev/null || echo ' (+ uncommitted changes in src/app)'), binary $bin built $(date -r "$bin" '+%F %T')"

echo "## database: medium, SQLite"
fixtures="$work/seed/fixtures.json"
today_utc=$(date -u +%F)
if [ -f "$work/seed/hasivu.db" ] && [ -f "$fixtures" ] && [ -f "$work/seed/done" ] &&
  [ "$(json "$fixtures" "d['baseDate']")" = "$(python3 -c "
import json,sys,datetime,zoneinfo
d=json.load(open(sys.argv[1]))
print(datetime.datetime.now(zoneinfo.ZoneInfo(d['schools'][0]['timezone'])).date())" "$fixtures")" ]; then
  echo "reusing $work/seed (base date $(json "$fixtures" "d['baseDate']"))"
else
  rm -f "$work/seed/"* && echo "seeding (today: $today_utc UTC)"
  /usr/bin/time -f "seed medium: %e s wall, %M KiB max RSS" \
    "$bin" seed --store "sqlite:$work/seed/hasivu.db" --size medium --fixtures-out "$fixtures"
  touch "$work/seed/done"
fi
# fresh_copy: a working copy of the seeded database and its fixtures in $work/run.
fresh_copy() {
  working_copy "$work/seed" "$work/run"
  cp "$fixtures" "$work/run/fixtures.json"
}
fresh_copy
echo "working copy: $work/run/hasivu.db ($(du -m "$work/run/hasivu.db" | cut -f1) MB)"

# Who and what, from the fixtures: the first parent of the first school with two or more
# children, that parent's first child, the school's first kitchen staff member, the admin.
python3 - "$fixtures" "$work/out" <<'PY'
import datetime, json, sys, zoneinfo
d = json.load(open(sys.argv[1])); out = sys.argv[2]
school = d["schools"][0]
parent = next(p for p in school["parents"] if len(p["children"]) >= 2)
kitchen = school["kitchenStaff"][0]
def creds(name, who):
    json.dump({"email": who["email"], "password": who["password"]}, open(f"{out}/{name}.json", "w"))
creds("parent", parent); creds("kitchen", kitchen); creds("admin", d["admin"])
open(f"{out}/parent_email", "w").write(parent["email"])
open(f"{out}/child_id", "w").write(parent["children"][0]["id"])
open(f"{out}/school_id", "w").write(school["id"])
open(f"{out}/today", "w").write(str(datetime.datetime.now(zoneinfo.ZoneInfo(school["timezone"])).date()))
own = [c["cardNumber"] for p in school["parents"] for c in p["children"]]
every = [c["cardNumber"] for s in d["schools"] for p in s["parents"] for c in p["children"]]
open(f"{out}/cards_school", "w").write(",".join(own))
open(f"{out}/cards_all", "w").write(",".join(every))
PY
child_id=$(cat "$work/out/child_id")
school_id=$(cat "$work/out/school_id")
today=$(cat "$work/out/today")

echo "## hasivu serve --threads 1 (argon2id opslimit $opslimit, memlimit $memlimit_kib KiB)"
serve_cmd=("$bin" serve --threads 1 --cache "$cache" --access-log false --log-level warn --jwt-secret "$secret"
  --data-dir "$work/run" --listen "127.0.0.1:$port"
  --argon2-opslimit "$opslimit" --argon2-memlimit-kib "$memlimit_kib")
echo "command: $bin serve --threads 1 --cache $cache --access-log false --log-level warn --jwt-secret <32+ bytes>" \
  "--data-dir $work/run --listen 127.0.0.1:$port --argon2-opslimit $opslimit --argon2-memlimit-kib $memlimit_kib"
start_server() {
  "${serve_cmd[@]}" >>"$work/out/serve.log" 2>&1 &
  server_pid=$!
  measured_pid="$server_pid"
  wait_up "$base/healthz"
}
stop_server() {
  stop_pid "$server_pid"
  server_pid=""
}
: >"$work/out/serve.log"
start_server

# login NAME: logs in with $work/out/NAME.json, stores the response, prints ms taken and status.
login() {
  curl -s --max-time 30 -o "$work/out/$1.login" -w '%{http_code} %{time_total}' \
    -X POST -H 'Content-Type: application/json' --data @"$work/out/$1.json" "$base/api/v1/auth/login"
}
token_of() { json "$work/out/$1.login" "d['data']['tokens']['accessToken']"; }
for who in parent kitchen admin; do
  read -r code secs <<<"$(login "$who")"
  [ "$code" = 200 ] || { echo "login as $who answered $code: $(head -c 300 "$work/out/$who.login")" >&2; exit 1; }
  echo "first login as $who (seeded light hash verified, then re-hashed at the server's parameters): $(python3 -c "print(f'{$secs*1000:.1f}')") ms"
done
parent_token=$(token_of parent)
kitchen_token=$(token_of kitchen)
admin_token=$(token_of admin)

# menus-daily: today in the school's zone; a school day without a menu (weekend) falls back to
# the next day that has one, and says so.
menu_date="$today"
for _ in 1 2 3; do
  code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $parent_token" \
    "$base/api/v1/menus/daily?schoolId=$school_id&date=$menu_date")
  [ "$code" = 200 ] && break
  echo "note: menus-daily for $menu_date answered $code; trying the next day"
  menu_date=$(date -d "$menu_date + 1 day" +%F)
done

# Server CPU time (user + system, all threads) in clock ticks: CPU per request is steadier than
# requests/s on a shared machine, where the server rarely has a core to itself.
clk_tck=$(getconf CLK_TCK)
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# CPU time the hypervisor gave to others while this machine wanted it (all cores), in ticks: on
# this shared VM it is the main source of run-to-run noise, so every row reports it.
steal_ticks() { awk '/^cpu /{print $9}' /proc/stat; }
# All CPU time of the machine (user to steal, every core) in ticks: the denominator of steal %.
all_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
# CPU time every process of the machine used (user, nice, system; not interrupts, where loopback
# traffic is partly counted) in ticks: less the server's and wrk's, what other work on this
# machine took during a run.
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4}' /proc/stat; }
# CPU time of this script's finished children (wrk, once waited for) in ticks.
children_ticks() { sed 's/^.*) //' "/proc/$$/stat" | awk '{print $14 + $15}'; }
measured_pid="$server_pid"

summary="$work/out/summary.md"
: >"$summary"
results="$work/out/results.tsv"
printf 'label\trun\trequests/s\tp50\tp99\trequests\tnon-2xx\tcpu us/request\tsteal ticks\tall ticks\tbusy ticks\tserver ticks\twrk ticks\n' \
  >"$results"
commands="$work/out/commands.md"
: >"$commands"

# bench LABEL KIND NOTE -- ENV... wrk ARGS...: runs wrk (with the env assignments), keeps its
# output, appends a summary row. KIND is peak or paced. The token is shown as $BENCH_TOKEN.
bench() {
  local label="$1" kind="$2" note="$3"
  shift 4
  local file="$work/out/$(echo "$label-$kind" | tr -c 'A-Za-z0-9\n-' '_').txt"
  local shown
  shown=$(printf '%s ' "$@" | sed -E "s/BENCH_TOKEN=[^ ]+/BENCH_TOKEN=\\\$BENCH_TOKEN/; s#$repo/##g")
  echo "### $label, $kind"
  echo "\$ $shown"
  echo "- $label, $kind: \`$shown\`" >>"$commands"
  local ticks_before ticks_after steal_before steal_after all_before all_after busy_before busy_after
  local wrk_before wrk_after
  ticks_before=$(cpu_ticks "$measured_pid")
  steal_before=$(steal_ticks)
  all_before=$(all_ticks)
  busy_before=$(busy_ticks)
  wrk_before=$(children_ticks)
  # In the background and waited for, so that a signal to this script stops wrk too (cleanup).
  env "$@" >"$file" 2>&1 &
  wrk_pid=$!
  wait "$wrk_pid" || { wrk_pid=""; cat "$file"; echo "wrk failed" >&2; return 1; }
  wrk_pid=""
  wrk_after=$(children_ticks)
  ticks_after=$(cpu_ticks "$measured_pid")
  steal_after=$(steal_ticks)
  all_after=$(all_ticks)
  busy_after=$(busy_ticks)
  grep -E "Requests/sec|Latency |  (50|90|99)%|Non-2xx|Socket errors|Status counts|requests in" "$file"
  local rps p50 p99 non2xx counts errors
  rps=$(awk '/Requests\/sec/{print $2}' "$file")
  p50=$(awk '$1=="50%"{print $2}' "$file")
  p99=$(awk '$1=="99%"{print $2}' "$file")
  non2xx=$(awk -F': *' '/Non-2xx/{print $2}' "$file")
  errors=$(sed -n 's/^ *Socket errors: //p' "$file")
  counts=$(sed -n 's/^Status counts: //p' "$file")
  local requests cpu_us per_core
  requests=$(awk '/requests in/{print $1}' "$file")
  read -r cpu_us per_core <<<"$(python3 -c "
import sys
ticks, hz, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3] or 0)
us = ticks / hz * 1e6 / n if n else 0
print(f'{us:.0f}', f'{1e6 / us:.0f}' if us else '-')" "$((ticks_after - ticks_before))" "$clk_tck" "$requests")"
  echo "server CPU: $(((ticks_after - ticks_before) * 1000 / clk_tck)) ms for $requests requests = $cpu_us us/request (one fully available core: ~$per_core requests/s)"
  last_rps="$rps"
  last_cpu_us="$cpu_us"
  local extra="$note"
  local stolen_ms=$(((steal_after - steal_before) * 1000 / clk_tck))
  echo "CPU time the host took from this machine (steal, both cores) during the run: $stolen_ms ms"
  [ "$stolen_ms" -ge 100 ] && extra="$extra${extra:+; }host steal $stolen_ms ms"
  [ -n "$counts" ] && extra="$extra${extra:+; }statuses $counts"
  [ -n "$errors" ] && extra="$extra${extra:+; }socket errors: $errors"
  echo "| $label | $kind | $rps | $p50 | $p99 | ${non2xx:-0} | $cpu_us | $per_core | $extra |" >>"$summary"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$kind" "$rps" "$p50" "$p99" \
    "$requests" "${non2xx:-0}" "$cpu_us" "$((steal_after - steal_before))" "$((all_after - all_before))" \
    "$((busy_after - busy_before))" "$((ticks_after - ticks_before))" "$((wrk_after - wrk_before))" >>"$results"
}

lua="$repo/bench/lua"
peak=(wrk -t1 -c32 "-d${peak_secs}s" --latency)
paced=(BENCH_RATE=1000 wrk -t1 -c10 "-d${paced_secs}s" --latency -s "$lua/paced.lua")

echo "## hasivu, one server thread"
# rfid first scans run first, while every card's order of today is still undelivered. A run
# delivers them, so the later rounds (after everything else) each start a fresh copy.
first_scans() {
  bench "rfid-verify first scans (admin, every fixture card), round $1 of $rfid_rounds" paced \
    "deliveries; $first_scans_secs s so no card repeats" -- \
    BENCH_INNER=rfid.lua BENCH_TOKEN="$admin_token" BENCH_CARDS_FILE="$work/out/cards_all" \
    BENCH_RATE=1000 wrk -t1 -c10 "-d${first_scans_secs}s" --latency -s "$lua/paced.lua" "$base"
}
first_scans 1

url="$base/api/v1/orders?limit=20"
bench "orders-list (parent, limit=20)" peak "" -- BENCH_TOKEN="$parent_token" "${peak[@]}" -s "$lua/bearer.lua" "$url"
hasivu_orders_rps="$last_rps"
hasivu_orders_cpu="$last_cpu_us"
bench "orders-list (parent, limit=20)" paced "" -- BENCH_TOKEN="$parent_token" "${paced[@]}" "$url"

url="$base/api/v1/menus/daily?schoolId=$school_id&date=$menu_date"
bench "menus-daily (parent, $menu_date)" peak "" -- BENCH_TOKEN="$parent_token" "${peak[@]}" -s "$lua/bearer.lua" "$url"
bench "menus-daily (parent, $menu_date)" paced "" -- BENCH_TOKEN="$parent_token" "${paced[@]}" "$url"

url="$base/api/v1/users/me"
bench "users-get /users/me (parent)" peak "" -- BENCH_TOKEN="$parent_token" "${peak[@]}" -s "$lua/bearer.lua" "$url"
bench "users-get /users/me (parent)" paced "" -- BENCH_TOKEN="$parent_token" "${paced[@]}" "$url"
url="$base/api/v1/users/$child_id"
bench "users-get /users/{child} (parent)" peak "" -- BENCH_TOKEN="$parent_token" "${peak[@]}" -s "$lua/bearer.lua" "$url"
bench "users-get /users/{child} (parent)" paced "" -- BENCH_TOKEN="$parent_token" "${paced[@]}" "$url"

# The kitchen's own school's cards, after the first scans above: repeat scans (409
# ALREADY_DELIVERED) plus cards without an order today (404) and inactive/expired cards (422).
bench "rfid-verify repeat scans (kitchen staff, own school's cards)" peak "" -- \
  BENCH_TOKEN="$kitchen_token" BENCH_CARDS_FILE="$work/out/cards_school" \
  "${peak[@]}" -s "$lua/rfid.lua" "$base"
bench "rfid-verify repeat scans (kitchen staff, own school's cards)" paced "" -- \
  BENCH_INNER=rfid.lua BENCH_TOKEN="$kitchen_token" BENCH_CARDS_FILE="$work/out/cards_school" \
  "${paced[@]}" "$base"

if [ "$with_node" != 0 ]; then
  echo "## Node.js baseline: orders-list, same database file, same token"
  if [ ! -d bench/node-baseline/node_modules ]; then
    (cd bench/node-baseline && timeout 600 npm ci --no-audit --no-fund)
  fi
  HASIVU_JWT_SECRET="$secret" node bench/node-baseline/server.js "$node_port" "$work/run/hasivu.db" \
    >"$work/out/node.log" 2>&1 &
  node_pid=$!
  measured_pid="$node_pid"
  wait_up "$node_base/healthz"
  etag_of() {
    curl -s --max-time 10 -D - -o /dev/null -H "Authorization: Bearer $parent_token" "$1/api/v1/orders?limit=20" |
      tr -d '\r' | awk 'tolower($1)=="etag:"{print $2}'
  }
  h_etag=$(etag_of "$base")
  n_etag=$(etag_of "$node_base")
  if [ -n "$h_etag" ] && [ "$h_etag" = "$n_etag" ]; then
    echo "same page from both servers (ETag $h_etag)"
  else
    echo "WARNING: the pages differ (hasivu ETag '$h_etag', Node.js ETag '$n_etag')"
  fi
  url="$node_base/api/v1/orders?limit=20"
  bench "baseline: Node.js $(node --version) orders-list" peak "Fastify + better-sqlite3" -- \
    BENCH_TOKEN="$parent_token" "${peak[@]}" -s "$lua/bearer.lua" "$url"
  node_orders_rps="$last_rps"
  node_orders_cpu="$last_cpu_us"
  bench "baseline: Node.js $(node --version) orders-list" paced "Fastify + better-sqlite3" -- \
    BENCH_TOKEN="$parent_token" "${paced[@]}" "$url"
  stop_pid "$node_pid"
  node_pid=""
fi

if [ "$logins" -gt 0 ]; then
  echo "## login: $logins sequential logins (curl), argon2id opslimit $opslimit, memlimit $memlimit_kib KiB"
  ms=()
  for _ in $(seq 1 "$logins"); do
    read -r code secs <<<"$(login parent)"
    [ "$code" = 200 ] || { echo "login answered $code" >&2; exit 1; }
    ms+=("$secs")
  done
  login_stats=$(python3 -c "
import statistics,sys
v=sorted(float(x)*1000 for x in sys.argv[1:])
print(f'mean {statistics.mean(v):.1f} ms, median {statistics.median(v):.1f} ms, min {v[0]:.1f} ms, max {v[-1]:.1f} ms')" "${ms[@]}")
  echo "successful login: $login_stats"
  # Unknown e-mail: the same 401 after one argon2id verification of a dummy hash (equalised timing).
  # Three only: failures count towards the per-address throttle.
  bad=()
  for i in 1 2 3; do
    read -r code secs <<<"$(curl -s --max-time 30 -o /dev/null -w '%{http_code} %{time_total}' -X POST \
      -H 'Content-Type: application/json' \
      -d "{\"email\":\"nobody$i.$$@bench.hasivu.test\",\"password\":\"Wrong-pass-1\"}" "$base/api/v1/auth/login")"
    bad+=("$secs")
  done
  bad_stats=$(python3 -c "
import statistics,sys
v=[float(x)*1000 for x in sys.argv[1:]]
print(f'mean {statistics.mean(v):.1f} ms over {len(v)}, last status $code')" "${bad[@]}")
  echo "unknown e-mail (401): $bad_stats"
  stored=$(python3 -c "
import sqlite3,sys
c=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True)
h=c.execute('SELECT password_hash FROM users WHERE email=?', (sys.argv[2],)).fetchone()[0]
print(h.rsplit('\$', 2)[0])" "$work/run/hasivu.db" "$(cat "$work/out/parent_email")")
  echo "stored hash parameters after login: $stored"
fi

stop_server

# fresh_server_as_admin: a fresh copy of the seeded database, a server on it, $admin_token.
fresh_server_as_admin() {
  fresh_copy
  start_server
  read -r code _ <<<"$(login admin)"
  [ "$code" = 200 ] || { echo "login as admin answered $code" >&2; exit 1; }
  admin_token=$(token_of admin)
}

for round in $(seq 2 "$rfid_rounds"); do
  echo "## rfid-verify first scans, round $round: a fresh copy, a fresh server"
  fresh_server_as_admin
  first_scans "$round"
  stop_server
done
# Deliveries as fast as one server thread goes: 2 s by default, since ~2 500/s would exhaust the
# cards.
echo "## rfid-verify first scans, peak: a fresh copy, a fresh server"
fresh_server_as_admin
bench "rfid-verify first scans (admin, every fixture card)" peak \
  "deliveries; $first_scans_peak_secs s so few cards repeat" -- \
  BENCH_TOKEN="$admin_token" BENCH_CARDS_FILE="$work/out/cards_all" \
  wrk -t1 -c32 "-d${first_scans_peak_secs}s" --latency -s "$lua/rfid.lua" "$base"
stop_server

echo
echo "## summary (medium SQLite database, no cache, loopback; the machine was shared and loaded)"
echo
echo "| function | run | requests/s | p50 | p99 | non-2xx | server CPU us/request | requests/s per free core (1e6 / CPU us) | notes |"
echo "|---|---|---|---|---|---|---|---|---|"
cat "$summary"
echo
echo "peak = \`wrk -t1 -c32 -d${peak_secs}s --latency\` against \`hasivu serve --threads 1\`;" \
  "paced = \`BENCH_RATE=1000 wrk -t1 -c10 -d${paced_secs}s --latency -s bench/lua/paced.lua\` (10 connections" \
  "sharing one schedule of 1 000 requests/s: the requests/s column shows what was achieved)." \
  "rfid-verify answers non-2xx by design after the first scan of a card (409 ALREADY_DELIVERED)," \
  "404 NO_ORDER_TODAY, 422 CARD_INACTIVE/CARD_EXPIRED: the status counts say which paths a row covers."
echo
if [ "$with_node" != 0 ]; then
  echo "orders-list, hasivu vs the Node.js baseline: $(python3 -c "
import sys
hr, hc, nr, nc = (float(x) if x not in ('', '-') else 0 for x in sys.argv[1:])
r = f'{hr / nr:.1f}x' if nr else '-'
c = f'{nc / hc:.1f}x' if hc else '-'
print(f'{r} the peak requests/s (wrk -t1 -c32), the Node.js server spends {c} the CPU per request')" \
    "$hasivu_orders_rps" "$hasivu_orders_cpu" "$node_orders_rps" "$node_orders_cpu")."
  echo
fi
echo "server CPU = user + system time of the server process (all its threads) from /proc over the" \
  "run, divided by the requests wrk completed; the next column is what one core the server had to" \
  "itself would give at that cost (wrk and other tenants excluded), an estimate, not a measurement."
echo
if [ "$logins" -gt 0 ]; then
  echo "login (argon2id opslimit $opslimit, memlimit $memlimit_kib KiB, stored as $stored): $logins sequential" \
    "successful logins: $login_stats; unknown e-mail: $bad_stats."
  echo
fi
echo "commands (run from the repository root; BENCH_TOKEN is a fresh access token from POST /api/v1/auth/login):"
echo
cat "$commands"
