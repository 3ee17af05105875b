#!/usr/bin/env bash
# Cold start (exec -> first 200 from GET /healthz, hasivu-coldstart) of hasivu on the medium
# SQLite database against a minimal Node.js `http.createServer` (the baseline of docs/performance.md)
# and, when given, a previous hasivu binary: rounds of A B [C], each of --runs starts, alternating
# so that the host's drift lands on all of them alike. Prints each round's medians, the ratio
# hasivu / Node.js of each round, their median and spread, and the host's steal per round
# (/proc/stat). Loopback only; every process is started and stopped by hasivu-coldstart by PID.
#
# usage: bench/startup/cold_start_vs.sh [build dir] [previous hasivu binary]   (default build/ci)
#   env: BENCH_ROUNDS  rounds (default 5)     BENCH_RUNS  starts per server per round (default 10)
#        BENCH_WORK    work dir with the seeded database (default /tmp/hasivu-coldstart-vs; kept)
#        BENCH_SIZE    seed size (default medium)
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build/ci}"
previous="${2:-}"
rounds="${BENCH_ROUNDS:-5}"
runs="${BENCH_RUNS:-10}"
work="${BENCH_WORK:-/tmp/hasivu-coldstart-vs}"
size="${BENCH_SIZE:-medium}"
bin="$build/app/hasivu"
coldstart="$build/bench/hasivu-coldstart"
[ -x "$bin" ] && [ -x "$coldstart" ] || { echo "cold_start_vs: build $build first" >&2; exit 2; }
command -v node >/dev/null || { echo "cold_start_vs: node is required" >&2; exit 2; }
mkdir -p "$work"
if [ ! -s "$work/$size/hasivu.db" ]; then
  mkdir -p "$work/$size"
  "$bin" seed --data-dir "$work/$size" --size "$size" >/dev/null
fi
cat >"$work/node_server.js" <<'JS'
const http = require('http');
http.createServer((req, res) => {
  res.writeHead(200, {'Content-Type': 'application/json'});
  res.end('{"success":true,"data":{"status":"ok"}}');
}).listen(Number(process.argv[2]), '127.0.0.1');
JS

steal() { awk '/^cpu / {print $9}' /proc/stat; }
median_of() { "$coldstart" --runs "$runs" --port 0 --json --quiet-child -- "$@" |
  sed -nE 's/.*"median_ms":([0-9.]+).*/\1/p'; }
serve_args=(serve --listen "127.0.0.1:{port}" --data-dir "$work/$size" --access-log false
  --log-level warn)

echo "commit $(git rev-parse --short HEAD), $(nproc) cores, node $(node --version), $size database," \
  "$rounds rounds of $runs starts each, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %12s %12s %12s %8s %12s\n' round hasivu_ms node_ms previous_ms ratio steal_ticks
ratios=()
for r in $(seq 1 "$rounds"); do
  s0=$(steal)
  a=$(median_of "$bin" "${serve_args[@]}")
  b=$(median_of node "$work/node_server.js" "{port}")
  c=-
  if [ -n "$previous" ]; then c=$(median_of "$previous" "${serve_args[@]}"); fi
  s1=$(steal)
  ratio=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", a / b}')
  ratios+=("$ratio")
  printf '%-6s %12s %12s %12s %8s %12s\n' "$r" "$a" "$b" "$c" "$ratio" "$((s1 - s0))"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{v[NR] = $1} END {
  m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
  printf "ratio hasivu / node: median %.3f, min %.3f, max %.3f over %d rounds\n", m, v[1], v[NR], NR }'
