#!/usr/bin/env bash
# Measures the foundation's numbers for docs/performance.md, each beside a baseline measured in
# the same run: cold start (exec -> first 200 from /healthz, 20 runs) of hasivu on the demo and the
# medium database and of a minimal Node.js HTTP server; /healthz throughput with wrk -t1 -c32
# against hasivu on one I/O thread and against the same Node.js server; seeding times; the
# stripped binary size. Loopback only; every process started is stopped by its PID.
#
# usage: bench/foundation.sh [work dir]   (needs a release build: cmake --preset release &&
#        cmake --build --preset release --target hasivu hasivu-coldstart)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/hasivu-bench}"
build_dir="${HASIVU_BUILD_DIR:-build/release}"
bin="$build_dir/app/hasivu"
coldstart="$build_dir/bench/hasivu-coldstart"
port=18089
mkdir -p "$work"

echo "## machine"
echo "$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r), commit $(git rev-parse --short HEAD)"

echo "## seeding (SQLite, release build)"
for size in demo medium; do
  rm -rf "$work/$size" && mkdir -p "$work/$size"
  /usr/bin/time -f "seed $size: %e s wall, %M KiB max RSS" \
    "$bin" seed --store "sqlite:$work/$size/hasivu.db" --size "$size" --fixtures-out "$work/$size/fixtures.json"
done
if [ "${BENCH_LARGE:-0}" = 1 ]; then
  rm -rf "$work/large" && mkdir -p "$work/large"
  /usr/bin/time -f "seed large: %e s wall, %M KiB max RSS" \
    "$bin" seed --store "sqlite:$work/large/hasivu.db" --size large --fixtures-out "$work/large/fixtures.json"
fi
if [ -n "${HASIVU_TEST_POSTGRES_URL:-}" ]; then
  schema="bench_$$"
  psql "$HASIVU_TEST_POSTGRES_URL" -qc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema"
  /usr/bin/time -f "seed medium on PostgreSQL: %e s wall" \
    "$bin" seed --store "$HASIVU_TEST_POSTGRES_URL?options=-csearch_path%3D$schema" --size medium
  psql "$HASIVU_TEST_POSTGRES_URL" -qc "DROP SCHEMA $schema CASCADE"
fi

echo "## cold start: exec -> first 200 from GET /healthz, 20 runs"
cat > "$work/node_server.js" <<'JS'
const http = require('http');
http.createServer((req, res) => {
  res.writeHead(200, {'Content-Type': 'application/json'});
  res.end('{"success":true,"data":{"status":"ok"}}');
}).listen(Number(process.argv[2]), '127.0.0.1');
JS
for size in demo medium; do
  echo "hasivu, $size database:"
  "$coldstart" --runs 20 --port "$port" --quiet-child -- \
    "$bin" serve --listen "127.0.0.1:$port" --data-dir "$work/$size" --access-log false --log-level warn
done
echo "baseline: node $(node --version) minimal http server:"
"$coldstart" --runs 20 --port "$port" --quiet-child -- node "$work/node_server.js" "$port"

echo "## /healthz throughput: wrk -t1 -c32 -d10s, server on one I/O thread"
"$bin" serve --listen "127.0.0.1:$port" --data-dir "$work/medium" --threads 1 --access-log false \
  --log-level warn >/dev/null 2>&1 &
pid=$!
sleep 1
echo "hasivu --threads 1:"
wrk -t1 -c32 -d10s --latency "http://127.0.0.1:$port/healthz" | grep -E "Requests/sec|Latency|99%"
kill -TERM "$pid"; wait "$pid" || true
node "$work/node_server.js" "$port" &
pid=$!
sleep 1
echo "baseline: node minimal http server (one thread):"
wrk -t1 -c32 -d10s --latency "http://127.0.0.1:$port/healthz" | grep -E "Requests/sec|Latency|99%"
kill -TERM "$pid"; wait "$pid" || true

echo "## binary size"
cp "$bin" "$work/hasivu.stripped" && strip "$work/hasivu.stripped"
echo "hasivu stripped: $(stat -c %s "$work/hasivu.stripped") bytes"
