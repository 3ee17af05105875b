#include "cache/memory/memory_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cache/testing/cache_suite.h"
#include "common/clock.h"
#include "metrics/metrics.h"

namespace hasivu::cache {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

class MemoryCacheTest : public ::testing::Test {
 protected:
  CachePtr Make(size_t max_bytes = 1 << 20, size_t shards = 4) {
    MemoryCacheSettings s;
    s.max_bytes = max_bytes;
    s.shards = shards;
    s.clock = &clock_;
    s.registry = registry_.get();
    auto c = NewMemoryCache(s);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }
  std::optional<std::string> Value(Cache& c, std::string_view key) {
    auto r = c.Get(key);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || !r->has_value()) return std::nullopt;
    return *(*r)->value;
  }

  FixedClock clock_{std::chrono::system_clock::time_point(hours(24 * 365 * 50))};
  metrics::RegistryPtr registry_ = metrics::NewRegistry();
};

TEST_F(MemoryCacheTest, StoresAndReturnsValueWithTagsAndTtlLeft) {
  CachePtr c = Make();
  ASSERT_TRUE(c->Set("a", "alpha", seconds(10), {"t1"}).ok());
  auto r = c->Get("a");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(*(*r)->value, "alpha");
  EXPECT_EQ((*r)->tags, Tags{"t1"});
  EXPECT_EQ((*r)->ttl_left, milliseconds(10000));
  EXPECT_EQ(Value(*c, "b"), std::nullopt);
  ASSERT_TRUE(c->Set("a", "beta", seconds(10)).ok());
  EXPECT_EQ(Value(*c, "a"), "beta");
}

TEST_F(MemoryCacheTest, ExpiresOnTheInjectedClock) {
  CachePtr c = Make();
  ASSERT_TRUE(c->Set("k", "v", seconds(10)).ok());
  clock_.Advance(seconds(9));
  EXPECT_EQ(Value(*c, "k"), "v");
  clock_.Advance(milliseconds(999));
  EXPECT_EQ(Value(*c, "k"), "v");
  clock_.Advance(milliseconds(1));
  EXPECT_EQ(Value(*c, "k"), std::nullopt);
  EXPECT_EQ(c->Stats().tiers[0].keys, 0);
}

