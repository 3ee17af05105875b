#include "cache/testing/cache_suite.h"

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "cache/cache_aside.h"

namespace hasivu::cache::testing {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::optional<std::string> Value(Cache& c, std::string_view key) {
  auto r = c.Get(key);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok() || !r->has_value()) return std::nullopt;
  return *(*r)->value;
}

template <typename Pred>
bool Eventually(Pred pred, milliseconds limit = milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

// Tiered caches use L1 only once subscribed; wait for it so tests exercise L1.
void WaitUntilReady(Cache& c) {
  Eventually([&] {
    CacheHealth h = c.Health();
    return h.subscribed || h.detail.find("l1") == std::string::npos;
  });
}

}  // namespace

std::string FactoryName(const ::testing::TestParamInfo<CacheFactory>& info) {
  return info.param.name;
}

void CacheSuite::SetUp() {
  static std::atomic<int> counter{0};
  prefix_ = "hasivu-test:" + std::to_string(getpid()) + ":" + std::to_string(counter++) + ":";
  cache_ = GetParam().make(prefix_);
  if (cache_ == nullptr)
    GTEST_SKIP() << GetParam().name << " is not available: " << GetParam().skip_reason;
  WaitUntilReady(*cache_);
}

void CacheSuite::TearDown() {
  cache_.reset();
  if (GetParam().cleanup) GetParam().cleanup(prefix_);
}

TEST_P(CacheSuite, SetGetOverwriteDelete) {
  EXPECT_EQ(Value(*cache_, "a"), std::nullopt);
  ASSERT_TRUE(cache_->Set("a", "one", seconds(60), {"t"}).ok());
  EXPECT_EQ(Value(*cache_, "a"), "one");
  auto e = cache_->Get("a");
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_EQ((*e)->tags, Tags{"t"});
  ASSERT_TRUE((*e)->ttl_left.has_value());
  EXPECT_LE(*(*e)->ttl_left, milliseconds(60000));
  EXPECT_GT(*(*e)->ttl_left, milliseconds(0));
  ASSERT_TRUE(cache_->Set("a", "two", seconds(60)).ok());
  EXPECT_EQ(Value(*cache_, "a"), "two");
  ASSERT_TRUE(cache_->Delete("a").ok());
  EXPECT_EQ(Value(*cache_, "a"), std::nullopt);
  EXPECT_TRUE(cache_->Delete("a").ok());
}

TEST_P(CacheSuite, BinaryAndLargeValuesRoundTrip) {
  std::string value;
  std::mt19937 rng(1);
  for (int i = 0; i < (1 << 20); ++i) value.push_back(static_cast<char>(rng()));
  value[10] = '\0';
  value[11] = '\n';
  ASSERT_TRUE(cache_->Set("bin", value, seconds(60), {"x"}).ok());
  EXPECT_EQ(Value(*cache_, "bin"), value);
  ASSERT_TRUE(cache_->Set("empty", "", seconds(60)).ok());
  EXPECT_EQ(Value(*cache_, "empty"), "");
  std::string odd_key = "k:*?[]\\ \n\xff";
  ASSERT_TRUE(cache_->Set(odd_key, "odd", seconds(60)).ok());
  EXPECT_EQ(Value(*cache_, odd_key), "odd");
}

TEST_P(CacheSuite, ExpiresAfterTtl) {
  ASSERT_TRUE(cache_->Set("short", "v", milliseconds(200)).ok());
  EXPECT_EQ(Value(*cache_, "short"), "v");
  EXPECT_TRUE(Eventually([&] { return !Value(*cache_, "short").has_value(); }, seconds(3)));
}

