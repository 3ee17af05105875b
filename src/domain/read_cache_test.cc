// The cache scoping that follows from who may see what (read_cache.h): which callers share a
// cached read and which never do, without HTTP.
#include "domain/read_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace hasivu::domain {
namespace {

constexpr char kSchoolA[] = "0190f5a0-0000-7000-8000-0000000000a1";
constexpr char kSchoolB[] = "0190f5a0-0000-7000-8000-0000000000b2";

Principal Caller(std::string id, Role role, std::string school = "") {
  Principal p;
  p.user_id = std::move(id);
  p.role = role;
  p.school_id = std::move(school);
  return p;
}

TEST(ReadCacheScopeTest, OrderListsAreSharedOnlyWithinAScope) {
  const std::string q = "limit=20";
  const Principal parent1 = Caller("parent-1", Role::kParent);
  const Principal parent2 = Caller("parent-2", Role::kParent);
  const Principal student = Caller("parent-1", Role::kStudent, kSchoolA);
  const Principal kitchen_a = Caller("kitchen-a", Role::kKitchenStaff, kSchoolA);
  const Principal school_admin_a = Caller("school-admin-a", Role::kSchoolAdmin, kSchoolA);
  const Principal kitchen_b = Caller("kitchen-b", Role::kKitchenStaff, kSchoolB);
  const Principal admin1 = Caller("admin-1", Role::kAdmin);
  const Principal admin2 = Caller("admin-2", Role::kAdmin);

  // Each parent and each student sees only their own rows.
  EXPECT_NE(ReadCache::OrderListKey(parent1, q), ReadCache::OrderListKey(parent2, q));
  // The same id under another role is another scope.
  EXPECT_NE(ReadCache::OrderListKey(parent1, q), ReadCache::OrderListKey(student, q));
  // A school's staff see the school's rows, whoever of them asks; another school's never.
  EXPECT_EQ(ReadCache::OrderListKey(kitchen_a, q), ReadCache::OrderListKey(school_admin_a, q));
  EXPECT_NE(ReadCache::OrderListKey(kitchen_a, q), ReadCache::OrderListKey(kitchen_b, q));
  // Admins see everything alike.
  EXPECT_EQ(ReadCache::OrderListKey(admin1, q), ReadCache::OrderListKey(admin2, q));
  EXPECT_NE(ReadCache::OrderListKey(admin1, q), ReadCache::OrderListKey(kitchen_a, q));
  // Another query is another entry.
  EXPECT_NE(ReadCache::OrderListKey(parent1, q), ReadCache::OrderListKey(parent1, "limit=5"));

  // The tag an order change drops reaches exactly its scopes.
  EXPECT_EQ(ReadCache::OrderListScope(parent1).tags,
            cache::Tags{ReadCache::OrdersOfParentTag("parent-1")});
  EXPECT_EQ(ReadCache::OrderListScope(student).tags,
            cache::Tags{ReadCache::OrdersOfStudentTag("parent-1")});
  EXPECT_EQ(ReadCache::OrderListScope(kitchen_b).tags,
            cache::Tags{ReadCache::OrdersOfSchoolTag(kSchoolB)});
  EXPECT_EQ(ReadCache::OrderListScope(admin2).tags, cache::Tags{ReadCache::AllOrdersTag()});
}

TEST(ReadCacheScopeTest, DetailsArePerCaller) {
  const Principal admin1 = Caller("admin-1", Role::kAdmin);
  const Principal admin2 = Caller("admin-2", Role::kAdmin);
  const Principal parent = Caller("parent-1", Role::kParent);
  // Even two admins do not share an order's or a user's details: what is shown (permissions)
  // follows from the caller.
  EXPECT_NE(ReadCache::OrderDetailKey(admin1, "order-1", ""),
            ReadCache::OrderDetailKey(admin2, "order-1", ""));
  EXPECT_NE(ReadCache::UserDetailsKey(admin1, "parent-1", ""),
            ReadCache::UserDetailsKey(admin2, "parent-1", ""));
  EXPECT_EQ(ReadCache::UserDetailsKey(parent, "parent-1", "id,email"),
            ReadCache::UserDetailsKey(parent, "parent-1", "id,email"));
  EXPECT_NE(ReadCache::UserDetailsKey(parent, "parent-1", "id"),
            ReadCache::UserDetailsKey(parent, "parent-1", "id,email"));
  EXPECT_NE(ReadCache::OrderDetailKey(parent, "order-1", ""),
            ReadCache::OrderDetailKey(parent, "order-2", ""));
  EXPECT_NE(ReadCache::OrderDetailKey(parent, "order-1", ""),
            ReadCache::OrderDetailKey(parent, "order-1", "fields=id"));
}

}  // namespace
}  // namespace hasivu::domain
