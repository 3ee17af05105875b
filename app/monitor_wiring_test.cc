#include "app/monitor_wiring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cache/tier_metrics.h"
#include "metrics/alarms.h"
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
  AdoptCacheSeries(monitor_, {"l1", "l2"});
  cache::TierMetrics l1(registry_.get(), "l1");
  cache::TierMetrics l2(registry_.get(), "l2");
  l1.hits.Add(3);
  l1.misses.Add(1);
  l1.evictions.Add(2);
  l2.errors.Add(4);
  std::vector<metrics::SeriesInterval> all = monitor_.Collect(cursor_);
  EXPECT_EQ(In(all, "CacheHits", {{"Tier", "l1"}})->count, 3u);
  EXPECT_EQ(In(all, "CacheMisses", {{"Tier", "l1"}})->count, 1u);
  EXPECT_EQ(In(all, "CacheEvictions", {{"Tier", "l1"}})->count, 2u);
  EXPECT_EQ(In(all, "CacheErrors", {{"Tier", "l2"}})->count, 4u);
  EXPECT_DOUBLE_EQ(In(all, "CacheHitRate", {{"Tier", "l1"}})->sum, 75);
  EXPECT_EQ(In(all, "CacheHitRate", {{"Tier", "l2"}})->count, 0u);  // no lookups: missing
  EXPECT_DOUBLE_EQ(In(all, "CacheHitRate", {{"Tier", "all"}})->sum, 75);
  // The combined rate is a rate only: no CacheHits{Tier=all} and the like.
  EXPECT_EQ(In(all, "CacheHits", {{"Tier", "all"}}), nullptr);

  // A small L1 (20 % hits) in front of an L2 that answers 30 of its 40 lookups: 80 % together.
  l1.hits.Add(10);
  l1.misses.Add(40);
  l2.hits.Add(30);
  l2.misses.Add(10);
  all = monitor_.Collect(cursor_);
  EXPECT_DOUBLE_EQ(In(all, "CacheHitRate", {{"Tier", "l1"}})->sum, 20);
  EXPECT_DOUBLE_EQ(In(all, "CacheHitRate", {{"Tier", "l2"}})->sum, 75);
  EXPECT_DOUBLE_EQ(In(all, "CacheHitRate", {{"Tier", "all"}})->sum, 80);
}

TEST_F(MonitorWiringTest, HitRateSeriesAreTheOnesTheAlarmsAndDashboardsName) {
  for (const std::vector<std::string>& tiers :
       {std::vector<std::string>{"memory"}, std::vector<std::string>{"l1", "l2"}}) {
    metrics::RegistryPtr registry = metrics::NewRegistry();
    metrics::Monitor monitor(*registry);
    AdoptCacheSeries(monitor, tiers);
    std::vector<std::string> adopted;
    for (const metrics::SeriesInfo& s : monitor.Series()) {
      if (s.name == "CacheHitRate") adopted.push_back(s.dimensions.at(0).second);
    }
    metrics::ServerDimensions d;
    d.cache_tiers = tiers;
    EXPECT_EQ(adopted, d.HitRateTiers());
    // The default alarm's series exists.
    EXPECT_NE(std::find(adopted.begin(), adopted.end(), d.AlarmedHitRateTier()), adopted.end());
  }
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
