// Who is calling: the authenticated principal every domain service receives, derived only from a
// verified access token (never from request headers such as x-user-id).
#ifndef HASIVU_DOMAIN_PRINCIPAL_H_
#define HASIVU_DOMAIN_PRINCIPAL_H_

#include <optional>
#include <string>
#include <string_view>

namespace hasivu::domain {

enum class Role { kParent, kStudent, kKitchenStaff, kSchoolAdmin, kAdmin };

// "parent", "student", "kitchen_staff", "school_admin", "admin".
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

struct Principal {
  std::string user_id;
  Role role = Role::kParent;
  std::string school_id;   // empty for admin (and users without a school)
  std::string session_id;  // auth_sessions.family_id the access token belongs to

  bool IsAdmin() const { return role == Role::kAdmin; }
  bool IsSchoolStaff() const { return role == Role::kKitchenStaff || role == Role::kSchoolAdmin; }
};

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_PRINCIPAL_H_
