#include "domain/access.h"

#include <gtest/gtest.h>

namespace hasivu::domain {
namespace {

Principal P(Role role, std::string id, std::string school = "") {
  return Principal{std::move(id), role, std::move(school), "sid"};
}

TEST(AccessTest, SchoolStaffStayInTheirSchool) {
  EXPECT_TRUE(ActsInSchool(P(Role::kAdmin, "a"), "s1"));
  EXPECT_TRUE(ActsInSchool(P(Role::kKitchenStaff, "k", "s1"), "s1"));
  EXPECT_FALSE(ActsInSchool(P(Role::kKitchenStaff, "k", "s1"), "s2"));
  EXPECT_FALSE(ActsInSchool(P(Role::kSchoolAdmin, "k", ""), ""));  // null == null is no match
  EXPECT_FALSE(ActsInSchool(P(Role::kParent, "p", "s1"), "s1"));
}

TEST(AccessTest, UserVisibility) {
  const UserRef child{"c1", Role::kStudent, "s1", "p1"};
  EXPECT_TRUE(CanSeeUser(P(Role::kParent, "p1"), child));
  EXPECT_FALSE(CanSeeUser(P(Role::kParent, "p2"), child));
  EXPECT_TRUE(CanSeeUser(P(Role::kStudent, "c1", "s1"), child));
  EXPECT_FALSE(CanSeeUser(P(Role::kStudent, "c2", "s1"), child));
  EXPECT_TRUE(CanSeeUser(P(Role::kKitchenStaff, "k", "s1"), child));
  EXPECT_FALSE(CanSeeUser(P(Role::kKitchenStaff, "k", "s2"), child));
  EXPECT_TRUE(CanSeeUser(P(Role::kAdmin, "a"), child));
  const UserRef parent{"p1", Role::kParent, "", ""};
  EXPECT_FALSE(CanSeeUser(P(Role::kParent, "p2"), parent));
}

TEST(AccessTest, OrderVisibilityAndActions) {
  const OrderRef o{"c1", "p1", "s1"};
  EXPECT_TRUE(CanSeeOrder(P(Role::kParent, "p1"), o));
  EXPECT_FALSE(CanSeeOrder(P(Role::kParent, "p2"), o));
  EXPECT_TRUE(CanSeeOrder(P(Role::kStudent, "c1"), o));
  EXPECT_FALSE(CanSeeOrder(P(Role::kStudent, "c2"), o));
  EXPECT_TRUE(CanSeeOrder(P(Role::kSchoolAdmin, "x", "s1"), o));
  EXPECT_FALSE(CanSeeOrder(P(Role::kSchoolAdmin, "x", "s2"), o));
  EXPECT_FALSE(CanSeeOrder(P(Role::kParent, "p1"), OrderRef{"c1", "", "s1"}));

  const UserRef child{"c1", Role::kStudent, "s1", "p1"};
  EXPECT_TRUE(CanOrderFor(P(Role::kParent, "p1"), child));
  EXPECT_FALSE(CanOrderFor(P(Role::kParent, "p2"), child));
  EXPECT_TRUE(CanOrderFor(P(Role::kStudent, "c1"), child));
  EXPECT_TRUE(CanOrderFor(P(Role::kSchoolAdmin, "x", "s1"), child));
  EXPECT_FALSE(CanOrderFor(P(Role::kKitchenStaff, "k", "s1"), child));
  EXPECT_FALSE(CanOrderFor(P(Role::kParent, "p1"), UserRef{"p3", Role::kParent, "", "p1"}));

  EXPECT_TRUE(CanMoveKitchenStatus(P(Role::kKitchenStaff, "k", "s1"), "s1"));
  EXPECT_FALSE(CanMoveKitchenStatus(P(Role::kParent, "p1"), "s1"));
  EXPECT_TRUE(CanPublishMenu(P(Role::kSchoolAdmin, "x", "s1"), "s1"));
  EXPECT_FALSE(CanPublishMenu(P(Role::kKitchenStaff, "k", "s1"), "s1"));
  EXPECT_TRUE(CanVerifyDelivery(P(Role::kKitchenStaff, "k", "s1"), "s1"));
  EXPECT_FALSE(CanVerifyDelivery(P(Role::kKitchenStaff, "k", "s1"), "s2"));
  EXPECT_FALSE(CanVerifyDelivery(P(Role::kParent, "p1"), "s1"));
}

TEST(AccessTest, RoleNames) {
  for (Role r :
       {Role::kParent, Role::kStudent, Role::kKitchenStaff, Role::kSchoolAdmin, Role::kAdmin}) {
    EXPECT_EQ(ParseRole(RoleName(r)), r);
  }
  EXPECT_FALSE(ParseRole("super_admin").has_value());
  EXPECT_FALSE(ParseRole("ADMIN").has_value());
}

}  // namespace
}  // namespace hasivu::domain
