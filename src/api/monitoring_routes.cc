#include "api/monitoring_routes.h"

#include <boost/json.hpp>
#include <cmath>

#include "api/auth.h"
#include "api/envelope.h"
#include "cache/cache.h"
#include "common/time_util.h"
#include "domain/monitoring_service.h"

namespace hasivu::api {
namespace {

namespace json = boost::json;

json::value Ms(std::optional<double> ms) {
  if (!ms) return nullptr;
  return std::round(*ms * 1000.0) / 1000.0;
}

json::object CompressionJson(const domain::CompressionSummary& c) {
  json::object by_encoding;
  for (const domain::EncodingStats& e : c.by_encoding) {
    by_encoding[e.encoding] = json::object{
        {"responses", e.responses}, {"bytesIn", e.bytes_in}, {"bytesOut", e.bytes_out}};
  }
  return json::object{
      {"responses", c.responses},
      {"ratio", c.ratio ? json::value(std::round(*c.ratio * 10000.0) / 10000.0) : json::value()},
      {"bytesSaved", c.bytes_saved},
      {"bytesIn", c.bytes_in},
      {"bytesOut", c.bytes_out},
      {"errors", c.errors},
      {"precompressed", c.precompressed},
      {"byEncoding", std::move(by_encoding)}};
}

// The cache tiers' counters and health (hasivu_cache_* at /metrics are the same numbers).
json::object CacheJson(const cache::Cache* c) {
  if (c == nullptr) {
    return json::object{{"hitRate", nullptr},
                        {"hits", 0},
                        {"misses", 0},
                        {"errors", 0},
                        {"keys", 0},
                        {"memoryBytes", 0},
                        {"status", "not configured"},
                        {"tiers", json::array()}};
  }
  const cache::CacheStats stats = c->Stats();
  const cache::CacheHealth health = c->Health();
  json::array tiers;
  for (const cache::TierStats& t : stats.tiers) {
    tiers.push_back(json::object{{"tier", t.tier},
                                 {"hits", t.hits},
                                 {"misses", t.misses},
                                 {"hitRate", t.HitRate()},
                                 {"errors", t.errors},
                                 {"sets", t.sets},
                                 {"staleSets", t.stale_sets},
                                 {"evictions", t.evictions},
                                 {"invalidations", t.invalidations},
                                 {"keys", t.keys},
                                 {"bytes", t.bytes}});
  }
  // The outermost tier answers every lookup first: its hits and misses are the cache's.
  const cache::TierStats outer = stats.tiers.empty() ? cache::TierStats{} : stats.tiers.front();
  uint64_t errors = 0;
  int64_t memory_bytes = 0;
  for (const cache::TierStats& t : stats.tiers) {
    errors += t.errors;
    if (t.bytes > 0) memory_bytes += t.bytes;
  }
  return json::object{
      {"hitRate",
       outer.hits + outer.misses == 0 ? json::value(nullptr) : json::value(outer.HitRate())},
      {"hits", outer.hits},
      {"misses", outer.misses},
      {"errors", errors},
      {"keys", outer.keys},
      {"memoryBytes", memory_bytes},
      {"status", health.ok ? "ok" : "degraded"},
      {"detail", health.detail},
      {"redisPingMs", health.ping ? json::value(static_cast<double>(health.ping->count()) / 1000.0)
                                  : json::value(nullptr)},
      {"tiers", std::move(tiers)}};
}

json::object DashboardJson(const domain::Dashboard& d, const cache::Cache* c) {
  json::array endpoints;
  for (const domain::EndpointStats& e : d.endpoints) {
    endpoints.push_back(json::object{{"function", e.function},
                                     {"routed", e.routed},
                                     {"count", e.count},
                                     {"errorRate", e.error_rate},
                                     {"clientErrorRate", e.client_error_rate},
                                     {"p50Ms", Ms(e.p50_ms)},
                                     {"p95Ms", Ms(e.p95_ms)},
                                     {"p99Ms", Ms(e.p99_ms)}});
  }
  json::array alarms;
  for (const domain::Alarm& a : d.alarms) {
    alarms.push_back(json::object{{"name", a.name},
                                  {"state", a.state},
                                  {"value", a.value ? json::value(*a.value) : json::value()},
                                  {"threshold", a.threshold}});
  }
  return json::object{
      {"service", json::object{{"version", d.version},
                               {"startedAt", FormatRfc3339(d.started_at)},
                               {"uptimeSeconds", std::round(d.uptime_seconds * 1000.0) / 1000.0},
                               {"coldStartMs", Ms(d.cold_start_ms)},
                               {"backend", json::object{{"store", d.store_backend},
                                                        {"cache", d.cache_backend}}}}},
      {"endpoints", std::move(endpoints)},
      {"database",
       json::object{{"queryP95Ms", Ms(d.query_p95_ms)},
                    {"queryCount", d.query_count},
                    {"slowQueries", d.slow_queries},
                    {"scope", d.query_scope},
                    {"pool", json::object{{"size", d.pool.size}, {"inUse", d.pool.in_use}}}}},
      {"cache", CacheJson(c)},
      {"compression", CompressionJson(d.compression)},
      {"alarms", std::move(alarms)},
      {"health", json::array{json::object{{"service", "database"},
                                          {"status", d.database_status},
                                          {"latencyMs", Ms(d.database_latency_ms)}}}}};
}

// GET /dashboard: a self-contained page that polls the JSON above every 5 s with a token the
// operator pastes (kept in sessionStorage only) and draws it: tables, and a line chart of each
// function's p95 over the last five minutes. Values reach the DOM through textContent only.
constexpr std::string_view kDashboardPage = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>HASIVU monitoring</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}.alarm{color:#b00;font-weight:bold}
#err{color:#b00}canvas{border:1px solid #ccc}
</style></head><body>
<h1>HASIVU monitoring</h1>
<form id="auth">Token (admin access JWT or monitoring token):
<input id="token" type="password" size="60" autocomplete="off"> <button>Use</button></form>
<p id="err"></p><p id="svc"></p>
<h2>p95 latency (ms), last 5 minutes</h2><canvas id="chart" width="900" height="260"></canvas>
<h2>Functions</h2><table id="endpoints"></table>
<h2>Database</h2><table id="database"></table>
<h2>Compression</h2><table id="compression"></table>
<h2>Cache</h2><table id="cache"></table>
<h2>Alarms</h2><table id="alarms"></table>
<h2>Health</h2><table id="health"></table>
<script>
"use strict";
const history = {}; const colors = ["#1f77b4","#ff7f0e","#2ca02c","#d62728","#9467bd",
  "#8c564b","#e377c2","#7f7f7f","#bcbd22","#17becf"];
const $ = (id) => document.getElementById(id);
$("token").value = sessionStorage.getItem("hasivuToken") || "";
$("auth").addEventListener("submit", (e) => { e.preventDefault();
  sessionStorage.setItem("hasivuToken", $("token").value.trim()); poll(); });
function fmt(v) { return v === null || v === undefined ? "-" :
  (typeof v === "number" ? String(Math.round(v * 1000) / 1000) : String(v)); }
function table(el, head, rows, alarmCol) {
  el.replaceChildren(); const tr = document.createElement("tr");
  for (const h of head) { const th = document.createElement("th"); th.textContent = h; tr.append(th); }
  el.append(tr);
  for (const r of rows) { const row = document.createElement("tr");
    r.forEach((v, i) => { const td = document.createElement("td"); td.textContent = fmt(v);
      if (i === alarmCol && v === "alarm") td.className = "alarm"; row.append(td); });
    el.append(row); }
}
function chart() {
  const c = $("chart"), g = c.getContext("2d"); g.clearRect(0, 0, c.width, c.height);
  let max = 1; for (const k in history) for (const v of history[k]) if (v !== null) max = Math.max(max, v);
  g.fillStyle = "#222"; g.fillText(fmt(max) + " ms", 4, 12);
  Object.keys(history).forEach((k, i) => { const pts = history[k]; g.strokeStyle = colors[i % 10];
    g.beginPath(); let started = false;
    pts.forEach((v, j) => { if (v === null) return; const x = 60 + j * (c.width - 70) / 59;
      const y = c.height - 10 - v / max * (c.height - 30);
      if (started) g.lineTo(x, y); else { g.moveTo(x, y); started = true; } });
    g.stroke(); g.fillStyle = colors[i % 10]; g.fillText(k, 4, 28 + i * 14); });
}
async function poll() {
  const token = sessionStorage.getItem("hasivuToken") || "";
  if (!token) { $("err").textContent = "Paste a token to start."; return; }
  try {
    const res = await fetch("/api/v1/monitoring/dashboard", {headers: {Authorization: "Bearer " + token}});
    const body = await res.json();
    if (!body.success) { $("err").textContent = res.status + " " + body.error.code; return; }
    $("err").textContent = ""; const d = body.data, s = d.service;
    $("svc").textContent = "version " + s.version + ", store " + s.backend.store + ", cache " +
      s.backend.cache + ", started " + s.startedAt + ", up " + fmt(s.uptimeSeconds) + " s, cold start " +
      fmt(s.coldStartMs) + " ms";
    table($("endpoints"), ["function","count","error rate","4xx rate","p50 ms","p95 ms","p99 ms"],
      d.endpoints.map((e) => [e.function, e.count, e.errorRate, e.clientErrorRate, e.p50Ms, e.p95Ms, e.p99Ms]));
    table($("database"), ["query p95 ms","operations","slow","scope","pool size","in use"],
      [[d.database.queryP95Ms, d.database.queryCount, d.database.slowQueries, d.database.scope,
        d.database.pool.size, d.database.pool.inUse]]);
    const z = d.compression;
    table($("compression"), ["encoding","responses","bytes in","bytes out","ratio"],
      Object.keys(z.byEncoding).map((k) => { const e = z.byEncoding[k];
        return [k, e.responses, e.bytesIn, e.bytesOut, e.bytesIn ? e.bytesOut / e.bytesIn : null]; })
        .concat([["all (saved " + z.bytesSaved + " B, " + z.errors + " errors, " + z.precompressed +
          " pre-encoded)", z.responses, z.bytesIn, z.bytesOut, z.ratio]]));
    const c = d.cache;
    table($("cache"), ["tier","hits","misses","hit rate","errors","keys","bytes"],
      c.tiers.map((t) => [t.tier, t.hits, t.misses, t.hitRate, t.errors, t.keys, t.bytes])
        .concat([["all (" + c.status + (c.redisPingMs === null ? "" : ", redis ping " +
          fmt(c.redisPingMs) + " ms") + ")", c.hits, c.misses, c.hitRate, c.errors, c.keys,
          c.memoryBytes]]));
    table($("alarms"), ["alarm","state","value","threshold"],
      d.alarms.map((a) => [a.name, a.state, a.value, a.threshold]), 1);
    table($("health"), ["service","status","latency ms"],
      d.health.map((h) => [h.service, h.status, h.latencyMs]));
    for (const e of d.endpoints) { const h = history[e.function] || (history[e.function] = []);
      h.push(e.p95Ms); if (h.length > 60) h.shift(); }
    chart();
  } catch (e) { $("err").textContent = "Cannot reach the dashboard API."; }
}
poll(); setInterval(poll, 5000);
</script></body></html>
)html";

}  // namespace

