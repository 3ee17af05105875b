#include "api/system_routes.h"

#include <string_view>

#include "api/auth.h"
#include "api/envelope.h"

namespace hasivu::api {

http::Response SystemRoutes::Ready(const http::Request& request) const {
  if (draining_.load(std::memory_order_relaxed)) {
    return Error(request, 503, "UNAVAILABLE", "The server is shutting down");
  }
  if (Status s = readiness_probe_(); !s.ok()) {
    return Error(request, 503, "UNAVAILABLE", "The database cannot be reached");
  }
  return Success(request, boost::json::object{{"status", "ready"}});
}

http::Response SystemRoutes::Metrics(const http::Request& request) const {
  if (!metrics_enabled_) {
    return Error(request, 403, "FORBIDDEN", "The metrics endpoint is disabled");
  }
  if (metrics_token_.configured() && !metrics_token_.Matches(request)) {
    http::Response r = Error(request, 401, "UNAUTHENTICATED", "A valid metrics token is required");
    r.headers.Set("WWW-Authenticate", "Bearer");
    return r;
  }
  http::Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  if (before_render_) before_render_();
  r.body = registry_.RenderPrometheus();
  return r;
}

Status SystemRoutes::Register(http::Router& router) const {
  RETURN_IF_ERROR(router.Add("GET", "/healthz",
                             [](http::Request& request) {
                               return Success(request, boost::json::object{{"status", "ok"}});
                             },
                             {.blocking = false, .name = "healthz"}));
  RETURN_IF_ERROR(router.Add("GET", "/readyz",
                             [this](http::Request& request) { return Ready(request); },
                             // A PostgreSQL ping is a round trip: keep it off the event loop.
                             {.blocking = true, .name = "readyz"}));
  return router.Add("GET", "/metrics", [this](http::Request& request) { return Metrics(request); },
                    {.blocking = false, .name = "metrics"});
}

}  // namespace hasivu::api
