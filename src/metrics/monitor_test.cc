#include "metrics/monitor.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "metrics/catalog.h"

namespace hasivu::metrics {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr double kBucketError = 1.0 / kSubBuckets;

const SeriesInterval* Find(const std::vector<SeriesInterval>& all, std::string_view name,
                           const Dimensions& dims = {}) {
  for (const SeriesInterval& s : all) {
    if (s.info.name == name && s.info.dimensions == dims) return &s;
  }
  return nullptr;
}

// Exact nearest-rank quantile of sorted values.
double Exact(const std::vector<double>& sorted, double q) {
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

void ExpectNear(double actual, double exact, double relative, const char* what) {
  EXPECT_LE(std::fabs(actual - exact), relative * exact)
      << what << ": " << actual << " vs exact " << exact;
}

class MonitorTest : public ::testing::Test {
 protected:
  RegistryPtr registry_ = NewRegistry();
  const steady_clock::time_point t0_ = steady_clock::time_point() + std::chrono::hours(100);
};

// Values from several shapes, spread over `ticks` ticks of one window, against the sorted array.
TEST_F(MonitorTest, WindowStatisticsMatchExactValuesWithinTheBucketError) {
  struct Shape {
    const char* name;
    std::function<double(std::mt19937_64&)> draw;
  };
  std::vector<Shape> shapes = {
      {"lognormal", [](std::mt19937_64& r) { return std::lognormal_distribution<>(1.0, 1.2)(r); }},
      {"uniform", [](std::mt19937_64& r) { return std::uniform_real_distribution<>(5, 300)(r); }},
      {"exponential",
       [](std::mt19937_64& r) { return 0.05 + std::exponential_distribution<>(0.2)(r); }},
      {"bimodal",
       [](std::mt19937_64& r) {
         return std::bernoulli_distribution(0.9)(r) ? std::normal_distribution<>(2, 0.1)(r)
                                                    : std::normal_distribution<>(250, 20)(r);
       }},
  };
  for (int ticks : {1, 5}) {
    for (const Shape& shape : shapes) {
      SCOPED_TRACE(std::string(shape.name) + " over " + std::to_string(ticks) + " ticks");
      Monitor monitor(*registry_);
      const Dimensions dims = {{"Operation", std::string(shape.name) + std::to_string(ticks)}};
      Distribution& d = monitor.GetDistribution(catalog::kOperationDuration, dims);
      std::mt19937_64 rng(42);
      std::vector<double> values;
      constexpr int kValues = 100'000;
      for (int t = 0; t < ticks; ++t) {
        for (int i = 0; i < kValues / ticks; ++i) {
          double v = std::max(0.01, shape.draw(rng));
          values.push_back(v);
          d.Record(v);
        }
        monitor.Tick(t0_ + seconds(10) * (t + 1));
      }
      std::sort(values.begin(), values.end());
      double sum = 0;
      for (double v : values) sum += v;

      std::optional<WindowStats> w = monitor.Stats(catalog::kOperationDuration, dims, minutes(1));
      ASSERT_TRUE(w.has_value());
      EXPECT_EQ(w->count, values.size());
      ExpectNear(w->sum, sum, 1e-9, "sum");
      ExpectNear(w->mean, sum / values.size(), 1e-9, "mean");
      ExpectNear(w->min, values.front(), kBucketError, "min");
      ExpectNear(w->max, values.back(), kBucketError, "max");
      ExpectNear(w->p50, Exact(values, 0.50), kBucketError, "p50");
      ExpectNear(w->p95, Exact(values, 0.95), kBucketError, "p95");
      ExpectNear(w->p99, Exact(values, 0.99), kBucketError, "p99");
      if (ticks == 1) {
        // The first interval of a histogram knows its extremes exactly.
        EXPECT_EQ(w->min, values.front());
        EXPECT_EQ(w->max, values.back());
      }
    }
  }
}

TEST_F(MonitorTest, WindowsRollValuesOlderThanTheWindowOut) {
  Monitor monitor(*registry_);
  const Dimensions dims = {{"Operation", "roll"}};
  Distribution& d = monitor.GetDistribution(catalog::kOperationDuration, dims);
  auto stats = [&](minutes window) {
    return *monitor.Stats(catalog::kOperationDuration, dims, window);
  };
  EXPECT_EQ(stats(minutes(1)).count, 0u);  // before the first tick

  for (int i = 0; i < 10; ++i) d.Record(1000);  // slow ones, in the slot ending at 10 s
  monitor.Tick(t0_ + seconds(10));
  for (int i = 0; i < 20; ++i) d.Record(10);  // fast ones, in the slot ending at 20 s
  monitor.Tick(t0_ + seconds(20));
  EXPECT_EQ(stats(minutes(1)).count, 30u);
  EXPECT_EQ(stats(minutes(1)).max, 1000);

  // Quiet ticks until 70 s: the slot ending at 10 s leaves the 1-minute window (its end is no
  // longer after now - 60 s), the one ending at 20 s stays.
  for (int s = 30; s <= 70; s += 10) monitor.Tick(t0_ + seconds(s));
  WindowStats one = stats(minutes(1));
  EXPECT_EQ(one.count, 20u);
  EXPECT_EQ(one.min, 10);  // a new low: exact
  // Not a new high (the 1000s came before): the bound of its bucket, within the bucket error.
  EXPECT_GE(one.max, 10);
  EXPECT_LE(one.max, 10 * (1 + kBucketError));
  EXPECT_LE(one.p99, 10 * (1 + kBucketError));
  EXPECT_EQ(stats(minutes(5)).count, 30u);
  EXPECT_EQ(stats(minutes(5)).max, 1000);

  monitor.Tick(t0_ + seconds(80));
  EXPECT_EQ(stats(minutes(1)).count, 0u);
  EXPECT_EQ(stats(minutes(15)).count, 30u);

  // Past the history everything is gone, and the ring does not hold it any more.
  monitor.Tick(t0_ + seconds(20) + minutes(15));
  EXPECT_EQ(stats(minutes(15)).count, 0u);
  // A window longer than the history is the history.
  EXPECT_EQ(stats(minutes(60)).count, 0u);
}

TEST_F(MonitorTest, TickIgnoresTimesThatDoNotAdvance) {
  Monitor monitor(*registry_);
  Count& c = monitor.GetCount(catalog::kBusinessEvents, {{"Event", "e"}});
  c.Add(2);
  monitor.Tick(t0_ + seconds(10));
  c.Add(3);
  monitor.Tick(t0_ + seconds(10));  // ignored: the 3 wait for the next slot
  monitor.Tick(t0_ + seconds(5));   // ignored
  EXPECT_EQ(monitor.Stats(catalog::kBusinessEvents, {{"Event", "e"}}, minutes(1))->count, 2u);
  monitor.Tick(t0_ + seconds(20));
  EXPECT_EQ(monitor.Stats(catalog::kBusinessEvents, {{"Event", "e"}}, minutes(1))->count, 5u);
}

TEST_F(MonitorTest, EachTickSetsTheWindowBytesGauge) {
  Monitor monitor(*registry_);
  Gauge& gauge = registry_->GetGauge("hasivu_monitor_window_bytes", "");
  Distribution& d = monitor.GetDistribution(catalog::kOperationDuration, {{"Operation", "g"}});
  EXPECT_EQ(gauge.Value(), 0);
  d.Record(10);
  monitor.Tick(t0_ + seconds(10));
  EXPECT_GT(gauge.Value(), 0);
  EXPECT_EQ(gauge.Value(), static_cast<int64_t>(monitor.WindowBytes()));
  for (int i = 0; i < 100; ++i) d.Record(i);
  monitor.Tick(t0_ + seconds(20));
  const int64_t two_slots = gauge.Value();
  EXPECT_GT(two_slots, 0);
  EXPECT_EQ(two_slots, static_cast<int64_t>(monitor.WindowBytes()));
  // Past the history the ring holds only the last (empty) slot: the gauge falls with it.
  monitor.Tick(t0_ + seconds(30) + minutes(15));
  EXPECT_LT(gauge.Value(), two_slots);
  EXPECT_EQ(gauge.Value(), static_cast<int64_t>(monitor.WindowBytes()));
}

TEST_F(MonitorTest, CountWindowsGiveTotalsAndPerTickStatistics) {
  Monitor monitor(*registry_);
  Count& c = monitor.GetCount(catalog::kBusinessEvents, {{"Event", "e"}});
  // Per-tick totals 4, 0, 6: the quiet tick counts as a zero.
  c.Add(4);
  monitor.Tick(t0_ + seconds(10));
  monitor.Tick(t0_ + seconds(20));
  c.Add(6);
  monitor.Tick(t0_ + seconds(30));
  WindowStats w = *monitor.Stats(catalog::kBusinessEvents, {{"Event", "e"}}, minutes(1));
  EXPECT_EQ(w.count, 10u);
  EXPECT_EQ(w.sum, 10);
  EXPECT_EQ(w.min, 0);
  EXPECT_EQ(w.max, 6);
  EXPECT_NEAR(w.mean, 10.0 / 3, 1e-12);
  EXPECT_EQ(w.p50, 4);
}

TEST_F(MonitorTest, StatsOfAnUnknownSeriesIsNullopt) {
  Monitor monitor(*registry_);
  monitor.Tick(t0_ + seconds(10));
  EXPECT_FALSE(monitor.Stats(catalog::kApiLatency, {{"Function", "orders-list"}}, minutes(1)));
}

// Two functions' latencies together: the percentiles of all their observations, which no
// mean of the two functions' own percentiles gives.
TEST_F(MonitorTest, MergedStatsArePercentilesOfTheSeriesTogether) {
  Monitor monitor(*registry_);
  const Dimensions fast = {{"Operation", "fast"}};
  const Dimensions slow = {{"Operation", "slow"}};
  Distribution& f = monitor.GetDistribution(catalog::kOperationDuration, fast);
  Distribution& s = monitor.GetDistribution(catalog::kOperationDuration, slow);
  std::vector<double> all;
  for (int i = 1; i <= 90; ++i) {
    f.Record(i);  // 1..90 ms
    all.push_back(i);
  }
  monitor.Tick(t0_ + seconds(10));
  for (int i = 1; i <= 10; ++i) {
    s.Record(1000 * i);  // 1..10 s, in the next slot
    all.push_back(1000 * i);
  }
  monitor.Tick(t0_ + seconds(20));
  std::sort(all.begin(), all.end());

  const Dimensions both[] = {fast, slow, {{"Operation", "never-created"}}};
  const std::optional<WindowStats> w =
      monitor.MergedStats(catalog::kOperationDuration, both, minutes(1));
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->count, 100u);
  ExpectNear(w->sum, 90 * 91 / 2 + 1000 * 55, 1e-9, "sum");
  EXPECT_EQ(w->min, 1);
  EXPECT_EQ(w->max, 10000);
  ExpectNear(w->p50, Exact(all, 0.50), kBucketError, "p50");
  ExpectNear(w->p95, Exact(all, 0.95), kBucketError, "p95");  // a slow one: 5 s
  EXPECT_GT(w->p95, 1000);
  // One series alone is what Stats gives.
  const std::optional<WindowStats> one =
      monitor.MergedStats(catalog::kOperationDuration, std::span(&fast, 1), minutes(1));
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->count, 90u);
  EXPECT_EQ(one->p95, monitor.Stats(catalog::kOperationDuration, fast, minutes(1))->p95);

