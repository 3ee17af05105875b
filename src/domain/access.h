// Tenancy and role visibility, in one place (api.md "Roles and visibility"). Every domain service
// asks these functions; no handler or query decides visibility on its own.
//
// Rules: kitchen_staff and school_admin act only inside their own school; admin acts everywhere;
// a parent sees their children (users.parent_id), a student sees themself and their parent.
// Anything a caller may not see must answer NOT_FOUND (404), not 403, so ids cannot be probed;
// an action on a visible resource that the role may not perform answers PERMISSION_DENIED (403).
//
// Thread-safety: pure functions.
#ifndef HASIVU_DOMAIN_ACCESS_H_
#define HASIVU_DOMAIN_ACCESS_H_

#include <string>
#include <string_view>

#include "domain/principal.h"

namespace hasivu::domain {

// The facts about a user that visibility depends on.
struct UserRef {
  std::string id;
  Role role = Role::kParent;
  std::string school_id;  // may be empty
  std::string parent_id;  // students: their parent's id
};

// The facts about an order that visibility depends on.
struct OrderRef {
  std::string student_id;
  std::string student_parent_id;
  std::string school_id;
};

// Staff and admins: may act in `school_id` (admin: any; staff: their own, never an empty one).
bool ActsInSchool(const Principal& p, std::string_view school_id);

// users-get visibility: self; a parent's children; a student's parent; users of one's own school
// for school_admin and kitchen_staff; everyone for admin.
bool CanSeeUser(const Principal& p, const UserRef& target);

// Order visibility: parent of the student; the student; staff of the order's school; admin.
bool CanSeeOrder(const Principal& p, const OrderRef& order);

// orders-create: the parent of the student, the student, school_admin of the student's school,
// admin. (Kitchen staff may see but not create: callers answer 403 for a visible student.)
bool CanOrderFor(const Principal& p, const UserRef& student);

// Kitchen flow (PATCH /orders/{id}/status): kitchen_staff and school_admin of the order's school,
// admin.
bool CanMoveKitchenStatus(const Principal& p, std::string_view order_school_id);

// Publishing a daily menu: school_admin of that school, admin.
bool CanPublishMenu(const Principal& p, std::string_view school_id);

// RFID verification: kitchen_staff and school_admin of the card's school, admin.
bool CanVerifyDelivery(const Principal& p, std::string_view card_school_id);

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_ACCESS_H_
