#!/usr/bin/env bash
# Measures cached reads for docs/performance.md (issue 5, "Measured"), on the medium SQLite
# database, against one server thread:
#   - orders-list (parent, limit=20), menus-daily (the parent's child's school, a date with a
#     published menu), users-get (/users/me), each served from the cache (`--cache memory` by
#     default), identity and br (`Accept-Encoding: br`): peak requests/s with
#     `wrk -t1 -c32 -d10s --latency` and latency under a paced ~1 000 requests/s
#     (`wrk -t1 -c10 -d15s` with bench/lua/paced.lua and BENCH_RATE=1000), each with the cache hit
#     rate over the run (hasivu_cache_hits_total / misses_total deltas from /metrics);
#   - the ceiling: hasivu-bare-server (bench/bare_server.cc, one Beast thread answering every
#     request with the same body bytes and ETag/Vary/Cache-Control hasivu sent) at the same peak,
#     and the ratio hasivu / ceiling, for requests/s and for server CPU per request;
#   - a realistic read/write mix of that parent (bench/lua/mix.lua: orders list, menu, profile
#     and BENCH_WRITE_PERCENT % order creations that invalidate), peak and paced: hit rate, p99;
#   - with BENCH_UNCACHED=1 (default), the same reads and mix against `--cache none` on a fresh
#     copy of the database: the uncached baseline of the same run.
# The seeded database of bench/functions.sh is reused (<its work dir>/seed) while its base date is
# today, else one is seeded here; every server works on a fresh copy (the mix creates orders).
# Loopback only; bounded durations; every process started is stopped by its PID.
#
# usage: bench/cache.sh [work dir]      (default /tmp/hasivu-bench-cache)
#   needs a release build: cmake --preset release && cmake --build --preset release \
#                            --target hasivu hasivu-bare-server
#   env: HASIVU_BUILD_DIR  build folder holding app/hasivu and bench/hasivu-bare-server
#                          (default build/release)
#        BENCH_SEED_DIR    seeded medium database to reuse (default /tmp/hasivu-bench-functions/seed)
#        BENCH_PORT        hasivu's port (default 18097; the bare server uses BENCH_PORT+1)
#        BENCH_CACHE       hasivu's --cache for the cached runs (default memory; or
#                          redis://127.0.0.1:PORT/DB)
#        BENCH_DURATION    duration of every wrk run (default: 10s peak, 15s paced), e.g. 2s for a
#                          smoke run
#        BENCH_WRITE_PERCENT  share of writes in the mix (default 3)
#        BENCH_UNCACHED    1 (default) also measures --cache none; 0 skips it
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
repo="$PWD"
work="${1:-/tmp/hasivu-bench-cache}"
build="${HASIVU_BUILD_DIR:-build/release}"
bin="$build/app/hasivu"
bare_bin="$build/bench/hasivu-bare-server"
seed_dir="${BENCH_SEED_DIR:-/tmp/hasivu-bench-functions/seed}"
port="${BENCH_PORT:-18097}"
bare_port=$((port + 1))
cache_spec="${BENCH_CACHE:-memory}"
peak_duration="${BENCH_DURATION:-10s}"
paced_duration="${BENCH_DURATION:-15s}"
write_percent="${BENCH_WRITE_PERCENT:-3}"
uncached="${BENCH_UNCACHED:-1}"
# A fixed benchmark-only secret (never a deployment's).
secret="hasivu-bench-only-jwt-secret-0123456789abcdef"
base="http://127.0.0.1:$port"
bare_base="http://127.0.0.1:$bare_port"

for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "cache.sh: $tool is required" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "cache.sh: no $bin (build it, or set HASIVU_BUILD_DIR)" >&2; exit 1; }
[ -x "$bare_bin" ] || { echo "cache.sh: no $bare_bin (build target hasivu-bare-server)" >&2; exit 1; }
[[ "$peak_duration" =~ ^[0-9]+[smh]?$ ]] || { echo "cache.sh: BENCH_DURATION: e.g. 2s, 10s" >&2; exit 1; }
[[ "$write_percent" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "cache.sh: BENCH_WRITE_PERCENT: a number" >&2; exit 1; }
case "$cache_spec" in
  memory) ;;
  redis://127.0.0.1:* | redis://localhost:*) ;;
  *) echo "cache.sh: BENCH_CACHE must be memory or a loopback redis://127.0.0.1:PORT/DB" >&2; exit 1 ;;
