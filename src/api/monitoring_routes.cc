#include "api/monitoring_routes.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

#include "api/auth.h"
#include "api/envelope.h"
#include "api/read_helpers.h"
#include "cache/cache.h"
#include "common/time_util.h"
#include "compress/negotiation.h"
#include "domain/monitoring_service.h"
#include "web/dashboard_assets.h"

namespace hasivu::api {
namespace {

namespace json = boost::json;

json::value Ms(std::optional<double> ms) {
  if (!ms) return nullptr;
  return std::round(*ms * 1000.0) / 1000.0;
}

// {"1m": {...}, "5m": {...}, "15m": {...}}: the windows a MonitoringService reports (empty without
// a monitor), each as `one` renders it.
template <typename Window, typename Render>
json::object WindowsJson(const std::vector<Window>& windows, Render one) {
  json::object out;
  for (const Window& w : windows) out[w.window] = one(w);
  return out;
}

json::object RequestWindowsJson(const std::vector<domain::RequestWindow>& windows) {
  return WindowsJson(windows, [](const domain::RequestWindow& w) {
    return json::object{{"count", w.count},          {"serverErrors", w.server_errors},
                        {"errorRate", w.error_rate}, {"p50Ms", Ms(w.p50_ms)},
                        {"p95Ms", Ms(w.p95_ms)},     {"p99Ms", Ms(w.p99_ms)}};
  });
}

json::object DatabaseWindowsJson(const std::vector<domain::DatabaseWindow>& windows) {
  return WindowsJson(windows, [](const domain::DatabaseWindow& w) {
    return json::object{{"count", w.count},
                        {"slowQueries", w.slow_queries},
                        {"p50Ms", Ms(w.p50_ms)},
                        {"p95Ms", Ms(w.p95_ms)},
                        {"p99Ms", Ms(w.p99_ms)}};
  });
}

json::object CacheWindowsJson(const std::vector<domain::CacheTierWindows>& tiers,
                              const std::string& tier) {
  for (const domain::CacheTierWindows& t : tiers) {
    if (t.tier != tier) continue;
    return WindowsJson(t.windows, [](const domain::CacheWindow& w) {
      return json::object{
          {"hits", w.hits},
          {"misses", w.misses},
          {"hitRate", w.hit_rate ? json::value(*w.hit_rate) : json::value(nullptr)}};
    });
  }
  return {};
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
// `windows`: the tiers' recent windows (MonitoringService::CacheWindows), matched by tier name.
json::object CacheJson(const cache::Cache* c,
                       const std::vector<domain::CacheTierWindows>& windows) {
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
                                 {"bytes", t.bytes},
                                 {"windows", CacheWindowsJson(windows, t.tier)}});
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
                                     {"p99Ms", Ms(e.p99_ms)},
                                     {"windows", RequestWindowsJson(e.windows)}});
  }
  const domain::RuntimeStats& rt = d.runtime;
  json::array alarms;
  for (const domain::Alarm& a : d.alarms) {
    json::array transitions;
    for (const domain::AlarmTransitionView& t : a.transitions) {
      transitions.push_back(json::object{
          {"at", FormatRfc3339(t.at)}, {"from", t.from}, {"to", t.to}, {"reason", t.reason}});
    }
    alarms.push_back(json::object{{"name", a.name},
                                  {"state", a.state},
                                  {"value", a.value ? json::value(*a.value) : json::value()},
                                  {"threshold", a.threshold},
                                  {"reason", a.reason},
                                  {"since", FormatRfc3339(a.since)},
                                  {"metric", a.metric},
                                  {"statistic", a.statistic},
                                  {"comparison", a.comparison},
                                  {"periodSeconds", a.period_seconds},
                                  {"evaluationPeriods", a.evaluation_periods},
                                  {"datapointsToAlarm", a.datapoints_to_alarm},
                                  {"transitions", std::move(transitions)}});
  }
  json::value cold_start = nullptr;
  if (d.cold_start) {
    cold_start = json::object{{"store", d.cold_start->store},
                              {"totalMs", Ms(d.cold_start->duration_ms)},
                              {"initMs", Ms(d.cold_start->init_ms)},
                              {"firstRequestMs", Ms(d.cold_start->first_request_ms)}};
  }
  return json::object{
      {"service", json::object{{"version", d.version},
                               {"startedAt", FormatRfc3339(d.started_at)},
                               {"uptimeSeconds", std::round(d.uptime_seconds * 1000.0) / 1000.0},
                               {"coldStartMs", Ms(d.cold_start_ms)},
                               {"coldStart", std::move(cold_start)},
                               {"backend", json::object{{"store", d.store_backend},
                                                        {"cache", d.cache_backend}}}}},
      {"runtime",
       json::object{{"requestsTotal", rt.requests_total},
                    {"warmP50Ms", Ms(rt.warm_p50_ms)},
                    {"warmP95Ms", Ms(rt.warm_p95_ms)},
                    {"warmP99Ms", Ms(rt.warm_p99_ms)},
                    {"rssBytes", rt.rss_bytes ? json::value(*rt.rss_bytes) : json::value()},
                    {"windows", RequestWindowsJson(rt.windows)}}},
      {"endpoints", std::move(endpoints)},
      {"database",
       json::object{{"queryP50Ms", Ms(d.query_p50_ms)},
                    {"queryP95Ms", Ms(d.query_p95_ms)},
                    {"queryCount", d.query_count},
                    {"slowQueries", d.slow_queries},
                    {"scope", d.query_scope},
                    {"pool", json::object{{"size", d.pool.size}, {"inUse", d.pool.in_use}}},
                    {"windows", DatabaseWindowsJson(d.database_windows)}}},
      {"cache", CacheJson(c, d.cache_windows)},
      {"compression", CompressionJson(d.compression)},
      {"alarms", std::move(alarms)},
      {"health", json::array{json::object{{"service", "database"},
                                          {"status", d.database_status},
                                          {"latencyMs", Ms(d.database_latency_ms)}}}}};
}

