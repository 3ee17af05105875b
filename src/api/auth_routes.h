// auth-register, auth-login, auth-refresh and auth-logout (POST /api/v1/auth/...; api.md
// "auth-login").
//
// Ownership: the collaborators are not owned and must outlive the routes; the routes must
// outlive the router they are registered on. Thread-safety: safe to use concurrently.
#ifndef HASIVU_API_AUTH_ROUTES_H_
#define HASIVU_API_AUTH_ROUTES_H_

#include <memory>
#include <vector>

#include "api/auth.h"
#include "common/ip_address.h"
#include "common/status.h"
#include "domain/auth_service.h"
#include "http/message.h"
#include "http/offload_queue.h"
#include "http/router.h"

namespace hasivu::api {

class AuthRoutes {
 public:
  // Login and registration each hash a password (argon2id) on the server's pool, and each have a
  // queue of their own there (http/offload_queue.h), so a flood of one cannot crowd out the
  // other. Shared with the router, which holds them while requests wait.
  struct HashQueues {
    std::shared_ptr<http::OffloadQueue> login;
    std::shared_ptr<http::OffloadQueue> registration;
  };

  // `trusted_proxies`: reverse proxies whose X-Forwarded-For names the client that logins and
  // registrations are throttled by (client_address.h). REQUIRES: both queues set.
  AuthRoutes(domain::AuthService& auth, const Authenticator& authenticator,
             const std::vector<IpRange>& trusted_proxies, HashQueues queues)
      : auth_(auth),
        authenticator_(authenticator),
        trusted_proxies_(trusted_proxies),
        queues_(std::move(queues)) {}

  Status Register(http::Router& router) const;

 private:
  domain::ClientInfo ClientOf(const http::Request& request) const;
  http::Response Login(const http::Request& request) const;
  http::Response Registration(const http::Request& request) const;
  http::Response Refresh(const http::Request& request) const;
  http::Response Logout(const http::Request& request) const;

  domain::AuthService& auth_;
  const Authenticator& authenticator_;
  const std::vector<IpRange>& trusted_proxies_;
  const HashQueues queues_;
};

}  // namespace hasivu::api

#endif  // HASIVU_API_AUTH_ROUTES_H_