esac
mkdir -p "$work/seed" "$work/run" "$work/out"

server_pid=""
bare_pid=""
cleanup() {
  if [ -n "$bare_pid" ]; then stop_pid "$bare_pid"; fi
  if [ -n "$server_pid" ]; then stop_pid "$server_pid"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "## machine"
echo "$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)," \
  "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src app bench 2>/dev/null || echo ' (+ uncommitted changes)'), binary $bin built $(date -r "$bin" '+%F %T')"

echo "## database: medium, SQLite"
# seed_is_current DIR: a complete seed whose base date is today in the first school's zone.
seed_is_current() {
  [ -f "$1/hasivu.db" ] && [ -f "$1/fixtures.json" ] && [ -f "$1/done" ] &&
    [ "$(json "$1/fixtures.json" "d['baseDate']")" = "$(python3 -c "
import json,sys,datetime,zoneinfo
d=json.load(open(sys.argv[1]))
print(datetime.datetime.now(zoneinfo.ZoneInfo(d['schools'][0]['timezone'])).date())" "$1/fixtures.json")" ]
}
if seed_is_current "$seed_dir"; then
  echo "reusing $seed_dir (base date $(json "$seed_dir/fixtures.json" "d['baseDate']"))"
elif seed_is_current "$work/seed"; then
  seed_dir="$work/seed"
  echo "reusing $seed_dir (base date $(json "$seed_dir/fixtures.json" "d['baseDate']"))"
else
  seed_dir="$work/seed"
  rm -f "$seed_dir/"* && echo "seeding (today: $(date -u +%F) UTC)"
  /usr/bin/time -f "seed medium: %e s wall, %M KiB max RSS" \
    "$bin" seed --store "sqlite:$seed_dir/hasivu.db" --size medium --fixtures-out "$seed_dir/fixtures.json"
  touch "$seed_dir/done"
fi
fixtures="$seed_dir/fixtures.json"

# fresh_copy: a new working copy of the seeded database in $work/run.
fresh_copy() { working_copy "$seed_dir" "$work/run"; }

# Who and what, from the fixtures, as bench/functions.sh picks them: the first parent of the
# first school with two or more children, that parent's first child, the school.
python3 - "$fixtures" "$work/out" <<'PY'
import datetime, json, sys, zoneinfo
d = json.load(open(sys.argv[1])); out = sys.argv[2]
school = d["schools"][0]
parent = next(p for p in school["parents"] if len(p["children"]) >= 2)
json.dump({"email": parent["email"], "password": parent["password"]}, open(f"{out}/parent.json", "w"))
open(f"{out}/child_id", "w").write(parent["children"][0]["id"])
open(f"{out}/school_id", "w").write(school["id"])
open(f"{out}/today", "w").write(str(datetime.datetime.now(zoneinfo.ZoneInfo(school["timezone"])).date()))
PY
child_id=$(cat "$work/out/child_id")
school_id=$(cat "$work/out/school_id")
today=$(cat "$work/out/today")

clk_tck=$(getconf CLK_TCK)
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

serve_shown=""
# start_server CACHE: hasivu on a fresh copy of the database with --cache CACHE, one thread.
start_server() {
  fresh_copy
  local cmd=("$bin" serve --threads 1 --cache "$1" --access-log false --log-level warn
    --jwt-secret "$secret" --data-dir "$work/run" --listen "127.0.0.1:$port")
  serve_shown="$bin serve --threads 1 --cache $1 --access-log false --log-level warn --jwt-secret <32+ bytes> --data-dir $work/run --listen 127.0.0.1:$port"
  echo "command: $serve_shown"
  "${cmd[@]}" >>"$work/out/serve.log" 2>&1 &
  server_pid=$!
  wait_up "$base/healthz"
}
stop_server() {
  stop_pid "$server_pid"
  server_pid=""
}

# login: the parent's access token (a fresh database copy holds no earlier session).
login() {
  local code
  code=$(curl -s --max-time 30 -o "$work/out/parent.login" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' --data @"$work/out/parent.json" "$base/api/v1/auth/login")
  [ "$code" = 200 ] || { echo "login as the parent answered $code: $(head -c 300 "$work/out/parent.login")" >&2; return 1; }
  json "$work/out/parent.login" "d['data']['tokens']['accessToken']"
}

# cache_snapshot FILE: hasivu's /metrics now, for hit_rate.
cache_snapshot() { curl -fs --max-time 10 -o "$1" "$base/metrics" || : >"$1"; }
# hit_rate BEFORE AFTER: the hit rate of the cache lookups between two snapshots, over all tiers,
# then per tier when there are several (with Redis, an L1 miss may be an L2 hit).
hit_rate() {
  python3 - "$1" "$2" <<'PY'
import re, sys
def counts(path):
    c = {}
    for line in open(path):
        m = re.match(r'hasivu_cache_(hits|misses)_total(?:\{([^}]*)\})?\s+(\S+)', line)
        if m:
            tier = (re.search(r'tier="([^"]*)"', m.group(2) or "") or [None, "-"])[1]
            c.setdefault(tier, {"hits": 0.0, "misses": 0.0})[m.group(1)] += float(m.group(3))
    return c
before, after = counts(sys.argv[1]), counts(sys.argv[2])
def delta(tier):
    b = before.get(tier, {"hits": 0.0, "misses": 0.0})
    return int(after[tier]["hits"] - b["hits"]), int(after[tier]["misses"] - b["misses"])
def rate(h, m):
    return f"{100 * h / (h + m):.2f} % ({h} hits, {m} misses)" if h + m else "no lookups"
per = {t: delta(t) for t in sorted(after)}
if not per:
    print("no cache metrics")
    sys.exit()
text = rate(sum(h for h, _ in per.values()), sum(m for _, m in per.values()))
if len(per) > 1:
    text += "; " + ", ".join(f"{t}: {rate(h, m)}" for t, (h, m) in per.items())
print(text)
PY
}

echo "## hasivu serve --threads 1 --cache $cache_spec"
start_server "$cache_spec"
token=$(login)

# menus-daily: today in the school's zone; a day without a published menu (weekend) falls back to
# the next day that has one, and says so.
menu_date="$today"
for _ in 1 2 3 4; do
  code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
    "$base/api/v1/menus/daily?schoolId=$school_id&date=$menu_date")
  [ "$code" = 200 ] && break
  echo "note: menus-daily for $menu_date answered $code; trying the next day"
  menu_date=$(date -d "$menu_date + 1 day" +%F)
done
# The mix's writes: the next weekday after today with a published menu, and an item of it without
# a stock or per-order limit (so every write is a 201 and the writes never run out).
order_date=""
item_id=""
d="$today"
for _ in $(seq 1 10); do
  d=$(date -d "$d + 1 day" +%F)
  case "$(date -d "$d" +%u)" in 6 | 7) continue ;; esac
  code=$(curl -s --max-time 10 -o "$work/out/order_menu.json" -w '%{http_code}' \
    -H "Authorization: Bearer $token" "$base/api/v1/menus/daily?schoolId=$school_id&date=$d")
  [ "$code" = 200 ] || continue
  item_id=$(json "$work/out/order_menu.json" \
    "next((i['menuItemId'] for i in d['data']['items'] if i.get('availableQuantity') is None and not i.get('maxPerOrder')), '')")
  if [ -n "$item_id" ]; then order_date="$d"; break; fi
