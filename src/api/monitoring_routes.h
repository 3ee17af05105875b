// monitoring-dashboard: GET /api/v1/monitoring/dashboard, for admins, or for a caller presenting
// "Authorization: Bearer <monitoring token>" when one is configured (compared in constant time).
// An authenticated non-admin gets 403 FORBIDDEN; no or a bad token 401. The numbers and their
// sources are described in domain/monitoring_service.h. Also GET /dashboard, the page that draws
// the same data as live charts, and GET /dashboard/assets/{name}, its scripts and styles
// (web/dashboard_assets.h; an unknown name answers 404 NOT_FOUND). The page and its files are
// public and hold no data; they carry ETags (If-None-Match → 304), and under the version the page
// links them with (?v=) a year's immutable caching. Route names "dashboard-page" and
// "dashboard-assets", so they are not counted as one of the ten functions.
//
// Ownership: the collaborators are not owned and must outlive the routes; the routes must
// outlive the router they are registered on. Thread-safety: safe to use concurrently.
#ifndef HASIVU_API_MONITORING_ROUTES_H_
#define HASIVU_API_MONITORING_ROUTES_H_

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "api/auth.h"
#include "cache/cache.h"
#include "common/status.h"
#include "domain/monitoring_service.h"
#include "http/message.h"
#include "http/router.h"

namespace hasivu::api {

// The ten monitored functions (domain::TenFunctions) with the methods `router` routes under each
// name, each method once however many routes share it, and GET for the dashboard itself
// (MonitoringRoutes registers it): what the monitoring service is built with once every other
// route is registered.
std::vector<domain::MonitoredFunction> MonitoredFunctionsOf(const http::Router& router);

class MonitoringRoutes {
 public:
  // `cache` (absent: the server caches nothing) is reported by its statistics and health.
  // `monitoring_token` (empty: none) is kept only as a digest.
  MonitoringRoutes(const Authenticator& authenticator, const domain::MonitoringService& monitoring,
                   std::optional<std::reference_wrapper<const cache::Cache>> cache,
                   std::string_view monitoring_token)
      : authenticator_(authenticator),
        monitoring_(monitoring),
        cache_(cache),
        monitoring_token_(monitoring_token) {}

  Status Register(http::Router& router) const;

 private:
  http::Response Dashboard(const http::Request& request) const;

  const Authenticator& authenticator_;
  const domain::MonitoringService& monitoring_;
  const std::optional<std::reference_wrapper<const cache::Cache>> cache_;
  const ConfiguredToken monitoring_token_;
};

}  // namespace hasivu::api

#endif  // HASIVU_API_MONITORING_ROUTES_H_