  // The fast slot leaves the 1-minute window first.
  for (int t = 30; t <= 70; t += 10) monitor.Tick(t0_ + seconds(t));
  EXPECT_EQ(monitor.MergedStats(catalog::kOperationDuration, both, minutes(1))->count, 10u);
  EXPECT_EQ(monitor.MergedStats(catalog::kOperationDuration, both, minutes(5))->count, 100u);

  // None of them exists: nullopt.
  const Dimensions none[] = {{{"Operation", "nope"}}};
  EXPECT_FALSE(monitor.MergedStats(catalog::kOperationDuration, none, minutes(1)));
  EXPECT_FALSE(monitor.MergedStats(catalog::kOperationDuration, {}, minutes(1)));
}

TEST_F(MonitorTest, MergedCountStatsAddTheSeriesTickByTick) {
  Monitor monitor(*registry_);
  Count& a = monitor.GetCount(catalog::kBusinessEvents, {{"Event", "a"}});
  Count& b = monitor.GetCount(catalog::kBusinessEvents, {{"Event", "b"}});
  a.Add(4);
  monitor.Tick(t0_ + seconds(10));
  b.Add(6);
  monitor.Tick(t0_ + seconds(20));
  a.Add(1);
  b.Add(2);
  monitor.Tick(t0_ + seconds(30));
  const Dimensions both[] = {{{"Event", "a"}}, {{"Event", "b"}}};
  const WindowStats w = *monitor.MergedStats(catalog::kBusinessEvents, both, minutes(1));
  EXPECT_EQ(w.count, 13u);
  // Per-tick totals of the two together: 4, 6, 3.
  EXPECT_EQ(w.min, 3);
  EXPECT_EQ(w.max, 6);
  EXPECT_EQ(w.p50, 4);
}

