#include "api/routes.h"

namespace hasivu::api {

Status RegisterOpenApiRoute(http::Router& router, ApiContext& ctx) {
  (void)router;
  (void)ctx;
  return Status::Ok();
}

}  // namespace hasivu::api