// The page's headers: the strict policy its files allow (no inline script or style, no frames,
// no form posts: the forms are read by dashboard.js), and no content sniffing.
constexpr char kPagePolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// One embedded file. Under the version the page links (?v=<version>) a browser may keep it for
// good: a new build links a new version. Asked for without it (or with an older one), it is
// revalidated each time by its ETag.
http::Response AssetResponse(const http::Request& request, const web::Asset& asset,
                             bool versioned) {
  http::Response response;
  response.headers.Set("ETag", std::string(asset.etag));
  response.headers.Set("Cache-Control",
                       versioned ? "public, max-age=31536000, immutable" : "no-cache");
  response.headers.Set("X-Content-Type-Options", "nosniff");
  const std::string* if_none_match = request.headers.Find("If-None-Match");
  if (if_none_match != nullptr && compress::IfNoneMatchLists(*if_none_match, asset.etag)) {
    response.status = 304;
    response.content_type.clear();
    return response;
  }
  response.content_type = std::string(asset.content_type);
  response.body = std::string(asset.body);
  return response;
}

}  // namespace

std::vector<domain::MonitoredFunction> MonitoredFunctionsOf(const http::Router& router) {
  std::vector<domain::MonitoredFunction> functions = domain::TenFunctions();
  for (domain::MonitoredFunction& f : functions) {
    if (f.name == "monitoring-dashboard") {
      f.methods = {"GET"};  // MonitoringRoutes::Register
      continue;
    }
    for (const http::Route* route : router.Routes()) {
      // Once per method: users-get has two GET routes, and the server counts both under one
      // series per method, which a second listing would count again.
      if (route->options.name == f.name &&
          std::find(f.methods.begin(), f.methods.end(), route->method) == f.methods.end()) {
        f.methods.push_back(route->method);
      }
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
  // The page and its files are public: they hold no data (everything on the page comes from the
  // authenticated JSON below). Named apart from the ten functions.
  RETURN_IF_ERROR(router.Add("GET", "/dashboard",
                             [](http::Request& request) {
                               http::Response page =
                                   AssetResponse(request, web::DashboardPage(), false);
                               page.headers.Set("Content-Security-Policy", kPagePolicy);
                               page.headers.Set("X-Frame-Options", "DENY");
                               page.headers.Set("Referrer-Policy", "no-referrer");
                               return page;
                             },
                             {.blocking = false, .name = "dashboard-page"}));
  RETURN_IF_ERROR(router.Add(
      "GET", "/dashboard/assets/{name}",
      [](http::Request& request) {
        const web::Asset* asset = web::FindDashboardAsset(request.PathParam("name"));
        if (asset == nullptr) {
          return Error(request, 404, "NOT_FOUND", "The resource was not found");
        }
        return AssetResponse(request, *asset, QueryValue(request.query, "v") == asset->version);
      },
      {.blocking = false, .name = "dashboard-assets"}));
  return router.Add("GET", "/api/v1/monitoring/dashboard",
                    [this](http::Request& request) { return Dashboard(request); },
                    {.blocking = true, .name = "monitoring-dashboard"});
}

}  // namespace hasivu::api
