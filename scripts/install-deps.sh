#!/usr/bin/env bash
# Installs every Debian 12 package that building, running, testing and benchmarking hasivu needs.
# Idempotent: a second run only checks that the packages are present.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git clang-format clang libclang-rt-14-dev
  # libraries
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev libpq-dev libhiredis-dev
  libbrotli-dev libzstd-dev zlib1g-dev
  libsodium-dev libssl-dev libcrypt-dev
  libhowardhinnant-date-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # services the tests start on loopback, and tools the tests and benchmarks use
  postgresql postgresql-client redis-server redis-tools sqlite3 tzdata
  curl wrk hyperfine procps python3
  # bench/instructions_vs.sh counts instructions per request with callgrind
  valgrind
  # reliability scenario 5 puts the SQLite store on ext4 on a loop device (mkfs.ext4, e2fsck, mount)
  e2fsprogs mount
  # the /dashboard page: uPlot comes from npm at build time (web/dashboard/package-lock.json); its
  # test drives Debian's chromium headless over the DevTools protocol from python3
  nodejs chromium python3-websocket fonts-dejavu-core
)
# Debian's npm only where no npm is on PATH: a nodejs from elsewhere (NodeSource's bundles npm)
# conflicts with Debian's npm package.
if ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Packaged services must not start system-wide instances: the tests start their own on loopback.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
