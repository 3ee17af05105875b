#!/usr/bin/env bash
# The ten functions on the medium SQLite database with the Node.js baseline side by side, for
# docs/performance.md: a thin caller of `hasivu bench` (app/bench_command.h), which seeds once,
# runs each repetition on a fresh server and a fresh copy, measures cold starts, checks its load
# generator against wrk, reads the server's /metrics and /proc, and writes the reports.
#
# The Node.js baseline (bench/node-baseline: Fastify + better-sqlite3, the same statements and
# responses) is started by hasivu bench per repetition on the same database file, with the same
# JWT secret; it serves the reads it implements (server.js says which) and the rest are reported
# as not served.
#
# usage: bench/functions.sh [work dir] [more `hasivu bench` flags]
#          (default work dir /tmp/hasivu-bench-functions; e.g. `--cache none --duration 5`)
#   needs a release build: cmake --preset release && cmake --build --preset release --target hasivu
#   env: HASIVU_BUILD_DIR  build folder holding app/hasivu (default build/release)
#        BENCH_NODE        0 leaves the Node.js baseline out (default 1)
# out: <work dir>/report/report.md, report.json, latency.svg (and sweep.svg with --sweep); exit
#      code as hasivu bench's: 0 pass, 1 a target missed, 2 a regression, 3 the run failed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
work="${1:-/tmp/hasivu-bench-functions}"
if [ $# -gt 0 ]; then shift; fi
build="${HASIVU_BUILD_DIR:-build/release}"
require_builds functions.sh "$build"
require_tools functions.sh wrk
args=(bench --work-dir "$work" --size medium --wrk-check)
if [ "${BENCH_NODE:-1}" != 0 ]; then
  bench/node-baseline/install.sh
  args+=(--compare-command "node $PWD/bench/node-baseline/server.js {port} {db}")
fi
exec "$build/app/hasivu" "${args[@]}" "$@"
