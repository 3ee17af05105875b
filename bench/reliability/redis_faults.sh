#!/usr/bin/env bash
# The long form of reliability scenario 3 (docs/reliability.md, "3. Redis faults"): twice the
# clients and each fault held 8 s instead of 3 s. Longer than the breaker's largest backoff (5 s)
# and than an L1 copy's life (5 s), so a process that missed no invalidation probes at its
# widest interval and comes back seconds after the one that did, and the old copies a process
# shows while its breaker is open run out during the fault. Prints the section's tables.
#
# usage: bench/reliability/redis_faults.sh [build dir]   (default build/ci)
#   env: HASIVU_RELIABILITY_CLIENTS   clients (default 32)
#        HASIVU_RELIABILITY_WRITES    writes prepared per write function (default 600)
#        HASIVU_RELIABILITY_FAULT_MS  how long each fault but the restart lasts (default 8000)
#        HASIVU_RELIABILITY_REPORT    also append the JSON report line to this file
# Needs the shared PostgreSQL of scripts/services.sh (HASIVU_TEST_POSTGRES_URL: the pair's schema);
# the scenario runs a redis-server of its own (stopped by its PID) and leaves the shared Redis
# alone. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build/ci}"
export HASIVU_RELIABILITY_CLIENTS="${HASIVU_RELIABILITY_CLIENTS:-32}"
export HASIVU_RELIABILITY_WRITES="${HASIVU_RELIABILITY_WRITES:-600}"
export HASIVU_RELIABILITY_FAULT_MS="${HASIVU_RELIABILITY_FAULT_MS:-8000}"
export HASIVU_BINARY="$PWD/$build/app/hasivu"
binary="$build/tests/reliability/reliability_redis_faults_pgtest"
[ -x "$HASIVU_BINARY" ] && [ -x "$binary" ] || {
  echo "redis_faults.sh: build first: $HASIVU_BINARY and $binary" >&2
  exit 2
}
if [ -z "${HASIVU_TEST_POSTGRES_URL:-}" ]; then
  eval "$(scripts/services.sh env | sed 's/^/export /')"
fi

work="$(mktemp -d /tmp/hasivu-redisfaults.XXXXXX)"
lines="$work/report.jsonl"
keep="${HASIVU_RELIABILITY_REPORT:-}"
export HASIVU_RELIABILITY_REPORT="$lines"
echo "== $binary (clients $HASIVU_RELIABILITY_CLIENTS, writes $HASIVU_RELIABILITY_WRITES per" \
  "function, faults held $HASIVU_RELIABILITY_FAULT_MS ms)" >&2
failed=0
if ! "$binary" >"$work/test.log" 2>&1; then
  failed=1
  grep -E -A3 "Failure" "$work/test.log" | grep -v '^{"scenario' | head -40 >&2 || true
fi
[ -s "$lines" ] || { echo "redis_faults.sh: no report line; see $work/test.log" >&2; exit 1; }
if [ -n "$keep" ]; then cat "$lines" >>"$keep"; fi
echo "Produced by \`HASIVU_RELIABILITY_CLIENTS=$HASIVU_RELIABILITY_CLIENTS" \
  "HASIVU_RELIABILITY_WRITES=$HASIVU_RELIABILITY_WRITES" \
  "HASIVU_RELIABILITY_FAULT_MS=$HASIVU_RELIABILITY_FAULT_MS" \
  "bench/reliability/redis_faults.sh $build\` at commit $(git rev-parse --short HEAD)."
echo
python3 - "$lines" <<'PY'
import json, sys
sys.path.insert(0, "bench/reliability")
import render
for line in open(sys.argv[1]):
    if line.strip():
        print("\n".join(render.redis_faults_table(json.loads(line))))
PY
echo "(log: $work/test.log)" >&2
exit "$failed"
