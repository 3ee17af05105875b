// The /dashboard page: signs in (an admin's login or the monitoring token), polls the monitoring
// dashboard JSON every 2 s and draws four panels of uPlot charts from a rolling history kept here
// (the server keeps none), plus the alarm states. The page itself holds no data: everything comes
// from the authenticated JSON. Values reach the DOM through textContent only.
//
// What is plotted: latencies, error rates and hit rates are the server's last-minute windows
// (`windows["1m"]`), so a chart shows what is happening now; a since-start percentile after hours
// of fast traffic hardly moves for a five-minute incident. The figures and tables beside the
// charts keep the since-start numbers, labelled so.
"use strict";

(() => {
  const API = "/api/v1/monitoring/dashboard";
  const POLL_MS = 2000;
  const HISTORY = 300; // samples kept: 10 minutes at one poll every 2 s
  const KEY_TOKEN = "hasivu.dashboard.token";
  const KEY_REFRESH = "hasivu.dashboard.refresh";
  const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf"];
  const MIB = 1024 * 1024;
  const WINDOW = "1m"; // the server's window the charts plot
  const RECENT = "last 1 min";

  const $ = (id) => document.getElementById(id);

  // ---- formatting

  function fmt(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    if (typeof v !== "number") return String(v);
    if (digits !== undefined) return v.toFixed(digits);
    if (Number.isInteger(v)) return v.toLocaleString("en");
    const a = Math.abs(v);
    if (a < 1) return v.toFixed(3);
    if (a < 100) return v.toFixed(2);
    if (a < 10000) return v.toFixed(0);
    return Math.round(v).toLocaleString("en");
  }
  // Axis ticks: three significant digits, no trailing zeros.
  const tick = (v) => (v === null || v === undefined ? "" : String(Number(v.toPrecision(3))));
  const clock = (t) => new Date(t * 1000).toLocaleTimeString("en-GB", { hour12: false });
  const lastOf = (arr) => {
    for (let i = arr.length - 1; i >= 0; i--) if (arr[i] !== null && arr[i] !== undefined) return arr[i];
    return null;
  };
  const decadesIn = (min, max) => {
    const out = [];
    if (!(min > 0) || !(max >= min)) return out;
    for (let e = Math.ceil(Math.log10(min) - 1e-9); e <= Math.floor(Math.log10(max) + 1e-9); e++) {
      out.push(Number((10 ** e).toPrecision(1)));
    }
    return out;
  };
  const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  const pct = (v) => (num(v) === null ? null : v * 100);
  // The last-minute window of a part of the JSON that has windows ({} when it has none).
  const recent = (o) => (o && o.windows && o.windows[WINDOW]) || {};

  function since(value) {
    if (value === null || value === undefined || value === "") return "";
    const t = typeof value === "number" ? new Date(value > 1e12 ? value : value * 1000)
                                         : new Date(String(value));
    if (Number.isNaN(t.getTime())) return String(value);
    const ago = Math.max(0, Math.round((Date.now() - t.getTime()) / 1000));
    const rel = ago < 120 ? ago + " s ago" : ago < 7200 ? Math.round(ago / 60) + " min ago"
                                                          : Math.round(ago / 3600) + " h ago";
    return t.toLocaleTimeString() + " (" + rel + ")";
  }

  function el(tag, text, className) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (className) e.className = className;
    return e;
  }

  // ---- the rolling history: sample times (Unix seconds, this browser's clock) and, per series
  // key, values aligned with them (null where a sample did not have the key).

  const history = { times: [], values: new Map() };

  function record(t, sample) {
    history.times.push(t);
    const n = history.times.length;
    for (const [key, v] of Object.entries(sample)) {
      let arr = history.values.get(key);
      if (!arr) {
        arr = new Array(n - 1).fill(null);
        history.values.set(key, arr);
      }
      arr.push(num(v));
    }
    for (const arr of history.values.values()) {
      while (arr.length < n) arr.push(null);
    }
    if (n > HISTORY) {
      const drop = n - HISTORY;
      history.times.splice(0, drop);
      for (const arr of history.values.values()) arr.splice(0, drop);
    }
  }

  // ---- charts: one uPlot each, built when its series are first known and rebuilt when they
  // change (a cache tier or a routed function appears); resized to the width of its container.

  function zeroBased(_u, _min, max) {
    return [0, max === null || max === undefined || !(max > 0) ? 1 : max * 1.15];
  }

  const charts = [];

  class Chart {
    // axes: [{scale, label, side?, range?, log?}]; the first is on the left. A log axis suits
    // latencies that span decades (a login's argon2 hash next to a cached read). title: shown
    // above the plot (what it shows, over which window).
    constructor(name, title, axes) {
      this.name = name;
      this.title = title;
      this.el = document.querySelector('[data-chart="' + name + '"]');
      this.axes = axes;
      this.series = [];
      this.signature = "";
      this.u = null;
      charts.push(this);
    }

    // series: [{key, label, scale?}] (scale defaults to the first axis's).
    draw(series) {
      const signature = series.map((s) => s.key + "|" + s.label).join("\n");
      if (signature !== this.signature || !this.u) this.build(series, signature);
      this.u.setData(this.data());
    }

    data() {
      const n = history.times.length;
      return [history.times.slice()].concat(this.series.map((s) => {
        const arr = history.values.get(s.key);
        return arr ? arr.slice() : new Array(n).fill(null);
      }));
    }

    width() { return Math.max(200, Math.floor(this.el.clientWidth)); }

    height() { return window.matchMedia("(max-width: 600px)").matches ? 170 : 200; }

    build(series, signature) {
      if (this.u) this.u.destroy();
      this.series = series;
      this.signature = signature;
      const scales = { x: { time: true } };
      for (const a of this.axes) {
        scales[a.scale] = a.log ? { distr: 3, log: 10 } : { range: a.range || zeroBased };
      }
      const opts = {
        title: this.title,
        width: this.width(),
        height: this.height(),
        cursor: { drag: { x: false, y: false } },
        legend: { show: true },
        scales,
        series: [{}].concat(series.map((s, i) => ({
          label: s.label,
          scale: s.scale || this.axes[0].scale,
          stroke: COLORS[i % COLORS.length],
          width: 1.5,
          // Hovered: the value there; otherwise the latest.
          value: (u, v, si, idx) => fmt(idx === null || idx === undefined ? lastOf(u.data[si]) : v),
        }))),
        axes: [{ space: 70, values: (_u, ticks) => ticks.map(clock) }].concat(this.axes.map((a, i) => {
          const axis = {
            scale: a.scale,
            label: a.label,
            side: a.side === undefined ? 3 : a.side,
            size: 52,
            grid: { show: i === 0 },
            values: (_u, ticks) => ticks.map(tick),
          };
          // A log axis: ticks, labels and grid lines at the decades only.
          if (a.log) axis.splits = (_u, _ai, min, max) => decadesIn(min, max);
          return axis;
        })),
      };
      this.u = new uPlot(opts, this.data(), this.el);
    }

    resize() {
      if (this.u) this.u.setSize({ width: this.width(), height: this.height() });
    }

    clear() {
      if (this.u) this.u.destroy();
      this.u = null;
      this.series = [];
      this.signature = "";
    }

    // For window.hasivuDashboard: the title, how many samples the chart holds and, per series,
    // how many of them carry a value and the latest value drawn.
    status() {
      const out = { name: this.name, title: this.title, points: 0, series: {}, last: {} };
      if (!this.u) return out;
      out.points = this.u.data[0].length;
      this.series.forEach((s, i) => {
        out.series[s.label] = this.u.data[i + 1].filter((v) => v !== null && v !== undefined).length;
        out.last[s.label] = lastOf(this.u.data[i + 1]);
      });
      return out;
    }
  }

  const C = {
    runtimeLatency: new Chart("runtime-latency", "Latency, ten functions · " + RECENT,
                              [{ scale: "ms", label: "ms", log: true }]),
    runtimeLoad: new Chart("runtime-load", "Load",
                           [{ scale: "rps", label: "requests/s" },
                            { scale: "mib", label: "RSS MiB", side: 1 }]),
    databaseLatency: new Chart("database-latency", "Query latency · " + RECENT,
                               [{ scale: "ms", label: "ms" }]),
    databasePool: new Chart("database-pool", "Slow queries (since start) and pool",
                            [{ scale: "n", label: "count" }]),
    cacheHitRate: new Chart("cache-hit-rate", "Hit rate per tier · " + RECENT,
                            [{ scale: "pct", label: "%", range: () => [0, 100] }]),
    cacheCounts: new Chart("cache-counts", "Errors and evictions · since start",
                           [{ scale: "n", label: "count" }]),
    apiFunction: new Chart("api-function", "Latency of the function · " + RECENT,
                           [{ scale: "ms", label: "ms" }]),
    apiP95: new Chart("api-p95", "p95 per function · " + RECENT,
                      [{ scale: "ms", label: "ms", log: true }]),
    apiErrors: new Chart("api-errors", "5xx per function · " + RECENT,
                         [{ scale: "pct", label: "%" }]),
  };
  const PANELS = {
    runtime: [C.runtimeLatency, C.runtimeLoad],
    database: [C.databaseLatency, C.databasePool],
    cache: [C.cacheHitRate, C.cacheCounts],
    api: [C.apiFunction, C.apiP95, C.apiErrors],
  };

  let resizePending = false;
  const resizer = new ResizeObserver(() => {
    if (resizePending) return;
    resizePending = true;
    requestAnimationFrame(() => {
      resizePending = false;
      for (const c of charts) c.resize();
    });
  });
  resizer.observe($("panels"));

  // ---- one dashboard response: a history sample, then every panel drawn from it

  let previous = null; // {uptime, requests} of the last sample, for requests/s
  let picked = false; // whether the operator chose the API panel's function
  let lastData = null;

  function sampleOf(d) {
    const s = {};
    const rt = d.runtime || {};
    const rtNow = recent(rt);
    s["rt.p50"] = rtNow.p50Ms;
    s["rt.p95"] = rtNow.p95Ms;
    s["rt.p99"] = rtNow.p99Ms;
    s["rt.rss"] = num(rt.rssBytes) === null ? null : rt.rssBytes / MIB;
    const uptime = num(d.service && d.service.uptimeSeconds);
    const requests = num(rt.requestsTotal);
    let rps = null;
    if (previous && uptime !== null && requests !== null && uptime > previous.uptime &&
        requests >= previous.requests) {
      rps = (requests - previous.requests) / (uptime - previous.uptime);
    }
    previous = uptime !== null && requests !== null ? { uptime, requests } : null;
    s["rt.rps"] = rps;

    const db = d.database || {};
    s["db.p50"] = recent(db).p50Ms;
    s["db.p95"] = recent(db).p95Ms;
    s["db.slow"] = db.slowQueries;
    s["db.size"] = db.pool && db.pool.size;
    s["db.inUse"] = db.pool && db.pool.inUse;

    for (const t of (d.cache && d.cache.tiers) || []) {
      s["cache." + t.tier + ".hitRate"] = pct(recent(t).hitRate); // null without lookups
      s["cache." + t.tier + ".errors"] = t.errors;
      s["cache." + t.tier + ".evictions"] = t.evictions;
    }

    for (const e of d.endpoints || []) {
      const now = recent(e);
      s["api." + e.function + ".p50"] = now.p50Ms;
      s["api." + e.function + ".p95"] = now.p95Ms;
      s["api." + e.function + ".p99"] = now.p99Ms;
      // No requests in the minute: no rate (a gap, not a 0 %).
      s["api." + e.function + ".err"] = num(now.count) > 0 ? pct(now.errorRate) : null;
    }
    return s;
  }

  function stats(id, items) {
    const dl = $(id);
    dl.replaceChildren();
    for (const [term, value] of items) {
      const div = el("div");
      div.append(el("dt", term), el("dd", value));
      dl.append(div);
    }
  }

  function rows(tbody, data, cells) {
    tbody.replaceChildren();
    for (const item of data) {
      const tr = document.createElement("tr");
      for (const cell of cells(item)) tr.append(cell instanceof Node ? cell : el("td", cell));
      tbody.append(tr);
    }
  }

  function drawService(d) {
    const s = d.service || {};
    const backend = s.backend || {};
    $("service").textContent = "v" + fmt(s.version) + " · store " + fmt(backend.store) +
      " · cache " + fmt(backend.cache) + " · up " + fmt(num(s.uptimeSeconds) === null ? null
        : Math.round(s.uptimeSeconds)) + " s";
  }

  function drawRuntime(d) {
    const rt = d.runtime || {};
    const rps = history.values.get("rt.rps");
    stats("runtime-stats", [
      ["cold start", fmt(d.service && d.service.coldStartMs) + " ms"],
      ["p95 " + RECENT, fmt(recent(rt).p95Ms) + " ms"],
      ["p95 since start", fmt(rt.warmP95Ms) + " ms"],
      ["requests/s", fmt(rps ? rps[rps.length - 1] : null)],
      ["requests", fmt(rt.requestsTotal)],
      ["RSS", fmt(num(rt.rssBytes) === null ? null : rt.rssBytes / MIB, 1) + " MiB"],
    ]);
    C.runtimeLatency.draw([{ key: "rt.p50", label: "p50" }, { key: "rt.p95", label: "p95" },
                           { key: "rt.p99", label: "p99" }]);
    C.runtimeLoad.draw([{ key: "rt.rps", label: "requests/s", scale: "rps" },
                        { key: "rt.rss", label: "RSS MiB", scale: "mib" }]);
  }

  function drawDatabase(d) {
    const db = d.database || {};
    const pool = db.pool || {};
    const health = (d.health || []).find((h) => h.service === "database") || {};
    stats("database-stats", [
      ["p95 " + RECENT, fmt(recent(db).p95Ms) + " ms"],
      ["p50 since start", fmt(db.queryP50Ms) + " ms"],
      ["p95 since start", fmt(db.queryP95Ms) + " ms"],
      ["operations", fmt(db.queryCount)],
      ["slow", fmt(db.slowQueries)],
      ["pool", fmt(pool.inUse) + " / " + fmt(pool.size)],
      ["status", fmt(health.status) + (num(health.latencyMs) === null ? ""
                                         : " (" + fmt(health.latencyMs) + " ms)")],
    ]);
    C.databaseLatency.draw([{ key: "db.p50", label: "p50" }, { key: "db.p95", label: "p95" }]);
    C.databasePool.draw([{ key: "db.slow", label: "slow queries" },
                         { key: "db.size", label: "pool size" },
                         { key: "db.inUse", label: "in use" }]);
  }

  function drawCache(d) {
    const c = d.cache || {};
    const tiers = c.tiers || [];
    // The outermost tier answers every lookup first: its rate is the cache's.
    const outerNow = tiers.length > 0 ? recent(tiers[0]).hitRate : null;
    stats("cache-stats", [
      ["status", fmt(c.status)],
      ["hit rate " + RECENT, num(outerNow) === null ? "–" : fmt(outerNow * 100, 1) + " %"],
      ["hit rate since start", num(c.hitRate) === null ? "–" : fmt(c.hitRate * 100, 1) + " %"],
      ["keys", fmt(c.keys)],
      ["memory", fmt(num(c.memoryBytes) === null ? null : c.memoryBytes / MIB, 2) + " MiB"],
      ["errors", fmt(c.errors)],
    ].concat(num(c.redisPingMs) === null ? [] : [["redis ping", fmt(c.redisPingMs) + " ms"]]));
    C.cacheHitRate.draw(tiers.map((t) => ({ key: "cache." + t.tier + ".hitRate", label: t.tier })));
    const counts = [];
    for (const t of tiers) {
      counts.push({ key: "cache." + t.tier + ".errors", label: t.tier + " errors" });
      counts.push({ key: "cache." + t.tier + ".evictions", label: t.tier + " evictions" });
    }
    C.cacheCounts.draw(counts);
  }

  function drawApi(d) {
    const endpoints = (d.endpoints || []).filter((e) => e.routed !== false);
    const select = $("api-function");
    const names = endpoints.map((e) => e.function);
    if (select.options.length !== names.length ||
        names.some((n, i) => select.options[i].value !== n)) {
      const keep = select.value;
      select.replaceChildren(...names.map((n) => {
        const o = el("option", n);
        o.value = n;
        return o;
      }));
      if (names.includes(keep)) select.value = keep;
    }
    // Until the operator picks one, the busiest function.
    if (!picked && endpoints.length > 0) {
      select.value = endpoints.reduce((a, b) => ((b.count || 0) > (a.count || 0) ? b : a)).function;
    }
    const chosen = select.value;
    if (chosen) {
      C.apiFunction.draw(["p50", "p95", "p99"].map((q) => ({
        key: "api." + chosen + "." + q, label: chosen + " " + q })));
    }
    C.apiP95.draw(names.map((n) => ({ key: "api." + n + ".p95", label: n })));
    C.apiErrors.draw(names.map((n) => ({ key: "api." + n + ".err", label: n })));
    rows($("api-table").tBodies[0], endpoints, (e) => [
      e.function, fmt(e.count), fmt(e.p50Ms), fmt(e.p95Ms), fmt(e.p99Ms),
      fmt(pct(e.errorRate), 2), fmt(pct(e.clientErrorRate), 2)]);
  }

  function drawAlarms(d) {
    const alarms = d.alarms || [];
    // The reason and since columns only once the server reports them.
    const table = $("alarm-table");
    table.classList.toggle("no-reason", !alarms.some((a) => a.reason));
    table.classList.toggle("no-since", !alarms.some((a) => a.since));
    rows(table.tBodies[0], alarms, (a) => {
      const state = String(a.state === undefined ? "" : a.state);
      const badge = el("td");
      badge.append(el("span", state.toLowerCase().replace(/_/g, " "),
                      "state state-" + state.toLowerCase().replace(/[^a-z_]/g, "")));
      return [fmt(a.name), badge, fmt(a.value), fmt(a.threshold),
              a.reason === undefined || a.reason === null ? "" : String(a.reason),
              since(a.since)];
    });
  }

  // Signed out or refused: nothing of the last session's numbers stays on the page.
  function clearData() {
    history.times.length = 0;
    history.values.clear();
    previous = null;
    lastData = null;
    for (const c of charts) c.clear();
    for (const id of ["runtime-stats", "database-stats", "cache-stats"]) $(id).replaceChildren();
    for (const id of ["api-table", "alarm-table"]) $(id).tBodies[0].replaceChildren();
    $("api-function").replaceChildren();
    $("service").textContent = "";
  }

  function draw(d) {
    lastData = d;
    drawService(d);
    drawRuntime(d);
    drawDatabase(d);
    drawCache(d);
    drawApi(d);
    drawAlarms(d);
  }

  // ---- signing in and polling

  let timer = null;
  let generation = 0; // bumped by every sign-in and sign-out: a late answer of an old one is dropped
  const counts = { polls: 0, ok: 0, failed: 0 };
  let lastStatus = null;
  let lastError = null;

  function say(text, kind) {
    const m = $("message");
    m.textContent = text;
    m.className = "message " + (kind || "error");
    m.hidden = !text;
  }

  function showSignedIn(on) {
    $("sign-in").hidden = on;
    $("panels").hidden = !on;
    $("sign-out").hidden = !on;
    if (on) for (const c of charts) c.resize();
  }

  function stop() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  function forget() {
    sessionStorage.removeItem(KEY_TOKEN);
    sessionStorage.removeItem(KEY_REFRESH);
  }

  // fetch + the API envelope. Resolves to {status, body} (body null when not JSON); rejects only
  // when the server cannot be reached.
  async function call(method, url, token, payload) {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(url, {
      method,
      headers,
      body: payload === undefined ? undefined : JSON.stringify(payload),
      cache: "no-store",
      credentials: "omit",
    });
    let body = null;
    try {
      body = await res.json();
    } catch (_) {
      body = null;
    }
    return { status: res.status, body };
  }

  function errorText(r) {
    const e = r.body && r.body.error;
    if (e && e.message) return e.message + (e.code ? " (" + e.code + ")" : "");
    return "HTTP " + r.status;
  }

  async function refresh() {
    const refreshToken = sessionStorage.getItem(KEY_REFRESH);
    if (!refreshToken) return false;
    const r = await call("POST", "/api/v1/auth/refresh", null, { refreshToken });
    const tokens = r.status === 200 && r.body && r.body.data && r.body.data.tokens;
    if (!tokens) return false;
    sessionStorage.setItem(KEY_TOKEN, tokens.accessToken);
    sessionStorage.setItem(KEY_REFRESH, tokens.refreshToken);
    return true;
  }

  async function poll(gen) {
    const token = sessionStorage.getItem(KEY_TOKEN);
    if (!token || gen !== generation) return;
    const started = Date.now();
    counts.polls++;
    try {
      let r = await call("GET", API, token);
      if (r.status === 401 && gen === generation && (await refresh())) {
        r = await call("GET", API, sessionStorage.getItem(KEY_TOKEN));
      }
      if (gen !== generation) return;
      lastStatus = r.status;
      if (r.status === 200 && r.body && r.body.success) {
        counts.ok++;
        lastError = null;
        // Shown first, so charts are built at their container's width.
        showSignedIn(true);
        say("");
        record(Date.now() / 1000, sampleOf(r.body.data));
        draw(r.body.data);
        $("live").className = "live-dot on";
        $("updated").textContent = "updated " + new Date().toLocaleTimeString();
      } else if (r.status === 401 || r.status === 403) {
        counts.failed++;
        lastError = errorText(r);
        stop();
        forget();
        clearData();
        showSignedIn(false);
        $("live").className = "live-dot";
        $("updated").textContent = "not signed in";
        say(r.status === 403
              ? "This account may not read the dashboard: " + lastError
              : "The server did not accept the sign-in: " + lastError + ". Sign in again.");
        return;
      } else {
        counts.failed++;
        lastError = errorText(r);
        $("live").className = "live-dot stale";
        say("The dashboard API answered " + lastError + "; retrying.", "warn");
      }
    } catch (_) {
      if (gen !== generation) return;
      counts.failed++;
      lastError = "unreachable";
      $("live").className = "live-dot stale";
      say("Cannot reach the server; retrying.", "warn");
    }
    timer = setTimeout(() => poll(gen), Math.max(0, POLL_MS - (Date.now() - started)));
  }

  function start() {
    stop();
    generation++;
    poll(generation);
  }

  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = $("email").value.trim();
    const password = $("password").value;
    if (!email || !password) {
      say("Enter the email and password of an admin account.");
      return;
    }
    const button = $("login-button");
    button.disabled = true;
    say("Signing in…", "info");
    try {
      const r = await call("POST", "/api/v1/auth/login", null, { email, password });
      const tokens = r.status === 200 && r.body && r.body.data && r.body.data.tokens;
      if (!tokens) {
        lastError = errorText(r);
        say("Sign-in failed: " + lastError);
        return;
      }
      $("password").value = "";
      sessionStorage.setItem(KEY_TOKEN, tokens.accessToken);
      sessionStorage.setItem(KEY_REFRESH, tokens.refreshToken);
      say("Signed in; loading…", "info");
      start();
    } catch (_) {
      say("Cannot reach the server.");
    } finally {
      button.disabled = false;
    }
  });

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) {
      say("Paste the monitoring token.");
      return;
    }
    $("token").value = "";
    sessionStorage.setItem(KEY_TOKEN, token);
    sessionStorage.removeItem(KEY_REFRESH);
    say("Loading…", "info");
    start();
  });

  $("sign-out").addEventListener("click", () => {
    const refreshToken = sessionStorage.getItem(KEY_REFRESH);
    stop();
    generation++;
    forget();
    clearData();
    if (refreshToken) call("POST", "/api/v1/auth/logout", null, { refreshToken }).catch(() => {});
    showSignedIn(false);
    $("live").className = "live-dot";
    $("updated").textContent = "not signed in";
    say("Signed out.", "info");
  });

  $("api-function").addEventListener("change", () => {
    picked = true;
    if (lastData) drawApi(lastData);
  });

  // Read-only status for tests and operators' consoles: what the charts hold, never a token.
  Object.defineProperty(window, "hasivuDashboard", {
    value: Object.freeze({
      status() {
        const panels = {};
        for (const [name, list] of Object.entries(PANELS)) panels[name] = list.map((c) => c.status());
        return {
          signedIn: !$("panels").hidden,
          polls: counts.polls,
          okPolls: counts.ok,
          failedPolls: counts.failed,
          lastStatus,
          lastError,
          samples: history.times.length,
          alarmRows: $("alarm-table").tBodies[0].rows.length,
          message: $("message").hidden ? "" : $("message").textContent,
          panels,
        };
      },
    }),
    writable: false,
    configurable: false,
  });

  if (sessionStorage.getItem(KEY_TOKEN)) start();
})();
