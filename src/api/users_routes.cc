// users-get: GET /api/v1/users/{id} and /api/v1/users/me (api.md "users-get").
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <memory>

#include "api/auth.h"
#include "api/cached_read.h"
#include "api/envelope.h"
#include "api/read_helpers.h"
#include "api/routes.h"
#include "domain/user_service.h"

namespace hasivu::api {
namespace {

boost::json::value TextOrNull(const std::string& s) {
  if (s.empty()) return nullptr;
  return boost::json::value(s);
}

boost::json::object UserJson(const domain::UserDetails& d) {
  const store::UserRecord& u = d.user;
  boost::json::object o;
  o["id"] = u.id;
  o["email"] = u.email;
  o["firstName"] = u.first_name;
  o["lastName"] = u.last_name;
  o["role"] = u.role;
  o["schoolId"] = TextOrNull(u.school_id);
  if (d.school) {
    o["school"] = boost::json::object{{"id", d.school->id}, {"name", d.school->name}};
  } else {
    o["school"] = nullptr;
  }
  o["parentId"] = TextOrNull(u.parent_id);
  boost::json::array children;
  for (const store::ChildRecord& c : d.children) {
    children.push_back(boost::json::object{{"id", c.id},
                                           {"firstName", c.first_name},
                                           {"lastName", c.last_name},
                                           {"grade", TextOrNull(c.grade)},
                                           {"section", TextOrNull(c.section)}});
  }
  o["children"] = std::move(children);
  o["isActive"] = u.is_active;
  o["createdAt"] = u.created_at;
  o["updatedAt"] = u.updated_at;
  o["permissions"] = boost::json::object{{"canEdit", d.permissions.can_edit},
                                         {"canDelete", d.permissions.can_delete},
                                         {"canManageChildren", d.permissions.can_manage_children}};
  return o;
}

http::Response GetUser(const ApiContext& ctx, const domain::UserService& users,
                       const http::Request& request, std::string_view id) {
  domain::Principal principal;
  if (auto denied = RequirePrincipal(ctx, request, &principal)) return *denied;
  // Per caller: who may see whom, and the permissions shown, depend on the caller.
  const std::string target(id == "me" ? std::string_view(principal.user_id) : id);
  // The key names only what shapes the answer: `fields` is the one parameter read, so any other
  // parameter (?x=1, ?x=2, ...) shares the entry instead of filling the cache with copies.
  const std::string fields = QueryValue(request.query, "fields").value_or("");
  const std::string key = "ug|" + principal.user_id + "|" + target + "|fields=" + fields;
  http::Response r = CachedConditionalSuccess(
      ctx, request, key, cache::Kind::kUserProfile, {domain::ReadCache::UserTag(target)},
      [&]() -> StatusOr<std::string> {
        ASSIGN_OR_RETURN(domain::UserDetails details, users.Get(principal, id));
        boost::json::object data = UserJson(details);
        RETURN_IF_ERROR(ApplyFieldSelection(data, fields));
        return boost::json::serialize(data);
      });
  if (r.status == 200 || r.status == 304) r.headers.Set("Cache-Control", "private, no-cache");
  return r;
}

}  // namespace

Status RegisterUserRoutes(http::Router& router, ApiContext& ctx) {
  auto users = std::make_shared<domain::UserService>(ctx.db);
  const ApiContext* context = &ctx;
  RETURN_IF_ERROR(router.Add(
      "GET", "/api/v1/users/me",
      [users, context](http::Request& request) { return GetUser(*context, *users, request, "me"); },
      {.blocking = true, .name = "users-get"}));
  RETURN_IF_ERROR(router.Add("GET", "/api/v1/users/{id}",
                             [users, context](http::Request& request) {
                               return GetUser(*context, *users, request, request.PathParam("id"));
                             },
                             {.blocking = true, .name = "users-get"}));
  return Status::Ok();
}

}  // namespace hasivu::api
