// Which view of a school's menus a caller gets (MenuService::ViewOf), and the cache keys that
// follow from it, over a migrated database: the rules the menus-daily route relies on, without
// HTTP.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "cache/cache_aside.h"
#include "cache/memory/memory_cache.h"
#include "cache/ttl.h"
#include "common/clock.h"
#include "common/ids.h"
#include "domain/menu_service.h"
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
