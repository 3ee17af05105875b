#!/usr/bin/env bash
# Installs the Node.js baseline's packages from its lock file (`npm ci`) when they are missing or
# were installed from another lock; ~1 min, as better-sqlite3 is built from source against the
# machine's Node.js headers (no download from outside the npm registry). Used by check.sh and the
# bench scripts.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for tool in node npm; do
  command -v "$tool" >/dev/null || {
    echo "node-baseline/install.sh: $tool not found (scripts/install-deps.sh)" >&2
    exit 2
  }
done
stamp="$here/node_modules/.lock-sha256"
want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
# node-gyp would fetch headers from nodejs.org; the packaged ones are here.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
echo "$want" >"$stamp"
