#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL 15 and Redis 7 on loopback for the tests labelled
# `postgres` and `redis`. Test-only settings (fsync off, trust auth on loopback): never point a
# real deployment at this.
#
#   scripts/services.sh start   start both (idempotent), wait until they answer, print the env lines
#   scripts/services.sh stop    stop both by PID (pg_ctl stop -m fast; redis by its pidfile)
#   scripts/services.sh status  say what runs; exit 0 only if both run
#   scripts/services.sh env     print the env lines
#
# stdout carries only the env lines, so `export $(scripts/services.sh start)` works; diagnostics go
# to stderr.
#
# Environment:
#   HASIVU_TEST_PG_PORT        PostgreSQL port on 127.0.0.1; taken as given. Default: the first
#                              free one of 25432..25451.
#   HASIVU_TEST_REDIS_PORT     Redis port on 127.0.0.1; taken as given. Default: the first free
#                              one of 26379..26398.
# The defaults lie below the kernel's ephemeral range (32768..60999 on Debian), where an outgoing
# connection could hold the port for a while; `start` records the ports it chose in the state dir
# and `env`, `status` and `stop` read them from there.
#   HASIVU_TEST_SERVICES_DIR   state dir (data, sockets, logs, pid files).
#                              Default: /tmp/hasivu-test-services.
#   HASIVU_TEST_START_TIMEOUT  seconds to wait for each service. Default: 30.
set -euo pipefail

STATE_DIR="${HASIVU_TEST_SERVICES_DIR:-/tmp/hasivu-test-services}"
PORTS_FILE="$STATE_DIR/ports"
PG_PORT_BASE=25432
REDIS_PORT_BASE=26379
PORT_TRIES=20
# Ports recorded by the last start (lines `pg N` and `redis N`); explicit settings win.
recorded_port() {
  awk -v k="$1" '$1 == k && $2 ~ /^[0-9]+$/ {print $2; exit}' "$PORTS_FILE" 2>/dev/null || true
}
PG_PORT_FIXED="${HASIVU_TEST_PG_PORT:+1}"
REDIS_PORT_FIXED="${HASIVU_TEST_REDIS_PORT:+1}"
PG_PORT="${HASIVU_TEST_PG_PORT:-$(recorded_port pg)}"
PG_PORT="${PG_PORT:-$PG_PORT_BASE}"
REDIS_PORT="${HASIVU_TEST_REDIS_PORT:-$(recorded_port redis)}"
REDIS_PORT="${REDIS_PORT:-$REDIS_PORT_BASE}"
TIMEOUT="${HASIVU_TEST_START_TIMEOUT:-30}"

PG_BIN="${HASIVU_PG_BIN:-/usr/lib/postgresql/15/bin}"
REDIS_SERVER="${HASIVU_REDIS_SERVER:-/usr/bin/redis-server}"
REDIS_CLI="${HASIVU_REDIS_CLI:-/usr/bin/redis-cli}"

PG_DIR="$STATE_DIR/pg"
PG_DATA="$PG_DIR/data"
PG_SOCK="$PG_DIR/run"
PG_LOG="$PG_DIR/postgres.log"
REDIS_DIR="$STATE_DIR/redis"
REDIS_PID="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

PG_ROLE=hasivu
PG_DB=hasivu_test

log() { echo "services: $*" >&2; }
die() {
  echo "services: error: $*" >&2
  exit 1
}