TEST_P(CacheSuite, TagInvalidationRemovesExactlyTheTaggedEntries) {
  ASSERT_TRUE(cache_->Set("orders:u1", "a", hours(1), {"user:1", "school:1"}).ok());
  ASSERT_TRUE(cache_->Set("orders:u2", "b", hours(1), {"user:2", "school:1"}).ok());
  ASSERT_TRUE(cache_->Set("menu:s2", "c", hours(1), {"school:2"}).ok());
  ASSERT_TRUE(cache_->InvalidateTags({"user:1"}).ok());
  EXPECT_EQ(Value(*cache_, "orders:u1"), std::nullopt);
  EXPECT_EQ(Value(*cache_, "orders:u2"), "b");
  ASSERT_TRUE(cache_->InvalidateTags({"school:1", "school:2"}).ok());
  EXPECT_EQ(Value(*cache_, "orders:u2"), std::nullopt);
  EXPECT_EQ(Value(*cache_, "menu:s2"), std::nullopt);
  EXPECT_TRUE(cache_->InvalidateTags({}).ok());
  // A tag can be used again after its invalidation.
  ASSERT_TRUE(cache_->Set("orders:u1", "a2", hours(1), {"user:1"}).ok());
  EXPECT_EQ(Value(*cache_, "orders:u1"), "a2");
}

TEST_P(CacheSuite, PatternInvalidation) {
  ASSERT_TRUE(cache_->Set("orders:1", "1", hours(1)).ok());
  ASSERT_TRUE(cache_->Set("orders:2", "2", hours(1)).ok());
  ASSERT_TRUE(cache_->Set("menus:1", "m", hours(1)).ok());
  auto n = cache_->InvalidatePattern("orders:*");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(Value(*cache_, "orders:1"), std::nullopt);
  EXPECT_EQ(Value(*cache_, "orders:2"), std::nullopt);
  EXPECT_EQ(Value(*cache_, "menus:1"), "m");
  auto exact = cache_->InvalidatePattern("menus:1");
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(*exact, 1u);
  EXPECT_EQ(Value(*cache_, "menus:1"), std::nullopt);
  ASSERT_TRUE(cache_->Set("x", "x", hours(1)).ok());
  ASSERT_TRUE(cache_->Clear().ok());
  EXPECT_EQ(Value(*cache_, "x"), std::nullopt);
}

TEST_P(CacheSuite, StoreStampedBeforeAnInvalidationIsDropped) {
  auto v = std::make_shared<const std::string>("old");
  auto s1 = cache_->StampFor("k", {"t"});
  ASSERT_TRUE(s1.ok()) << s1.status().ToString();
  ASSERT_TRUE(cache_->InvalidateTags({"t"}).ok());
  ASSERT_TRUE(cache_->SetIfCurrent("k", v, hours(1), {"t"}, *s1).ok());
  EXPECT_EQ(Value(*cache_, "k"), std::nullopt);
  auto s2 = cache_->StampFor("k", {"t"});
  ASSERT_TRUE(cache_->Delete("k").ok());
  ASSERT_TRUE(cache_->SetIfCurrent("k", v, hours(1), {"t"}, *s2).ok());
  EXPECT_EQ(Value(*cache_, "k"), std::nullopt);
  auto s3 = cache_->StampFor("k", {"t"});
  ASSERT_TRUE(cache_->InvalidatePattern("zzz*").ok());
  ASSERT_TRUE(cache_->SetIfCurrent("k", v, hours(1), {"t"}, *s3).ok());
  EXPECT_EQ(Value(*cache_, "k"), std::nullopt);
  auto s4 = cache_->StampFor("k", {"t"});
  ASSERT_TRUE(cache_->SetIfCurrent("k", v, hours(1), {"t"}, *s4).ok());
  EXPECT_EQ(Value(*cache_, "k"), "old");
}

TEST_P(CacheSuite, SingleFlightRunsTheLoaderOnce) {
  CacheAside aside(*cache_);
  std::atomic<int> calls{0};
  auto loader = [&]() -> StatusOr<std::string> {
    ++calls;
    EXPECT_TRUE(Eventually([&] { return aside.WaitersForTest("hot") == 49; }));
    return std::string("v");
  };
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&] {
      auto r = aside.GetOrLoad("hot", seconds(60), {"t"}, loader);
      if (r.ok() && *r->value == "v") ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(ok.load(), 50);
  EXPECT_EQ(Value(*cache_, "hot"), "v");
}

