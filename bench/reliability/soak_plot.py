#!/usr/bin/env python3
"""Renders the soak (reliability scenario 6, tests/reliability/soak_test.cc): one SVG of small
plots per configuration from the samples, the samples as CSV, and the tables of section "6. Soak"
of docs/reliability.md, spliced between "<!-- soak: begin -->" and "<!-- soak: end -->" (the rest
of the page is kept). Python 3 standard library only.

usage: soak_plot.py REPORT_LINES SAMPLES COMMAND COMMIT OUT_DIR REPORT
  REPORT_LINES  the report lines of the runs (HASIVU_RELIABILITY_REPORT; lines of other
                scenarios are ignored)
  SAMPLES       the samples (HASIVU_SOAK_SAMPLES): {"backend", "t", "values"} per line
  OUT_DIR       where soak-<backend>.svg and soak-<backend>.csv go (docs/reliability)
"""
import html
import json
import os
import sys

BEGIN = "<!-- soak: begin -->"
END = "<!-- soak: end -->"
NAMES = {"sqlite": "SQLite + in-process cache", "postgresql": "PostgreSQL + Redis"}

# Panels: title, unit divisor, unit name, and the series drawn (by name before any labels).
PANELS = [
    ("Resident memory", 1048576, "MiB", ["rss_bytes", "rss_less_engine_bytes", "rss_anon_bytes",
                                         "rss_file_bytes"]),
    ("SQLite's heap (page caches)", 1048576, "MiB", ["hasivu_store_engine_memory_bytes"]),
    ("Live heap (mallinfo2)", 1048576, "MiB", ["hasivu_process_heap_in_use_bytes",
                                                "heap_less_engine_and_ring_bytes"]),
    ("Descriptors and threads", 1, "", ["fds", "threads"]),
    ("Pool connections", 1, "", ["hasivu_database_pool_size", "hasivu_database_pool_in_use",
                                 "hasivu_cache_redis_pool_connections"]),
    ("Open HTTP connections", 1, "", ["hasivu_http_open_connections"]),
    ("Cache entries", 1, "", ["hasivu_cache_keys"]),
    ("Cache bytes", 1048576, "MiB", ["hasivu_cache_bytes"]),
    ("Queues (depth)", 1, "", ["hasivu_access_log_queued_lines", "hasivu_emf_queued_lines",
                               "hasivu_http_offload_queued", "hasivu_hash_queue_in_use"]),
    ("Monitor's windows", 1024, "KiB", ["hasivu_monitor_window_bytes"]),
    ("Answered per second", 1, "/s", ["answered_per_second"]),
]
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]


def base(key):
    return key.split("{", 1)[0]


