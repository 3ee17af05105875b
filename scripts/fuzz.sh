#!/usr/bin/env bash
# Builds every libFuzzer harness (the `fuzz` CMake preset: clang, AddressSanitizer +
# UndefinedBehaviorSanitizer; the harnesses are listed in cmake/fuzz.cmake's fuzz_targets.txt)
# and runs each for a bounded time, one after the other, from its checked-in seed corpus plus
# what earlier runs in the same work folder found. Prints, per harness, the inputs executed and
# the coverage reached (libFuzzer's cov: edges, ft: features) and the corpus size; exits non-zero
# on a crash, a sanitizer report, a timeout, an out-of-memory or a broken invariant (the
# reproducer is left in <work>/artifacts/<harness>/ and named in the output).
#
# usage: scripts/fuzz.sh [work dir] [harness...]   (default build/fuzz; all harnesses)
#   env: HASIVU_FUZZ_SECONDS  run time of EACH harness (default 10; longer runs: 120 or more)
#        HASIVU_FUZZ_KEEP_CORPUS  1 (default): each harness goes on from <work>/corpus/<harness>,
#                             what earlier runs found; 0: from its seeds alone, in a folder
#                             emptied first. libFuzzer replays a whole corpus before its clock
#                             starts, so a corpus kept across runs makes each run longer; the
#                             test command uses 0 for a bounded time.
#        HASIVU_FUZZ_JOBS     build parallelism (default: the number of cores)
# A crash is reproduced with `<work>/fuzz/<harness> <reproducer>`.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-build/fuzz}"
shift || true
seconds="${HASIVU_FUZZ_SECONDS:-10}"
keep="${HASIVU_FUZZ_KEEP_CORPUS:-1}"
jobs="${HASIVU_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"

command -v clang++ >/dev/null || {
  echo "fuzz.sh: clang++ is required (scripts/install-deps.sh: clang, libclang-rt-14-dev)" >&2
  exit 1
}
case "$seconds" in '' | *[!0-9]* | 0)
  echo "fuzz.sh: HASIVU_FUZZ_SECONDS must be a whole number > 0" >&2
  exit 2
  ;;
esac

echo "== build the fuzz harnesses ($work)"
cmake --preset fuzz -B "$work" >/dev/null
cmake --build "$work" -j "$jobs" --target fuzz

list="$work/fuzz_targets.txt"
[ -s "$list" ] || { echo "fuzz.sh: $list lists no harness" >&2; exit 1; }
only=("$@")

summary=()
failed=()
while read -r binary seeds max_len; do
  name="$(basename "$binary")"
  if [ ${#only[@]} -gt 0 ] && ! printf '%s\n' "${only[@]}" | grep -qx "$name"; then continue; fi
  corpus="$work/corpus/$name"
  if [ "$keep" = 0 ]; then
    corpus="$work/corpus-fresh/$name"
    rm -rf "$corpus"
  fi
  artifacts="$work/artifacts/$name"
  log="$work/logs/$name.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  echo "== fuzz $name for ${seconds} s (seeds: $seeds)"
  status=0
  # New inputs go to $corpus; the committed seeds (read-only here) start it.
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    "$work/$binary" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$corpus" "$seeds" >"$log" 2>&1 || status=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  last="$(grep -E '(DONE|pulse|NEW|REDUCE|INITED).*cov: ' "$log" | tail -1 || true)"
  cov="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")"
  ft="$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")"
  corp="$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$last")"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  line="$(printf '%-22s executions %-10s exec/s %-7s cov %-6s ft %-7s corpus %s' "$name" \
    "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")"
  summary+=("$line")
  if [ "$status" -ne 0 ]; then
    failed+=("$name")
    echo "fuzz.sh: $name FAILED (exit $status); the end of $log:" >&2
    tail -40 "$log" >&2
  else
    echo "$line"
  fi
done <"$list"

echo "== fuzz summary (${seconds} s each; cov: edges, ft: features, corpus: inputs/bytes)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failed: ${failed[*]} (reproducers in $work/artifacts/)" >&2
  exit 1
fi
echo "== fuzz: no crash, no sanitizer report, no broken invariant"
