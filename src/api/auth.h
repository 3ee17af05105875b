// Authentication for API handlers: the Authenticator interface, its bearer-token implementation
// and RequirePrincipal(), the one-line guard every authenticated handler starts with:
//
//   domain::Principal principal;
//   if (auto denied = RequirePrincipal(authenticator_, request, &principal)) return *denied;
//
// Only a verified access token makes a principal; headers such as X-User-Id are never read.
// Thread-safety: safe to use concurrently.
#ifndef HASIVU_API_AUTH_H_
#define HASIVU_API_AUTH_H_

#include <array>
#include <optional>
#include <string_view>

#include "common/status.h"
#include "domain/auth_service.h"
#include "domain/principal.h"
#include "http/message.h"

namespace hasivu::api {

// Verifies the bearer token of a request and returns its principal. Errors:
// kUnauthenticated (missing, malformed, bad signature, wrong alg/iss/aud, revoked session) with
// a message; an expired token is kUnauthenticated with reason TOKEN_EXPIRED.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual StatusOr<domain::Principal> Authenticate(const http::Request& request) const = 0;
};

// The token of "Authorization: Bearer <token>": scheme case-insensitive, exactly one space, a
// non-empty token without spaces. nullopt when absent or malformed.
std::optional<std::string_view> BearerToken(const http::Request& request);

// A bearer token fixed by configuration (the metrics and monitoring tokens). Only its digest is
// kept, and a request's token is digested too, so the comparison is constant-time whatever the
// lengths: neither the length nor a matching prefix shows in the response time. An empty token
// is "not configured" and matches nothing. Thread-safety: immutable, safe concurrently.
class ConfiguredToken {
 public:
  explicit ConfiguredToken(std::string_view token);
  bool configured() const { return configured_; }
  // Whether `request` carries "Authorization: Bearer <this token>".
  bool Matches(const http::Request& request) const;

 private:
  bool configured_ = false;
  std::array<unsigned char, 32> digest_{};
};

// Authenticator over AuthService::Authenticate (token, then session state). `auth` is not owned
// and must outlive the authenticator.
class TokenAuthenticator : public Authenticator {
 public:
  explicit TokenAuthenticator(const domain::AuthService& auth) : auth_(auth) {}
  StatusOr<domain::Principal> Authenticate(const http::Request& request) const override;

 private:
  const domain::AuthService& auth_;
};

// Authenticates `request` with `authenticator`. On success fills *out and returns nullopt;
// otherwise returns the error response to send (401 UNAUTHENTICATED or TOKEN_EXPIRED, 503).
std::optional<http::Response> RequirePrincipal(const Authenticator& authenticator,
                                               const http::Request& request,
                                               domain::Principal* out);

}  // namespace hasivu::api

#endif  // HASIVU_API_AUTH_H_
