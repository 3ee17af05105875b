#include "app/monitor_wiring.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cache/tier_metrics.h"
#include "metrics/http_series.h"
#include "metrics/monitor.h"
#include "store/testing/test_backend.h"

namespace hasivu::app {
namespace {

class MonitorWiringTest : public ::testing::Test {
 protected:
  const metrics::IntervalData* In(const std::vector<metrics::SeriesInterval>& all,
                                  std::string_view name, const metrics::Dimensions& dims = {}) {
    for (const metrics::SeriesInterval& s : all) {
      if (s.info.name == name && s.info.dimensions == dims) return &s.data;
    }
    return nullptr;
  }

  metrics::RegistryPtr registry_ = metrics::NewRegistry();
  metrics::Monitor monitor_{*registry_};
  metrics::Cursor cursor_;
};

TEST_F(MonitorWiringTest, ApiSeriesFollowTheServersRouteSeries) {
  AdoptApiSeries(monitor_, {{"orders-list", {"GET"}}, {"orders-create", {"POST"}}, {"nope", {}}});
  metrics::Registry& r = *registry_;
  for (int i = 0; i < 3; ++i) metrics::HttpRequests(r, "orders-list", "GET", "2xx").Add();
  metrics::HttpRequests(r, "orders-list", "HEAD", "2xx").Add();
  metrics::HttpRequests(r, "orders-list", "GET", "4xx").Add();
  metrics::HttpRequests(r, "orders-create", "POST", "2xx").Add();
  metrics::HttpRequests(r, "orders-create", "POST", "5xx").Add();
  metrics::HttpRequestLatency(r, "orders-list").Record(1500);  // microseconds

  const std::vector<metrics::SeriesInterval> all = monitor_.Collect(cursor_);
  const metrics::Dimensions list = {{"Function", "orders-list"}};
  const metrics::Dimensions create = {{"Function", "orders-create"}};
  EXPECT_EQ(In(all, "ApiRequests", list)->count, 5u);
  EXPECT_EQ(In(all, "ApiServerErrors", list)->count, 0u);
  EXPECT_EQ(In(all, "ApiRequests", create)->count, 2u);
  EXPECT_EQ(In(all, "ApiServerErrors", create)->count, 1u);
  ASSERT_NE(In(all, "ApiLatency", list), nullptr);
  EXPECT_EQ(In(all, "ApiLatency", list)->count, 1u);
  EXPECT_DOUBLE_EQ(In(all, "ApiLatency", list)->sum, 1.5);
  EXPECT_DOUBLE_EQ(In(all, "ApiErrorRate")->sum, 100.0 / 7);
  // A function that is not routed has no series.
  EXPECT_EQ(In(all, "ApiRequests", {{"Function", "nope"}}), nullptr);
  // Adopted, not recorded twice: no hasivu_api_* series in /metrics.
  EXPECT_EQ(registry_->RenderPrometheus().find("hasivu_api_"), std::string::npos);
}

TEST_F(MonitorWiringTest, CacheSeriesFollowEachTiersCounters) {
  AdoptCacheSeries(monitor_, {"l1", "redis"});
  cache::TierMetrics l1(registry_.get(), "l1");
  cache::TierMetrics redis(registry_.get(), "redis");
  l1.hits.Add(3);
  l1.misses.Add(1);
  l1.evictions.Add(2);
  redis.errors.Add(4);
  const std::vector<metrics::SeriesInterval> all = monitor_.Collect(cursor_);
  EXPECT_EQ(In(all, "CacheHits", {{"Tier", "l1"}})->count, 3u);
  EXPECT_EQ(In(all, "CacheMisses", {{"Tier", "l1"}})->count, 1u);
  EXPECT_EQ(In(all, "CacheEvictions", {{"Tier", "l1"}})->count, 2u);
  EXPECT_EQ(In(all, "CacheErrors", {{"Tier", "redis"}})->count, 4u);
  EXPECT_DOUBLE_EQ(In(all, "CacheHitRate", {{"Tier", "l1"}})->sum, 75);
  EXPECT_EQ(In(all, "CacheHitRate", {{"Tier", "redis"}})->count, 0u);  // no lookups: missing
}

TEST_F(MonitorWiringTest, ProcessLevelsReadTheProcessAndThePool) {
  auto db = store::testing::NewTestDatabase(3);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  AddProcessLevels(monitor_, (*db)->db());
  const std::vector<metrics::SeriesInterval> all = monitor_.Collect(cursor_);
  ASSERT_EQ(In(all, "MemoryRss")->count, 1u);
  EXPECT_GT(In(all, "MemoryRss")->sum, 1 << 20);
  EXPECT_EQ(In(all, "DatabasePoolInUse")->count, 1u);
  EXPECT_EQ(In(all, "DatabasePoolInUse")->sum, (*db)->db().Stats().in_use);
  EXPECT_EQ(In(all, "DatabasePoolSize")->sum, (*db)->db().Stats().size);
}

}  // namespace
}  // namespace hasivu::app
