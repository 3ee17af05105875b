#!/usr/bin/env python3
"""Renders the report lines of tests/reliability/ (one JSON object per scenario run) as the
generated part of docs/reliability.md, and splices it between the report's markers
"<!-- generated: begin -->" and "<!-- generated: end -->" (the rest of the page is kept).

usage: render.py LINES COMMAND COMMIT REPORT
"""
import json
import sys

BEGIN = "<!-- generated: begin -->"
END = "<!-- generated: end -->"
WRITES = ("orders-create", "payments-verify", "rfid-verify-card")


def writes_table(w):
    """The writes of a settled campaign, acknowledged against found, one row a write function."""
    out = ["| write | acknowledged | found in the store | resent | failed | unsettled |",
           "|---|---|---|---|---|---|"]
    for name in WRITES:
        if name in w:
            x = w[name]
            out.append(f"| {name} | {x['acknowledged']} | {x['found']} | {x['resent']} | "
                       f"{x['failed']} | {x['unsettled']} |")
    out.append("")
    return out


def store_sentence(run):
    """Orders gained, replays, violations and the integrity check, as one sentence (no stop)."""
    w = run["writes"]
    return (f"Orders the store gained: {w['ordersGained']} (acknowledged: "
            f"{w.get('orders-create', {}).get('acknowledged', 0)}); replays not answered as the "
            f"first time: {run['replayMismatches']}; store violations: {w['violations']}; "
            f"{w['integrity']}")


