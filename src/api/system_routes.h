// Routes outside /api/v1 that operators and load balancers use:
//   GET /healthz  200 while the process is alive (no backend touched).
//   GET /readyz   200 when the readiness probe passes (the database answers), else 503
//                 UNAVAILABLE with Retry-After.
//   GET /metrics  Prometheus text exposition of the registry. With a metrics_token, only for
//                 "Authorization: Bearer <token>" (else 401 UNAUTHENTICATED with
//                 WWW-Authenticate: Bearer); with metrics_enabled false, 403 FORBIDDEN always.
//
// Thread-safety: the registered handlers are safe to run concurrently; `probe` and `registry`
// must be safe to call from any thread and outlive the router.
#ifndef HASIVU_API_SYSTEM_ROUTES_H_
#define HASIVU_API_SYSTEM_ROUTES_H_

#include <functional>
#include <string>

#include "common/status.h"
#include "http/router.h"
#include "metrics/metrics.h"

namespace hasivu::api {

struct SystemRoutesDeps {
  std::function<Status()> readiness_probe;  // e.g. the database's Ping()
  metrics::Registry* registry = nullptr;
  std::string metrics_token = "";  // empty: /metrics needs no token. Default: empty
  bool metrics_enabled = true;
};

Status RegisterSystemRoutes(http::Router& router, SystemRoutesDeps deps);

}  // namespace hasivu::api

#endif  // HASIVU_API_SYSTEM_ROUTES_H_
