// The tenancy rules, without HTTP: which callers share a cached read and which never do
// (read_cache.h: orders lists by scope, details per caller), and which view of a school's menus a
// caller gets (MenuService::ViewOf) with the cache keys that follow, over a migrated database.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "cache/cache_aside.h"
#include "cache/memory/memory_cache.h"
#include "cache/ttl.h"
#include "common/clock.h"
#include "common/ids.h"
#include "domain/menu_service.h"
#include "domain/principal.h"
#include "domain/read_cache.h"
#include "store/migrations.h"
#include "store/testing/test_backend.h"

namespace hasivu::domain {
namespace {

constexpr char kSchool[] = "0190f5a0-0000-7000-8000-0000000000a1";
constexpr char kOtherSchool[] = "0190f5a0-0000-7000-8000-0000000000b2";

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
  const Principal student = Caller("parent-1", Role::kStudent, kSchool);
  const Principal kitchen_a = Caller("kitchen-a", Role::kKitchenStaff, kSchool);
  const Principal school_admin_a = Caller("school-admin-a", Role::kSchoolAdmin, kSchool);
  const Principal kitchen_b = Caller("kitchen-b", Role::kKitchenStaff, kOtherSchool);
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
            cache::Tags{ReadCache::OrdersOfSchoolTag(kOtherSchool)});
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

class MenuViewTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    auto db = store::testing::NewTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(store::Migrate(db_->db()).ok());
    auto memory = cache::NewMemoryCache();
    ASSERT_TRUE(memory.ok());
    memory_ = std::move(*memory);
    aside_ = std::make_unique<cache::CacheAside>(*memory_);
    // The parameter: with the read cache (members' answers kept) or without.
    read_cache_ = std::make_unique<ReadCache>(GetParam() ? aside_.get() : nullptr,
                                              cache::TtlSettings{}, &db_->db());
    menus_ = std::make_unique<MenuService>(db_->db(), SystemClock(), read_cache_.get());
  }

  std::optional<MenuView> ViewOf(const Principal& p, const std::string& school) {
    StatusOr<std::optional<MenuView>> view = menus_->ViewOf(p, school);
    EXPECT_TRUE(view.ok()) << view.status().ToString();
    return view.ok() ? *view : std::nullopt;
  }

  std::unique_ptr<store::testing::TestDatabase> db_;
  cache::CachePtr memory_;
  std::unique_ptr<cache::CacheAside> aside_;
  std::unique_ptr<ReadCache> read_cache_;
  std::unique_ptr<MenuService> menus_;
};

TEST_P(MenuViewTest, AdminsAndTheSchoolsStaffAreKnownFromTheToken) {
  EXPECT_EQ(ViewOf(Caller("admin", Role::kAdmin), kSchool), MenuView::kAdmin);
  EXPECT_EQ(ViewOf(Caller("kitchen", Role::kKitchenStaff, kSchool), kSchool), MenuView::kStaff);
  EXPECT_EQ(ViewOf(Caller("head", Role::kSchoolAdmin, kSchool), kSchool), MenuView::kStaff);
}

TEST_P(MenuViewTest, NonMembersGetNoView) {
  // No such school in the database: nobody but an admin or its staff has a view of it, and the
  // staff of another school are not its staff.
  EXPECT_EQ(ViewOf(Caller("parent", Role::kParent), kSchool), std::nullopt);
  EXPECT_EQ(ViewOf(Caller("student", Role::kStudent, kSchool), kSchool), std::nullopt);
  EXPECT_EQ(ViewOf(Caller("kitchen", Role::kKitchenStaff, kOtherSchool), kSchool), std::nullopt);
  // Asked again (answered from the cache when there is one): still none.
  EXPECT_EQ(ViewOf(Caller("parent", Role::kParent), kSchool), std::nullopt);
}

TEST_P(MenuViewTest, EachViewIsOneCacheEntryForEveryoneWhoSharesIt) {
  const std::string date = "2026-12-07";
  EXPECT_NE(MenuService::DailyMenuKey(kSchool, date, MenuView::kMember, ""),
            MenuService::DailyMenuKey(kSchool, date, MenuView::kStaff, ""));
  EXPECT_NE(MenuService::DailyMenuKey(kSchool, date, MenuView::kStaff, ""),
            MenuService::DailyMenuKey(kSchool, date, MenuView::kAdmin, ""));
  EXPECT_NE(MenuService::DailyMenuKey(kSchool, date, MenuView::kMember, ""),
            MenuService::DailyMenuKey(kOtherSchool, date, MenuView::kMember, ""));
  EXPECT_NE(MenuService::DailyMenuKey(kSchool, date, MenuView::kMember, ""),
            MenuService::DailyMenuKey(kSchool, "2026-12-08", MenuView::kMember, ""));
  EXPECT_NE(MenuService::DailyMenuKey(kSchool, date, MenuView::kMember, ""),
            MenuService::DailyMenuKey(kSchool, date, MenuView::kMember, "date"));
  EXPECT_EQ(MenuViewName(MenuView::kMember), "member");
}

INSTANTIATE_TEST_SUITE_P(CacheOrNot, MenuViewTest, ::testing::Bool());

}  // namespace
}  // namespace hasivu::domain