// Writers commit a version then invalidate; readers through CacheAside never see a version older
// than the last invalidation that completed before their read began.
TEST_P(CacheSuite, ConcurrentReadsNeverStale) {
  CacheAside aside(*cache_);
  constexpr int kKeys = 8;
  std::vector<std::atomic<int>> db(kKeys), done(kKeys);
  for (int i = 0; i < kKeys; ++i) db[i] = done[i] = 0;
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0}, reads{0}, failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937 rng(t);
      while (!stop) {
        int i = static_cast<int>(rng() % kKeys);
        int floor = done[i].load();
        auto r = aside.GetOrLoad(
            "k" + std::to_string(i), hours(1), {"tag" + std::to_string(i)},
            [&]() -> StatusOr<std::string> { return std::to_string(db[i].load()); });
        if (!r.ok()) {
          ++failures;
          continue;
        }
        ++reads;
        if (std::stoi(*r->value) < floor) ++violations;
      }
    });
  }
  std::mt19937 rng(99);
  for (int n = 0; n < 300; ++n) {
    int i = static_cast<int>(rng() % kKeys);
    int v = ++db[i];
    ASSERT_TRUE(aside.InvalidateTags({"tag" + std::to_string(i)}).ok());
    done[i] = v;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

// Two clients of one shared store behave like two processes.
TEST_P(CacheSuite, InvalidationInOneProcessReachesTheOther) {
  if (!GetParam().make_peer) GTEST_SKIP() << "in-process cache: no second process";
  CachePtr peer = GetParam().make_peer(prefix_);
  WaitUntilReady(*peer);
  CacheAside a(*cache_), b(*peer);
  std::atomic<int> db{1};
  auto load = [&]() -> StatusOr<std::string> { return std::to_string(db.load()); };
  ASSERT_EQ(*b.GetOrLoad("profile:1", hours(1), {"user:1"}, load)->value, "1");
  ASSERT_EQ(*a.GetOrLoad("profile:1", hours(1), {"user:1"}, load)->value, "1");
  auto hit = b.GetOrLoad("profile:1", hours(1), {"user:1"}, load);
  ASSERT_TRUE(hit.ok());
  EXPECT_EQ(hit->source, Loaded::Source::kHit);

  db = 2;
  ASSERT_TRUE(a.InvalidateTags({"user:1"}).ok());
  // B's copy (in its L1 for a tiered cache, whose l1_ttl is far longer than this wait) must go;
  // only the published invalidation can do that.
  EXPECT_TRUE(Eventually([&] { return !Value(*peer, "profile:1").has_value(); }, seconds(2)));
  EXPECT_EQ(*b.GetOrLoad("profile:1", hours(1), {"user:1"}, load)->value, "2");
  EXPECT_EQ(*a.GetOrLoad("profile:1", hours(1), {"user:1"}, load)->value, "2");

  // A stamp B took before A's invalidation cannot store in the shared tier.
  auto stamp = peer->StampFor("profile:2", {"user:2"});
  ASSERT_TRUE(stamp.ok());
  ASSERT_TRUE(cache_->InvalidateTags({"user:2"}).ok());
  ASSERT_TRUE(peer->SetIfCurrent("profile:2", std::make_shared<const std::string>("old"), hours(1),
                                 {"user:2"}, *stamp)
                  .ok());
  EXPECT_EQ(Value(*cache_, "profile:2"), std::nullopt);
  EXPECT_TRUE(Eventually([&] { return !Value(*peer, "profile:2").has_value(); }, seconds(2)));

  // Deletes and patterns travel too.
  ASSERT_TRUE(peer->Set("menu:1", "m", hours(1)).ok());
  ASSERT_EQ(Value(*peer, "menu:1"), "m");
  ASSERT_TRUE(cache_->Delete("menu:1").ok());
  EXPECT_TRUE(Eventually([&] { return !Value(*peer, "menu:1").has_value(); }, seconds(2)));
  ASSERT_TRUE(peer->Set("menu:2", "m", hours(1)).ok());
  ASSERT_EQ(Value(*peer, "menu:2"), "m");
  ASSERT_TRUE(cache_->InvalidatePattern("menu:*").ok());
  EXPECT_TRUE(Eventually([&] { return !Value(*peer, "menu:2").has_value(); }, seconds(2)));
}

}  // namespace hasivu::cache::testing
