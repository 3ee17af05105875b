#!/usr/bin/env bash
# The scale-out configuration against the embedded one and the Node.js baseline (issue 15, aim 4):
# hasivu on PostgreSQL 15 (+ Redis 7 for the cached runs) beside hasivu on SQLite and the Node.js
# baseline on SQLite, in rounds. Each round runs, in an order rotated round by round:
#   pg-none     hasivu bench --store $PG --cache none           (the uncached scale-out path)
#   sqlite-node hasivu bench --cache none + the Node.js baseline (hasivu on SQLite and Node.js,
#               side by side in one run, alternating as hasivu bench does)
#   pg-redis    hasivu bench --store $PG --cache $REDIS          (the cached scale-out path)
#   sqlite-mem  hasivu bench --cache memory                       (the embedded cached path)
# then the pool at 200 clients on pg-none's orders-list: closed loop (saturated: Little's law
# puts the queue somewhere) and open loop at half that round's closed-loop rate, 200 clients.
# Every run is `--repeat 1` on a fresh server and a fresh copy of the medium data; the Node.js
# baseline cannot read PostgreSQL (the bench's sessions live in the schema it would not see), so
# the PostgreSQL ÷ Node ratio pairs runs of the same round, minutes apart, steal reported per run.
#
# usage: bench/scaleout.sh [build dir] [work dir]   (defaults build/release,
#          /tmp/hasivu-bench-scaleout); needs PostgreSQL and Redis on loopback:
#          scripts/services.sh start; eval "$(scripts/services.sh env | sed 's/^/export /')"
#   env: BENCH_REPEAT (3 rounds), BENCH_FUNCTIONS (users-get,menus-daily,orders-list,reads-mixed),
#        BENCH_DURATION (hasivu bench --duration, default its own), BENCH_POOL (1; 0 skips the
#        pool runs), BENCH_CONFIGS (the configurations run, default
#        "pg-none sqlite-node pg-redis sqlite-mem"; e.g. "pg-none sqlite-node" for the uncached
#        half, "" for the pool runs alone)
#   out: Markdown tables on stdout; <work>/runs/<round>-<config>/report.json of every run
set -euo pipefail
build=$(realpath -e "${1:-build/release}")
work=$(realpath -m "${2:-/tmp/hasivu-bench-scaleout}")
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
require_builds scaleout.sh "$build"
if [ -z "${HASIVU_TEST_POSTGRES_URL:-}" ] || [ -z "${HASIVU_TEST_REDIS_URL:-}" ]; then
  echo "scaleout.sh: HASIVU_TEST_POSTGRES_URL and HASIVU_TEST_REDIS_URL are not set; run" >&2
  echo "  scripts/services.sh start; eval \"\$(scripts/services.sh env | sed 's/^/export /')\"" >&2
  exit 2
fi
bench/node-baseline/install.sh
repeat="${BENCH_REPEAT:-3}"
functions="${BENCH_FUNCTIONS:-users-get,menus-daily,orders-list,reads-mixed}"
extra=()
if [ -n "${BENCH_DURATION:-}" ]; then extra+=(--duration "$BENCH_DURATION"); fi
node="node $PWD/bench/node-baseline/server.js {port} {db}"
mkdir -p "$work/runs"
index="$work/runs/index.txt.$$"
: >"$index"

# run <round> <config> <hasivu bench flags...>: one run, its report kept as runs/<round>-<config>.
run() {
  local round=$1 config=$2
  shift 2
  local status=0
  "$build/app/hasivu" bench --work-dir "$work/$config" --size medium --repeat 1 --cold-starts 0 \
    --quiet "${extra[@]}" "$@" >"$work/bench.log" 2>&1 || status=$?
  # 1 (a target missed) still measured; 3 is a failed run.
  if [ "$status" -ge 3 ]; then
    echo "scaleout.sh: the $config run of round $round failed ($status):" >&2
    tail -5 "$work/bench.log" >&2
    exit 1
  fi
  mkdir -p "$work/runs/$round-$config"
  cp "$work/$config/report/report.json" "$work/runs/$round-$config/report.json"
  echo "$round $config $work/runs/$round-$config/report.json" >>"$index"
}

read -r -a configs <<<"${BENCH_CONFIGS-pg-none sqlite-node pg-redis sqlite-mem}"
for round in $(seq 1 "$repeat"); do
  for i in "${!configs[@]}"; do
    config=${configs[$(((i + round - 1) % ${#configs[@]}))]}
    case $config in
      pg-none) run "$round" "$config" --functions "$functions" --store "$HASIVU_TEST_POSTGRES_URL" \
        --cache none ;;
      sqlite-node) run "$round" "$config" --functions "$functions" --cache none \
        --compare-command "$node" ;;
      pg-redis) run "$round" "$config" --functions "$functions" --store "$HASIVU_TEST_POSTGRES_URL" \
        --cache "$HASIVU_TEST_REDIS_URL" ;;
      sqlite-mem) run "$round" "$config" --functions "$functions" --cache memory ;;
      *)
        echo "scaleout.sh: unknown configuration $config" >&2
        exit 2
        ;;
    esac
  done
  if [ "${BENCH_POOL:-1}" != 0 ]; then
    run "$round" pool-closed --functions orders-list --store "$HASIVU_TEST_POSTGRES_URL" \
      --cache none --connections 200
    half=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
