# shellcheck shell=bash
# Helpers shared by the benchmark scripts (sourced, not run). Loopback only; every process a
# script starts is stopped by its PID.

# json FILE EXPR: evaluates the Python expression EXPR with `d` = the JSON in FILE.
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# wait_up URL: waits (at most 60 s) for a 200 from URL.
wait_up() {
  for _ in $(seq 1 120); do
    if curl -fs --max-time 2 -o /dev/null "$1"; then return 0; fi
    sleep 0.5
  done
  echo "$(basename "$0"): $1 did not come up" >&2
  return 1
}

# stop_pid PID [GRACE]: SIGTERM, then SIGKILL after GRACE seconds (default 10); reaps it.
stop_pid() {
  local pid="$1" grace="${2:-10}"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 $((grace * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# working_copy SEED_DIR RUN_DIR: RUN_DIR emptied and given a copy of SEED_DIR's hasivu.db (and
# its -wal/-shm if any), written to disk before anything is measured: otherwise the kernel
# flushes the ~400 MB copy during the first runs and the server's writes queue behind it.
working_copy() {
  rm -f "$2/"*
  cp "$1/hasivu.db" "$2/hasivu.db"
  for f in "$1/hasivu.db-wal" "$1/hasivu.db-shm"; do
    if [ -f "$f" ]; then cp "$f" "$2/"; fi
  done
  sync
}
