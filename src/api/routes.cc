#include "api/routes.h"

namespace hasivu::api {

Status RegisterApiRoutes(http::Router& router, ApiContext& ctx) {
  // Auth first: it builds the authenticator every other resource checks tokens with.
  RETURN_IF_ERROR(RegisterAuthRoutes(router, ctx));
  if (!ctx.authenticator) return InternalError("RegisterAuthRoutes did not set the authenticator");
  RETURN_IF_ERROR(RegisterUserRoutes(router, ctx));
  RETURN_IF_ERROR(RegisterMenuRoutes(router, ctx));
  RETURN_IF_ERROR(RegisterOrderRoutes(router, ctx));
  RETURN_IF_ERROR(RegisterPaymentRoutes(router, ctx));
  RETURN_IF_ERROR(RegisterRfidRoutes(router, ctx));
  RETURN_IF_ERROR(RegisterMonitoringRoutes(router, ctx));
  RETURN_IF_ERROR(RegisterOpenApiRoute(router, ctx));
  return Status::Ok();
}

}  // namespace hasivu::api