def short_label(key):
    """rss_bytes, hasivu_cache_keys{tier="memory"} -> rss, cache_keys memory."""
    name = base(key)
    for prefix in ("hasivu_", "database_", "http_"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    name = name.replace("_bytes", "").replace("_lines", "")
    if "{" in key:
        labels = key[key.index("{") + 1:-1]
        values = [part.split("=", 1)[1].strip('"') for part in labels.split(",") if "=" in part]
        name += " " + "/".join(values)
    return name


def nice_max(v):
    if v <= 0:
        return 1
    step = 10 ** len(str(int(v))) / 10
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * step:
            return m * step
    return 10 * step


def panel_svg(x0, y0, w, h, title, divisor, unit, series, t_max, window_from):
    """One plot: series is [(label, [(t, v)])]. Returns SVG elements."""
    out = []
    left, bottom = 48, 22
    pw, ph = w - left - 8, h - bottom - 26
    px, py = x0 + left, y0 + 20
    vmax = max((v for _, pts in series for _, v in pts), default=0) / divisor
    top = nice_max(vmax * 1.05)
    out.append(f'<text x="{x0 + 4}" y="{y0 + 13}" font-size="12" font-weight="bold">'
               f'{html.escape(title)}{" (" + unit + ")" if unit else ""}</text>')
    # The judged window: the last two thirds.
    wx = px + pw * window_from / t_max
    out.append(f'<rect x="{wx:.1f}" y="{py}" width="{px + pw - wx:.1f}" height="{ph}" '
               f'fill="#f2f2f2"/>')
    out.append(f'<rect x="{px}" y="{py}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
    for i in range(5):
        v = top * i / 4
        y = py + ph - ph * i / 4
        label = f"{v:.0f}" if top >= 10 else f"{v:.2g}"
        out.append(f'<text x="{px - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
                   f'{label}</text>')
        if 0 < i < 4:
            out.append(f'<line x1="{px}" y1="{y:.1f}" x2="{px + pw}" y2="{y:.1f}" '
                       f'stroke="#ddd"/>')
    minutes = t_max / 60
    step = 5 if minutes > 10 else (0.5 if minutes <= 3 else 1)
    m = 0.0
    while m <= minutes + 1e-9:
        x = px + pw * (m * 60) / t_max
        out.append(f'<text x="{x:.1f}" y="{py + ph + 14}" font-size="10" '
                   f'text-anchor="middle">{m:g}</text>')
        m += step
    out.append(f'<text x="{px + pw}" y="{py + ph + 22}" font-size="9" text-anchor="end" '
               f'fill="#666">minutes</text>')
    legend_x, legend_y = px + 6, py + 12
    for i, (label, pts) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(f"{px + pw * t / t_max:.1f},{py + ph - ph * (v / divisor) / top:.1f}"
                        for t, v in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                   f'stroke-width="1.5"/>')
        # A legend that does not fit on the line goes on the next one.
        if legend_x > px + 6 and legend_x + 6 * len(label) > px + pw:
            legend_x, legend_y = px + 6, legend_y + 12
        out.append(f'<text x="{legend_x}" y="{legend_y}" font-size="10" '
                   f'fill="{colour}">{html.escape(label)}</text>')
        legend_x += 6 * len(label) + 12
    return out


def render_svg(backend, rows, run):
    t_max = max((t for t, _ in rows), default=1) or 1
    window_from = run["soakSeconds"] / 3 if run else t_max / 3
    cols, pw, ph = 3, 330, 190
    panels = []
    for title, divisor, unit, names in PANELS:
        keys = sorted({k for _, values in rows for k in values if base(k) in names},
                      key=lambda k: (names.index(base(k)), k))
        if not keys:
            continue
        series = [(short_label(k), [(t, values[k]) for t, values in rows if k in values])
                  for k in keys]
        panels.append((title, divisor, unit, series))
    rows_n = (len(panels) + cols - 1) // cols
    width, height = cols * pw, rows_n * ph + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="6" y="18" font-size="14" font-weight="bold">Soak, '
           f'{html.escape(NAMES.get(backend, backend))}: a sample every '
           f'{run["sampleSeconds"]:g} s; shaded: the last two thirds, where growth is judged'
           f'</text>' if run else ""]
    for i, (title, divisor, unit, series) in enumerate(panels):
        x0, y0 = (i % cols) * pw, 30 + (i // cols) * ph
        out += panel_svg(x0, y0, pw, ph, title, divisor, unit, series, t_max, window_from)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def fmt(v):
    if abs(v) >= 1048576 * 4:
        return f"{v / 1048576:.1f} MiB"
    if abs(v) >= 100 or v == int(v):
        return f"{v:.0f}"
    return f"{v:.2f}"


def tables(runs, command, commit):
    out = [BEGIN, "", f"Produced by `{command}` at commit {commit}.", ""]
    for run in runs:
        backend = run["backend"]
        req = run["requests"]
        sent = sum(r["sent"] for r in req.values())
        w = run["writes"]
        acked = sum(w[f]["acknowledged"] for f in w if isinstance(w[f], dict))
        found = sum(w[f]["found"] for f in w if isinstance(w[f], dict))
        steal = run["stealPercent"]
        out.append(f"### {NAMES.get(backend, backend)}")
        out.append("")
        out.append(f"{run['clients']} clients. Peak (unpaced burst): "
                   f"**{run['peakPerSecond']:.0f} requests/s**; held at half of it "
                   f"(target {run['targetPerSecond']:.0f}/s, of which {run['writeRate']:g} "
                   f"writes/s) for {run['soakSeconds'] / 60:.3g} minutes: "
                   f"**{run['heldPerSecond']:.0f} requests/s** answered, {sent} requests in all "
                   f"(burst and settling included). Errors: **{run['errors']}**; writes "
                   f"acknowledged {acked}, found in the store {found}; replays not answered as the "
                   f"first time: {run['replayMismatches']}; store violations: "
                   f"{w['violations']}; {w['integrity']}. Steal over the soak: "
                   f"{steal:.1f} % of CPU time (machine busy {run['busyPercent']:.0f} %).")
        out.append("")
        out.append(f"![soak, {NAMES.get(backend, backend)}](reliability/soak-{backend}.svg)")
        out.append("")
        out.append("| series | rule | first minute of the window | last minute | min | max | "
                   "growth | holds |")
        out.append("|---|---|---|---|---|---|---|---|")
        for key, s in sorted(run["series"].items()):
            out.append(f"| `{key}` | {s['rule']} | {fmt(s['first'])} | {fmt(s['last'])} | "
                       f"{fmt(s['min'])} | {fmt(s['max'])} | {s['growthPercent']:+.2f} % | "
                       f"{'yes' if s['ok'] else '**no**'} |")
        out.append("")
        out.append("| function | sent | 2xx | 503 | 5xx | other | not accepted | no answer | "
                   "timed out | p99 ms |")
        out.append("|---|---|---|---|---|---|---|---|---|---|")
        for name, r in sorted(req.items()):
            out.append(f"| {name} | {r['sent']} | {r['ok']} | {r['unavailable503']} | "
                       f"{r['serverError5xx']} | {r['otherStatus']} | {r['notAccepted']} | "
                       f"{r['noAnswer']} | {r.get('timedOut', 0)} | {r['p99Ms']:.1f} |")
        out.append("")
    out.append(END)
    return "\n".join(out)


def main():
    lines_path, samples_path, command, commit, out_dir, report = sys.argv[1:7]
    runs = []
    with open(lines_path) as f:
        for line in f:
            if line.strip():
                run = json.loads(line)
                if run.get("scenario") == "soak":
                    runs.append(run)
    samples = {}
    with open(samples_path) as f:
        for line in f:
            if line.strip():
                s = json.loads(line)
                samples.setdefault(s["backend"], []).append((s["t"], s["values"]))
    os.makedirs(out_dir, exist_ok=True)
    for backend, rows in samples.items():
        run = next((r for r in runs if r["backend"] == backend), None)
        with open(os.path.join(out_dir, f"soak-{backend}.svg"), "w") as f:
            f.write(render_svg(backend, rows, run))
        keys = sorted({k for _, values in rows for k in values})
        with open(os.path.join(out_dir, f"soak-{backend}.csv"), "w") as f:
            f.write(",".join(["t"] + [f'"{k}"' if "," in k or '"' in k else k
                                      for k in [x.replace('"', "'") for x in keys]]) + "\n")
            for t, values in rows:
                f.write(",".join([f"{t:.1f}"] + [f"{values[k]:g}" if k in values else ""
                                                 for k in keys]) + "\n")
    with open(report) as f:
        page = f.read()
    if BEGIN not in page or END not in page:
        sys.exit(f"soak_plot.py: {report} has no {BEGIN} ... {END}")
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    sys.stdout.write(head + tables(runs, command, commit) + tail)


if __name__ == "__main__":
    main()
