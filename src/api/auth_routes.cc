// auth-register, auth-login, POST /auth/refresh, POST /auth/logout (api.md "auth-login").
#include <boost/json/object.hpp>
#include <memory>
#include <string>

#include "api/auth.h"
#include "api/body_reader.h"
#include "api/client_address.h"
#include "api/envelope.h"
#include "api/routes.h"
#include "domain/auth_service.h"

namespace hasivu::api {
namespace {

domain::ClientInfo ClientOf(const http::Request& request, const ApiContext& ctx) {
  return domain::ClientInfo{ClientAddress(request, ctx.trusted_proxies),
                            std::string(request.headers.Get("User-Agent"))};
}

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

http::Response Login(domain::AuthService& auth, const ApiContext& ctx,
                     const http::Request& request) {
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
      auth.Login(email, password, ClientOf(request, ctx), &retry_after);
  if (!result.ok()) {
    http::Response r = ErrorFromStatus(request, result.status());
    AddRetryAfter(result.status(), retry_after, &r);
    return r;
  }
  http::Response r = Success(request, AuthResultJson(*result));
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

http::Response Register(domain::AuthService& auth, const ApiContext& ctx,
                        const http::Request& request) {
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
  StatusOr<domain::AuthResult> result = auth.Register(reg, ClientOf(request, ctx), &retry_after);
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

http::Response Refresh(domain::AuthService& auth, const ApiContext& ctx,
                       const http::Request& request) {
  ParsedBody body = ParseJsonObject(request);
  if (!body.ok) return body.error;
  std::vector<FieldIssue> issues;
  BodyReader read(issues);
  std::string token = read.String(body.object, "refreshToken").value_or("");
  if (token.empty() && issues.empty()) issues.push_back({"refreshToken", "is required"});
  if (!issues.empty()) {
    return ErrorFromStatus(request, ValidationError("The request is invalid", issues));
  }
  StatusOr<domain::TokenPair> tokens = auth.Refresh(token, ClientOf(request, ctx));
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

http::Response Logout(domain::AuthService& auth, const ApiContext& ctx,
                      const http::Request& request) {
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
    if (auto denied = RequirePrincipal(ctx, request, &principal)) return *denied;
    session_id = principal.session_id;
  }
  Status s = auth.Logout(refresh_token, session_id);
  if (!s.ok()) return ErrorFromStatus(request, s);
  http::Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

}  // namespace

Status RegisterAuthRoutes(http::Router& router, ApiContext& ctx) {
  if (ctx.db == nullptr || ctx.clock == nullptr) {
    return InvalidArgumentError("auth routes need a database and a clock");
  }
  if (ctx.settings.auth.jwt_secret.size() < 32) {
    return InvalidArgumentError("the JWT secret must be at least 32 bytes");
  }
  auto auth =
      std::make_shared<domain::AuthService>(ctx.db, ctx.clock, ctx.settings.auth, ctx.read_cache);
  ctx.authenticator = std::make_shared<TokenAuthenticator>(auth);
  const ApiContext* context = &ctx;

  // One queue each, so a flood of registrations cannot crowd out logins (or the reverse).
  auto hash_queue = [&ctx](const char* route) {
    metrics::Counter* rejected =
        ctx.registry == nullptr
            ? nullptr
            : &ctx.registry->GetCounter("hasivu_hash_queue_rejected_total",
                                        "Requests answered 503 because the hashing queue was full",
                                        {{"route", route}});
    return std::make_shared<http::OffloadQueue>(ctx.max_queued_hashes, rejected);
  };
  RETURN_IF_ERROR(router.Add(
      "POST", "/api/v1/auth/login",
      [auth, context](http::Request& request) { return Login(*auth, *context, request); },
      {.blocking = true,
       .name = "auth-login",
       .offload = true,
       .queue = hash_queue("auth-login")}));
  RETURN_IF_ERROR(router.Add(
      "POST", "/api/v1/auth/register",
      [auth, context](http::Request& request) { return Register(*auth, *context, request); },
      {.blocking = true,
       .name = "auth-register",
       .offload = true,
       .queue = hash_queue("auth-register")}));
  RETURN_IF_ERROR(router.Add(
      "POST", "/api/v1/auth/refresh",
      [auth, context](http::Request& request) { return Refresh(*auth, *context, request); },
      {.blocking = true, .name = "auth-refresh"}));
  RETURN_IF_ERROR(router.Add(
      "POST", "/api/v1/auth/logout",
      [auth, context](http::Request& request) { return Logout(*auth, *context, request); },
      {.blocking = true, .name = "auth-logout"}));
  return Status::Ok();
}

}  // namespace hasivu::api
