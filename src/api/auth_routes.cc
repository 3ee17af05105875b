#include "api/auth_routes.h"

#include <boost/json/object.hpp>
#include <memory>
#include <string>

#include "api/auth.h"
#include "api/body_reader.h"
#include "api/client_address.h"
#include "api/envelope.h"
#include "domain/auth_service.h"

namespace hasivu::api {
namespace {

// Sets Retry-After on a RATE_LIMITED answer.
void AddRetryAfter(const Status& status, std::chrono::seconds retry_after, http::Response* r) {
  if (status.code() == StatusCode::kResourceExhausted && retry_after.count() > 0) {
    r->headers.Set("Retry-After", std::to_string(retry_after.count()));
  }
}

boost::json::object UserJson(const domain::AuthUser& u) {
  boost::json::object o;
  o["id"] = u.id;
  o["email"] = u.email;
  o["firstName"] = u.first_name;
  o["lastName"] = u.last_name;
  o["role"] = domain::RoleName(u.role);
  if (u.school_id.empty()) {
    o["schoolId"] = nullptr;
  } else {
    o["schoolId"] = u.school_id;
  }
  return o;
}

boost::json::object TokensJson(const domain::TokenPair& t) {
  boost::json::object o;
  o["accessToken"] = t.access_token;
  o["refreshToken"] = t.refresh_token;
  o["tokenType"] = "Bearer";
  o["expiresIn"] = t.expires_in;
  return o;
}

boost::json::object AuthResultJson(const domain::AuthResult& r) {
  boost::json::object o;
  o["user"] = UserJson(r.user);
  o["tokens"] = TokensJson(r.tokens);
  return o;
}

}  // namespace

domain::ClientInfo AuthRoutes::ClientOf(const http::Request& request) const {
  return domain::ClientInfo{ClientAddress(request, trusted_proxies_),
                            std::string(request.headers.Get("User-Agent"))};
}

http::Response AuthRoutes::Login(const http::Request& request) const {
  ParsedBody body = ParseJsonObject(request);
  if (!body.ok) return body.error;
  std::vector<FieldIssue> issues;
  BodyReader read(issues);
  std::string email = read.String(body.object, "email").value_or("");
  std::string password = read.String(body.object, "password").value_or("");
  if (!issues.empty()) {
    return ErrorFromStatus(request, ValidationError("The request is invalid", issues));
  }
  std::chrono::seconds retry_after{0};
  StatusOr<domain::AuthResult> result =
      auth_.Login(email, password, ClientOf(request), &retry_after);
  if (!result.ok()) {
    http::Response r = ErrorFromStatus(request, result.status());
    AddRetryAfter(result.status(), retry_after, &r);
    return r;
  }
  http::Response r = Success(request, AuthResultJson(*result));
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

http::Response AuthRoutes::Registration(const http::Request& request) const {
  ParsedBody body = ParseJsonObject(request);
  if (!body.ok) return body.error;
  std::vector<FieldIssue> issues;
  BodyReader read(issues);
  domain::Registration reg;
  reg.email = read.String(body.object, "email").value_or("");
  reg.password = read.String(body.object, "password").value_or("");
  reg.first_name = read.String(body.object, "firstName").value_or("");
  reg.last_name = read.String(body.object, "lastName").value_or("");
  reg.phone = read.String(body.object, "phone").value_or("");
  reg.school_id = read.String(body.object, "schoolId").value_or("");
  // A body "role" is ignored on purpose: self-registration always makes a parent.
  if (!issues.empty()) {
    return ErrorFromStatus(request, ValidationError("The registration is invalid", issues));
  }
  std::chrono::seconds retry_after{0};
  StatusOr<domain::AuthResult> result = auth_.Register(reg, ClientOf(request), &retry_after);
  if (!result.ok()) {
    http::Response r = ErrorFromStatus(request, result.status());
    AddRetryAfter(result.status(), retry_after, &r);
    return r;
  }
  http::Response r = Success(request, AuthResultJson(*result), 201);
  r.headers.Set("Location", "/api/v1/users/" + result->user.id);
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

http::Response AuthRoutes::Refresh(const http::Request& request) const {
  ParsedBody body = ParseJsonObject(request);
  if (!body.ok) return body.error;
  std::vector<FieldIssue> issues;
  BodyReader read(issues);
  std::string token = read.String(body.object, "refreshToken").value_or("");
  if (token.empty() && issues.empty()) issues.push_back({"refreshToken", "is required"});
  if (!issues.empty()) {
    return ErrorFromStatus(request, ValidationError("The request is invalid", issues));
  }
  StatusOr<domain::TokenPair> tokens = auth_.Refresh(token, ClientOf(request));
  if (!tokens.ok()) {
    if (tokens.status().code() == StatusCode::kUnauthenticated) {
      return Error(request, 401, "UNAUTHENTICATED",
                   "The refresh token is invalid, expired or revoked");
    }
    return ErrorFromStatus(request, tokens.status());
  }
  boost::json::object data;
  data["tokens"] = TokensJson(*tokens);
  http::Response r = Success(request, std::move(data));
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

http::Response AuthRoutes::Logout(const http::Request& request) const {
  std::string refresh_token;
  if (!request.body.empty()) {
    ParsedBody body = ParseJsonObject(request);
    if (!body.ok) return body.error;
    std::vector<FieldIssue> issues;
    BodyReader read(issues);
    refresh_token = read.String(body.object, "refreshToken").value_or("");
    if (!issues.empty()) {
      return ErrorFromStatus(request, ValidationError("The request is invalid", issues));
    }
  }
  std::string session_id;
  if (refresh_token.empty()) {
    domain::Principal principal;
    if (auto denied = RequirePrincipal(authenticator_, request, &principal)) return *denied;
    session_id = principal.session_id;
  }
  Status s = auth_.Logout(refresh_token, session_id);
  if (!s.ok()) return ErrorFromStatus(request, s);
  http::Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

Status AuthRoutes::Register(http::Router& router) const {
  RETURN_IF_ERROR(router.Add(
      "POST", "/api/v1/auth/login", [this](http::Request& request) { return Login(request); },
      {.blocking = true, .name = "auth-login", .offload = true, .queue = queues_.login}));
  RETURN_IF_ERROR(router.Add(
      "POST", "/api/v1/auth/register",
      [this](http::Request& request) { return Registration(request); },
      {.blocking = true, .name = "auth-register", .offload = true, .queue = queues_.registration}));
  RETURN_IF_ERROR(router.Add("POST", "/api/v1/auth/refresh",
                             [this](http::Request& request) { return Refresh(request); },
                             {.blocking = true, .name = "auth-refresh"}));
  return router.Add("POST", "/api/v1/auth/logout",
                    [this](http::Request& request) { return Logout(request); },
                    {.blocking = true, .name = "auth-logout"});
}

}  // namespace hasivu::api