TEST_F(MonitorTest, MergedStatsRefuseHistogramsInOtherUnits) {
  Monitor monitor(*registry_);
  // One created (recorded in ms), one adopted from a histogram of microseconds.
  monitor.GetDistribution(catalog::kApiLatency, {{"Function", "users-get"}}).Record(5);
  Histogram& route = registry_->GetHistogram("route_us", "route", {}, 1e-6);
  monitor.AdoptHistogram(catalog::kApiLatency, {{"Function", "orders-list"}}, route, 1e-3);
  route.Record(5000);
  monitor.Tick(t0_ + seconds(10));
  const Dimensions both[] = {{{"Function", "users-get"}}, {{"Function", "orders-list"}}};
  EXPECT_FALSE(monitor.MergedStats(catalog::kApiLatency, both, minutes(1)));
  EXPECT_EQ(monitor.Stats(catalog::kApiLatency, both[1], minutes(1))->count, 1u);
}

TEST_F(MonitorTest, CollectReportsWhatEachCursorHasNotSeen) {
  Monitor monitor(*registry_);
  const Dimensions op = {{"Operation", "collect"}};
  Distribution& d = monitor.GetDistribution(catalog::kOperationDuration, op);
  Count& c = monitor.GetCount(catalog::kBusinessEvents, {{"Event", "order_created"}});
  Cursor emf;
  Cursor alarm;

  d.Record(4);
  d.Record(8);
  c.Add(3);
  std::vector<SeriesInterval> first = monitor.Collect(emf);
  ASSERT_EQ(first.size(), 2u);
  const SeriesInterval* dist = Find(first, "OperationDuration", op);
  ASSERT_NE(dist, nullptr);
  EXPECT_EQ(dist->info.unit, Unit::kMilliseconds);
  EXPECT_EQ(dist->info.aggregation, Aggregation::kDistribution);
  EXPECT_EQ(dist->data.count, 2u);
  EXPECT_EQ(dist->data.sum, 12);
  EXPECT_EQ(dist->data.min, 4);
  EXPECT_EQ(dist->data.max, 8);
  ASSERT_EQ(dist->data.values.size(), 2u);
  EXPECT_EQ(dist->data.values[0], (std::pair<double, uint64_t>(4, 1)));
  EXPECT_EQ(dist->data.values[1], (std::pair<double, uint64_t>(8, 1)));
  EXPECT_EQ(Find(first, "BusinessEvents", {{"Event", "order_created"}})->data.count, 3u);

  d.Record(100);
  c.Add(1);
  std::vector<SeriesInterval> second = monitor.Collect(emf);
  dist = Find(second, "OperationDuration", op);
  EXPECT_EQ(dist->data.count, 1u);
  EXPECT_EQ(dist->data.sum, 100);
  EXPECT_EQ(dist->data.min, 100);  // a new high: exact
  EXPECT_EQ(dist->data.max, 100);
  EXPECT_EQ(Find(second, "BusinessEvents", {{"Event", "order_created"}})->data.count, 1u);
  EXPECT_EQ(Find(second, "BusinessEvents", {{"Event", "order_created"}})->data.sum, 1);

  // The other cursor has seen nothing yet: everything since the start.
  std::vector<SeriesInterval> other = monitor.Collect(alarm);
  EXPECT_EQ(Find(other, "OperationDuration", op)->data.count, 3u);
  EXPECT_EQ(Find(other, "OperationDuration", op)->data.sum, 112);
  EXPECT_EQ(Find(other, "BusinessEvents", {{"Event", "order_created"}})->data.count, 4u);

  // Nothing happened since: every series is there, with nothing in it.
  std::vector<SeriesInterval> quiet = monitor.Collect(emf);
  ASSERT_EQ(quiet.size(), 2u);
  EXPECT_EQ(Find(quiet, "OperationDuration", op)->data.count, 0u);
  EXPECT_TRUE(Find(quiet, "OperationDuration", op)->data.values.empty());
  EXPECT_EQ(Find(quiet, "BusinessEvents", {{"Event", "order_created"}})->data.count, 0u);

  // A series created after a cursor's first Collect starts from zero for it.
  monitor.GetCount(catalog::kBusinessEvents, {{"Event", "late"}}).Add(7);
  EXPECT_EQ(Find(monitor.Collect(emf), "BusinessEvents", {{"Event", "late"}})->data.count, 7u);
}

