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

# require_tools SCRIPT TOOL...: exits 1 naming the first TOOL not on PATH.
require_tools() {
  local script="$1"
  shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$script: $tool is required" >&2; exit 1; }
  done
}

# require_builds SCRIPT BUILD_DIR...: exits 1 unless each BUILD_DIR holds app/hasivu.
require_builds() {
  local script="$1"
  shift
  for build in "$@"; do
    [ -x "$build/app/hasivu" ] || { echo "$script: no $build/app/hasivu" >&2; exit 1; }
  done
}

# seed_medium_once BIN SEED_DIR: the medium SQLite database and its fixtures in SEED_DIR
# (hasivu.db, fixtures.json), seeded by BIN unless an earlier run finished seeding there.
seed_medium_once() {
  if [ -f "$2/done" ]; then return 0; fi
  rm -f "$2/"*
  "$1" seed --store "sqlite:$2/hasivu.db" --size medium --fixtures-out "$2/fixtures.json" >/dev/null
  touch "$2/done"
}

# parent_login_json FIXTURES OUT: OUT gets the login body of the first school's first parent
# with two or more children.
parent_login_json() {
  python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
parent = next(p for p in d["schools"][0]["parents"] if len(p["children"]) >= 2)
json.dump({"email": parent["email"], "password": parent["password"]}, open(sys.argv[2], "w"))
PY
}