std::vector<domain::MonitoredFunction> MonitoredFunctionsOf(const http::Router& router) {
  std::vector<domain::MonitoredFunction> functions = domain::TenFunctions();
  for (domain::MonitoredFunction& f : functions) {
    if (f.name == "monitoring-dashboard") {
      f.methods = {"GET"};  // MonitoringRoutes::Register
      continue;
    }
    for (const http::Route* route : router.Routes()) {
      if (route->options.name == f.name) f.methods.push_back(route->method);
    }
  }
  return functions;
}

http::Response MonitoringRoutes::Dashboard(const http::Request& request) const {
  if (!monitoring_token_.Matches(request)) {
    domain::Principal principal;
    if (auto denied = RequirePrincipal(authenticator_, request, &principal)) return *denied;
    if (Status may = domain::MonitoringService::MayRead(principal); !may.ok()) {
      return ErrorFromStatus(request, may);
    }
  }
  http::Response response =
      Success(request, DashboardJson(monitoring_.Build(), cache_ ? &cache_->get() : nullptr));
  response.headers.Set("Cache-Control", "no-store");
  return response;
}

Status MonitoringRoutes::Register(http::Router& router) const {
  RETURN_IF_ERROR(router.Add("GET", "/dashboard",
                             [](http::Request&) {
                               http::Response page;
                               page.content_type = "text/html; charset=utf-8";
                               page.body = std::string(kDashboardPage);
                               page.headers.Set("Content-Security-Policy",
                                                "default-src 'none'; script-src 'unsafe-inline'; "
                                                "style-src 'unsafe-inline'; connect-src 'self'");
                               page.headers.Set("X-Content-Type-Options", "nosniff");
                               page.headers.Set("X-Frame-Options", "DENY");
                               return page;
                             },
                             {.blocking = false, .name = "dashboard-page"}));
  return router.Add("GET", "/api/v1/monitoring/dashboard",
                    [this](http::Request& request) { return Dashboard(request); },
                    {.blocking = true, .name = "monitoring-dashboard"});
}

}  // namespace hasivu::api
