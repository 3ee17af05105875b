#!/usr/bin/env bash
# The two commands of the README:
#   ./hasivu.sh run [serve flags...]  install, build (release) and serve on the embedded default
#   ./hasivu.sh test                  install, build and run every test, with PostgreSQL and Redis
#                                     started on loopback for the tests and stopped afterwards
set -euo pipefail
cd "$(dirname "$0")"
# ccache keys on paths relative to the checkout, so another clone of the repo reuses the cache.
export CCACHE_BASEDIR="$PWD"

usage() {
  echo "usage: $0 run [hasivu serve flags...] | test" >&2
  exit 2
}

[ $# -ge 1 ] || usage
command="$1"
shift
case "$command" in
  run)
    scripts/install-deps.sh
    cmake --preset release >/dev/null
    cmake --build --preset release --target hasivu
    exec build/release/app/hasivu serve "$@"
    ;;
  test)
    scripts/install-deps.sh
    exec scripts/test.sh "$@"
    ;;
  *)
    usage
    ;;
esac
