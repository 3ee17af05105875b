#include "api/users_routes.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "api/auth.h"
#include "api/cached_read.h"
#include "api/envelope.h"
#include "api/read_helpers.h"
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

}  // namespace

http::Response UserRoutes::Get(const http::Request& request, std::string_view id) const {
  domain::Principal principal;
  if (auto denied = RequirePrincipal(authenticator_, request, &principal)) return *denied;
  const std::string target(id == "me" ? std::string_view(principal.user_id) : id);
  // `fields` is the one parameter read, so it alone shapes the answer.
  const std::string fields = QueryValue(request.query, "fields").value_or("");
  http::Response r = reads_.ConditionalSuccess(
      request, domain::ReadCache::UserDetailsKey(principal, target, fields),
      cache::Kind::kUserProfile, {domain::ReadCache::UserTag(target)},
      [&]() -> StatusOr<std::string> {
        ASSIGN_OR_RETURN(domain::UserDetails details, users_.Get(principal, id));
        boost::json::object data = UserJson(details);
        RETURN_IF_ERROR(ApplyFieldSelection(data, fields));
        return boost::json::serialize(data);
      });
  if (r.status == 200 || r.status == 304) r.headers.Set("Cache-Control", "private, no-cache");
  return r;
}

Status UserRoutes::Register(http::Router& router) const {
  RETURN_IF_ERROR(router.Add("GET", "/api/v1/users/me",
                             [this](http::Request& request) { return Get(request, "me"); },
                             {.blocking = true, .try_inline = true, .name = "users-get"}));
  return router.Add(
      "GET", "/api/v1/users/{id}",
      [this](http::Request& request) { return Get(request, request.PathParam("id")); },
      {.blocking = true, .try_inline = true, .name = "users-get"});
}

}  // namespace hasivu::api
