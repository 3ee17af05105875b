#!/usr/bin/env bash
# Compares two builds of hasivu on bench/functions.sh's measurements, for "numbers within noise
# of before" (a refactor, a dependency bump): runs A and B alternately, A B A B ... (BENCH_REPS
# pairs), in the same minutes, on the same seeded medium SQLite database (made once, by A's binary;
# every run works on a fresh copy with a fresh server, as functions.sh does).
#
# Each run is one bench/functions.sh with the build's HASIVU_BUILD_DIR and without the parts that
# are not per-endpoint measurements (BENCH_NODE=0: no Node.js baseline; BENCH_LOGINS=0: no
# sequential logins; BENCH_RFID_ROUNDS=1 unless set). A run measures: rfid-verify first scans
# (paced, 5 s), orders-list, menus-daily, users-get /users/me and /users/{child}, rfid-verify
# repeat scans (each peak 10 s and paced 15 s), rfid-verify first scans peak (2 s, on its own
# fresh copy): 132 s of wrk, about 2.3 minutes a run, 14 minutes for three pairs. Printed per
# function: peak requests/s, paced p50 and p99, server CPU per request at peak, the host's CPU
# steal and the CPU other processes of this machine used (% of all its CPU time, from /proc/stat
# before and after each wrk run) for every run, then per build the median and spread (min-max),
# and the ratio B/A of the medians with the range of the pairwise ratios B_i/A_i.
#
# usage: bench/functions_vs.sh <build dir A> <build dir B> [work dir]
#          (default work dir /tmp/hasivu-bench-vs; a build dir holds app/hasivu, e.g. build/release
#          of a worktree: `git worktree add --detach /tmp/old <commit>`, then in it
#          `cmake --preset release && cmake --build --preset release --target hasivu`)
#   env: BENCH_REPS         pairs A B (default 3)
#        BENCH_PORT         the servers' port, one at a time (default 18091)
#        BENCH_RFID_ROUNDS  first-scan paced rounds per run (default 1; each after the first
#                           costs a fresh copy and server)
#        BENCH_PEAK_SECS, BENCH_PACED_SECS, BENCH_FIRST_SCANS_SECS, BENCH_FIRST_SCANS_PEAK_SECS,
#        BENCH_CACHE, BENCH_ARGON2_*: passed to functions.sh (see there); shorter durations are
#                           for trying this script, not for numbers
#   out: the report on stdout; <work dir>/logs/<pair>-<A|B>.log is each run's functions.sh output
#        (every wrk command and result); <work dir>/results.tsv every wrk run of every run.
# Loopback only; bounded durations; the run in progress (and so its server and wrk) is stopped by
# its PID on exit or interrupt.
set -euo pipefail
usage() {
  echo "usage: $0 <build dir A> <build dir B> [work dir]" >&2
  exit 2
}
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
# Paths as the caller gave them, before moving to the repository root.
build_a=$(realpath -e "$1") || usage
build_b=$(realpath -e "$2") || usage
work=$(realpath -m "${3:-/tmp/hasivu-bench-vs}")
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
reps="${BENCH_REPS:-3}"
port="${BENCH_PORT:-18091}"
rfid_rounds="${BENCH_RFID_ROUNDS:-1}"
for build in "$build_a" "$build_b"; do
  [ -x "$build/app/hasivu" ] || { echo "functions_vs.sh: no $build/app/hasivu" >&2; exit 1; }
done
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || { echo "functions_vs.sh: BENCH_REPS must be 1 or more" >&2; exit 1; }
mkdir -p "$work/logs"
results="$work/results.tsv"
rm -f "$results"