done
[ -n "$order_date" ] || { echo "cache.sh: no weekday in the next 10 days has an unlimited menu item" >&2; exit 1; }
echo "reads: menus-daily for $menu_date; mix writes: orders for $order_date, item $item_id"

labels=("orders-list (parent, limit=20)" "menus-daily (parent, $menu_date)" "users-get /users/me (parent)")
paths=("/api/v1/orders?limit=20" "/api/v1/menus/daily?schoolId=$school_id&date=$menu_date" "/api/v1/users/me")
keys=(orders menus me)
encodings=(identity br)

# capture KEY PATH ENC: the response hasivu sends (body and headers) to out/KEY-ENC.{body,headers}.
capture() {
  local ae=()
  [ "$3" = identity ] || ae=(-H "Accept-Encoding: $3")
  local code
  code=$(curl -s --max-time 10 -D "$work/out/$1-$3.headers" -o "$work/out/$1-$3.body" -w '%{http_code}' \
    -H "Authorization: Bearer $token" "${ae[@]}" "$base$2")
  [ "$code" = 200 ] || { echo "cache.sh: GET $2 ($3) answered $code" >&2; return 1; }
  local got
  got=$(tr -d '\r' <"$work/out/$1-$3.headers" | awk 'tolower($1)=="content-encoding:"{print $2}')
  if [ "$3" = identity ] && [ -n "$got" ]; then echo "cache.sh: $2 identity came with Content-Encoding $got" >&2; return 1; fi
  # A body below the server's compression threshold is sent as is even when br is accepted: the
  # run still measures what a br client gets, and the ceiling sends the same (unencoded) bytes.
  if [ "$3" != identity ] && [ "$got" != "$3" ]; then
    echo "note: $2 with Accept-Encoding $3 came with Content-Encoding '${got:-none}' ($(stat -c %s "$work/out/$1-$3.body") bytes)"
  fi
  echo "${got:-identity}" >"$work/out/$1-$3.encoding"
}
# sent KEY ENC: the encoding column of a row: ENC, or "ENC (sent X)" when the server sent X.
sent() {
  local got
  got=$(cat "$work/out/$1-$2.encoding")
  if [ "$got" = "$2" ]; then echo "$2"; else echo "$2 (sent $got)"; fi
}
# header_of KEY ENC NAME: a response header's value from the capture (empty when absent).
header_of() {
  tr -d '\r' <"$work/out/$1-$2.headers" |
    awk -v n="$(echo "$3" | tr 'A-Z' 'a-z')" 'tolower($1)==n":"{sub(/^[^:]*: */, ""); print; exit}'
}

