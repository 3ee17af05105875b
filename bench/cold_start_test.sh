#!/bin/sh
# Checks hasivu-coldstart end to end on loopback. Usage: cold_start_test.sh PATH/TO/hasivu-coldstart
set -u
bin="$1"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
fails=0
passes=0

# expect NAME WANT_RC PATTERN -- ARGS...: runs the runner, checks exit code and that the combined
# output matches PATTERN (grep -E).
expect() {
  name="$1" want_rc="$2" pattern="$3"
  shift 4
  start=$(date +%s)
  "$bin" "$@" >"$out" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  if [ "$rc" -eq "$want_rc" ] && grep -Eq "$pattern" "$out"; then
    passes=$((passes + 1))
    echo "ok   $name (rc=$rc, ${took}s)"
  else
    fails=$((fails + 1))
    echo "FAIL $name: rc=$rc (want $want_rc), output must match /$pattern/:"
    sed 's/^/    /' "$out"
  fi
}

expect "measures the self-test server" 0 \
  '^\{"runs":3,"ok":3,"median_ms":[0-9.]+,.*"samples_ms":\[[0-9.]+,[0-9.]+,[0-9.]+\]\}$' -- \
  --runs 3 --port 0 --json --pause-ms 10 -- "$bin" --self-test-server --port '{port}'

expect "text report and a slow start" 0 'cold start over 2 runs: median [0-9.]+ ms' -- \
  --runs 2 --port 0 --pause-ms 10 -- "$bin" --self-test-server --port '{port}' --delay-ms 50

expect "command exits immediately" 1 'run 1: command exited with status 1 before answering' -- \
  --runs 5 --port 0 -- false

expect "command does not exist" 1 'run 1: command exited with status 127' -- \
  --runs 5 --port 0 -- /nonexistent/hasivu-binary

expect "port never opens" 1 'run 1: no HTTP/1.1 200 .* within 500 ms \(port never answered\)' -- \
  --runs 5 --port 0 --timeout-ms 500 -- sleep 30

expect "wrong status" 1 'within 500 ms \(last answer: HTTP/1.1 503' -- \
  --runs 5 --port 0 --timeout-ms 500 -- "$bin" --self-test-server --port '{port}' --status 503

expect "child ignoring SIGTERM is killed" 0 'ignored SIGTERM for 300 ms, sending SIGKILL' -- \
  --runs 1 --port 0 --stop-timeout-ms 300 -- "$bin" --self-test-server --port '{port}' --ignore-term

expect "bad arguments" 2 'bad value for --runs' -- --runs zero -- true
expect "no command" 2 'no command given' -- --runs 1

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
