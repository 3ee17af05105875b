#!/usr/bin/env bash
# Cost as the data grows (issue 15, aim 5): the uncached reads on the large data set (about 1 M
# orders) against the medium one (about 200 000), the two alternating run by run (medium large,
# then large medium, ...), BENCH_REPEAT pairs. Each run is `hasivu bench --size <size> --cache
# none --repeat 1` (a fresh server on a fresh copy of that size's seeded database, seeded once
# into the work dir), and the summary compares each function's closed-loop p50 and server CPU
# per request, large ÷ medium, per pair, with the host's steal of each run.
#
# usage: bench/data_growth.sh [build dir] [work dir]   (defaults build/release,
#          /tmp/hasivu-bench-growth; seeding the large set once takes about a minute)
#   env: BENCH_REPEAT (3 pairs), BENCH_FUNCTIONS (users-get,menus-daily,orders-list,reads-mixed),
#        BENCH_DURATION (hasivu bench --duration, default its own)
#   out: a Markdown table on stdout; <work>/runs/<n>-<size>/report.json of every run
set -euo pipefail
build=$(realpath -e "${1:-build/release}")
work=$(realpath -m "${2:-/tmp/hasivu-bench-growth}")
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
require_builds data_growth.sh "$build"
repeat="${BENCH_REPEAT:-3}"
functions="${BENCH_FUNCTIONS:-users-get,menus-daily,orders-list,reads-mixed}"
extra=()
if [ -n "${BENCH_DURATION:-}" ]; then extra+=(--duration "$BENCH_DURATION"); fi
mkdir -p "$work/runs"
n=0
for pair in $(seq 1 "$repeat"); do
  if [ $((pair % 2)) = 1 ]; then sizes=(medium large); else sizes=(large medium); fi
  for size in "${sizes[@]}"; do
    n=$((n + 1))
    status=0
    "$build/app/hasivu" bench --work-dir "$work" --size "$size" --cache none --repeat 1 \
      --functions "$functions" --cold-starts 0 --quiet "${extra[@]}" >"$work/bench.log" 2>&1 ||
      status=$?
    # 1 (a target missed) still measured; 3 is a failed run.
    if [ "$status" -ge 3 ]; then
      echo "data_growth.sh: hasivu bench --size $size failed ($status):" >&2
      tail -5 "$work/bench.log" >&2
      exit 1
    fi
    mkdir -p "$work/runs/$n-$size"
    cp "$work/report/report.json" "$work/runs/$n-$size/report.json"
    echo "$pair $size $work/runs/$n-$size/report.json" >>"$work/runs/index.txt.$$"
  done
done
python3 - "$work/runs/index.txt.$$" <<'PY'
import collections, json, statistics, sys
runs = collections.defaultdict(dict)   # pair -> size -> report
for line in open(sys.argv[1]):
    pair, size, path = line.split()
    runs[int(pair)][size] = json.load(open(path))

def figures(report):
    out = {}
    for p in report["phases"]:
        if p["target"] != "hasivu" or p["mode"] != "closed":
            continue
        cpu = p["server"]["cpu_seconds"] * 1e6 / max(p["succeeded"], 1) if p.get("server") else None
        out[p["function"]] = (p["latency_ms"]["p50"], cpu, (p.get("machine") or {}).get("steal_fraction"))
    return out

rows = collections.defaultdict(list)
for pair in sorted(runs):
    m, l = figures(runs[pair]["medium"]), figures(runs[pair]["large"])
    for f in m:
        if f in l:
            rows[f].append((m[f], l[f]))
print("| function | p50 large ÷ medium per pair | median | CPU µs/request large / medium (medians) | CPU ratio per pair | median | steal medium / large per pair |")
print("|---|---|---|---|---|---|---|")
pct = lambda s: "?" if s is None else f"{100 * s:.1f} %"
for f, pairs in rows.items():
    p50 = [l[0] / m[0] for m, l in pairs]
    cpu = [l[1] / m[1] for m, l in pairs if l[1] and m[1]]
    print(f"| {f} | {' · '.join(f'{r:.2f}×' for r in p50)} | {statistics.median(p50):.2f}× | "
          f"{statistics.median([l[1] for m, l in pairs]):.0f} / {statistics.median([m[1] for m, l in pairs]):.0f} | "
          f"{' · '.join(f'{r:.2f}×' for r in cpu)} | {statistics.median(cpu):.2f}× | "
          f"{' · '.join(pct(m[2]) + ' / ' + pct(l[2]) for m, l in pairs)} |")
PY
rm -f "$work/runs/index.txt.$$"