run_pid=""
cleanup() {
  # functions.sh's own exit trap stops its wrk and its server; 30 s covers a server's stop_pid.
  if [ -n "$run_pid" ]; then stop_pid "$run_pid" 30; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# describe BUILD: the commit of the tree the build folder is in and the last one that changed the
# code (the binary carries no commit of its own), the binary's time and checksum.
describe() {
  local bin="$1/app/hasivu" top commit="not in a git tree" built
  built=$(date -r "$bin" +%s)
  if top=$(git -C "$1" rev-parse --show-toplevel 2>/dev/null); then
    local code=(src app cmake CMakeLists.txt CMakePresets.json) last last_time
    read -r last last_time <<<"$(git -C "$top" log -1 --format='%h %ct' -- "${code[@]}")"
    commit="tree at $(git -C "$top" rev-parse --short HEAD), code last changed in $last"
    if [ "$last_time" -gt "$built" ]; then
      commit="$commit (WARNING: after the binary was built; rebuild it)"
    fi
    git -C "$top" diff --quiet HEAD -- "${code[@]}" || commit="$commit (+ uncommitted changes to the code)"
  fi
  echo "$bin, $commit, built $(date -d "@$built" '+%F %T'), sha256 $(sha256sum "$bin" | cut -c1-12)"
}
all_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
steal_ticks() { awk '/^cpu /{print $9}' /proc/stat; }

echo "# hasivu A/B: bench/functions.sh's measurements, $reps pair(s) A B, $(date '+%F %T %Z')"
echo
echo "- machine: $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
echo "- A: $(describe "$build_a")"
echo "- B: $(describe "$build_b")"
echo "- database: medium SQLite, seeded once in $work/seed (by A's binary when not already there" \
  "for today), a fresh copy and a fresh server for every run"
echo

seed_mark=""
# run_one PAIR A|B BUILD: one functions.sh run; its wrk rows appended to $results.
run_one() {
  local log="$work/logs/$1-$2.log" started steal_before all_before load
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "functions_vs.sh: something already listens on 127.0.0.1:$port (set BENCH_PORT)" >&2
    exit 1
  fi
  started=$(date +%s)
  load=$(cut -d' ' -f1 /proc/loadavg)
  steal_before=$(steal_ticks)
  all_before=$(all_ticks)
  HASIVU_BUILD_DIR="$3" BENCH_PORT="$port" BENCH_NODE=0 BENCH_LOGINS=0 \
    BENCH_RFID_ROUNDS="$rfid_rounds" bench/functions.sh "$work" >"$log" 2>&1 &
  run_pid=$!
  wait "$run_pid" || {
    run_pid=""
    tail -n 20 "$log" >&2
    echo "functions_vs.sh: run $1 $2 failed (log: $log)" >&2
    exit 1
  }
  run_pid=""
  local stolen=$(($(steal_ticks) - steal_before)) all=$(($(all_ticks) - all_before))
  echo "- run $1 $2: $(($(date +%s) - started)) s, load average $load at the start, steal" \
    "$(python3 -c "print(f'{100 * $stolen / max($all, 1):.1f}')") % over the whole run; log $log"
  [ -s "$results" ] || printf 'pair\tbuild\t%s\n' "$(head -n 1 "$work/out/results.tsv")" >"$results"
  awk -v pair="$1" -v build="$2" 'NR > 1 { print pair "\t" build "\t" $0 }' \
    "$work/out/results.tsv" >>"$results"
  # A reseed between runs (the school's day changed) would compare different databases.
  local mark
  mark=$(stat -c %Y "$work/seed/done")
  if [ -n "$seed_mark" ] && [ "$mark" != "$seed_mark" ]; then
    echo "  WARNING: the database was seeded anew before this run (a new day in the school's zone):" \
      "runs before it used another database"
  fi
  seed_mark="$mark"
}

echo "## runs"
echo
for pair in $(seq 1 "$reps"); do
  run_one "$pair" A "$build_a"
  run_one "$pair" B "$build_b"
done
echo

python3 - "$results" "$reps" <<'PY'
import collections, csv, statistics, sys

path, reps = sys.argv[1], int(sys.argv[2])

def ms(text):
    """wrk's latency ("850.00us", "1.29ms", "1.02s", "1.50m") in milliseconds."""
    for unit, factor in (("us", 1e-3), ("ms", 1.0), ("s", 1e3), ("m", 6e4)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    raise ValueError(f"unknown latency {text!r}")

rows = collections.OrderedDict()  # (label, run) -> {"A": [per pair], "B": [...]}
with open(path, newline="") as f:
    for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
        every = max(int(r["all ticks"]), 1)
        others = int(r["busy ticks"]) - int(r["server ticks"]) - int(r["wrk ticks"])
        figures = {
            "requests/s": float(r["requests/s"]),
            "p50 ms": ms(r["p50"]),
            "p99 ms": ms(r["p99"]),
            "non-2xx %": 100 * int(r["non-2xx"]) / max(int(r["requests"]), 1),
            "server CPU us/request": float(r["cpu us/request"]),
            "steal %": 100 * int(r["steal ticks"]) / every,
            "other processes' CPU %": max(0, 100 * others / every),
        }
        rows.setdefault((r["label"], r["run"]), {"A": [], "B": []})[r["build"]].append(figures)

# The figures of each kind of run, then the answers other than 2xx (only when a run had any: a
# check that both builds answer alike), the steal and the other processes' CPU: no ratio for these.
shown = {"peak": ["requests/s", "server CPU us/request"], "paced": ["p50 ms", "p99 ms"]}
ratioed = {"requests/s", "server CPU us/request", "p50 ms", "p99 ms"}

def fmt(name, v):
    if name in ("requests/s", "server CPU us/request"):
        return f"{v:,.0f}".replace(",", " ")
    if name in ("steal %", "other processes' CPU %", "non-2xx %"):
        return f"{v:.1f}"
    return f"{v:.2f}"

runs = " | ".join(f"run {i}" for i in range(1, reps + 1))
print("## per function")
print()
print("B/A: the ratio of the medians, and in brackets the range of the ratios pair by pair "
      "(B of pair i over A of pair i). Above 1 is better for requests/s, worse for the rest.")
current = None
for (label, run), builds in rows.items():
    if label != current:
        current = label
        print()
        print(f"### {label}")
        print()
        print(f"| run | figure | build | {runs} | median | min–max | B/A | B's median within A's min–max |")
        print("|---|---|---|" + "---|" * reps + "---|---|---|---|")
    names = list(shown.get(run, ["requests/s", "p99 ms"]))
    if any(r["non-2xx %"] for b in builds.values() for r in b):
        names.append("non-2xx %")
    names += ["steal %", "other processes' CPU %"]
    for n, name in enumerate(names):
        values = {b: [r[name] for r in builds[b]] for b in "AB"}
        med = {b: statistics.median(v) if v else None for b, v in values.items()}
        for b in "AB":
            v = values[b]
            cells = [fmt(name, x) for x in v] + [""] * (reps - len(v))
            spread = f"{fmt(name, min(v))}–{fmt(name, max(v))}" if v else ""
            ratio = inside = ""
            if b == "B" and name in ratioed and med["A"] and med["B"] is not None:
                pairs = [y / x for x, y in zip(values["A"], values["B"]) if x]
                ratio = f"{med['B'] / med['A']:.3f}"
                if len(pairs) > 1:
                    ratio += f" ({min(pairs):.3f}–{max(pairs):.3f})"
                inside = "yes" if min(values["A"]) <= med["B"] <= max(values["A"]) else "no"
            first = (run if n == 0 else "", name) if b == "A" else ("", "")
            print(f"| {first[0]} | {first[1]} | {b} | " + " | ".join(cells) +
                  f" | {fmt(name, med[b]) if v else ''} | {spread} | {ratio} | {inside} |")
PY
echo
echo "peak = \`wrk -t1 -c32 -d${BENCH_PEAK_SECS:-10}s --latency\`, paced =" \
  "\`BENCH_RATE=1000 wrk -t1 -c10 -d${BENCH_PACED_SECS:-15}s --latency -s bench/lua/paced.lua\`" \
  "(rfid-verify first scans: paced ${BENCH_FIRST_SCANS_SECS:-5} s, peak ${BENCH_FIRST_SCANS_PEAK_SECS:-2} s)," \
  "against \`hasivu serve --threads 1 --cache ${BENCH_CACHE:-none}\` on loopback; run i of A and" \
  "run i of B are pair i, A first. server CPU = the server's user + system time over the wrk run" \
  "divided by the requests completed. steal % = CPU time the host took from this machine over" \
  "the wrk run, as a share of all CPU time of the machine (every core) in that time; other" \
  "processes' CPU % = user and system time of the processes other than the server and wrk (other" \
  "work on this machine: builds, tests), the same way. Both take CPU from a run; only the host's" \
  "shows as steal. non-2xx % = answers other than 2xx over the requests: rfid-verify's by design" \
  "(409 repeat scan, 404 no order today, 422 inactive or expired card); both builds should show" \
  "about the same. The last column is a first look only: with a few runs a range is a rough" \
  "measure of noise. The exact commands are in each run's log."
