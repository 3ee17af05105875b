// The read cache's keys are unambiguous: client text in them (raw queries, decoded `fields`,
// path ids) can never make two reads share an entry, nor make a read's key the key of another
// read's compressed variant (cache::DerivedKey). Found by read_cache_fuzz (docs/reliability.md,
// "8. Fuzzing"): before, GET /api/v1/menus/daily?schoolId=S&date=D&fields=|br looked up
// "md|S|D|member||br", the brotli variant of the same menu without `fields`, and answered 200
// with the compressed bytes as its data.
#include "domain/read_cache.h"

#include <gtest/gtest.h>

#include <string>

#include "cache/cached_body.h"
#include "domain/menu_service.h"
#include "domain/principal.h"

namespace hasivu::domain {
namespace {

constexpr const char* kSchool = "0190a1b2-0000-7000-8000-0000000000aa";
constexpr const char* kUser = "0190a1b2-0000-7000-8000-000000000001";

Principal Parent() {
  return Principal{
      .user_id = kUser, .role = Role::kParent, .school_id = kSchool, .session_id = "s"};
}

TEST(ReadCacheKeyTest, NoReadGetsTheKeyOfAnotherReadsCompressedVariant) {
  const std::string date = "2026-09-10";
  EXPECT_NE(
      MenuService::DailyMenuKey(kSchool, date, MenuView::kMember, "|br"),
      cache::DerivedKey(MenuService::DailyMenuKey(kSchool, date, MenuView::kMember, ""), "br"));
  EXPECT_NE(ReadCache::UserDetailsKey(Parent(), kUser, "|gzip"),
            cache::DerivedKey(ReadCache::UserDetailsKey(Parent(), kUser, ""), "gzip"));
  const ReadCache::Scope scope = ReadCache::OrderListScope(Parent());
  EXPECT_NE(ReadCache::OrderListKey(scope, "cursor=abc|zstd"),
            cache::DerivedKey(ReadCache::OrderListKey(scope, "cursor=abc"), "zstd"));
  EXPECT_NE(ReadCache::OrderDetailKey(Parent(), "order-1", "|br"),
            cache::DerivedKey(ReadCache::OrderDetailKey(Parent(), "order-1", ""), "br"));
}

TEST(ReadCacheKeyTest, ClientTextCannotMoveTheBoundaryBetweenKeyParts) {
  // The order id comes from the decoded path, the query from the target.
  EXPECT_NE(ReadCache::OrderDetailKey(Parent(), "a|b", "c"),
            ReadCache::OrderDetailKey(Parent(), "a", "b|c"));
  EXPECT_NE(ReadCache::UserDetailsKey(Parent(), "u|fields=id", ""),
            ReadCache::UserDetailsKey(Parent(), "u", "id|fields="));
  // An escape in the text stays apart from the escape of a '|'.
  EXPECT_NE(ReadCache::OrderDetailKey(Parent(), "a%7Cb", ""),
            ReadCache::OrderDetailKey(Parent(), "a|b", ""));
  EXPECT_NE(MenuService::DailyMenuKey(kSchool, "2026-09-10|x", MenuView::kMember, ""),
            MenuService::DailyMenuKey(kSchool, "2026-09-10", MenuView::kMember, "x|"));
}

TEST(ReadCacheKeyTest, TheSameReadKeepsItsKey) {
  const ReadCache::Scope scope = ReadCache::OrderListScope(Parent());
  EXPECT_EQ(ReadCache::OrderListKey(scope, "limit=5"), ReadCache::OrderListKey(scope, "limit=5"));
  EXPECT_EQ(ReadCache::OrderListKey(scope, "limit=5"), "ol|p:" + std::string(kUser) + "|limit=5");
  // Order lists stay under the prefix the pattern invalidation drops ("ol|*").
  EXPECT_EQ(ReadCache::OrderListKey(scope, "a|b").rfind("ol|", 0), 0u);
}

}  // namespace
}  // namespace hasivu::domain