TEST_F(MemoryCacheTest, RejectsBadArguments) {
  CachePtr c = Make();
  EXPECT_EQ(c->Set("", "v", seconds(1)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Set(std::string(kMaxKeyBytes + 1, 'k'), "v", seconds(1)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Set("k", "v", milliseconds(0)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Set("k", "v", milliseconds(-5)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Set("k", "v", seconds(1), {"bad\ntag"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Set("k", "v", seconds(1), {""}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Set("k", "v", seconds(1), Tags(kMaxTagsPerEntry + 1, "t")).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Get("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->InvalidatePattern("").status().code(), StatusCode::kInvalidArgument);
  auto stamp = c->StampFor("k", {"a"});
  ASSERT_TRUE(stamp.ok());
  // A stamp for other tags does not fit.
  EXPECT_EQ(
      c->SetIfCurrent("k", std::make_shared<const std::string>("v"), seconds(1), {}, *stamp).code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(c->SetIfCurrent("k", nullptr, seconds(1), {"a"}, *stamp).code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(NewMemoryCache({.max_bytes = 0}).ok());
}

TEST_F(MemoryCacheTest, RefusesValueLargerThanShard) {
  CachePtr c = Make(/*max_bytes=*/4096, /*shards=*/4);
  Status s = c->Set("big", std::string(2000, 'x'), seconds(1));
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_EQ(Value(*c, "big"), std::nullopt);
}

TEST_F(MemoryCacheTest, StaysWithinByteBoundEvictingLeastRecentlyUsed) {
  CachePtr c = Make(/*max_bytes=*/8 * 1024, /*shards=*/1);
  const std::string value(900, 'v');
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c->Set("k" + std::to_string(i), value, hours(1)).ok());
  // k0 is the most recently used now; k1 the least.
  EXPECT_TRUE(Value(*c, "k0").has_value());
  for (int i = 5; i < 40; ++i) {
    ASSERT_TRUE(c->Set("k" + std::to_string(i), value, hours(1)).ok());
    EXPECT_LE(c->Stats().tiers[0].bytes, 8 * 1024);
    if (i == 8) {
      // Two were evicted by now; the reused k0 outlived k1.
      EXPECT_EQ(Value(*c, "k1"), std::nullopt);
      EXPECT_TRUE(Value(*c, "k0").has_value());
    }
  }
  EXPECT_TRUE(Value(*c, "k39").has_value());
  TierStats st = c->Stats().tiers[0];
  EXPECT_GT(st.evictions, 0u);
  EXPECT_GT(st.keys, 0);
  EXPECT_LE(st.bytes, 8 * 1024);
}

TEST_F(MemoryCacheTest, EvictsExpiredEntriesBeforeLiveOnes) {
  // Room for exactly three entries.
  CachePtr c = Make(/*max_bytes=*/3 * (1000 + 1 + 160), /*shards=*/1);
  const std::string value(1000, 'v');
  ASSERT_TRUE(c->Set("b", value, hours(1)).ok());  // least recently used
  ASSERT_TRUE(c->Set("c", value, hours(1)).ok());
  ASSERT_TRUE(c->Set("a", value, seconds(1)).ok());  // most recent, but short-lived
  clock_.Advance(seconds(2));
  ASSERT_TRUE(c->Set("d", value, hours(1)).ok());
  EXPECT_TRUE(Value(*c, "b").has_value()) << "LRU entry evicted although an expired one existed";
  EXPECT_TRUE(Value(*c, "c").has_value());
  EXPECT_TRUE(Value(*c, "d").has_value());
  EXPECT_EQ(Value(*c, "a"), std::nullopt);
}

TEST_F(MemoryCacheTest, InvalidatesByTagKeyAndPattern) {
  CachePtr c = Make();
  ASSERT_TRUE(c->Set("orders:1", "1", hours(1), {"user:1", "school:1"}).ok());
  ASSERT_TRUE(c->Set("orders:2", "2", hours(1), {"user:2", "school:1"}).ok());
  ASSERT_TRUE(c->Set("menus:1", "m", hours(1), {"school:2"}).ok());
  ASSERT_TRUE(c->InvalidateTags({"user:1"}).ok());
  EXPECT_EQ(Value(*c, "orders:1"), std::nullopt);
  EXPECT_EQ(Value(*c, "orders:2"), "2");
  ASSERT_TRUE(c->InvalidateTags({"school:1"}).ok());
  EXPECT_EQ(Value(*c, "orders:2"), std::nullopt);
  EXPECT_EQ(Value(*c, "menus:1"), "m");
  ASSERT_TRUE(c->Delete("menus:1").ok());
  EXPECT_EQ(Value(*c, "menus:1"), std::nullopt);
  EXPECT_TRUE(c->Delete("never-there").ok());

  ASSERT_TRUE(c->Set("orders:3", "3", hours(1)).ok());
  ASSERT_TRUE(c->Set("orders:4", "4", hours(1)).ok());
  ASSERT_TRUE(c->Set("menus:2", "m", hours(1)).ok());
  auto removed = c->InvalidatePattern("orders:*");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 2u);
  EXPECT_EQ(Value(*c, "orders:3"), std::nullopt);
  EXPECT_EQ(Value(*c, "menus:2"), "m");
  ASSERT_TRUE(c->Clear().ok());
  EXPECT_EQ(Value(*c, "menus:2"), std::nullopt);
  EXPECT_EQ(c->Stats().tiers[0].keys, 0);
  EXPECT_EQ(c->Stats().tiers[0].bytes, 0);
}

// The race of the issue: loader reads old state, writer commits and invalidates, loader stores.
TEST_F(MemoryCacheTest, StampTakenBeforeAnInvalidationStoresNothing) {
  CachePtr c = Make();
  auto v = std::make_shared<const std::string>("old");
  for (int variant = 0; variant < 4; ++variant) {
    auto stamp = c->StampFor("k", {"t"});
    ASSERT_TRUE(stamp.ok());
    switch (variant) {
      case 0:
        ASSERT_TRUE(c->InvalidateTags({"t"}).ok());
        break;
      case 1:
        ASSERT_TRUE(c->Delete("k").ok());
        break;
      case 2:
        ASSERT_TRUE(c->InvalidatePattern("nothing-matches-*").ok());
        break;
      case 3:
        ASSERT_TRUE(c->Clear().ok());
        break;
    }
    ASSERT_TRUE(c->SetIfCurrent("k", v, hours(1), {"t"}, *stamp).ok());
    EXPECT_EQ(Value(*c, "k"), std::nullopt) << "variant " << variant;
  }
  EXPECT_EQ(c->Stats().tiers[0].stale_sets, 4u);
  // An unrelated tag does not block the store.
  auto stamp = c->StampFor("k", {"t"});
  ASSERT_TRUE(c->InvalidateTags({"other"}).ok());
  ASSERT_TRUE(c->SetIfCurrent("k", v, hours(1), {"t"}, *stamp).ok());
  EXPECT_EQ(Value(*c, "k"), "old");
}

TEST_F(MemoryCacheTest, ExportsPerTierMetrics) {
  CachePtr c = Make();
  ASSERT_TRUE(c->Set("k", "v", hours(1)).ok());
  (void)Value(*c, "k");
  (void)Value(*c, "x");
  TierStats st = c->Stats().tiers[0];
  EXPECT_EQ(st.tier, "memory");
  EXPECT_EQ(st.hits, 1u);
  EXPECT_EQ(st.misses, 1u);
  EXPECT_EQ(st.sets, 1u);
  EXPECT_DOUBLE_EQ(st.HitRate(), 0.5);
  std::string text = registry_->RenderPrometheus();
  EXPECT_NE(text.find("hasivu_cache_hits_total{tier=\"memory\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("hasivu_cache_keys{tier=\"memory\"} 1"), std::string::npos) << text;
}

// Writers bump a "database" version, then invalidate; readers note the version last invalidated
// before they read and must never get an older value. Meaningful under TSan too.
TEST_F(MemoryCacheTest, ConcurrentReadersNeverSeeValuesOlderThanACompletedInvalidation) {
  MemoryCacheSettings s;
  s.max_bytes = 64 * 1024;  // small: eviction runs too
  s.shards = 4;
  auto made = NewMemoryCache(s);
  ASSERT_TRUE(made.ok());
  Cache& c = **made;
  constexpr int kKeys = 16;
  std::vector<std::atomic<int>> db(kKeys);
  std::vector<std::atomic<int>> invalidated(kKeys);
  for (int i = 0; i < kKeys; ++i) {
    db[i] = 0;
    invalidated[i] = 0;
  }
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0};
  std::atomic<long> hits{0};
  auto key = [](int i) { return "key" + std::to_string(i); };
  auto tag = [](int i) { return "tag" + std::to_string(i % 4) + ":" + std::to_string(i); };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {  // loaders
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      while (!stop) {
        int i = static_cast<int>(rng() % kKeys);
        auto stamp = c.StampFor(key(i), {tag(i)});
        if (!stamp.ok()) continue;
        int version = db[i].load();
        (void)c.SetIfCurrent(key(i), std::make_shared<const std::string>(std::to_string(version)),
                             std::chrono::hours(1), {tag(i)}, *stamp);
      }
    });
  }
  for (int t = 0; t < 4; ++t) {  // readers
    threads.emplace_back([&, t] {
      std::mt19937 rng(100 + t);
      while (!stop) {
        int i = static_cast<int>(rng() % kKeys);
        int floor = invalidated[i].load();
        auto r = c.Get(key(i));
        if (r.ok() && r->has_value()) {
          ++hits;
          if (std::stoi(*(*r)->value) < floor) ++violations;
        }
      }
    });
  }
  std::thread writer([&] {
    std::mt19937 rng(7);
    for (int n = 0; n < 3000; ++n) {
      int i = static_cast<int>(rng() % kKeys);
      int version = ++db[i];
      if (n % 2 == 0) {
        ASSERT_TRUE(c.InvalidateTags({tag(i)}).ok());
      } else {
        ASSERT_TRUE(c.Delete(key(i)).ok());
      }
      invalidated[i].store(version);
      if (n % 500 == 0) (void)c.InvalidatePattern("key1*");
    }
  });
  writer.join();
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GT(hits.load(), 0);
  EXPECT_LE(c.Stats().tiers[0].bytes, 64 * 1024);
}

}  // namespace
}  // namespace hasivu::cache

namespace hasivu::cache::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(
    Memory, CacheSuite,
    ::testing::Values(CacheFactory{
        "memory", [](const std::string&) { return std::move(NewMemoryCache({}).value()); }, nullptr,
        nullptr, ""}),
    FactoryName);

}  // namespace
}  // namespace hasivu::cache::testing
