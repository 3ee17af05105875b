// The tiered cache's own logic over two in-process tiers (l2_publishes = false); its behaviour in
// front of Redis is covered by redis/*_redistest.cc.
#include "cache/tiered_cache.h"

#include <gtest/gtest.h>

#include "common/blocking.h"
#include "common/clock.h"

namespace hasivu::cache {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

class TieredCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MemoryCacheSettings s1{.clock = &clock_, .tier = "l1"};
    MemoryCacheSettings s2{.clock = &clock_, .tier = "l2"};
    CachePtr l1 = std::move(NewMemoryCache(s1).value());
    CachePtr l2 = std::move(NewMemoryCache(s2).value());
    l1_ = l1.get();
    l2_ = l2.get();
    auto t =
        NewTieredCache(std::move(l1), std::move(l2), {.l1_ttl = seconds(5), .l2_publishes = false});
    ASSERT_TRUE(t.ok());
    tiered_ = std::move(t).value();
  }
  std::optional<std::string> Value(Cache& c, std::string_view key) {
    auto r = c.Get(key);
    if (!r.ok() || !r->has_value()) return std::nullopt;
    return *(*r)->value;
  }

  FixedClock clock_{std::chrono::system_clock::time_point(hours(24 * 365 * 50))};
  Cache* l1_ = nullptr;
  Cache* l2_ = nullptr;
  CachePtr tiered_;
};

TEST_F(TieredCacheTest, WritesBothTiersWithTheShortL1Ttl) {
  ASSERT_TRUE(tiered_->Set("k", "v", hours(1), {"t"}).ok());
  auto in_l1 = l1_->Get("k");
  ASSERT_TRUE(in_l1.ok() && in_l1->has_value());
  EXPECT_EQ((*in_l1)->ttl_left, milliseconds(5000));
  auto in_l2 = l2_->Get("k");
  ASSERT_TRUE(in_l2.ok() && in_l2->has_value());
  EXPECT_EQ((*in_l2)->ttl_left, milliseconds(3600 * 1000));
  clock_.Advance(seconds(6));
  EXPECT_EQ(Value(*l1_, "k"), std::nullopt);
  // Served from L2 and copied back into L1 with its tags.
  EXPECT_EQ(Value(*tiered_, "k"), "v");
  auto again = l1_->Get("k");
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->tags, Tags{"t"});
  ASSERT_TRUE(tiered_->InvalidateTags({"t"}).ok());
  EXPECT_EQ(Value(*tiered_, "k"), std::nullopt);
  EXPECT_EQ(Value(*l2_, "k"), std::nullopt);
}

TEST_F(TieredCacheTest, AnAttemptThatMustNotBlockStopsBeforeL2AndItsRetrySkipsThatL1Miss) {
  ASSERT_TRUE(tiered_->Set("both", "b", hours(1), {}).ok());
  ASSERT_TRUE(l2_->Set("l2-only", "v", hours(1), {}).ok());
  const char* refused_by = nullptr;
  std::string detail;
  {
    NonBlockingAttempt attempt;
    EXPECT_EQ(Value(*tiered_, "both"), "b");  // an L1 hit needs no L2
    EXPECT_FALSE(attempt.refused());
    EXPECT_EQ(tiered_->Get("l2-only").status().code(), StatusCode::kUnavailable);
    ASSERT_TRUE(attempt.refused());
    refused_by = attempt.refused_by();
    detail = attempt.refused_detail();
  }
  const auto l1_lookups = [&] {
    const TierStats t = tiered_->Stats().tiers[0];
    return t.hits + t.misses;
  };
  const auto l2_lookups = [&] {
    const TierStats t = tiered_->Stats().tiers[1];
    return t.hits + t.misses;
  };
  EXPECT_EQ(l1_lookups(), 2u);
  EXPECT_EQ(l2_lookups(), 0u);  // L2 was not asked
  {
    RetryAfterRefusal retry(refused_by, detail);
    // The retry looks up "both" in L1 again (it was not refused) and "l2-only" in L2 alone.
    EXPECT_EQ(Value(*tiered_, "both"), "b");
    EXPECT_EQ(Value(*tiered_, "l2-only"), "v");
  }
  EXPECT_EQ(l1_lookups(), 3u);
  EXPECT_EQ(tiered_->Stats().tiers[0].misses, 1u);  // the miss counted once
  EXPECT_EQ(l2_lookups(), 1u);
  EXPECT_EQ(Value(*l1_, "l2-only"), "v");  // copied into L1
}

TEST_F(TieredCacheTest, L1CopyNeverOutlivesTheL2Entry) {
  ASSERT_TRUE(l2_->Set("k", "v", seconds(2)).ok());
  EXPECT_EQ(Value(*tiered_, "k"), "v");
  auto in_l1 = l1_->Get("k");
  ASSERT_TRUE(in_l1.ok() && in_l1->has_value());
  EXPECT_LE((*in_l1)->ttl_left, milliseconds(2000));
}

TEST_F(TieredCacheTest, StampedStoreAfterInvalidationReachesNoTier) {
  auto stamp = tiered_->StampFor("k", {"t"});
  ASSERT_TRUE(stamp.ok());
  ASSERT_TRUE(tiered_->InvalidateTags({"t"}).ok());
  ASSERT_TRUE(
      tiered_
          ->SetIfCurrent("k", std::make_shared<const std::string>("old"), hours(1), {"t"}, *stamp)
          .ok());
  EXPECT_EQ(Value(*l1_, "k"), std::nullopt);
  EXPECT_EQ(Value(*l2_, "k"), std::nullopt);
  // A stamp from a single-tier cache is refused.
  auto single = l1_->StampFor("k", {"t"});
  EXPECT_EQ(
      tiered_->SetIfCurrent("k", std::make_shared<const std::string>("x"), hours(1), {"t"}, *single)
          .code(),
      StatusCode::kInvalidArgument);
}

TEST_F(TieredCacheTest, PatternDeleteClearAndStatsPerTier) {
  ASSERT_TRUE(tiered_->Set("orders:1", "1", hours(1)).ok());
  ASSERT_TRUE(tiered_->Set("menus:1", "m", hours(1)).ok());
  auto n = tiered_->InvalidatePattern("orders:*");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(Value(*tiered_, "orders:1"), std::nullopt);
  ASSERT_TRUE(tiered_->Delete("menus:1").ok());
  EXPECT_EQ(Value(*tiered_, "menus:1"), std::nullopt);
  ASSERT_TRUE(tiered_->Set("x", "x", hours(1)).ok());
  ASSERT_TRUE(tiered_->Clear().ok());
  EXPECT_EQ(Value(*tiered_, "x"), std::nullopt);
  CacheStats st = tiered_->Stats();
  ASSERT_EQ(st.tiers.size(), 2u);
  EXPECT_EQ(st.tiers[0].tier, "l1");
  EXPECT_EQ(st.tiers[1].tier, "l2");
  EXPECT_TRUE(tiered_->Health().ok);
  EXPECT_FALSE(NewTieredCache(nullptr, nullptr).ok());
}

}  // namespace
}  // namespace hasivu::cache
