#include "domain/user_service.h"

#include "common/ids.h"
#include "domain/access.h"

namespace hasivu::domain {
namespace {

Status NotFound() { return NotFoundError("user not found"); }

}  // namespace

UserService::UserService(store::Database* db) : db_(db) {}

UserPermissions PermissionsFor(const Principal& caller, const store::UserRecord& target) {
  const bool self = caller.user_id == target.id;
  UserPermissions p;
  p.can_edit = self || caller.IsAdmin() ||
               (caller.role == Role::kSchoolAdmin && ActsInSchool(caller, target.school_id));
  p.can_delete = caller.IsAdmin() && !self;
  p.can_manage_children = target.role == "parent" && (self || caller.IsAdmin());
  return p;
}

StatusOr<UserDetails> UserService::Get(const Principal& caller, std::string_view id_param) const {
  const std::string id(id_param == "me" ? std::string_view(caller.user_id) : id_param);
  if (!IsUuid(id)) return NotFound();
  UserDetails details;
  Status read = db_->Read([&](store::Connection& conn) -> Status {
    ASSIGN_OR_RETURN(std::optional<store::UserRecord> user, store::FindUserById(conn, id));
    if (!user) return NotFound();
    std::optional<Role> role = ParseRole(user->role);
    if (!role) return NotFound();
    UserRef ref{user->id, *role, user->school_id, user->parent_id};
    bool visible = CanSeeUser(caller, ref);
    if (!visible && caller.role == Role::kStudent) {
      // A student sees their own parent: the link lives on the student's row.
      ASSIGN_OR_RETURN(std::optional<store::UserRecord> me,
                       store::FindUserById(conn, caller.user_id));
      visible = me && !me->parent_id.empty() && me->parent_id == user->id;
    }
    if (!visible) return NotFound();
    if (!user->school_id.empty()) {
      ASSIGN_OR_RETURN(details.school, store::FindSchool(conn, user->school_id));
    }
    if (*role == Role::kParent) {
      ASSIGN_OR_RETURN(details.children, store::ChildrenOf(conn, user->id));
    }
    details.user = std::move(*user);
    details.user.password_hash.clear();
    return Status::Ok();
  });
  RETURN_IF_ERROR(read);
  details.permissions = PermissionsFor(caller, details.user);
  return details;
}

}  // namespace hasivu::domain
