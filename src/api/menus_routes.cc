#include "api/routes.h"

namespace hasivu::api {

Status RegisterMenuRoutes(http::Router& router, ApiContext& ctx) {
  (void)router;
  (void)ctx;
  return Status::Ok();
}

}  // namespace hasivu::api
