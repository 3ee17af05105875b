// Routes outside /api/v1 that operators and load balancers use:
//   GET /healthz  200 while the process is alive (no backend touched).
//   GET /readyz   200 when the readiness probe passes (the database answers), else 503
//                 UNAVAILABLE with Retry-After; 503 from BeginDrain() on (shutting down).
//   GET /metrics  Prometheus text exposition of the registry. With a metrics_token, only for
//                 "Authorization: Bearer <token>" (else 401 UNAUTHENTICATED with
//                 WWW-Authenticate: Bearer); with metrics_enabled false, 403 FORBIDDEN always.
//
// Ownership: the registry is not owned and must outlive the routes; the routes must outlive the
// router they are registered on. Thread-safety: the handlers are safe to run concurrently; the
// probe must be safe to call from any thread.
#ifndef HASIVU_API_SYSTEM_ROUTES_H_
#define HASIVU_API_SYSTEM_ROUTES_H_

#include <atomic>
#include <functional>
#include <string>
#include <utility>

#include "api/auth.h"
#include "common/status.h"
#include "http/message.h"
#include "http/router.h"
#include "metrics/metrics.h"

namespace hasivu::api {

struct SystemRoutesSettings {
  std::string metrics_token = "";  // empty: /metrics needs no token. Default: empty
  bool metrics_enabled = true;
};

class SystemRoutes {
 public:
  // `readiness_probe` is e.g. the database's Ping(). REQUIRES: it is callable.
  SystemRoutes(std::function<Status()> readiness_probe, const metrics::Registry& registry,
               const SystemRoutesSettings& settings)
      : readiness_probe_(std::move(readiness_probe)),
        registry_(registry),
        metrics_token_(settings.metrics_token),
        metrics_enabled_(settings.metrics_enabled) {}

  // Before Register: `refresh` is called before each /metrics answer is rendered, to set the
  // gauges of values read on demand (e.g. what the store's engine holds). It runs on an I/O
  // thread, so it must not block.
  void SetBeforeRender(std::function<void()> refresh) { before_render_ = std::move(refresh); }
  Status Register(http::Router& router) const;
  // From now on /readyz answers 503 ("shutting down") whatever the probe says, so that load
  // balancers take the process out before it stops accepting. Safe from any thread.
  void BeginDrain() { draining_.store(true, std::memory_order_relaxed); }

 private:
  http::Response Ready(const http::Request& request) const;
  http::Response Metrics(const http::Request& request) const;

  const std::function<Status()> readiness_probe_;
  const metrics::Registry& registry_;
  const ConfiguredToken metrics_token_;
  const bool metrics_enabled_;
  std::function<void()> before_render_;
  std::atomic<bool> draining_{false};
};

}  // namespace hasivu::api

#endif  // HASIVU_API_SYSTEM_ROUTES_H_
