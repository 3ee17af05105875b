#!/usr/bin/env bash
# Checks that the Node.js baseline answers as hasivu does (check.js): installs its packages first
# when missing (install.sh, ~1 min), then runs the comparison. A CTest test
# (node_baseline_check, label "node") and a step before comparing numbers by hand.
#
# usage: bench/node-baseline/check.sh <hasivu binary> [work dir]   (default /tmp/hasivu-node-check)
# exit:  0 every answer matched, 1 a difference (printed), 2 it could not run
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -lt 1 ]; then
  echo "usage: $0 <hasivu binary> [work dir]" >&2
  exit 2
fi
hasivu="$(realpath "$1")"
work="${2:-/tmp/hasivu-node-check}"
"$here/install.sh" || exit 2
exec node "$here/check.js" "$hasivu" "$work"