TEST_F(MonitorTest, CollectedDistributionsCarryRepresentativesWithinTheBucketError) {
  Monitor monitor(*registry_);
  Distribution& d = monitor.GetDistribution(catalog::kOperationDuration, {{"Operation", "reps"}});
  std::mt19937_64 rng(7);
  std::lognormal_distribution<> dist(2, 1);
  std::vector<double> values;
  Cursor cursor;
  d.Record(1);  // an earlier interval, so the next one's extremes come from its buckets
  monitor.Collect(cursor);
  for (int i = 0; i < 20'000; ++i) {
    values.push_back(std::max(1.5, dist(rng)));
    d.Record(values.back());
  }
  std::sort(values.begin(), values.end());
  const std::vector<SeriesInterval> all = monitor.Collect(cursor);
  const SeriesInterval* s = Find(all, "OperationDuration", {{"Operation", "reps"}});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->data.count, values.size());
  uint64_t total = 0;
  for (size_t i = 0; i < s->data.values.size(); ++i) {
    total += s->data.values[i].second;
    if (i > 0) {
      EXPECT_LT(s->data.values[i - 1].first, s->data.values[i].first);
    }
    EXPECT_GE(s->data.values[i].first, s->data.min);
    EXPECT_LE(s->data.values[i].first, s->data.max);
  }
  EXPECT_EQ(total, values.size());
  EXPECT_LE(s->data.values.size(), 200u);  // bucketed, not one per observation
  ExpectNear(s->data.min, values.front(), kBucketError, "min");
  ExpectNear(s->data.max, values.back(), kBucketError, "max");
  for (double q : {0.5, 0.95, 0.99}) {
    ExpectNear(s->data.Quantile(q), Exact(values, q), kBucketError, "quantile");
  }
}

TEST_F(MonitorTest, AdoptedHistogramIsShownInTheCatalogUnitWithoutRecordingTwice) {
  Monitor monitor(*registry_);
  Histogram& route = registry_->GetHistogram("hasivu_http_request_duration_seconds", "latency",
                                             {{"route", "orders-list"}}, 1e-6);
  const Dimensions dims = {{"Function", "orders-list"}};
  Distribution& handle = monitor.AdoptHistogram(catalog::kApiLatency, dims, route, 1e-3);
  EXPECT_FALSE(handle.dropping());
  route.Record(2500);  // microseconds, as the server records
  handle.Record(4);    // milliseconds, through the handle
  handle.RecordDuration(milliseconds(6));
  EXPECT_EQ(route.Snapshot().count, 3u);  // one histogram holds them all
  EXPECT_EQ(route.Snapshot().sum, 2500 + 4000 + 6000);

  // Asking for the series again gives the adopted handle, not a second series.
  EXPECT_EQ(&monitor.GetDistribution(catalog::kApiLatency, dims), &handle);
  EXPECT_EQ(&monitor.AdoptHistogram(catalog::kApiLatency, dims, route, 1e-3), &handle);
  EXPECT_EQ(monitor.Series().size(), 1u);
  EXPECT_EQ(registry_->RenderPrometheus().find("hasivu_api_latency"), std::string::npos);

  Cursor cursor;
  const std::vector<SeriesInterval> all = monitor.Collect(cursor);
  const SeriesInterval* s = Find(all, "ApiLatency", dims);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->data.count, 3u);
  EXPECT_DOUBLE_EQ(s->data.sum, 12.5);
  EXPECT_DOUBLE_EQ(s->data.min, 2.5);
  EXPECT_DOUBLE_EQ(s->data.max, 6);
  monitor.Tick(t0_ + seconds(10));
  WindowStats w = *monitor.Stats(catalog::kApiLatency, dims, minutes(1));
  EXPECT_DOUBLE_EQ(w.mean, 12.5 / 3);
  EXPECT_DOUBLE_EQ(w.max, 6);
}

TEST_F(MonitorTest, AdoptedCountersAndRatiosFollowTheirCounters) {
  Monitor monitor(*registry_);
  Counter& hits = registry_->GetCounter("hasivu_cache_hits_total", "hits", {{"tier", "memory"}});
  Counter& misses =
      registry_->GetCounter("hasivu_cache_misses_total", "misses", {{"tier", "memory"}});
  const Dimensions tier = {{"Tier", "memory"}};
  ASSERT_TRUE(monitor.AdoptCounters(catalog::kCacheHits, tier, {&hits}));
  ASSERT_TRUE(monitor.AdoptCounters(catalog::kCacheMisses, tier, {&misses}));
  ASSERT_TRUE(monitor.AdoptRatio(catalog::kCacheHitRate, tier, {&hits}, {&hits, &misses}));
  // The same series twice is refused.
  EXPECT_FALSE(monitor.AdoptRatio(catalog::kCacheHitRate, tier, {&hits}, {&hits, &misses}));
  // A read-only adopted series has no handle to record through.
  EXPECT_TRUE(monitor.GetCount(catalog::kCacheHits, tier).dropping());

  Cursor cursor;
  hits.Add(3);
  misses.Add(1);
  std::vector<SeriesInterval> first = monitor.Collect(cursor);
  EXPECT_EQ(Find(first, "CacheHits", tier)->data.count, 3u);
  EXPECT_EQ(Find(first, "CacheMisses", tier)->data.count, 1u);
  const SeriesInterval* rate = Find(first, "CacheHitRate", tier);
  EXPECT_EQ(rate->info.aggregation, Aggregation::kLatest);
  EXPECT_EQ(rate->info.unit, Unit::kPercent);
  EXPECT_EQ(rate->data.count, 1u);
  EXPECT_DOUBLE_EQ(rate->data.sum, 75);

  // Over the next interval only: 1 hit in 4 lookups.
  hits.Add(1);
  misses.Add(3);
  EXPECT_DOUBLE_EQ(Find(monitor.Collect(cursor), "CacheHitRate", tier)->data.sum, 25);

  // No lookups in the interval: the data point is missing, not 0 % and not the old value.
  const std::vector<SeriesInterval> quiet = monitor.Collect(cursor);
  const SeriesInterval* missing = Find(quiet, "CacheHitRate", tier);
  EXPECT_EQ(missing->data.count, 0u);
  EXPECT_EQ(missing->data.sum, 0);

  // Per tick in the ring too: ticks with lookups are samples, a quiet tick is not. (The ring
  // keeps its own baseline, apart from any cursor's: this tick sets it, outside the window.)
  monitor.Tick(t0_ - minutes(1));
  hits.Add(9);
  misses.Add(1);
  monitor.Tick(t0_ + seconds(10));  // 90 %
  monitor.Tick(t0_ + seconds(20));  // missing
  hits.Add(1);
  misses.Add(1);
  monitor.Tick(t0_ + seconds(30));  // 50 %
  WindowStats w = *monitor.Stats(catalog::kCacheHitRate, tier, minutes(1));
  EXPECT_EQ(w.count, 2u);
  EXPECT_DOUBLE_EQ(w.min, 50);
  EXPECT_DOUBLE_EQ(w.max, 90);
  EXPECT_DOUBLE_EQ(w.mean, 70);
}

