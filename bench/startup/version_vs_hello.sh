#!/usr/bin/env bash
# `hasivu version` against a C hello world linked against the same shared libraries (issue 18's
# aim: within 2x): the hello world is built here with every DT_NEEDED entry of the hasivu binary,
# in the same order, so the dynamic loader does the same loading and binding for both; what is
# left is hasivu's own start (static initialisers, main). Prints user-space instructions
# (callgrind, every thread) and wall time (hyperfine: warm-up 5, then BENCH_RUNS runs of each,
# twice over, so a drift between the two calls shows) and the ratios.
#
# usage: bench/startup/version_vs_hello.sh [build dir]   (default build/ci)
#   env: BENCH_RUNS  runs per hyperfine call (default 50)
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build/ci}"
runs="${BENCH_RUNS:-50}"
bin="$build/app/hasivu"
work="$(mktemp -d /tmp/hasivu-hello.XXXXXX)"
trap 'rm -rf "$work"' EXIT
libs=()
while read -r soname; do libs+=("-l:$soname"); done < <(readelf -d "$bin" |
  sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p')
cat >"$work/hello.c" <<'C'
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
C
# --no-as-needed: every library stays a dependency although hello uses none of them.
gcc -O2 -o "$work/hello" "$work/hello.c" -Wl,--no-as-needed "${libs[@]}"
echo "hello world linked against the ${#libs[@]} shared libraries hasivu needs (readelf -d)"
count() {
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" --dump-instr=no "$@" \
    >/dev/null 2>&1
  awk '/^totals:/ {print $2}' "$work/cg.out"
  rm -f "$work/cg.out"
}
a=$(count "$bin" version)
b=$(count "$work/hello")
echo "instructions: hasivu version $a, hello $b, ratio $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a / b}')"
for round in 1 2; do
  hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/h$round.json" \
    "$bin version" "$work/hello" >/dev/null 2>&1
  python3 - "$work/h$round.json" "$round" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
a, b = r[0]["median"] * 1000, r[1]["median"] * 1000
print(f"wall, round {sys.argv[2]}: hasivu version {a:.2f} ms, hello {b:.2f} ms (medians of "
      f"{len(r[0]['times'])}), ratio {a / b:.2f}")
PY
done