# quote_args ARGS...: the arguments as one shell line, single-quoting those that need it.
quote_args() {
  local a
  for a in "$@"; do
    if [[ "$a" =~ [^A-Za-z0-9_./:=@%+,-] ]]; then printf "'%s' " "$a"; else printf '%s ' "$a"; fi
  done
}

summary="$work/out/summary.md"
: >"$summary"
commands="$work/out/commands.md"
: >"$commands"
declare -A rps_of cpu_of

# bench ID LABEL ENC KIND PID HITRATE NOTE -- ENV... wrk ARGS...: runs wrk (with the env
# assignments), keeps its output, appends a summary row; ID names the run for the ratio table
# (rps_of/cpu_of, keyed ID-KIND). PID is the server whose CPU is counted; HITRATE 1 reads the cache counters of
# hasivu around the run. The token is shown as $BENCH_TOKEN.
bench() {
  local id="$1" label="$2" enc="$3" kind="$4" pid="$5" hitrate="$6" note="$7"
  shift 8
  local file="$work/out/$(echo "$id-$kind" | tr -c 'A-Za-z0-9\n-' '_').txt"
  local shown
  shown=$(quote_args "$@" | sed -E "s/BENCH_TOKEN=[^ ]+/BENCH_TOKEN=\\\$BENCH_TOKEN/; s#$repo/##g")
  echo "### $label, $enc, $kind"
  echo "\$ $shown"
  echo "- $label, $enc, $kind: \`$shown\`" >>"$commands"
  if [ "$hitrate" = 1 ]; then cache_snapshot "$work/out/metrics.before"; fi
  local ticks_before ticks_after
  ticks_before=$(cpu_ticks "$pid")
  env "$@" >"$file" 2>&1 || { cat "$file"; echo "wrk failed" >&2; return 1; }
  ticks_after=$(cpu_ticks "$pid")
  if [ "$hitrate" = 1 ]; then cache_snapshot "$work/out/metrics.after"; fi
  grep -E "Requests/sec|Latency |  (50|99)%|Non-2xx|Socket errors|Status counts|requests in" "$file" || true
  local rps p50 p99 non2xx counts errors requests
  rps=$(awk '/Requests\/sec/{print $2}' "$file")
  p50=$(awk '$1=="50%"{print $2}' "$file")
  p99=$(awk '$1=="99%"{print $2}' "$file")
  non2xx=$(awk -F': *' '/Non-2xx/{print $2}' "$file")
  errors=$(sed -n 's/^ *Socket errors: //p' "$file")
  counts=$(sed -n 's/^Status counts: //p' "$file")
  requests=$(awk '/requests in/{print $1}' "$file")
  local cpu_us rate="-"
  cpu_us=$(python3 -c "
import sys
ticks, hz, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3] or 0)
print(f'{ticks / hz * 1e6 / n:.1f}' if n else '-')" "$((ticks_after - ticks_before))" "$clk_tck" "$requests")
  if [ "$hitrate" = 1 ]; then
    rate=$(hit_rate "$work/out/metrics.before" "$work/out/metrics.after")
    echo "cache: $rate"
  fi
  echo "server CPU: $cpu_us us/request"
  rps_of[$id-$kind]="$rps"
  cpu_of[$id-$kind]="$cpu_us"
  local extra="$note"
  [ -n "$counts" ] && extra="$extra${extra:+; }statuses $counts"
  [ -n "$errors" ] && extra="$extra${extra:+; }socket errors: $errors"
  echo "| $label | $enc | $kind | $rps | $p50 | $p99 | $rate | ${non2xx:-0} | $cpu_us | $extra |" >>"$summary"
}