// A counter that reads 0 and, when armed, records a hit into `hits` the first time it is read:
// a lookup landing between the monitor's read of a ratio's numerator and of its denominator.
class HitBetweenReads final : public Counter {
 public:
  explicit HitBetweenReads(Counter& hits) : hits_(hits) {}
  void Arm() { armed_ = true; }
  // metrics::Counter
  void Add(uint64_t) override {}
  uint64_t Value() const override {
    if (armed_) {
      armed_ = false;
      hits_.Add();
    }
    return 0;
  }

 private:
  Counter& hits_;
  mutable bool armed_ = false;
};

TEST_F(MonitorTest, ARatioReadsItsNumeratorFirst) {
  Monitor monitor(*registry_);
  Counter& hits = registry_->GetCounter("order_hits_total", "hits");
  Counter& misses = registry_->GetCounter("order_misses_total", "misses");
  HitBetweenReads between(hits);
  const Dimensions tier = {{"Tier", "order"}};
  // Whichever list is read first, its last counter records the hit, so it falls between reads.
  ASSERT_TRUE(monitor.AdoptRatio(catalog::kCacheHitRate, tier, {&hits, &between},
                                 {&hits, &misses, &between}));
  Cursor cursor;
  hits.Add(3);
  between.Arm();
  // Numerator first: 3 hits over 4 lookups. (Denominator first would give 4 hits over 3.)
  EXPECT_DOUBLE_EQ(Find(monitor.Collect(cursor), "CacheHitRate", tier)->data.sum, 75);
}

TEST_F(MonitorTest, ARatioIsClampedToAHundredPercent) {
  Monitor monitor(*registry_);
  Counter& l1_hits = registry_->GetCounter("clamp_l1_hits_total", "hits");
  Counter& l2_hits = registry_->GetCounter("clamp_l2_hits_total", "hits");
  Counter& l1_misses = registry_->GetCounter("clamp_l1_misses_total", "misses");
  const Dimensions all = {{"Tier", "all"}};
  // Every tier's hits over the outermost tier's lookups: L2 hits with no L1 lookup behind them
  // (L1 bypassed) would make it 4 / 2 = 200 %.
  ASSERT_TRUE(monitor.AdoptRatio(catalog::kCacheHitRate, all, {&l1_hits, &l2_hits},
                                 {&l1_hits, &l1_misses}));
  Cursor cursor;
  l1_hits.Add(1);
  l1_misses.Add(1);
  l2_hits.Add(3);
  EXPECT_DOUBLE_EQ(Find(monitor.Collect(cursor), "CacheHitRate", all)->data.sum, 100);
  monitor.Tick(t0_ - minutes(1));  // the ring's baseline, outside the window
  l2_hits.Add(7);
  l1_misses.Add(1);
  monitor.Tick(t0_ + seconds(10));
  const WindowStats w = *monitor.Stats(catalog::kCacheHitRate, all, minutes(1));
  EXPECT_EQ(w.count, 1u);
  EXPECT_DOUBLE_EQ(w.max, 100);
}

TEST_F(MonitorTest, AdoptedCounterHandleAddsToTheRegistryCounter) {
  Monitor monitor(*registry_);
  Counter& slow =
      registry_->GetCounter("hasivu_db_slow_operations_total", "slow", {{"kind", "read"}});
  Count& handle =
      monitor.AdoptCounter(catalog::kDatabaseSlowQueries, {{"QueryKind", "read"}}, slow);
  handle.Add(2);
  slow.Add();
  EXPECT_EQ(slow.Value(), 3u);
  EXPECT_EQ(&monitor.GetCount(catalog::kDatabaseSlowQueries, {{"QueryKind", "read"}}), &handle);
  Cursor cursor;
  EXPECT_EQ(
      Find(monitor.Collect(cursor), "DatabaseSlowQueries", {{"QueryKind", "read"}})->data.count,
      3u);
}

