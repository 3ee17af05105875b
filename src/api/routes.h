// Registers every /api/v1 route (and /openapi.json) on a router. One function per resource,
// each in its own file (auth_routes.cc, users_routes.cc, menus_routes.cc, orders_routes.cc,
// payments_routes.cc, rfid_routes.cc, monitoring_routes.cc, openapi_routes.cc).
#ifndef HASIVU_API_ROUTES_H_
#define HASIVU_API_ROUTES_H_

#include "api/context.h"
#include "common/status.h"
#include "http/router.h"

namespace hasivu::api {

// Builds the authenticator into `ctx`, then registers every resource's routes.
Status RegisterApiRoutes(http::Router& router, ApiContext& ctx);

// Per resource (defined in the files named above).
Status RegisterAuthRoutes(http::Router& router, ApiContext& ctx);  // also sets ctx.authenticator
Status RegisterUserRoutes(http::Router& router, ApiContext& ctx);
Status RegisterMenuRoutes(http::Router& router, ApiContext& ctx);
Status RegisterOrderRoutes(http::Router& router, ApiContext& ctx);
Status RegisterPaymentRoutes(http::Router& router, ApiContext& ctx);
Status RegisterRfidRoutes(http::Router& router, ApiContext& ctx);
Status RegisterMonitoringRoutes(http::Router& router, ApiContext& ctx);
Status RegisterOpenApiRoute(http::Router& router, ApiContext& ctx);

}  // namespace hasivu::api

#endif  // HASIVU_API_ROUTES_H_
