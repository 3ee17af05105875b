#!/usr/bin/env bash
# Fuzzes the Accept-Encoding parser and the entity-tag helpers (src/compress/negotiation.cc)
# with libFuzzer under AddressSanitizer + UndefinedBehaviorSanitizer, for a bounded time.
# Exits non-zero on a crash, a sanitizer report or a broken invariant (the reproducer is left
# in the work folder and named in the output).
#
# usage: scripts/fuzz.sh [work dir]        (default build/fuzz)
#   env: HASIVU_FUZZ_SECONDS  total run time (default 30)
#        HASIVU_FUZZ_CXX      compiler (default clang++; needs libclang-rt, see install-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-build/fuzz}"
seconds="${HASIVU_FUZZ_SECONDS:-30}"
cxx="${HASIVU_FUZZ_CXX:-clang++}"

command -v "$cxx" >/dev/null || { echo "fuzz.sh: $cxx is required (apt-get install clang)" >&2; exit 1; }
case "$seconds" in ''|*[!0-9]*) echo "fuzz.sh: HASIVU_FUZZ_SECONDS must be a whole number" >&2; exit 2 ;; esac

mkdir -p "$work/corpus" "$work/artifacts"
binary="$work/negotiation_fuzz"
echo "== compile $binary"
"$cxx" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I src src/compress/negotiation_fuzz.cc src/compress/negotiation.cc -o "$binary"

# The corpus grows across runs in $work/corpus; the committed seeds start it.
cp -n src/compress/fuzz_corpus/* "$work/corpus/" 2>/dev/null || true
echo "== run for ${seconds} s"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$binary" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" src/compress/fuzz_corpus
echo "== fuzz: no crash in ${seconds} s"
