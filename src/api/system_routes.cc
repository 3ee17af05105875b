#include "api/system_routes.h"

#include "api/envelope.h"

namespace hasivu::api {

Status RegisterSystemRoutes(http::Router& router, SystemRoutesDeps deps) {
  RETURN_IF_ERROR(router.Add("GET", "/healthz",
                             [](http::Request& req) {
                               return Success(req, boost::json::object{{"status", "ok"}});
                             },
                             {.blocking = false, .name = "healthz"}));

  auto probe = deps.readiness_probe;
  RETURN_IF_ERROR(router.Add("GET", "/readyz",
                             [probe](http::Request& req) {
                               Status s = probe ? probe() : Status::Ok();
                               if (!s.ok()) {
                                 return Error(req, 503, "UNAVAILABLE",
                                              "The database cannot be reached");
                               }
                               return Success(req, boost::json::object{{"status", "ready"}});
                             },
                             // A PostgreSQL ping is a round trip: keep it off the event loop.
                             {.blocking = true, .name = "readyz"}));

  metrics::Registry* registry = deps.registry;
  RETURN_IF_ERROR(router.Add("GET", "/metrics",
                             [registry](http::Request&) {
                               http::Response r;
                               r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                               r.body = registry ? registry->RenderPrometheus() : std::string();
                               return r;
                             },
                             {.blocking = false, .name = "metrics"}));
  return Status::Ok();
}

}  // namespace hasivu::api