lua="$repo/bench/lua"
peak=(wrk -t1 -c32 -d"$peak_duration" --latency)
paced=(BENCH_RATE=1000 wrk -t1 -c10 -d"$paced_duration" --latency -s "$lua/paced.lua")
mix_env=(BENCH_COUNT=1 BENCH_SCHOOL_ID="$school_id" BENCH_MENU_DATE="$menu_date"
  BENCH_STUDENT_ID="$child_id" BENCH_ORDER_DATE="$order_date" BENCH_MENU_ITEM_ID="$item_id"
  BENCH_WRITE_PERCENT="$write_percent")

# reads TAG HITRATE NOTE: peak and paced of every read endpoint, identity and br, against hasivu.
reads() {
  local tag="$1" hitrate="$2" note="$3" i enc ae shown_enc
  for i in "${!keys[@]}"; do
    for enc in "${encodings[@]}"; do
      ae=()
      [ "$enc" = identity ] || ae=(-H "Accept-Encoding: $enc")
      capture "${keys[$i]}" "${paths[$i]}" "$enc"
      shown_enc=$(sent "${keys[$i]}" "$enc")
      bench "$tag-${keys[$i]}-$enc" "${labels[$i]}" "$shown_enc" peak "$server_pid" "$hitrate" "$note" -- \
        BENCH_TOKEN="$token" "${peak[@]}" "${ae[@]}" -s "$lua/bearer.lua" "$base${paths[$i]}"
      bench "$tag-${keys[$i]}-$enc" "${labels[$i]}" "$shown_enc" paced "$server_pid" "$hitrate" "$note" -- \
        BENCH_TOKEN="$token" "${paced[@]}" "${ae[@]}" "$base${paths[$i]}"
    done
  done
}

# mix TAG HITRATE NOTE: the read/write mix, peak and paced.
mix() {
  local tag="$1" hitrate="$2" note="$3"
  bench "$tag-mix" "mix: $write_percent % order creations" identity peak "$server_pid" "$hitrate" "$note" -- \
    BENCH_TOKEN="$token" "${mix_env[@]}" "${peak[@]}" -s "$lua/mix.lua" "$base"
  bench "$tag-mix" "mix: $write_percent % order creations" identity paced "$server_pid" "$hitrate" "$note" -- \
    BENCH_INNER=mix.lua BENCH_TOKEN="$token" "${mix_env[@]}" "${paced[@]}" "$base"
}

echo "## hasivu, --cache $cache_spec, one server thread"
cached_serve="$serve_shown"
reads cached 1 "cache $cache_spec"

echo "## ceiling: hasivu-bare-server, one thread, the same bytes"
for i in "${!keys[@]}"; do
  for enc in "${encodings[@]}"; do
    bare_args=(--listen "127.0.0.1:$bare_port" --body "$work/out/${keys[$i]}-$enc.body"
      --content-type "$(header_of "${keys[$i]}" "$enc" Content-Type)")
    sent_enc=$(cat "$work/out/${keys[$i]}-$enc.encoding")
    [ "$sent_enc" = identity ] || bare_args+=(--content-encoding "$sent_enc")
    for h in ETag Vary Cache-Control; do
      v=$(header_of "${keys[$i]}" "$enc" "$h")
      if [ -n "$v" ]; then bare_args+=(--header "$h: $v"); fi
    done
    echo "command: $bare_bin $(quote_args "${bare_args[@]}")"
    "$bare_bin" "${bare_args[@]}" >"$work/out/bare.log" 2>&1 &
    bare_pid=$!
    wait_up "$bare_base/"
    # Same body bytes back, or the ceiling would measure something else.
    ae=()
    [ "$enc" = identity ] || ae=(-H "Accept-Encoding: $enc")
    curl -s --max-time 10 -o "$work/out/bare-check.body" "${ae[@]}" "$bare_base${paths[$i]}"
    cmp -s "$work/out/bare-check.body" "$work/out/${keys[$i]}-$enc.body" ||
      { echo "cache.sh: the bare server's body differs from hasivu's" >&2; exit 1; }
    bench "ceiling-${keys[$i]}-$enc" "ceiling: ${labels[$i]}" "$(sent "${keys[$i]}" "$enc")" peak "$bare_pid" 0 \
      "hasivu-bare-server, $(stat -c %s "$work/out/${keys[$i]}-$enc.body") body bytes" -- \
      BENCH_TOKEN="$token" "${peak[@]}" "${ae[@]}" -s "$lua/bearer.lua" "$bare_base${paths[$i]}"
    stop_pid "$bare_pid"
    bare_pid=""
  done
