#include "domain/principal.h"

namespace hasivu::domain {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kParent:
      return "parent";
    case Role::kStudent:
      return "student";
    case Role::kKitchenStaff:
      return "kitchen_staff";
    case Role::kSchoolAdmin:
      return "school_admin";
    case Role::kAdmin:
      return "admin";
  }
  return "parent";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "parent") return Role::kParent;
  if (name == "student") return Role::kStudent;
  if (name == "kitchen_staff") return Role::kKitchenStaff;
  if (name == "school_admin") return Role::kSchoolAdmin;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

}  // namespace hasivu::domain