print(int(0.5 * next(p["requests_per_second"] for p in r["phases"] if p["function"] == "orders-list")))' \
      "$work/runs/$round-pool-closed/report.json")
    # The server's view is scraped around the phase and its warm-up second: a fresh server opens
    # its pool's connections and prepares its statements then, and those waits count too.
    run "$round" pool-paced --functions orders-list --store "$HASIVU_TEST_POSTGRES_URL" \
      --cache none --connections 200 --rate "$half"
  fi
done

python3 - "$index" <<'PY'
import collections, json, statistics, sys
runs = collections.defaultdict(dict)   # round -> config -> report
for line in open(sys.argv[1]):
    rnd, config, path = line.split()
    runs[int(rnd)][config] = json.load(open(path))

def rates(report, target):
    """function -> (closed-loop req/s, steal) of `target`'s phases."""
    out = {}
    for p in report["phases"]:
        if p["target"] == target and p["mode"] == "closed":
            out[p["function"]] = (p["requests_per_second"], (p.get("machine") or {}).get("steal_fraction"))
    return out

pct = lambda s: "?" if s is None else f"{100 * s:.1f} %"
med = statistics.median
def table(title, header, num, den):
    print(f"\n{title}\n")
    print(f"| function | {header} per round | median | spread | req/s (medians) | steal per round |")
    print("|---|---|---|---|---|---|")
    funcs = []
    for rnd in sorted(runs):
        for f in num(runs[rnd]):
            if f not in funcs:
                funcs.append(f)
    for f in funcs:
        ratios, a, b, steal = [], [], [], []
        for rnd in sorted(runs):
            n, d = num(runs[rnd]).get(f), den(runs[rnd]).get(f)
            if not n or not d:
                continue
            ratios.append(n[0] / d[0]); a.append(n[0]); b.append(d[0])
            steal.append(pct(n[1]) + " / " + pct(d[1]))
        if not ratios:
            continue
        print(f"| {f} | {' · '.join(f'{r:.2f}×' for r in ratios)} | {med(ratios):.2f}× | "
              f"{min(ratios):.2f}–{max(ratios):.2f}× | {med(a):,.0f} / {med(b):,.0f} | {' · '.join(steal)} |")

get = lambda config, target="hasivu": (lambda rs: rates(rs[config], target) if config in rs else {})
table("Uncached: hasivu on PostgreSQL ÷ Node.js on SQLite (aim ≥ 4×)", "PG ÷ Node",
      get("pg-none"), get("sqlite-node", "peer"))
table("Uncached: hasivu on PostgreSQL ÷ hasivu on SQLite", "PG ÷ SQLite",
      get("pg-none"), get("sqlite-node"))
table("Uncached, same run: hasivu on SQLite ÷ Node.js on SQLite", "SQLite ÷ Node",
      get("sqlite-node"), get("sqlite-node", "peer"))
table("Cached: PostgreSQL + Redis ÷ SQLite + in-process (aim ≥ 0.8)", "PG+Redis ÷ embedded",
      get("pg-redis"), get("sqlite-mem"))

def latency(view, key):
    f = (view or {}).get(key)
    if not f or not f.get("count"):
        return None
    return f
pool = [(rnd, c) for rnd in sorted(runs) for c in ("pool-closed", "pool-paced") if c in runs[rnd]]
if pool:
    print("\nThe pool at 200 clients (orders-list, PostgreSQL, no cache; pool of 8 connections and"
          " 8 blocking threads): a request's wait for a thread (one per connection) and for a"
          " connection, against the time a connection was held\n")
    print("| round | load | req/s | wait for a thread p99 / worst | wait for a connection p99 / worst "
          "| connection held p99 | request p99 | steal |")
    print("|---|---|---|---|---|---|---|---|")
    for rnd, c in pool:
        r = runs[rnd][c]
        v = r.get("server_view") or {}
        p = next(p for p in r["phases"] if p["function"] == "orders-list")
        def fig(key):
            f = latency(v, key)
            if f is None:
                return "–"
            worst = ("> " if f["worst_beyond_bounds"] else "≤ ") + f"{f['worst_ms']:g}"
            return f"{f['p99_ms']:.2f} / {worst} ms"
        hold = latency(v, "db_pool_hold")
        load = "closed" if p["mode"] == "closed" else f"open at {p['offered_rate']:.0f}/s"
        print(f"| {rnd} | {load} | {p['requests_per_second']:,.0f} | {fig('offload_wait')} | "
              f"{fig('db_pool_wait')} | {hold['p99_ms']:.2f} ms | {p['latency_ms']['p99']:.2f} ms | "
              f"{pct((p.get('machine') or {}).get('steal_fraction'))} |")
PY
rm -f "$index"
