#!/usr/bin/env bash
# Two builds of hasivu side by side on the ten functions, for "numbers within noise of before" (a
# refactor, a dependency bump): a thin caller of `hasivu bench` run by build B, with build A's
# `serve` as the peer (--compare-command). Each repetition starts both on one fresh copy of the
# seeded medium SQLite database, measures every function on each in alternating order (A B, then
# B A), and the report gives B's figures, A's, and the ratios B/A with the steal of every phase.
#
# usage: bench/functions_vs.sh <build dir A> <build dir B> [work dir] [more `hasivu bench` flags]
#          (default work dir /tmp/hasivu-bench-vs; a build dir holds app/hasivu, e.g. build/release
#          of a worktree: `git worktree add --detach /tmp/old <commit>`, then in it
#          `cmake --preset release && cmake --build --preset release --target hasivu`)
#   env: BENCH_CACHE      both servers' --cache (default memory)
#        BENCH_A_THREADS  A's --threads (default 1); B's is `hasivu bench --server-threads`, so
#                         `BENCH_A_THREADS=1 ... B B ... --server-threads 2` measures one build's
#                         scaling from one I/O thread to two
# out: <work dir>/report/report.md, report.json, latency.svg.
set -euo pipefail
usage() {
  echo "usage: $0 <build dir A> <build dir B> [work dir] [hasivu bench flags]" >&2
  exit 2
}
if [ $# -lt 2 ]; then usage; fi
build_a=$(realpath -e "$1") || usage
build_b=$(realpath -e "$2") || usage
shift 2
work="/tmp/hasivu-bench-vs"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  work="$1"
  shift
fi
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
require_builds functions_vs.sh "$build_a" "$build_b"
cache="${BENCH_CACHE:-memory}"
# A's server as hasivu bench starts its own (the JWT and gateway secrets come in its environment).
peer="$build_a/app/hasivu serve --listen 127.0.0.1:{port} --store sqlite:{db} --cache $cache"
peer+=" --threads ${BENCH_A_THREADS:-1} --access-log false --log-level warn --mode development"
peer+=" --register-limit 1000000"
exec "$build_b/app/hasivu" bench --work-dir "$work" --size medium --cache "$cache" \
  --compare-command "$peer" "$@"