TEST_F(MonitorTest, LevelsAreSampledAtEachReadAndMissingWhenUnknown) {
  Monitor monitor(*registry_);
  std::optional<double> pool;
  ASSERT_TRUE(monitor.AddLevel(catalog::kDatabasePoolInUse, {}, [&pool] { return pool; }));
  EXPECT_FALSE(monitor.AddLevel(catalog::kDatabasePoolInUse, {}, [] { return 1.0; }));
  Cursor cursor;
  EXPECT_EQ(Find(monitor.Collect(cursor), "DatabasePoolInUse")->data.count, 0u);
  pool = 3;
  const std::vector<SeriesInterval> all = monitor.Collect(cursor);
  const SeriesInterval* s = Find(all, "DatabasePoolInUse");
  EXPECT_EQ(s->data.count, 1u);
  EXPECT_EQ(s->data.sum, 3);
  // The Prometheus gauge follows each read.
  EXPECT_NE(registry_->RenderPrometheus().find("hasivu_database_pool_in_use 3\n"),
            std::string::npos);

  monitor.Tick(t0_ + seconds(10));
  pool = 5;
  monitor.Tick(t0_ + seconds(20));
  WindowStats w = *monitor.Stats(catalog::kDatabasePoolInUse, {}, minutes(1));
  EXPECT_EQ(w.count, 2u);
  EXPECT_EQ(w.min, 3);
  EXPECT_EQ(w.max, 5);
  EXPECT_EQ(w.mean, 4);

  ASSERT_TRUE(monitor.SetLatest(catalog::kMemoryRss, {}, 1 << 20));
  EXPECT_DOUBLE_EQ(Find(monitor.Collect(cursor), "MemoryRss")->data.sum, 1 << 20);
  EXPECT_NE(registry_->RenderPrometheus().find("hasivu_memory_rss_bytes 1048576\n"),
            std::string::npos);
  // A level that is a callback cannot also be set.
  EXPECT_FALSE(monitor.SetLatest(catalog::kDatabasePoolInUse, {}, 1));
}

TEST_F(MonitorTest, ProcessResidentBytesReadsProc) {
  std::optional<int64_t> rss = ProcessResidentBytes();
  ASSERT_TRUE(rss.has_value());  // the tests run on Linux
  EXPECT_GT(*rss, 1 << 20);
}

