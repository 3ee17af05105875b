// UserService: users-get (api.md "users-get"). Visibility comes from access.h CanSeeUser plus
// "a student sees their parent"; anything not visible, unknown or malformed is kNotFound, so ids
// cannot be probed.
//
// Permissions shown with a user (what the caller may do with it):
//   canEdit: the user themself, admin, or the school_admin of the user's school;
//   canDelete: admin, for anyone but themself;
//   canManageChildren: for a parent account, the parent themself or an admin.
//
// Thread-safety: safe to use concurrently. The database must outlive the service.
#ifndef HASIVU_DOMAIN_USER_SERVICE_H_
#define HASIVU_DOMAIN_USER_SERVICE_H_

#include <optional>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/principal.h"
#include "store/database.h"
#include "store/users_repo.h"

namespace hasivu::domain {

struct UserPermissions {
  bool can_edit = false;
  bool can_delete = false;
  bool can_manage_children = false;
};

struct UserDetails {
  store::UserRecord user;  // password_hash cleared
  std::optional<store::SchoolRecord> school;
  std::vector<store::ChildRecord> children;
  UserPermissions permissions;
};

class UserService {
 public:
  explicit UserService(store::Database* db);

  // `id` is a user id or "me". Errors: kNotFound (unknown, malformed or not visible),
  // kUnavailable.
  StatusOr<UserDetails> Get(const Principal& caller, std::string_view id) const;

 private:
  store::Database* db_;
};

// The permission rules above, for a visible `target`.
UserPermissions PermissionsFor(const Principal& caller, const store::UserRecord& target);

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_USER_SERVICE_H_
