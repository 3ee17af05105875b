// GET /api/v1/monitoring/dashboard (monitoring-dashboard): admins, or a caller presenting
// "Authorization: Bearer <monitoring token>" when one is configured (compared in constant time).
// An authenticated non-admin gets 403 FORBIDDEN; no or a bad token 401. The numbers and their
// sources are described in domain/monitoring_service.h. Until the cache and compression issues
// land, `cache` reports status "not configured" and `compression` zeros.
#include <sodium.h>

#include <boost/json.hpp>
#include <cmath>
#include <memory>

#include "api/auth.h"
#include "api/envelope.h"
#include "api/routes.h"
#include "common/time_util.h"
#include "domain/monitoring_service.h"

namespace hasivu::api {
namespace {

namespace json = boost::json;

using TokenDigest = std::array<unsigned char, crypto_generichash_BYTES>;

// Comparing digests (not the tokens) keeps the comparison constant-time whatever the lengths.
TokenDigest Digest(std::string_view token) {
  TokenDigest out{};
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return out;
}

json::value Ms(std::optional<double> ms) {
  if (!ms) return nullptr;
  return std::round(*ms * 1000.0) / 1000.0;
}

json::object DashboardJson(const domain::Dashboard& d) {
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
      {"cache", json::object{{"hitRate", nullptr},
                             {"hits", 0},
                             {"misses", 0},
                             {"errors", 0},
                             {"keys", 0},
                             {"memoryBytes", 0},
                             {"status", "not configured"}}},
      {"compression", json::object{{"responses", 0}, {"ratio", nullptr}, {"bytesSaved", 0}}},
      {"alarms", std::move(alarms)},
      {"health", json::array{json::object{{"service", "database"},
                                          {"status", d.database_status},
                                          {"latencyMs", Ms(d.database_latency_ms)}}}}};
}

}  // namespace

Status RegisterMonitoringRoutes(http::Router& router, ApiContext& ctx) {
  if (ctx.registry == nullptr || ctx.db == nullptr) {
    return InternalError("monitoring routes need the metrics registry and the database");
  }
  std::vector<domain::MonitoredFunction> functions = domain::TenFunctions();
  for (domain::MonitoredFunction& f : functions) {
    if (f.name == "monitoring-dashboard") {
      f.methods = {"GET"};  // registered below
      continue;
    }
    for (const http::Route* route : router.Routes()) {
      if (route->options.name == f.name) f.methods.push_back(route->method);
    }
  }

  domain::MonitoringServiceInfo info{.version = ctx.service.version,
                                     .store_backend = ctx.service.store_backend,
                                     .cache_backend = ctx.service.cache_backend,
                                     .first_ok_response = ctx.service.first_ok_response,
                                     .database_timed_globally = false};
  std::shared_ptr<store::Database> timed;
  store::Database* db = ctx.db;
  if (dynamic_cast<domain::TimedDatabase*>(ctx.db) != nullptr) {
    info.database_timed_globally = true;
  } else {
    timed = std::make_shared<domain::TimedDatabase>(ctx.db, *ctx.registry);
    db = timed.get();
  }
  auto service = std::make_shared<domain::MonitoringService>(*ctx.registry, db, std::move(info),
                                                             std::move(functions));

  std::optional<TokenDigest> monitoring_token;
  if (!ctx.settings.monitoring.monitoring_token.empty()) {
    monitoring_token = Digest(ctx.settings.monitoring.monitoring_token);
  }
  const ApiContext* context = &ctx;
  return router.Add(
      "GET", "/api/v1/monitoring/dashboard",
      [context, service, timed, monitoring_token](http::Request& request) {
        bool allowed = false;
        if (monitoring_token) {
          if (std::optional<std::string_view> bearer = BearerToken(request)) {
            const TokenDigest presented = Digest(*bearer);
            allowed =
                sodium_memcmp(presented.data(), monitoring_token->data(), presented.size()) == 0;
          }
        }
        if (!allowed) {
          domain::Principal principal;
          if (auto denied = RequirePrincipal(*context, request, &principal)) return *denied;
          if (!principal.IsAdmin()) {
            return Error(request, 403, "FORBIDDEN", "Only admins may read the dashboard");
          }
        }
        http::Response response = Success(request, DashboardJson(service->Build()));
        response.headers.Set("Cache-Control", "no-store");
        return response;
      },
      {.blocking = true, .name = "monitoring-dashboard"});
}

}  // namespace hasivu::api