TEST_F(MonitorTest, CreatedSeriesAreAlsoPrometheusSeries) {
  Monitor monitor(*registry_);
  monitor.GetDistribution(catalog::kOperationDuration, {{"Operation", "warm_up"}}).Record(250);
  monitor.GetCount(catalog::kBusinessEvents, {{"Event", "order_created"}}).Add(3);
  monitor.GetCount(catalog::kBusinessAmount, {{"Event", "order_created"}}).Add(4500);
  monitor
      .GetCount(catalog::kExternalCalls,
                {{"Service", "razorpay"}, {"Operation", "capture"}, {"StatusClass", "2xx"}})
      .Add();
  const std::string text = registry_->RenderPrometheus();
  EXPECT_NE(text.find("# TYPE hasivu_operation_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("hasivu_operation_duration_seconds_count{operation=\"warm_up\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("hasivu_operation_duration_seconds_sum{operation=\"warm_up\"} 0.25\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("hasivu_business_events_total{event=\"order_created\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("hasivu_business_amount_paise_total{event=\"order_created\"} 4500\n"),
            std::string::npos);
  EXPECT_NE(text.find("hasivu_external_calls_total{operation=\"capture\",service=\"razorpay\","
                      "status_class=\"2xx\"} 1\n"),
            std::string::npos);
}

TEST_F(MonitorTest, RecordByDefinitionNameAndBatch) {
  Monitor monitor(*registry_);
  EXPECT_TRUE(monitor.Record(catalog::kApiLatency, 5, {{"Function", "orders-list"}}));
  EXPECT_TRUE(monitor.Record("ApiLatency", 7, {{"Function", "orders-list"}}));
  EXPECT_TRUE(monitor.Record("ApiRequests", 2, {{"Function", "orders-list"}}));
  EXPECT_TRUE(monitor.Record("ApiErrorRate", 0.5));
  EXPECT_FALSE(monitor.Record("NoSuchMetric", 1));
  EXPECT_FALSE(monitor.Record("ApiRequests", -1, {{"Function", "orders-list"}}));
  EXPECT_FALSE(monitor.Record("ApiLatency", std::nan(""), {{"Function", "orders-list"}}));
  EXPECT_FALSE(monitor.Record("ApiLatency", 1, {{"Route", "orders-list"}}));  // wrong dimension
  EXPECT_EQ(monitor.DroppedObservations(), 4u);

  const Observation batch[] = {
      {.def = nullptr,
       .name = "ApiLatency",
       .value = 9,
       .dimensions = {{"Function", "orders-list"}}},
      {.def = &catalog::kApiRequests,
       .name = {},
       .value = 1,
       .dimensions = {{"Function", "orders-list"}}},
      {.def = nullptr, .name = "Nope", .value = 1, .dimensions = {}},
  };
  EXPECT_EQ(monitor.RecordBatch(batch), 2u);

  Cursor cursor;
  std::vector<SeriesInterval> all = monitor.Collect(cursor);
  const SeriesInterval* latency = Find(all, "ApiLatency", {{"Function", "orders-list"}});
  EXPECT_EQ(latency->data.count, 3u);
  EXPECT_EQ(latency->data.sum, 21);
  EXPECT_EQ(Find(all, "ApiRequests", {{"Function", "orders-list"}})->data.count, 3u);
  EXPECT_DOUBLE_EQ(Find(all, "ApiErrorRate")->data.sum, 0.5);
}

// ---- Bounded cardinality ------------------------------------------------------------------------

constexpr catalog::MetricDef kByUser{"LatencyByUser",
                                     Unit::kMilliseconds,
                                     Aggregation::kDistribution,
                                     {"UserId"},
                                     "must never exist"};
constexpr catalog::MetricDef kByOrder{
    "CountByOrder", Unit::kCount, Aggregation::kSum, {"OrderID"}, "must never exist"};
constexpr catalog::MetricDef kByRequest{
    "CountByRequest", Unit::kCount, Aggregation::kSum, {"request_id"}, "must never exist"};

TEST_F(MonitorTest, IdDimensionsAreRefusedAndTheirObservationsDroppedAndCounted) {
  Monitor monitor(*registry_);
  Distribution& by_user = monitor.GetDistribution(kByUser, {{"UserId", "u1"}});
  Count& by_order = monitor.GetCount(kByOrder, {{"OrderID", "o1"}});
  Count& by_request = monitor.GetCount(kByRequest, {{"request_id", "r1"}});
  EXPECT_TRUE(by_user.dropping());
  EXPECT_TRUE(by_order.dropping());
  EXPECT_TRUE(by_request.dropping());
  // An id as the value of an innocent name, and values no fixed set holds.
  EXPECT_TRUE(
      monitor
          .GetCount(catalog::kBusinessEvents, {{"Event", "0190a5c2-7d4e-7b1a-9c3f-0123456789ab"}})
          .dropping());
  EXPECT_TRUE(
      monitor.GetCount(catalog::kBusinessEvents, {{"Event", std::string(65, 'x')}}).dropping());
  EXPECT_TRUE(monitor.GetCount(catalog::kBusinessEvents, {{"Event", ""}}).dropping());
  // Dimensions other than the definition's, too many, duplicated, or the wrong aggregation.
  EXPECT_TRUE(monitor.GetCount(catalog::kBusinessEvents, {}).dropping());
  EXPECT_TRUE(
      monitor.GetCount(catalog::kBusinessEvents, {{"Event", "a"}, {"Tier", "memory"}}).dropping());
  Dimensions many;
  for (int i = 0; i < 31; ++i) many.emplace_back("D" + std::to_string(i), "v");
  EXPECT_TRUE(monitor.GetCount(catalog::kBusinessEvents, many).dropping());
  EXPECT_TRUE(
      monitor.GetCount(catalog::kBusinessEvents, {{"Event", "a"}, {"Event", "b"}}).dropping());
  EXPECT_TRUE(monitor.GetCount(catalog::kApiLatency, {{"Function", "f"}}).dropping());
  EXPECT_EQ(monitor.DroppedSeries(), 11u);

  by_user.Record(3);
  by_user.RecordDuration(milliseconds(3));
  by_order.Add(5);
  by_request.Add();
  EXPECT_EQ(monitor.DroppedObservations(), 4u);
  EXPECT_TRUE(monitor.Series().empty());
  Cursor cursor;
  EXPECT_TRUE(monitor.Collect(cursor).empty());
  const std::string text = registry_->RenderPrometheus();
  EXPECT_NE(text.find("hasivu_metrics_dropped_series_total 11\n"), std::string::npos);
  EXPECT_NE(text.find("hasivu_metrics_dropped_observations_total 4\n"), std::string::npos);
  EXPECT_EQ(text.find("user"), std::string::npos);
  EXPECT_EQ(text.find("u1"), std::string::npos);
}

TEST_F(MonitorTest, SeriesBeyondTheLimitsAreRefused) {
  Monitor monitor(*registry_, {.max_series = 5, .max_series_per_name = 3});
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(monitor.GetCount(catalog::kBusinessEvents, {{"Event", "e" + std::to_string(i)}})
                     .dropping());
  }
  Count& fourth = monitor.GetCount(catalog::kBusinessEvents, {{"Event", "e3"}});
  EXPECT_TRUE(fourth.dropping());
  // Existing series are still handed out.
  EXPECT_FALSE(monitor.GetCount(catalog::kBusinessEvents, {{"Event", "e0"}}).dropping());
  // Another name has room until the total limit.
  EXPECT_FALSE(monitor.GetCount(catalog::kCacheHits, {{"Tier", "memory"}}).dropping());
  EXPECT_FALSE(monitor.GetCount(catalog::kCacheHits, {{"Tier", "redis"}}).dropping());
  EXPECT_TRUE(monitor.GetCount(catalog::kCacheHits, {{"Tier", "l1"}}).dropping());
  EXPECT_FALSE(monitor.AdoptRatio(catalog::kCacheHitRate, {{"Tier", "memory"}}, {}, {}));
  EXPECT_FALSE(monitor.AddLevel(catalog::kMemoryRss, {}, [] { return 1.0; }));
  EXPECT_EQ(monitor.Series().size(), 5u);
  EXPECT_EQ(monitor.DroppedSeries(), 4u);
  fourth.Add(10);
  EXPECT_EQ(monitor.DroppedObservations(), 1u);
}

TEST_F(MonitorTest, DimensionOrderDoesNotMakeAnotherSeries) {
  Monitor monitor(*registry_);
  Count& a =
      monitor.GetCount(catalog::kExternalCalls,
                       {{"Service", "razorpay"}, {"Operation", "x"}, {"StatusClass", "2xx"}});
  Count& b =
      monitor.GetCount(catalog::kExternalCalls,
                       {{"StatusClass", "2xx"}, {"Operation", "x"}, {"Service", "razorpay"}});
  EXPECT_EQ(&a, &b);
  ASSERT_EQ(monitor.Series().size(), 1u);
  // Stored sorted by name, as series.h says.
  EXPECT_EQ(monitor.Series()[0].dimensions,
            (Dimensions{{"Operation", "x"}, {"Service", "razorpay"}, {"StatusClass", "2xx"}}));
}

TEST_F(MonitorTest, TheRingIsBoundedByTheHistoryNotByTraffic) {
  Monitor monitor(*registry_);
  Distribution& d = monitor.GetDistribution(catalog::kOperationDuration, {{"Operation", "ring"}});
  std::mt19937_64 rng(1);
  std::lognormal_distribution<> dist(1, 1);
  auto run = [&](int from, int to) {
    for (int t = from; t < to; ++t) {
      for (int i = 0; i < 200; ++i) d.Record(dist(rng));
      monitor.Tick(t0_ + seconds(10) * t);
    }
  };
  run(1, 100);  // 99 ticks: more than the 90 slots of 15 minutes
  const size_t after_100 = monitor.WindowBytes();
  run(100, 400);
  const size_t after_400 = monitor.WindowBytes();
  EXPECT_GT(after_100, 0u);
  EXPECT_LT(after_400, after_100 * 5 / 4);  // three times the traffic, about the same memory
  EXPECT_LT(after_400, 90u * 8 * kHistogramBucketCount + 90u * 256);
}

// The ring's gauge is what the ring takes of the heap (the soak subtracts it from the live heap):
// measured by the allocator over 90 ticks of 40 series, within a tenth.
TEST_F(MonitorTest, WindowBytesIsWhatTheRingTakesOfTheHeap) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer's allocator replaces glibc's";
#endif
  Monitor monitor(*registry_);
  std::vector<Distribution*> series;
  for (int i = 0; i < 40; ++i) {
    series.push_back(&monitor.GetDistribution(catalog::kOperationDuration,
                                              {{"Operation", "heap" + std::to_string(i)}}));
  }
  // The same 20 values each tick: the histograms' own storage is all made before the measurement
  // (a histogram allocates a bucket when first touched), so what grows is the monitor's.
  std::mt19937_64 rng(7);
  std::lognormal_distribution<> dist(1, 1);
  std::vector<double> values;
  for (int i = 0; i < 20; ++i) values.push_back(dist(rng));
  const auto record = [&] {
    for (Distribution* d : series) {
      for (double v : values) d->Record(v);
    }
  };
  record();
  monitor.Tick(t0_);
  const size_t ring_before = monitor.WindowBytes();
  const size_t heap_before = mallinfo2().uordblks;
  for (int t = 1; t <= 90; ++t) {
    record();
    monitor.Tick(t0_ + seconds(10) * t);
  }
  const double ring_grew = static_cast<double>(monitor.WindowBytes() - ring_before);
  const double heap_grew = static_cast<double>(mallinfo2().uordblks - heap_before);
  ASSERT_GT(heap_grew, 0);
  EXPECT_NEAR(ring_grew / heap_grew, 1.0, 0.1) << "ring " << ring_grew << ", heap " << heap_grew;
}

TEST_F(MonitorTest, TickerTicksOnItsThreadUntilStopped) {
  Monitor monitor(*registry_, {.resolution = milliseconds(1)});
  Count& c = monitor.GetCount(catalog::kBusinessEvents, {{"Event", "tick"}});
  c.Add(4);
  MonitorTicker ticker(monitor);
  // Waits for the ticker's work, whatever the machine's speed (no timing is asserted).
  std::optional<WindowStats> w;
  for (int i = 0; i < 20'000; ++i) {
    w = monitor.Stats(catalog::kBusinessEvents, {{"Event", "tick"}}, minutes(1));
    if (w && w->count == 4) break;
    std::this_thread::sleep_for(milliseconds(1));
  }
  ticker.Stop();
  ticker.Stop();  // idempotent
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->count, 4u);
}

// Recorders, the ticker, a collector and series creation all at once (run under tsan too): the
// totals come out exact.
TEST_F(MonitorTest, RecordingTickingCollectingAndCreatingConcurrently) {
  Monitor monitor(*registry_, {.resolution = milliseconds(1)});
  Distribution& d = monitor.GetDistribution(catalog::kOperationDuration, {{"Operation", "conc"}});
  Count& c = monitor.GetCount(catalog::kBusinessEvents, {{"Event", "conc"}});
  Counter& hits = registry_->GetCounter("conc_hits_total", "h");
  ASSERT_TRUE(monitor.AdoptRatio(catalog::kCacheHitRate, {{"Tier", "conc"}}, {&hits}, {&hits}));
  MonitorTicker ticker(monitor);
  constexpr int kPerThread = 20'000;
  std::vector<std::thread> recorders;
  for (int t = 0; t < 2; ++t) {
    recorders.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        d.Record(1 + i % 100);
        c.Add();
        hits.Add();
      }
    });
  }
  Cursor running;
  uint64_t collected = 0;
  for (int i = 0; i < 50; ++i) {
    for (const SeriesInterval& s : monitor.Collect(running)) {
      if (s.info.name == "BusinessEvents" && s.info.dimensions == Dimensions{{"Event", "conc"}}) {
        collected += s.data.count;
      }
    }
    monitor.GetCount(catalog::kBusinessEvents, {{"Event", "n" + std::to_string(i)}}).Add();
    monitor.Stats(catalog::kOperationDuration, {{"Operation", "conc"}}, minutes(1));
  }
  for (std::thread& t : recorders) t.join();
  ticker.Stop();
  for (const SeriesInterval& s : monitor.Collect(running)) {
    if (s.info.name == "BusinessEvents" && s.info.dimensions == Dimensions{{"Event", "conc"}}) {
      collected += s.data.count;
    }
  }
  EXPECT_EQ(collected, 2u * kPerThread);  // every addition in exactly one interval
  Cursor fresh;
  const std::vector<SeriesInterval> all = monitor.Collect(fresh);
  EXPECT_EQ(Find(all, "OperationDuration", {{"Operation", "conc"}})->data.count, 2u * kPerThread);
  EXPECT_EQ(monitor.Series().size(), 53u);
}

