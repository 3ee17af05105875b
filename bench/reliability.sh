#!/usr/bin/env bash
# The long form of the reliability campaign (docs/reliability.md): runs the scenario binaries of
# tests/reliability/ with more kills and writes than the test command gives them, on SQLite and
# on PostgreSQL, collects each scenario's report line and renders the report; then the long
# forms of scenarios 3, 4, 5 and 7 (bench/reliability/<scenario>.sh, each printing its tables),
# and the hour-long soak (scenario 6) when asked for.
#
# usage: bench/reliability.sh [build dir] [report]   (defaults: build/ci, docs/reliability.md)
#   env: HASIVU_RELIABILITY_KILLS    kills per backend (default 20)
#        HASIVU_RELIABILITY_CLIENTS  clients (default 32)
#        HASIVU_RELIABILITY_WRITES   writes prepared per write function (default 1500)
#        HASIVU_RELIABILITY_LONG     the scenario scripts to run after the binaries (default
#                                    "redis_faults postgres_faults disk hostile"; "" for none;
#                                    add "soak" for scenario 6, about an hour)
# The scenario scripts get the caller's own HASIVU_RELIABILITY_* settings, not these defaults.
# PostgreSQL and Redis come from scripts/services.sh (started here if not running, and then
# stopped again). Loopback only; every server a scenario starts it stops by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/ci}"
report="${2:-docs/reliability.md}"
long="${HASIVU_RELIABILITY_LONG-redis_faults postgres_faults disk hostile}"
# env(1) takes its -u options before any NAME=VALUE.
caller_unset=(-u HASIVU_RELIABILITY_KILLS -u HASIVU_RELIABILITY_REPORT)
caller_set=()
for name in HASIVU_RELIABILITY_CLIENTS HASIVU_RELIABILITY_WRITES; do
  if [ -n "${!name+x}" ]; then caller_set+=("$name=${!name}"); else caller_unset+=(-u "$name"); fi
done
export HASIVU_RELIABILITY_KILLS="${HASIVU_RELIABILITY_KILLS:-20}"
export HASIVU_RELIABILITY_CLIENTS="${HASIVU_RELIABILITY_CLIENTS:-32}"
export HASIVU_RELIABILITY_WRITES="${HASIVU_RELIABILITY_WRITES:-1500}"
export HASIVU_BINARY="$PWD/$build/app/hasivu"
[ -x "$HASIVU_BINARY" ] || { echo "reliability.sh: build first: $HASIVU_BINARY" >&2; exit 2; }

started=0
if ! scripts/services.sh status >/dev/null 2>&1; then
  scripts/services.sh start >/dev/null
  started=1
fi
cleanup() { if [ "$started" = 1 ]; then scripts/services.sh stop >/dev/null || true; fi; }
trap cleanup EXIT
eval "$(scripts/services.sh env | sed 's/^/export /')"

lines="$(mktemp /tmp/hasivu-reliability.XXXXXX.jsonl)"
export HASIVU_RELIABILITY_REPORT="$lines"
failed=0
for binary in reliability_crash_test reliability_crash_pgtest reliability_drain_test \
  reliability_drain_pgtest reliability_rolling_pgtest; do
  echo "== $binary (kills $HASIVU_RELIABILITY_KILLS, clients $HASIVU_RELIABILITY_CLIENTS," \
    "writes $HASIVU_RELIABILITY_WRITES per function)"
  steal_before=$(awk '/^cpu /{print $9}' /proc/stat)
  if ! "$build/tests/reliability/$binary" >"$lines.$binary.log" 2>&1; then
    failed=1
    grep -E "Failure|store:|replay:" "$lines.$binary.log" | head -20 >&2 || true
  fi
  steal_after=$(awk '/^cpu /{print $9}' /proc/stat)
  echo "   steal: $((steal_after - steal_before)) ticks"
  echo "{\"steal\":{\"binary\":\"$binary\",\"ticks\":$((steal_after - steal_before))}}" >>"$lines"
done
command_line="HASIVU_RELIABILITY_KILLS=$HASIVU_RELIABILITY_KILLS HASIVU_RELIABILITY_CLIENTS=$HASIVU_RELIABILITY_CLIENTS HASIVU_RELIABILITY_WRITES=$HASIVU_RELIABILITY_WRITES bench/reliability.sh $build"
python3 bench/reliability/render.py "$lines" "$command_line" "$(git rev-parse --short HEAD)" "$report" \
  >"$report.new"
mv "$report.new" "$report"
echo "== wrote $report (lines in $lines)"

for scenario in $long; do
  script="bench/reliability/$scenario.sh"
  [ -x "$script" ] || { echo "reliability.sh: no $script" >&2; failed=1; continue; }
  echo "== $script $build"
  args=("$build")
  if [ "$scenario" = soak ]; then args+=("$report"); fi
  if ! env "${caller_unset[@]}" "${caller_set[@]}" "$script" "${args[@]}"; then
    echo "reliability.sh: $script failed" >&2
    failed=1
  fi
done
exit "$failed"