done

echo "## mix, --cache $cache_spec"
mix cached 1 "cache $cache_spec"
stop_server

if [ "$uncached" = 1 ]; then
  echo "## uncached baseline: hasivu serve --threads 1 --cache none, fresh database copy"
  start_server none
  uncached_serve="$serve_shown"
  token=$(login)
  reads uncached 0 "cache none"
  mix uncached 0 "cache none"
  stop_server
fi

echo
echo "## summary (medium SQLite database, one server thread, loopback; machine: load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| function | encoding | run | requests/s | p50 | p99 | cache hit rate | non-2xx | server CPU us/request | notes |"
echo "|---|---|---|---|---|---|---|---|---|---|"
cat "$summary"
echo
echo "### cached reads vs the ceiling (peak, \`wrk -t1 -c32\`)"
echo
echo "| function | encoding | hasivu requests/s | ceiling requests/s | ratio | hasivu CPU us/request | ceiling CPU us/request | CPU ratio (ceiling / hasivu) |"
echo "|---|---|---|---|---|---|---|---|"
for i in "${!keys[@]}"; do
  for enc in "${encodings[@]}"; do
    h="cached-${keys[$i]}-$enc-peak"
    c="ceiling-${keys[$i]}-$enc-peak"
    python3 -c "
import sys
label, enc, hr, cr, hc, cc = sys.argv[1:]
f = lambda x: float(x) if x not in ('', '-') else 0.0
ratio = f'{100 * f(hr) / f(cr):.0f} %' if f(cr) else '-'
cpu = f'{100 * f(cc) / f(hc):.0f} %' if f(hc) else '-'
print(f'| {label} | {enc} | {hr} | {cr} | {ratio} | {hc} | {cc} | {cpu} |')" \
      "${labels[$i]}" "$(sent "${keys[$i]}" "$enc")" "${rps_of[$h]:-}" "${rps_of[$c]:-}" "${cpu_of[$h]:-}" "${cpu_of[$c]:-}"
  done
done
echo
echo "peak = \`wrk -t1 -c32 -d$peak_duration --latency\`; paced = \`BENCH_RATE=1000 wrk -t1 -c10" \
  "-d$paced_duration --latency -s bench/lua/paced.lua\` (10 connections sharing one schedule of 1 000" \
  "requests/s: the requests/s column shows what was achieved). Cache hit rate = hits / (hits +" \
  "misses) of hasivu_cache_hits_total and hasivu_cache_misses_total (all tiers) over the run, from" \
  "/metrics: it counts lookups, and one request may look up more than one key (the counts show" \
  "how many per request)." \
  "The ceiling is hasivu-bare-server (bench/bare_server.cc): one Beast thread answering every" \
  "request with the body bytes hasivu sent and its Content-Type, Content-Encoding, ETag, Vary and" \
  "Cache-Control; ratio = hasivu / ceiling. The mix (bench/lua/mix.lua) is one parent: orders" \
  "list, menu, profile in rotation and one order creation (201) every $(python3 -c "print(max(2, int(100 / $write_percent + 0.5)) if $write_percent > 0 else '-')")" \
  "requests, each followed by the orders list it made stale. Server CPU = user + system time of the" \
  "server process over the run / requests completed: steadier than requests/s on a shared machine."
echo
echo "commands (run from the repository root; BENCH_TOKEN is a fresh access token from POST /api/v1/auth/login):"
echo
echo "- cached server: \`$cached_serve\`"
[ "$uncached" = 1 ] && echo "- uncached server: \`$uncached_serve\`"
echo "- ceiling: \`$bare_bin --listen 127.0.0.1:$bare_port --body <captured body> --content-type <hasivu's> [--content-encoding br] --header 'ETag: ...' --header 'Vary: ...' --header 'Cache-Control: ...'\`"
cat "$commands"
