// Authentication for API handlers: the bearer-token Authenticator (ApiContext::authenticator)
// and RequirePrincipal(), the one-line guard every authenticated handler starts with:
//
//   domain::Principal principal;
//   if (auto denied = RequirePrincipal(ctx, request, &principal)) return *denied;
//
// Only a verified access token makes a principal; headers such as X-User-Id are never read.
// Thread-safety: safe to use concurrently.
#ifndef HASIVU_API_AUTH_H_
#define HASIVU_API_AUTH_H_

#include <memory>
#include <optional>
#include <string_view>

#include "api/context.h"
#include "domain/auth_service.h"
#include "domain/principal.h"
#include "http/message.h"

namespace hasivu::api {

// The token of "Authorization: Bearer <token>": scheme case-insensitive, exactly one space, a
// non-empty token without spaces. nullopt when absent or malformed.
std::optional<std::string_view> BearerToken(const http::Request& request);

// Authenticator over AuthService::Authenticate (token, then session state).
class TokenAuthenticator : public Authenticator {
 public:
  explicit TokenAuthenticator(std::shared_ptr<const domain::AuthService> auth);
  StatusOr<domain::Principal> Authenticate(const http::Request& request) const override;

 private:
  std::shared_ptr<const domain::AuthService> auth_;
};

// Authenticates `request` with ctx.authenticator. On success fills *out and returns nullopt;
// otherwise returns the error response to send (401 UNAUTHENTICATED or TOKEN_EXPIRED, 503).
std::optional<http::Response> RequirePrincipal(const ApiContext& ctx, const http::Request& request,
                                               domain::Principal* out);

}  // namespace hasivu::api

#endif  // HASIVU_API_AUTH_H_