check_port_number() {
  [[ "$2" =~ ^[0-9]+$ ]] && ((10#$2 >= 1 && 10#$2 <= 65535)) || die "$1 '$2' is not a port number"
}
check_port_number HASIVU_TEST_PG_PORT "$PG_PORT"
check_port_number HASIVU_TEST_REDIS_PORT "$REDIS_PORT"
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "HASIVU_TEST_START_TIMEOUT '$TIMEOUT' is not a number"

# PostgreSQL refuses to run as root, so as root its commands run as the `postgres` OS user.
AS_PG=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' OS user"
  AS_PG=(runuser -u postgres --)
fi
as_pg() { "${AS_PG[@]}" "$@"; }

print_env() {
  echo "HASIVU_TEST_POSTGRES_URL=postgresql://$PG_ROLE@127.0.0.1:$PG_PORT/$PG_DB"
  echo "HASIVU_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

# True if 127.0.0.1:$1 cannot be bound as the servers bind it (SO_REUSEADDR): a listener, or any
# socket holding the port, such as an outgoing connection's local end. A connect probe alone misses
# the latter.
port_in_use() {
  ! python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
PY
}

# Sets the variable named $1 to a free port: its current value if that one is free, else, unless
# $2 says the port was set explicitly, the first free one from base $3 on.
choose_port() {
  local var="$1" fixed="$2" base="$3" name="$4" port="${!1}"
  if ! port_in_use "$port"; then return 0; fi
  [ -z "$fixed" ] || die "127.0.0.1:$port is already taken by another process; set $name"
  local i
  for ((i = 0; i < PORT_TRIES; i++)); do
    port=$((base + i))
    if ! port_in_use "$port"; then
      log "127.0.0.1:${!1} is taken; using $port"
      printf -v "$var" '%s' "$port"
      return 0
    fi
  done
  die "no free port in 127.0.0.1:$base..$((base + PORT_TRIES - 1)); set $name"
}

record_ports() {
  printf 'pg %s\nredis %s\n' "$PG_PORT" "$REDIS_PORT" >"$PORTS_FILE"
}

# True if process $1 exited but was not reaped yet (kill -0 still succeeds on it).
is_zombie() {
  [ "$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)" = Z ]
}

# --- PostgreSQL ---

pg_running() {
  [ -f "$PG_DATA/PG_VERSION" ] || return 1
  # A killed postmaster may linger as a zombie for a moment, and both pg_ctl and the postmaster's
  # own lock-file check take it for alive; wait for it to be reaped.
  local pid waited=0
  pid="$(tr -dc '0-9' < <(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null))"
  while [ -n "$pid" ] && is_zombie "$pid" && ((waited++ < TIMEOUT * 10)); do sleep 0.1; done
  as_pg "$PG_BIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

pg_ready() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d "$PG_DB" -U "$PG_ROLE" -t 2 >/dev/null 2>&1
}

pg_init() {
  log "initialising PostgreSQL cluster in $PG_DATA"
  mkdir -p "$PG_DIR"
  if [ ${#AS_PG[@]} -gt 0 ]; then
    chown postgres: "$PG_DIR"
    as_pg test -w "$PG_DIR" ||
      die "the postgres OS user cannot write $PG_DIR; choose a HASIVU_TEST_SERVICES_DIR it can reach"
  fi
  # A half-made cluster from an interrupted init is useless; start it over.
  if [ -e "$PG_DATA" ] && [ ! -f "$PG_DATA/PG_VERSION" ]; then rm -rf "$PG_DATA"; fi
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --no-locale --auth=trust --no-sync \
    >"$PG_DIR/initdb.log" 2>&1 || die "initdb failed, see $PG_DIR/initdb.log"
  # Test-only durability trade-offs for speed; the port and socket dir are given at start.
  as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null <<'EOF'

# --- hasivu test settings (scripts/services.sh) ---
listen_addresses = '127.0.0.1'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
log_min_messages = warning
EOF
  as_pg tee "$PG_DATA/pg_hba.conf" >/dev/null <<'EOF'
# hasivu test cluster: trust on the unix socket and on loopback only.
local all all                trust
host  all all 127.0.0.1/32   trust
EOF
}

# Creates the role and database once; harmless to repeat.
pg_bootstrap() {
  local psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres)
  if [ "$(as_pg "${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='$PG_ROLE'")" != 1 ]; then
    as_pg "${psql[@]}" -d postgres -c "CREATE ROLE $PG_ROLE LOGIN CREATEDB" ||
      die "could not create role $PG_ROLE"
  fi
  if [ "$(as_pg "${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$PG_DB'")" != 1 ]; then
    as_pg "${psql[@]}" -d postgres -c "CREATE DATABASE $PG_DB OWNER $PG_ROLE" ||
      die "could not create database $PG_DB"
  fi
  # amcheck (in postgresql-15 itself) for the reliability tests' integrity check: only a superuser
  # may create it, and its functions are granted to the test role by name.
  as_pg "${psql[@]}" -d "$PG_DB" -c "CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA public" \
    -c "GRANT EXECUTE ON FUNCTION public.bt_index_check(regclass, boolean) TO $PG_ROLE" \
    -c "GRANT EXECUTE ON FUNCTION public.verify_heapam(regclass, boolean, boolean, text, bigint, bigint) TO $PG_ROLE" \
    >/dev/null || die "could not install amcheck in $PG_DB"
}

pg_start() {
  if pg_running; then
    if pg_ready; then
      log "PostgreSQL already running on 127.0.0.1:$PG_PORT"
      return 0
    fi
    die "a PostgreSQL of $PG_DATA runs but does not answer on 127.0.0.1:$PG_PORT" \
      "(started with another HASIVU_TEST_PG_PORT? run '$0 stop' first)"
  fi
  choose_port PG_PORT "$PG_PORT_FIXED" "$PG_PORT_BASE" HASIVU_TEST_PG_PORT
  [ -x "$PG_BIN/pg_ctl" ] || die "PostgreSQL 15 not found in $PG_BIN (apt-get install postgresql-15)"
  [ -f "$PG_DATA/PG_VERSION" ] || pg_init
  mkdir -p "$PG_SOCK"
  if [ ${#AS_PG[@]} -gt 0 ]; then chown postgres: "$PG_SOCK"; fi
  # pg_ctl itself discards a postmaster.pid whose process is gone; a stale socket lock file is
  # removed by the postmaster too.
  local attempt
  for attempt in 1 2 3; do
    local log_size
    log_size=$(stat -c %s "$PG_LOG" 2>/dev/null || echo 0)
    if as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t "$TIMEOUT" \
      -o "-p $PG_PORT -k '$PG_SOCK'" >/dev/null; then
      break
    fi
    # The port can be taken between the probe and the postmaster's bind; try the next one.
    if [ -z "$PG_PORT_FIXED" ] && [ "$attempt" -lt 3 ] &&
      tail -c +"$((log_size + 1))" "$PG_LOG" 2>/dev/null | grep -q 'Address already in use'; then
      log "127.0.0.1:$PG_PORT was taken as PostgreSQL bound it; trying another port"
      PG_PORT=$((PG_PORT + 1))
      choose_port PG_PORT "" "$PG_PORT" HASIVU_TEST_PG_PORT
      continue
    fi
    tail -n 20 "$PG_LOG" >&2 2>/dev/null || true
    die "PostgreSQL did not start within ${TIMEOUT}s, see $PG_LOG"
  done
  pg_bootstrap
  local waited=0
  until pg_ready; do
    ((waited++ < TIMEOUT)) || die "PostgreSQL does not accept connections on 127.0.0.1:$PG_PORT"
    sleep 1
  done
  log "PostgreSQL started on 127.0.0.1:$PG_PORT (pid $(pg_pid))"
}

pg_pid() { head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || echo "?"; }

pg_stop() {
  if ! pg_running; then
    log "PostgreSQL not running"
    return 0
  fi
  local pid
  pid="$(pg_pid)"
  as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t "$TIMEOUT" >/dev/null ||
    die "pg_ctl stop failed for pid $pid"
  log "PostgreSQL stopped (pid $pid)"
}

# --- Redis ---

# Prints the PID of our redis-server if it runs; drops a stale pid file otherwise.
redis_pid() {
  [ -f "$REDIS_PID" ] || return 1
  local pid
  pid="$(tr -dc '0-9' <"$REDIS_PID")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ! is_zombie "$pid" &&
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == redis-server* ]]; then
    echo "$pid"
    return 0
  fi
  log "removing stale Redis pid file $REDIS_PID"
  rm -f "$REDIS_PID"
  return 1
}

redis_ready() {
  [ "$("$REDIS_CLI" -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
}

redis_start() {
  local pid
  if pid="$(redis_pid)"; then
    if redis_ready; then
      log "Redis already running on 127.0.0.1:$REDIS_PORT"
      return 0
    fi
    die "a Redis (pid $pid) runs but does not answer on 127.0.0.1:$REDIS_PORT" \
      "(started with another HASIVU_TEST_REDIS_PORT? run '$0 stop' first)"
  fi
  choose_port REDIS_PORT "$REDIS_PORT_FIXED" "$REDIS_PORT_BASE" HASIVU_TEST_REDIS_PORT
  [ -x "$REDIS_SERVER" ] || die "redis-server not found at $REDIS_SERVER (apt-get install redis-server)"
  mkdir -p "$REDIS_DIR"
  "$REDIS_SERVER" --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --daemonize yes --pidfile "$REDIS_PID" --logfile "$REDIS_LOG" --dir "$REDIS_DIR" ||
    die "redis-server failed to start, see $REDIS_LOG"
  local waited=0
  until redis_ready; do
    if ((waited++ >= TIMEOUT * 10)); then
      tail -n 20 "$REDIS_LOG" >&2 2>/dev/null || true
      die "Redis does not answer on 127.0.0.1:$REDIS_PORT within ${TIMEOUT}s, see $REDIS_LOG"
    fi
    sleep 0.1
  done
  log "Redis started on 127.0.0.1:$REDIS_PORT (pid $(redis_pid || echo '?'))"
}

redis_stop() {
  local pid
  if ! pid="$(redis_pid)"; then
    log "Redis not running"
    return 0
  fi
  kill -TERM "$pid"
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    ((waited++ < TIMEOUT * 10)) || die "Redis (pid $pid) did not stop within ${TIMEOUT}s"
    sleep 0.1
  done
  rm -f "$REDIS_PID"
  log "Redis stopped (pid $pid)"
}

# --- commands ---

cmd="${1:-}"
case "$cmd" in
  start)
    mkdir -p "$STATE_DIR"
    # The postgres OS user must be able to reach its data under the state dir.
    chmod a+rx "$STATE_DIR" 2>/dev/null || true
    pg_start
    record_ports
    redis_start
    record_ports
    print_env
    ;;
  stop)
    rc=0
    pg_stop || rc=1
    redis_stop || rc=1
    if [ "$rc" = 0 ]; then rm -f "$PORTS_FILE"; fi
    exit $rc
    ;;
  status)
    rc=0
    if pg_running && pg_ready; then
      log "PostgreSQL running on 127.0.0.1:$PG_PORT (pid $(pg_pid))"
    else
      log "PostgreSQL not running"
      rc=1
    fi
    if pid="$(redis_pid)" && redis_ready; then
      log "Redis running on 127.0.0.1:$REDIS_PORT (pid $pid)"
    else
      log "Redis not running"
      rc=1
    fi
    exit $rc
    ;;
  env)
    print_env
    ;;
  *)
    echo "usage: $0 start|stop|status|env" >&2
    exit 2
    ;;
esac
