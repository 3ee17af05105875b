#!/usr/bin/env bash
# The long form of reliability scenario 5 (docs/reliability.md, "5. Disk full and read-only"):
# reliability_disk_test on each way of failing the SQLite store's disk (ext4 on a loop device:
# full, then read-only; tmpfs: full; the file size limit: full), with longer faults and more load
# than the test command gives it; prints the section's tables (markdown) and the steal.
# Needs root for the mounts (the test falls back to the file size limit where mounting is
# refused: such a run reports the disk it used).
#
# usage: bench/reliability/disk.sh [build dir]   (default build/ci)
#   env: HASIVU_RELIABILITY_DISKS     disks to run (default "ext4 tmpfs fsize")
#        HASIVU_RELIABILITY_FAULT_MS  length of each fault (default 10000)
#        HASIVU_RELIABILITY_CLIENTS   clients (default 32)
#        HASIVU_RELIABILITY_WRITES    writes prepared per write function (default 1000)
#        HASIVU_RELIABILITY_REPORT    also append the report lines there (bench/reliability.sh)
# Loopback only; the server each run starts it stops by its PID, and it unmounts what it mounted.
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build/ci}"
disks="${HASIVU_RELIABILITY_DISKS:-ext4 tmpfs fsize}"
export HASIVU_RELIABILITY_FAULT_MS="${HASIVU_RELIABILITY_FAULT_MS:-10000}"
export HASIVU_RELIABILITY_CLIENTS="${HASIVU_RELIABILITY_CLIENTS:-32}"
export HASIVU_RELIABILITY_WRITES="${HASIVU_RELIABILITY_WRITES:-1000}"
export HASIVU_BINARY="$PWD/$build/app/hasivu"
[ -x "$HASIVU_BINARY" ] || { echo "disk.sh: build first: $HASIVU_BINARY" >&2; exit 2; }

work="$(mktemp -d /tmp/hasivu-disk-bench.XXXXXX)"
outer_report="${HASIVU_RELIABILITY_REPORT:-}"
export HASIVU_RELIABILITY_REPORT="$work/report.jsonl"
failed=0
# steal and all CPU time (ticks), to give the steal as a share of the run's CPU time.
cpu_ticks() { awk '/^cpu /{t = 0; for (i = 2; i <= NF; i++) t += $i; print $9, t}' /proc/stat; }
read -r steal_before total_before < <(cpu_ticks)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)
for disk in $disks; do
  echo "== reliability_disk_test on $disk (fault ${HASIVU_RELIABILITY_FAULT_MS} ms," \
    "clients $HASIVU_RELIABILITY_CLIENTS, writes $HASIVU_RELIABILITY_WRITES per function)" >&2
  if ! HASIVU_RELIABILITY_DISK="$disk" "$build/tests/reliability/reliability_disk_test" \
    >"$work/$disk.log" 2>&1; then
    failed=1
    grep -E "Failure|store:|replay:|a write met|probe" "$work/$disk.log" | head -20 >&2 || true
  fi
done
read -r steal_after total_after < <(cpu_ticks)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(($(date +%s) - start))
[ -z "$outer_report" ] || cat "$work/report.jsonl" >>"$outer_report"

python3 - "$work/report.jsonl" "$((steal_after - steal_before))" \
  "$((total_after - total_before))" "$elapsed" "$load_before" "$load_after" <<'EOF'
import json, sys

lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| disk | fault | window s | writes answered | 2xx | 503 with the code | other | "
      "reads answered | not 200 | reads/s | reads p99 ms | /healthz, /readyz 200 | "
      "logins 503 | first write acknowledged after, ms | refused writes settled after, ms | "
      "down for the repair, ms |")
print("|" + "---|" * 16)
for line in lines:
    for p in line["phases"]:
        reads = sum(r["sent"] for r in p["reads"].values())
        ok = sum(r["ok"] for r in p["reads"].values())
        window = p["windowMs"] / 1000
        print(f"| {line['disk']} | {p['fault']} ({p['code']}) | {window:.1f} | "
              f"{p['writesAnswered']} | {p['writesAcknowledged']} | {p['writesRefused503']} | "
              f"{p['writesOther']} | {reads} | {reads - ok} | {ok / window:.0f} | "
              f"{p['readsP99Ms']:.1f} | {p['healthzOk']}/{p['probes']}, "
              f"{p['readyzOk']}/{p['probes']} | {p['loginRefused503']}/{p['probes']} | "
              f"{p.get('firstWriteAckMs', float('nan')):.0f} | "
              f"{p.get('refusedSettledMs', float('nan')):.0f} | "
              f"{p['downMs'] if p['fault'] == 'read-only' else 0:.0f} |")
print()
print("| disk | clients | requests | 5xx but 503 | timed out | write | acknowledged | found | "
      "resent | failed | unsettled | replays not as the first time | integrity |")
print("|" + "---|" * 13)
for line in lines:
    requests = sum(t["sent"] for t in line["requests"].values())
    bad = sum(t["serverError5xx"] for t in line["requests"].values())
    timed_out = sum(t["timedOut"] for t in line["requests"].values())
    w = line["writes"]
    for function in ("orders-create", "payments-verify", "rfid-verify-card"):
        f = w[function]
        print(f"| {line['disk']} | {line['clients']} | {requests} | {bad} | {timed_out} | "
              f"{function} | {f['acknowledged']} | {f['found']} | {f['resent']} | "
              f"{f['failed']} | {f['unsettled']} | {line['replayMismatches']} | "
              f"{w['integrity']} |")
print()
steal, total = int(sys.argv[2]), int(sys.argv[3])
print(f"{sys.argv[4]} s in all; steal {steal} of {total} CPU ticks "
      f"({100 * steal / max(total, 1):.2f} %, /proc/stat); load average {sys.argv[5]} at the "
      f"start, {sys.argv[6]} at the end")
EOF
echo "(logs in $work)" >&2
exit "$failed"
