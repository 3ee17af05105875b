#include "api/routes.h"

namespace hasivu::api {

// Placeholder until the auth work lands: every token is refused.
namespace {
class RefuseAll : public Authenticator {
 public:
  StatusOr<domain::Principal> Authenticate(const http::Request&) const override {
    return UnauthenticatedError("authentication is not available yet");
  }
};
}  // namespace

Status RegisterAuthRoutes(http::Router& router, ApiContext& ctx) {
  (void)router;
  (void)ctx;
  ctx.authenticator = std::make_shared<RefuseAll>();
  return Status::Ok();
}

}  // namespace hasivu::api