TEST(ResidentBytesTest, ParsesTheSecondFieldOfStatm) {
  EXPECT_EQ(ResidentBytesFromStatm("2743 1042 631 219 0 505 0\n", 4096), 1042 * 4096);
  EXPECT_EQ(ResidentBytesFromStatm("10 0 0 0 0 0 0", 4096), 0);
  EXPECT_EQ(ResidentBytesFromStatm("10 3", 16384), 3 * 16384);
  EXPECT_FALSE(ResidentBytesFromStatm("", 4096).has_value());
  EXPECT_FALSE(ResidentBytesFromStatm("2743", 4096).has_value());
  EXPECT_FALSE(ResidentBytesFromStatm("2743 x 631", 4096).has_value());
  EXPECT_FALSE(ResidentBytesFromStatm("2743 -5 631", 4096).has_value());
  EXPECT_FALSE(ResidentBytesFromStatm("2743  631", 4096).has_value());  // empty field
  EXPECT_FALSE(ResidentBytesFromStatm("1 99999999999999999999 1", 4096).has_value());
  EXPECT_FALSE(ResidentBytesFromStatm("1 4611686018427387904 1", 4096).has_value());  // overflow
  EXPECT_FALSE(ResidentBytesFromStatm("1 2 3", 0).has_value());
}

}  // namespace
}  // namespace hasivu::metrics
