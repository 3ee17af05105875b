#!/usr/bin/env bash
# Instructions of each start-up phase of `hasivu serve` (docs/performance.md, "Start-up phases"):
# callgrind, every thread, dumping before main and after each StartupPhases::End (the phases the
# server logs), on a seeded SQLite database with one I/O thread and the access log off, as
# scripts/check_startup_budget.sh counts the total. Prints one row per phase.
#
# usage: bench/startup/phases.sh [build dir] [size]   (defaults build/ci, demo)
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build/ci}"
size="${2:-demo}"
bin="$build/app/hasivu"
work="$(mktemp -d /tmp/hasivu-phases.XXXXXX)"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
"$bin" seed --data-dir "$work/data" --size "$size" >/dev/null 2>&1
valgrind --tool=callgrind --callgrind-out-file="$work/cg" --dump-instr=no --separate-threads=no \
  --dump-before=main --dump-after='hasivu::metrics::StartupPhases::End*' \
  --dump-after='hasivu::metrics::StartupPhases::MarkListening*' \
  "$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" --threads 1 --access-log false \
  --log-level warn >"$work/log" 2>&1 &
pid=$!
# Dumps: 1 before main, 2..8 the seven phases, 9 after listening.
for _ in $(seq 1 600); do [ -s "$work/cg.9" ] && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid" 2>/dev/null || true
pid=""
names=("before main (loader, constructors)" "configuration (CLI, logging, data folder)"
  "store (open, migration check)" "accounts (start-up checks)" "monitoring (monitor, EMF, alarms)"
  "cache" "routes (API, series)" "listen (server created, listening)")
total=0
printf '| phase | instructions |\n|---|---|\n'
for i in $(seq 1 8); do
  n=$(awk '/^totals:/ {print $2}' "$work/cg.$i")
  total=$((total + n))
  printf '| %s | %s |\n' "${names[$((i - 1))]}" "$(printf "%'d" "$n" 2>/dev/null || echo "$n")"
done
printf '| **exec to listening** | **%s** |\n' "$total"
