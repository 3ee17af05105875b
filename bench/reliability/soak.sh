#!/usr/bin/env bash
# The long form of reliability scenario 6 (docs/reliability.md, "6. Soak"): the campaign's mixed
# load at half its measured peak for 30 minutes, on the embedded default (SQLite + in-process
# cache) and then on PostgreSQL + Redis, with the server's resources sampled every 10 s; renders
# the plots (docs/reliability/soak-<backend>.svg), the samples (soak-<backend>.csv) and the tables
# of the section (bench/reliability/soak_plot.py). Takes about an hour.
#
# usage: bench/reliability/soak.sh [build dir] [report]   (defaults: build/ci, docs/reliability.md)
#   env: HASIVU_SOAK_SECONDS         length of each soak (default 1800)
#        HASIVU_SOAK_SAMPLE_SECONDS  time between samples (default 10)
#        HASIVU_SOAK_PEAK_SECONDS    the unpaced burst that measures the peak (default 30)
#        HASIVU_SOAK_WRITE_RATE      fresh writes per second, all three functions (default 20)
#        HASIVU_RELIABILITY_CLIENTS  clients (default 16)
#        HASIVU_SOAK_PARALLEL        1: both configurations at the same time (half the time; each
#                                    then measures its peak and holds half of it beside the other)
# PostgreSQL and Redis come from scripts/services.sh (started here if not running, and then
# stopped again). Loopback only; the server each run starts it stops by its PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build/ci}"
report="${2:-docs/reliability.md}"
export HASIVU_SOAK_SECONDS="${HASIVU_SOAK_SECONDS:-1800}"
export HASIVU_SOAK_SAMPLE_SECONDS="${HASIVU_SOAK_SAMPLE_SECONDS:-10}"
export HASIVU_SOAK_PEAK_SECONDS="${HASIVU_SOAK_PEAK_SECONDS:-30}"
export HASIVU_SOAK_WRITE_RATE="${HASIVU_SOAK_WRITE_RATE:-20}"
export HASIVU_RELIABILITY_CLIENTS="${HASIVU_RELIABILITY_CLIENTS:-16}"
parallel="${HASIVU_SOAK_PARALLEL:-0}"
export HASIVU_BINARY="$PWD/$build/app/hasivu"
[ -x "$HASIVU_BINARY" ] || { echo "soak.sh: build first: $HASIVU_BINARY" >&2; exit 2; }

started=0
if ! scripts/services.sh status >/dev/null 2>&1; then
  scripts/services.sh start >/dev/null
  started=1
fi
cleanup() { if [ "$started" = 1 ]; then scripts/services.sh stop >/dev/null || true; fi; }
trap cleanup EXIT
eval "$(scripts/services.sh env | sed 's/^/export /')"

work="$(mktemp -d /tmp/hasivu-soak.XXXXXX)"
failed=0
run() {
  local binary="$1"
  echo "== $binary: ${HASIVU_SOAK_SECONDS} s at half the peak, a sample every" \
    "${HASIVU_SOAK_SAMPLE_SECONDS} s ($(date -u +%H:%M:%S) UTC)"
  local rc=0
  # A file each: runs side by side never interleave their lines.
  HASIVU_RELIABILITY_REPORT="$work/report.$binary.jsonl" HASIVU_SOAK_SAMPLES="$work/samples.$binary.jsonl" \
    "$build/tests/reliability/$binary" >"$work/$binary.log" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then
    grep -E "Failure|store:|replay:|relogin:|series " "$work/$binary.log" | head -20 >&2 || true
  fi
  grep -E "^peak " "$work/$binary.log" | sed "s/^/   $binary: /" || true
  return "$rc"
}
if [ "$parallel" = 1 ]; then
  run reliability_soak_test & first=$!
  run reliability_soak_pgtest & second=$!
  wait "$first" || failed=1
  wait "$second" || failed=1
else
  run reliability_soak_test || failed=1
  run reliability_soak_pgtest || failed=1
fi
command_line="$([ "$parallel" = 1 ] && echo "HASIVU_SOAK_PARALLEL=1 ")HASIVU_SOAK_SECONDS=$HASIVU_SOAK_SECONDS HASIVU_SOAK_SAMPLE_SECONDS=$HASIVU_SOAK_SAMPLE_SECONDS HASIVU_SOAK_PEAK_SECONDS=$HASIVU_SOAK_PEAK_SECONDS HASIVU_SOAK_WRITE_RATE=$HASIVU_SOAK_WRITE_RATE HASIVU_RELIABILITY_CLIENTS=$HASIVU_RELIABILITY_CLIENTS bench/reliability/soak.sh $build"
cat "$work"/report.*.jsonl >"$work/report.jsonl" 2>/dev/null || true
cat "$work"/samples.*.jsonl >"$work/samples.jsonl" 2>/dev/null || true
python3 bench/reliability/soak_plot.py "$work/report.jsonl" "$work/samples.jsonl" \
  "$command_line" "$(git rev-parse --short HEAD)" "$(dirname "$report")/reliability" "$report" \
  >"$report.soak.new"
mv "$report.soak.new" "$report"
echo "== wrote $report and $(dirname "$report")/reliability/soak-*.svg (runs in $work)"
exit "$failed"