def kill_table(run):
    req = run["requests"]
    out = []
    kills = run["kills"]
    down = sorted(k["downMs"] for k in kills)
    in_flight = sum(k["writesInFlight"] for k in kills)
    sent = sum(r["sent"] for r in req.values())
    out.append(f"**{run['backend']}**: {run['clients']} clients, {len(kills)} SIGKILLs "
               f"(writes in flight at the kill: {in_flight} in all), restart to ready: median "
               f"{down[len(down) // 2]:.0f} ms, worst {down[-1]:.0f} ms; {sent} requests in "
               f"{run['loadSeconds']:.1f} s ({sent / run['loadSeconds']:.0f} requests/s through "
               f"the kills).")
    out.append("")
    out.append("| function | sent | 2xx | not accepted | no answer | 503 | 5xx | other | p99 ms |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for name, r in sorted(req.items()):
        out.append(f"| {name} | {r['sent']} | {r['ok']} | {r['notAccepted']} | {r['noAnswer']} | "
                   f"{r['unavailable503']} | {r['serverError5xx']} | {r['otherStatus']} | "
                   f"{r['p99Ms']:.1f} |")
    out.append("")
    w = run["writes"]
    out.extend(writes_table(w))
    out.append(store_sentence(run) + ".")
    out.append("")
    return out


def drain_table(run):
    req = run["requestsUntilExit"]
    out = [f"**{run['backend']}**: {run['clients']} clients, `--drain-ms {run['drainMs']}`: "
           f"/readyz answered 503 {run['readyz503AfterMs']:.1f} ms after SIGTERM; the process "
           f"exited {run['exitCode']} after {run['exitAfterMs']:.0f} ms.", ""]
    out.append("| function | sent | 2xx | not accepted | no answer | 503 | 5xx | timed out |")
    out.append("|---|---|---|---|---|---|---|---|")
    for name, r in sorted(req.items()):
        out.append(f"| {name} | {r['sent']} | {r['ok']} | {r['notAccepted']} | {r['noAnswer']} | "
                   f"{r['unavailable503']} | {r['serverError5xx']} | {r['timedOut']} |")
    out.append("")
    w = run["writes"]
    acked = sum(w[n]["acknowledged"] for n in WRITES if n in w)
    found = sum(w[n]["found"] for n in WRITES if n in w)
    out.append(f"Writes acknowledged {acked}, found {found} (the turned-away ones sent to the "
               f"restarted server); replays not answered as the first time: "
               f"{run['replayMismatches']}; store violations: {w['violations']}; "
               f"{w['integrity']}.")
    out.append("")
    return out


def rolling_table(run):
    req = run["requests"]
    rolls = "; ".join(
        f"port {r['port']}: out of the front {r['frontOutAfterMs']:.0f} ms after SIGTERM, exited "
        f"{r['exitCode']} after {r['exitAfterMs']:.0f} ms, back {r['backAfterExitMs']:.0f} ms "
        f"after its exit" for r in run["restarts"])
    out = [f"**{run['backend']}**: {run['clients']} clients through a round-robin front following "
           f"/readyz, `--drain-ms {run['drainMs']}`, each process restarted in turn: {rolls}. "
           f"Requests sent while no process was ready: {run['chosenWithoutReady']}.", ""]
    out.append("| function | sent | 2xx | not accepted | no answer | 503 | 5xx | timed out | p99 ms |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for name, r in sorted(req.items()):
        out.append(f"| {name} | {r['sent']} | {r['ok']} | {r['notAccepted']} | {r['noAnswer']} | "
                   f"{r['unavailable503']} | {r['serverError5xx']} | {r['timedOut']} | "
                   f"{r['p99Ms']:.1f} |")
    out.append("")
    w = run["writes"]
    acked = sum(w[n]["acknowledged"] for n in WRITES if n in w)
    found = sum(w[n]["found"] for n in WRITES if n in w)
    out.append(f"Writes acknowledged {acked}, found {found}; replays not answered as the first "
               f"time: {run['replayMismatches']}; store violations: {w['violations']}; "
               f"{w['integrity']}.")
    out.append("")
    return out


def postgres_faults_table(run):
    out = [f"**{run['backend']}**: {run['clients']} clients, pool {run['poolSize']}, "
           f"`--request-deadline-ms {run['deadlineMs']}`, `--cache none` (every read reaches the "
           f"database); {run['rounds']} round(s) of the three faults, restart and black hole held "
           f"{run['faultHoldMs']} ms; {run['loadSeconds']:.0f} s of load; steal "
           f"{run['stealPercent']:.1f} %. Counts cover the fault and the 5 s after it.", ""]
    out.append("| fault | round, try | held ms | 2xx/s before | sent | 2xx | 503 | 503 without "
               "Retry-After | 5xx | no answer, timed out | max ms (deadline) | to ≥ 90 % of 2xx/s | "
               "backends before → after |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for f in run["faults"]:
        back = f"{f['recoveryMs'] / 1000:.1f} s" if f["recoveryMs"] >= 0 else "not in 5 s"
        out.append(f"| {f['fault']} | {f['round']}, {f['try']} | {f['faultMs']:.0f} | "
                   f"{f['baselineOkPerSecond']:.0f} | {f['sent']} | {f['ok']} | "
                   f"{f['unavailable']} | {f['unavailableWithoutRetryAfter']} | "
                   f"{f['serverError']} | {f['noAnswer'] + f['notAccepted']}, {f['timedOut']} | "
                   f"{f['maxLatencyMs']:.0f} ({f['deadlineMs']}) | {back} | "
                   f"{f['connectionsBefore']} → {f['connectionsAfter']} |")
    out.append("")
    w = run["writes"]
    out.extend(writes_table(w))
    out.append(store_sentence(run) +
               f"; the server's backends at the end: {run['connectionsAtEnd']}.")
    out.append("")
    return out


def redis_faults_table(run):
    def ms(x):
        return f"{x:.0f}" if x >= 0 else "not seen"

    def both(values):
        return " / ".join(ms(v) for v in values)

    out = [f"**{run['backend']}**, a pair of processes on one schema and one Redis (writes through "
           f"A, reads through both): {run['clients']} clients, {run['loadSeconds']:.0f} s of load "
           f"at {run['requestsPerSecond']:.0f} requests/s; steal {run['stealPercent']:.1f} %. "
           f"Each span runs from the fault to 1.5 s after both breakers closed again; the Redis "
           f"budget of a request is {run['redisBudgetMs']} ms (4 round trips of 100 ms pool wait + "
           f"200 ms connect + 100 ms command).", ""]
    out.append("| span | held ms | requests/s | sent | 2xx | 503 | 5xx | other | "
               "reads p50 / p99 / max ms | writes p50 / p99 / max ms |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    spans = [dict(run["baseline"], fault="no fault", faultMs=-1)] + run["phases"]
    for f in spans:
        q = f["requests"]
        r, w = f["reads"], f["writes"]
        held = f"{f['faultMs']:.0f}" if f["faultMs"] >= 0 else "–"
        out.append(f"| {f['fault']} | {held} | {q['requestsPerSecond']:.0f} | {q['sent']} | "
                   f"{q['ok']} | {q['unavailable503']} | {q['serverError5xx']} | "
                   f"{q['otherStatus'] + q['notAccepted'] + q['noAnswer'] + q['timedOut']} | "
                   f"{r['p50Ms']:.2f} / {r['p99Ms']:.1f} / {r['maxMs']:.0f} | "
                   f"{w['p50Ms']:.0f} / {w['p99Ms']:.0f} / {w['maxMs']:.0f} |")
    out.append("")
    out.append("| fault | breaker open after (A / B) ms | closed after Redis returned (A / B) ms | "
               "openings logged (A / B) | probe reads | stale, breaker closed | "
               "stale, breaker open (worst age ms) |")
    out.append("|---|---|---|---|---|---|---|")
    for f in run["phases"]:
        p = f["probe"]
        logged = " / ".join(str(x["opened"]) for x in f["logLines"])
        out.append(f"| {f['fault']} | {both(f['breakerOpenedMs'])} | "
                   f"{both(f['breakerClosedMs'])} | {logged} | {p['reads']} | "
                   f"{p['staleBreakerClosed']} | {p['staleBreakerOpen']} "
                   f"({p['worstStaleOpenMs']:.0f}) |")
    out.append("")
    w = run["writes"]
    out.extend(writes_table(w))
    p = run["probe"]
    out.append(store_sentence(run) + f". Probe: {p['reads']} reads, {p['failed']} failed, "
               f"{p['staleBreakerClosed']} stale with the breaker closed.")
    out.append("")
    return out


def main():
    lines_path, command, commit, report = sys.argv[1:5]
    runs = [json.loads(l) for l in open(lines_path) if l.strip()]
    out = [BEGIN, "", f"Produced by `{command}` at commit {commit}.", ""]
    for run in runs:
        if run.get("scenario") == "kill -9 mid-write":
            out.extend(["### kill -9 mid-write", ""] + kill_table(run))
        if run.get("scenario") == "SIGTERM drain":
            out.extend(["### SIGTERM drain", ""] + drain_table(run))
        if run.get("scenario") == "rolling restart":
            out.extend(["### Rolling restart of a pair", ""] + rolling_table(run))
        if run.get("scenario") == "PostgreSQL faults":
            out.extend(["### PostgreSQL faults", ""] + postgres_faults_table(run))
        if run.get("scenario") == "redis faults":
            out.extend(["### Redis faults", ""] + redis_faults_table(run))
    steal = [r["steal"] for r in runs if "steal" in r]
    if steal:
        out.append("Steal (`/proc/stat`, ticks of 10 ms, all CPUs) during each binary: " +
                   ", ".join(f"{x['binary']} {x['ticks']}" for x in steal) + ".")
        out.append("")
    out.append(END)
    page = open(report).read()
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    sys.stdout.write(head + "\n".join(out) + tail)


if __name__ == "__main__":
    main()
