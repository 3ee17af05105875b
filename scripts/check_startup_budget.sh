#!/usr/bin/env bash
# The start-up guard of issue 18: counts the CPU instructions `hasivu serve` executes from exec
# until it listens (every thread, user space; valgrind's callgrind, dumped when
# StartupPhases::MarkListening runs) on a seeded demo SQLite database, and fails if the count is
# over the committed budget by more than its margin. Instruction counts do not depend on the
# machine's speed or its other tenants, so the check holds on a loaded CI runner; what they do
# depend on is the binary and the shared libraries of the image (half the count is the dynamic
# loader's), which is why the budget lives in a file and changes on purpose
# (docs/decisions.md D37).
#
# usage: scripts/check_startup_budget.sh [build dir]          (default build/ci)
#        scripts/check_startup_budget.sh [build dir] --print  (measure and print, check nothing)
# The budget: bench/startup/budget.txt ("instructions N" and "margin_percent M").
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/ci}"
mode="${2:-check}"
binary="$build/app/hasivu"
budget_file=bench/startup/budget.txt
[ -x "$binary" ] || { echo "check_startup_budget: build first: $binary" >&2; exit 2; }
command -v valgrind >/dev/null || {
  echo "check_startup_budget: valgrind is required (scripts/install-deps.sh)" >&2
  exit 2
}

work="$(mktemp -d /tmp/hasivu-startup.XXXXXX)"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The database exists before the measured start, as in production: seeding is not start-up.
"$binary" seed --data-dir "$work/data" --size demo >"$work/seed.log" 2>&1 ||
  { cat "$work/seed.log" >&2; exit 1; }

# One I/O thread and the access log off, so the count does not vary with the core count or the
# log's thread; the dump is taken when the server listens, before any request.
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" --dump-instr=no \
  --separate-threads=no --dump-after='hasivu::metrics::StartupPhases::MarkListening*' \
  "$binary" serve --listen 127.0.0.1:0 --data-dir "$work/data" --threads 1 --access-log false \
  --log-level warn >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [ -s "$work/callgrind.out.1" ] && grep -q '^totals:' "$work/callgrind.out.1" && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "check_startup_budget: the server exited before listening:" >&2
    tail -20 "$work/serve.log" >&2
    exit 1
  fi
  sleep 0.1
done
[ -s "$work/callgrind.out.1" ] || { echo "check_startup_budget: no dump after 60 s" >&2; exit 1; }
kill -TERM "$pid"
wait "$pid" 2>/dev/null || true
pid=""
measured="$(awk '/^totals:/ {print $2; exit}' "$work/callgrind.out.1")"
[ -n "$measured" ] || { echo "check_startup_budget: no totals in the dump" >&2; exit 1; }

if [ "$mode" = --print ]; then
  echo "$measured"
  exit 0
fi
budget="$(awk '$1 == "instructions" {print $2}' "$budget_file")"
margin="$(awk '$1 == "margin_percent" {print $2}' "$budget_file")"
limit=$((budget + budget * margin / 100))
echo "start-up: $measured instructions from exec to listening (budget $budget + $margin % =" \
  "$limit, $budget_file)"
if [ "$measured" -gt "$limit" ]; then
  echo "check_startup_budget: FAILED: start-up takes $measured instructions, over the budget of" \
    "$budget + $margin % in $budget_file. Find the new work with" \
    "'callgrind_annotate --inclusive=yes' on a dump of this run (docs/performance.md," \
    "\"Start-up phases\"); if it is wanted, raise the budget on purpose as docs/decisions.md D37" \
    "says." >&2
  exit 1
fi
if [ "$measured" -lt $((budget - budget * margin / 100)) ]; then
  echo "start-up: more than $margin % under the budget: lower it in $budget_file to keep the" \
    "guard tight (docs/decisions.md D37)"
fi
