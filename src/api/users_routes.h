// users-get: GET /api/v1/users/{id} and /api/v1/users/me (api.md "users-get").
//
// Ownership: the collaborators are not owned and must outlive the routes; the routes must
// outlive the router they are registered on. Thread-safety: safe to use concurrently.
#ifndef HASIVU_API_USERS_ROUTES_H_
#define HASIVU_API_USERS_ROUTES_H_

#include <string_view>

#include "api/auth.h"
#include "api/cached_read.h"
#include "common/status.h"
#include "domain/user_service.h"
#include "http/message.h"
#include "http/router.h"

namespace hasivu::api {

class UserRoutes {
 public:
  UserRoutes(const Authenticator& authenticator, const domain::UserService& users,
             const CachedReads& reads)
      : authenticator_(authenticator), users_(users), reads_(reads) {}

  Status Register(http::Router& router) const;

 private:
  http::Response Get(const http::Request& request, std::string_view id) const;

  const Authenticator& authenticator_;
  const domain::UserService& users_;
  const CachedReads& reads_;
};

}  // namespace hasivu::api

#endif  // HASIVU_API_USERS_ROUTES_H_
