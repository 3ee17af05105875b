#!/usr/bin/env bash
# The long form of reliability scenario 7 (docs/reliability.md, "7. Hostile clients"):
# reliability_hostile_test with the normal client measured in alternating phases, unloaded and
# under every hostile case at once (A B A B A B A by default), and the p99 bound asserted: the
# median over the rounds of each loaded phase's p99 over the p99 of the unloaded phases around
# it must be <= 2. Prints the section's tables (markdown) and the steal.
#
# usage: bench/reliability/hostile.sh [build dir]   (default build/ci)
#   env: HASIVU_HOSTILE_ROUNDS             loaded phases (default 3)
#        HASIVU_HOSTILE_UNLOADED_SECONDS   length of each unloaded phase (default 10)
#        HASIVU_HOSTILE_SLOWLORIS          slowloris connections held at once (default 1000)
#        HASIVU_HOSTILE_READ_RATE          the normal client's reads per second (default 200)
#        HASIVU_RELIABILITY_REPORT         also append the report line there (bench/reliability.sh)
# Loopback only (the hostile clients connect from 127.x.y.z addresses, which Linux routes to lo
# without setup); the server it starts it stops by its PID. About 3 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build/ci}"
export HASIVU_HOSTILE_ROUNDS="${HASIVU_HOSTILE_ROUNDS:-3}"
export HASIVU_HOSTILE_UNLOADED_SECONDS="${HASIVU_HOSTILE_UNLOADED_SECONDS:-10}"
export HASIVU_HOSTILE_SLOWLORIS="${HASIVU_HOSTILE_SLOWLORIS:-1000}"
export HASIVU_HOSTILE_READ_RATE="${HASIVU_HOSTILE_READ_RATE:-200}"
export HASIVU_HOSTILE_ASSERT_P99=1
export HASIVU_BINARY="$PWD/$build/app/hasivu"
[ -x "$HASIVU_BINARY" ] || { echo "hostile.sh: build first: $HASIVU_BINARY" >&2; exit 2; }

work="$(mktemp -d /tmp/hasivu-hostile-bench.XXXXXX)"
outer_report="${HASIVU_RELIABILITY_REPORT:-}"
export HASIVU_RELIABILITY_REPORT="$work/report.jsonl"
failed=0
echo "== reliability_hostile_test: $HASIVU_HOSTILE_ROUNDS rounds, $HASIVU_HOSTILE_SLOWLORIS" \
  "slowloris, ${HASIVU_HOSTILE_UNLOADED_SECONDS} s unloaded phases" >&2
steal_before=$(awk '/^cpu /{print $9}' /proc/stat)
if ! "$build/tests/reliability/reliability_hostile_test" >"$work/hostile.log" 2>&1; then
  failed=1
  grep -E "Failure|store:|replay:|counter|got '" -A2 "$work/hostile.log" | head -30 >&2 || true
fi
steal_after=$(awk '/^cpu /{print $9}' /proc/stat)
[ -z "$outer_report" ] || cat "$work/report.jsonl" >>"$outer_report"
[ -s "$work/report.jsonl" ] || { echo "hostile.sh: no report line (see $work)" >&2; exit 1; }

python3 - "$work/report.jsonl" "$((steal_after - steal_before))" <<'EOF'
import json, sys

line = [json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]
print("| phase | seconds | normal client's reads | p50 ms | p99 ms | p50 / unloaded | "
      "p99 / unloaded | its writes | failed | server CPU s | steal % | machine busy % | "
      "load (1 min) |")
print("|" + "---|" * 13)
for p in line["phases"]:
    r50 = f"{p['p50Ratio']:.2f}" if "p50Ratio" in p else ""
    r99 = f"{p['p99Ratio']:.2f}" if "p99Ratio" in p else ""
    print(f"| {p['phase']} | {p['seconds']:.1f} | {p['reads']} | {p['readP50Ms']:.2f} | "
          f"{p['readP99Ms']:.2f} | {r50} | {r99} | {p['writes']} | {p['failed']} | "
          f"{p['serverCpuSeconds']:.2f} | {p['stealPercent']:.1f} | {p['busyPercent']:.0f} | "
          f"{p['loadAverage']:.1f} |")
print()
print(f"p99 loaded / unloaded (the unloaded phases either side): median "
      f"{line['p99RatioMedian']:.2f}, range {line['p99RatioMin']:.2f}..{line['p99RatioMax']:.2f} "
      f"over {line['rounds']} rounds; p50: median {line['p50RatioMedian']:.2f}.")
print()
print("| hostile case | outcomes (all rounds) |")
print("|---|---|")
for case, outcomes in line["outcomes"].items():
    print(f"| {case} | " + ", ".join(f"{o}: {n}" for o, n in outcomes.items()) + " |")
print()
print("| `hasivu_http_limit_hits_total` reason | moved (all rounds) |")
print("|---|---|")
for reason, n in line["limitHits"].items():
    print(f"| {reason} | {n:.0f} |")
print(f"| (`hasivu_http_rejected_connections_per_address_total`) | "
      f"{line['rejectedPerAddress']:.0f} |")
print()
for name, held in line["held"].items():
    def ms(k):
        v = held.get(k) or {}
        return f"{v.get('minMs', 0) / 1000:.1f}..{v.get('maxMs', 0) / 1000:.1f} s" if v else "-"
    print(f"{name}: {held['peakOpen']} hostile connections open at once at the peak, "
          f"{held['slowlorisOpened']} slowloris opened; 408 to slowloris after {ms('slowloris408')}, "
          f"to slow bodies after {ms('slowBody408')}; silent ones closed after "
          f"{ms('silentClosed')}.")
w = line["writes"]
print()
print(f"Writes of the normal client: " + ", ".join(
    f"{f} {w[f]['acknowledged']} acknowledged / {w[f]['found']} found"
    for f in ("orders-create", "payments-verify", "rfid-verify-card")) +
      f"; store violations {w['violations']}; {w['integrity']}. Server descriptors at rest "
      f"{line['descriptorsAtRest']}, after {line['descriptorsAfter']}.")
print()
print(f"steal during the run: {sys.argv[2]} ticks (/proc/stat)")
EOF
echo "(log in $work/hostile.log)" >&2
exit "$failed"
