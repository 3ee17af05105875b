#!/usr/bin/env bash
# The long form of reliability scenario 4 (docs/reliability.md, "4. PostgreSQL faults"): the
# server's default request deadline (5 s) instead of the test command's 2 s, twice the clients
# (so that requests queue for the blocking pool behind stuck ones and meet the deadline there),
# faults held 8 s (longer than the deadline: a black hole outlasts every request caught in it)
# and three rounds of the three faults. Prints the section's tables.
#
# usage: bench/reliability/postgres_faults.sh [build dir]   (default build/ci)
#   env: HASIVU_RELIABILITY_CLIENTS      clients (default 32)
#        HASIVU_RELIABILITY_WRITES       writes prepared per write function (default 1500)
#        HASIVU_RELIABILITY_ROUNDS       rounds of restart, black hole, terminate (default 3)
#        HASIVU_RELIABILITY_FAULT_MS     how long the restart and the black hole last (default 8000)
#        HASIVU_RELIABILITY_DEADLINE_MS  the server's --request-deadline-ms (default 5000)
#        HASIVU_RELIABILITY_REPORT       also append the JSON report line to this file
# The scenario runs a PostgreSQL of its own (initdb in a temporary folder, stopped by its PID):
# the shared services of scripts/services.sh are neither needed nor touched. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build/ci}"
export HASIVU_RELIABILITY_CLIENTS="${HASIVU_RELIABILITY_CLIENTS:-32}"
export HASIVU_RELIABILITY_WRITES="${HASIVU_RELIABILITY_WRITES:-1500}"
export HASIVU_RELIABILITY_ROUNDS="${HASIVU_RELIABILITY_ROUNDS:-3}"
export HASIVU_RELIABILITY_FAULT_MS="${HASIVU_RELIABILITY_FAULT_MS:-8000}"
export HASIVU_RELIABILITY_DEADLINE_MS="${HASIVU_RELIABILITY_DEADLINE_MS:-5000}"
export HASIVU_BINARY="$PWD/$build/app/hasivu"
binary="$build/tests/reliability/reliability_postgres_faults_pgtest"
[ -x "$HASIVU_BINARY" ] && [ -x "$binary" ] || {
  echo "postgres_faults.sh: build first: $HASIVU_BINARY and $binary" >&2
  exit 2
}

work="$(mktemp -d /tmp/hasivu-pgfaults.XXXXXX)"
lines="$work/report.jsonl"
keep="${HASIVU_RELIABILITY_REPORT:-}"
export HASIVU_RELIABILITY_REPORT="$lines"
echo "== $binary (clients $HASIVU_RELIABILITY_CLIENTS, writes $HASIVU_RELIABILITY_WRITES per" \
  "function, rounds $HASIVU_RELIABILITY_ROUNDS, faults held $HASIVU_RELIABILITY_FAULT_MS ms," \
  "deadline $HASIVU_RELIABILITY_DEADLINE_MS ms)" >&2
failed=0
if ! "$binary" >"$work/test.log" 2>&1; then
  failed=1
  grep -E "Failure|store:|replay:|Expected|actual" "$work/test.log" | head -30 >&2 || true
fi
[ -s "$lines" ] || { echo "postgres_faults.sh: no report line; see $work/test.log" >&2; exit 1; }
if [ -n "$keep" ]; then cat "$lines" >>"$keep"; fi
echo "Produced by \`HASIVU_RELIABILITY_CLIENTS=$HASIVU_RELIABILITY_CLIENTS" \
  "HASIVU_RELIABILITY_WRITES=$HASIVU_RELIABILITY_WRITES" \
  "HASIVU_RELIABILITY_ROUNDS=$HASIVU_RELIABILITY_ROUNDS" \
  "HASIVU_RELIABILITY_FAULT_MS=$HASIVU_RELIABILITY_FAULT_MS" \
  "HASIVU_RELIABILITY_DEADLINE_MS=$HASIVU_RELIABILITY_DEADLINE_MS" \
  "bench/reliability/postgres_faults.sh $build\` at commit $(git rev-parse --short HEAD)."
echo
python3 - "$lines" <<'PY'
import json, sys
sys.path.insert(0, "bench/reliability")
import render
for line in open(sys.argv[1]):
    if line.strip():
        print("\n".join(render.postgres_faults_table(json.loads(line))))
PY
echo "(log: $work/test.log)" >&2
exit "$failed"
