#include "domain/access.h"

namespace hasivu::domain {

bool ActsInSchool(const Principal& p, std::string_view school_id) {
  if (p.IsAdmin()) return true;
  // An empty school on either side never matches: the original's null == null hole (§9.7).
  return p.IsSchoolStaff() && !p.school_id.empty() && p.school_id == school_id;
}

bool CanSeeUser(const Principal& p, const UserRef& t) {
  if (p.IsAdmin() || p.user_id == t.id) return true;
  switch (p.role) {
    case Role::kParent:
      return t.role == Role::kStudent && t.parent_id == p.user_id;
    case Role::kStudent:
      return false;  // their parent is checked by the caller with the student's parent_id
    case Role::kKitchenStaff:
    case Role::kSchoolAdmin:
      return ActsInSchool(p, t.school_id);
    case Role::kAdmin:
      return true;
  }
  return false;
}

bool CanSeeOrder(const Principal& p, const OrderRef& o) {
  switch (p.role) {
    case Role::kAdmin:
      return true;
    case Role::kParent:
      return !o.student_parent_id.empty() && o.student_parent_id == p.user_id;
    case Role::kStudent:
      return o.student_id == p.user_id;
    case Role::kKitchenStaff:
    case Role::kSchoolAdmin:
      return ActsInSchool(p, o.school_id);
  }
  return false;
}

bool CanOrderFor(const Principal& p, const UserRef& s) {
  if (s.role != Role::kStudent) return false;
  switch (p.role) {
    case Role::kAdmin:
      return true;
    case Role::kParent:
      return !s.parent_id.empty() && s.parent_id == p.user_id;
    case Role::kStudent:
      return s.id == p.user_id;
    case Role::kSchoolAdmin:
      return ActsInSchool(p, s.school_id);
    case Role::kKitchenStaff:
      return false;
  }
  return false;
}

bool CanMoveKitchenStatus(const Principal& p, std::string_view order_school_id) {
  return ActsInSchool(p, order_school_id);
}

bool CanPublishMenu(const Principal& p, std::string_view school_id) {
  return p.IsAdmin() || (p.role == Role::kSchoolAdmin && ActsInSchool(p, school_id));
}

bool CanVerifyDelivery(const Principal& p, std::string_view card_school_id) {
  return ActsInSchool(p, card_school_id);
}

}  // namespace hasivu::domain
