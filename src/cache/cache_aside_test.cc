#include "cache/cache_aside.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "cache/memory/memory_cache.h"
#include "common/blocking.h"
#include "metrics/trace.h"

namespace hasivu::cache {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Waits (bounded) until `pred` holds; false if it never did.
template <typename Pred>
bool Eventually(Pred pred, milliseconds limit = milliseconds(10000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

class CacheAsideTest : public ::testing::Test {
 protected:
  CacheAsideTest() : cache_(std::move(NewMemoryCache({}).value())), aside_(*cache_) {}
  CachePtr cache_;
  CacheAside aside_;
};

TEST_F(CacheAsideTest, MissLoadsThenHitDoesNotCallTheLoader) {
  int calls = 0;
  auto loader = [&]() -> StatusOr<std::string> {
    ++calls;
    return std::string("body");
  };
  auto first = aside_.GetOrLoad("k", seconds(60), {"t"}, loader);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first->value, "body");
  EXPECT_EQ(first->source, Loaded::Source::kLoaded);
  auto second = aside_.GetOrLoad("k", seconds(60), {"t"}, loader);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->source, Loaded::Source::kHit);
  EXPECT_EQ(*second->value, "body");
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(aside_.InvalidateTags({"t"}).ok());
  ASSERT_TRUE(aside_.GetOrLoad("k", seconds(60), {"t"}, loader).ok());
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(aside_.Stats().loads, 2u);
}

TEST_F(CacheAsideTest, AnAttemptThatMustNotBlockServesHitsAndLoadsNothing) {
  int calls = 0;
  auto loader = [&]() -> StatusOr<std::string> {
    ++calls;
    return std::string("body");
  };
  ASSERT_TRUE(aside_.GetOrLoad("hit", seconds(60), {}, loader).ok());
  const char* refused_by = nullptr;
  std::string detail;
  {
    NonBlockingAttempt attempt;
    auto hit = aside_.GetOrLoad("hit", seconds(60), {}, loader);
    ASSERT_TRUE(hit.ok());
    EXPECT_EQ(hit->source, Loaded::Source::kHit);
    EXPECT_FALSE(attempt.refused());
    EXPECT_EQ(aside_.GetOrLoad("miss", seconds(60), {}, loader).status().code(),
              StatusCode::kUnavailable);
    ASSERT_TRUE(attempt.refused());
    refused_by = attempt.refused_by();
    detail = attempt.refused_detail();
  }
  EXPECT_EQ(detail, "miss");
  EXPECT_EQ(calls, 1);  // the miss was not loaded in the attempt
  const uint64_t misses = cache_->Stats().tiers[0].misses;
  {
    RetryAfterRefusal retry(refused_by, detail);
    auto loaded = aside_.GetOrLoad("miss", seconds(60), {}, loader);
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(loaded->source, Loaded::Source::kLoaded);
  }
  EXPECT_EQ(calls, 2);
  // The retry skipped the lookup that had just missed; only the leader's second look counts.
  EXPECT_EQ(cache_->Stats().tiers[0].misses, misses + 1);
}

// One call of the current request's cache span per lookup, hit or miss; the loader's time is
// not cache time.
TEST_F(CacheAsideTest, EachLookupIsOneCacheSpanCallWithoutTheLoadersTime) {
  constexpr size_t kCacheSpan = static_cast<size_t>(metrics::SpanKind::kCache);
  constexpr milliseconds kLoaderTime{300};
  metrics::RequestTrace trace;
  {
    metrics::ScopedRequestTrace current(trace);
    auto slow_loader = [&]() -> StatusOr<std::string> {
      std::this_thread::sleep_for(kLoaderTime);
      return std::string("body");
    };
    ASSERT_TRUE(aside_.GetOrLoad("span", seconds(60), {}, slow_loader).ok());  // miss
    ASSERT_TRUE(aside_.GetOrLoad("span", seconds(60), {}, slow_loader).ok());  // hit
    // Refused before the cache is asked: no call.
    EXPECT_FALSE(aside_.GetOrLoad("", seconds(60), {}, slow_loader).ok());
  }
  EXPECT_EQ(trace.spans.count[kCacheSpan], 2u);
  // Had the loader been counted, the span would hold at least its sleep.
  EXPECT_LT(trace.spans.nanos[kCacheSpan],
            std::chrono::duration_cast<std::chrono::nanoseconds>(kLoaderTime).count());
}

TEST_F(CacheAsideTest, HundredConcurrentMissesRunTheLoaderOnce) {
  std::atomic<int> calls{0};
  auto loader = [&]() -> StatusOr<std::string> {
    ++calls;
    // Hold the load until every other caller waits on it, so "once" is not luck.
    EXPECT_TRUE(Eventually([&] { return aside_.WaitersForTest("hot") == 99; }));
    return std::string("value");
  };
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, shared{0};
  for (int i = 0; i < 100; ++i) {
    threads.emplace_back([&] {
      auto r = aside_.GetOrLoad("hot", seconds(60), {}, loader);
      if (r.ok() && *r->value == "value") ++ok;
      if (r.ok() && r->source == Loaded::Source::kShared) ++shared;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(shared.load(), 99);
  EXPECT_EQ(aside_.Stats().shared, 99u);
}

TEST_F(CacheAsideTest, FailingLoaderErrorGoesToAllWaitersIsNotCachedAndIsRetriedNextTime) {
  std::atomic<int> calls{0};
  auto failing = [&]() -> StatusOr<std::string> {
    ++calls;
    EXPECT_TRUE(Eventually([&] { return aside_.WaitersForTest("k") == 9; }));
    return UnavailableError("database down");
  };
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&] {
      auto r = aside_.GetOrLoad("k", seconds(60), {}, failing);
      if (!r.ok() && r.status().code() == StatusCode::kUnavailable &&
          r.status().message() == "database down") {
        ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(calls.load(), 1) << "a failing loader must not be called twice";
  EXPECT_EQ(errors.load(), 10);
  EXPECT_EQ(aside_.Stats().loader_errors, 1u);
  auto miss = cache_->Get("k");
  ASSERT_TRUE(miss.ok());
  EXPECT_FALSE(miss->has_value()) << "an error must not be cached";
  auto next = aside_.GetOrLoad("k", seconds(60), {},
                               []() -> StatusOr<std::string> { return std::string("ok"); });
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next->value, "ok");
}

// Loader reads the old state, a writer commits and invalidates meanwhile: the old value is
// returned to this caller (its read began before the write) but never cached.
TEST_F(CacheAsideTest, InvalidationDuringLoadLeavesNothingCached) {
  int db = 1;
  int calls = 0;
  auto loader = [&]() -> StatusOr<std::string> {
    ++calls;
    std::string seen = std::to_string(db);
    db = 2;                                               // the write commits...
    EXPECT_TRUE(aside_.InvalidateTags({"user:1"}).ok());  // ...and invalidates
    return seen;
  };
  auto r = aside_.GetOrLoad("profile:1", hours(1), {"user:1"}, loader);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r->value, "1");
  auto after = aside_.GetOrLoad("profile:1", hours(1), {"user:1"},
                                [&]() -> StatusOr<std::string> { return std::to_string(db); });
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after->value, "2");
  EXPECT_EQ(after->source, Loaded::Source::kLoaded);
  EXPECT_EQ(cache_->Stats().tiers[0].stale_sets, 1u);
}

// A reader that starts after an invalidation returned must not join a load stamped before it.
TEST_F(CacheAsideTest, LateReaderDoesNotJoinALoadStartedBeforeTheWrite) {
  std::atomic<int> db{1};
  std::atomic<bool> release{false};
  std::atomic<int> calls{0};
  auto slow = [&]() -> StatusOr<std::string> {
    ++calls;
    std::string seen = std::to_string(db.load());
    EXPECT_TRUE(Eventually([&] { return release.load(); }));
    return seen;
  };
  std::thread early([&] {
    auto r = aside_.GetOrLoad("k", hours(1), {"t"}, slow);
    EXPECT_TRUE(r.ok());
    if (r.ok()) {
      EXPECT_EQ(*r->value, "1");
    }
  });
  ASSERT_TRUE(Eventually([&] { return calls.load() == 1; }));
  db = 2;
  ASSERT_TRUE(aside_.InvalidateTags({"t"}).ok());
  auto fast = [&]() -> StatusOr<std::string> {
    ++calls;
    return std::to_string(db.load());
  };
  auto late = aside_.GetOrLoad("k", hours(1), {"t"}, fast);
  release = true;
  early.join();
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(*late->value, "2");
  EXPECT_EQ(calls.load(), 2);
  auto cached = cache_->Get("k");
  ASSERT_TRUE(cached.ok() && cached->has_value());
  EXPECT_EQ(*(*cached)->value, "2") << "the early, stale load must not overwrite the new value";
}

TEST_F(CacheAsideTest, BadArgumentsNeverCallTheLoader) {
  int calls = 0;
  auto loader = [&]() -> StatusOr<std::string> {
    ++calls;
    return std::string("x");
  };
  EXPECT_EQ(aside_.GetOrLoad("", seconds(1), {}, loader).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(aside_.GetOrLoad("k", seconds(0), {}, loader).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(aside_.GetOrLoad("k", seconds(1), {"a\nb"}, loader).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(aside_.GetOrLoad("k", seconds(1), {}, nullptr).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(calls, 0);
}

// A cache that fails every call, as Redis alone does while down.
class BrokenCache : public Cache {
 public:
  StatusOr<std::optional<Entry>> Get(std::string_view) override { return UnavailableError("x"); }
  StatusOr<Stamp> StampFor(std::string_view, const Tags&) override { return UnavailableError("x"); }
  Status SetIfCurrent(std::string_view, ValuePtr, milliseconds, const Tags&,
                      const Stamp&) override {
    return UnavailableError("x");
  }
  Status Delete(std::string_view) override { return UnavailableError("x"); }
  Status InvalidateTags(const Tags&) override { return UnavailableError("x"); }
  StatusOr<size_t> InvalidatePattern(std::string_view) override { return UnavailableError("x"); }
  Status Clear() override { return UnavailableError("x"); }
  CacheStats Stats() const override { return {}; }
  CacheHealth Health() const override { return {false, "broken", {}}; }
};

TEST(CacheAsideBrokenCacheTest, CacheFailuresNeverFailTheRead) {
  BrokenCache broken;
  CacheAside aside(broken);
  int calls = 0;
  for (int i = 0; i < 3; ++i) {
    auto r = aside.GetOrLoad("k", seconds(1), {"t"}, [&]() -> StatusOr<std::string> {
      ++calls;
      return std::string("db");
    });
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r->value, "db");
  }
  EXPECT_EQ(calls, 3);
}

TEST_F(CacheAsideTest, MeasuresLoaderTimeAndExportsIt) {
  metrics::RegistryPtr registry = metrics::NewRegistry();
  CacheAside aside(*cache_, {.registry = registry.get()});
  auto r = aside.GetOrLoad("slow", seconds(10), {}, []() -> StatusOr<std::string> {
    std::this_thread::sleep_for(milliseconds(20));
    return std::string("v");
  });
  ASSERT_TRUE(r.ok());
  EXPECT_GE(aside.Stats().loader_seconds, 0.019);
  std::string text = registry->RenderPrometheus();
  EXPECT_NE(text.find("hasivu_cache_loader_seconds_count 1"), std::string::npos) << text;
  EXPECT_NE(text.find("hasivu_cache_loads_total 1"), std::string::npos) << text;
}

TEST_F(CacheAsideTest, WarmUpLoadsWhatIsMissingAndCountsFailures) {
  ASSERT_TRUE(cache_->Set("present", "p", hours(1)).ok());
  std::vector<WarmUpItem> items = {
      {"present", hours(1), {}, []() -> StatusOr<std::string> { return std::string("new"); }},
      {"menu:1",
       hours(2),
       {"school:1"},
       []() -> StatusOr<std::string> { return std::string("m1"); }},
      {"menu:2",
       hours(2),
       {"school:2"},
       []() -> StatusOr<std::string> { return NotFoundError("no menu"); }},
  };
  WarmUpResult r = aside_.WarmUp(items);
  EXPECT_EQ(r.present, 1u);
  EXPECT_EQ(r.loaded, 1u);
  EXPECT_EQ(r.failed, 1u);
  EXPECT_EQ(r.first_error.code(), StatusCode::kNotFound);
  auto m1 = cache_->Get("menu:1");
  ASSERT_TRUE(m1.ok() && m1->has_value());
  EXPECT_EQ(*(*m1)->value, "m1");
  auto p = cache_->Get("present");
  EXPECT_EQ(*(*p)->value, "p");
}

}  // namespace
}  // namespace hasivu::cache
