#include "metrics/window.h"

#include <gtest/gtest.h>

#include <vector>

namespace hasivu::metrics::window {
namespace {

HistogramCounts Cumulative(Histogram& h) { return FromSnapshot(h.Snapshot()); }

class WindowTest : public ::testing::Test {
 protected:
  RegistryPtr registry_ = NewRegistry();
  Histogram& h_ = registry_->GetHistogram("h", "h");
};

TEST_F(WindowTest, SnapshotBucketsAreNamedByTheirIndex) {
  for (double v : {0.0, 0.0005, 1.0, 1.07, 3.0, 1e6, 5e12}) h_.Record(v);
  HistogramCounts c = Cumulative(h_);
  ASSERT_EQ(c.count, 7u);
  ASSERT_EQ(c.buckets.size(), 6u);  // 0 and 0.0005 share the first bucket
  EXPECT_EQ(c.buckets.front().index, 0u);
  EXPECT_EQ(c.buckets.front().count, 2u);
  EXPECT_EQ(c.buckets[1].index, HistogramBucketIndex(1.0));
  EXPECT_EQ(c.buckets[2].index, HistogramBucketIndex(1.07));
  EXPECT_EQ(c.buckets.back().index, kHistogramBucketCount - 1);  // overflow
  for (size_t i = 1; i < c.buckets.size(); ++i) {
    EXPECT_LT(c.buckets[i - 1].index, c.buckets[i].index);
  }
}

TEST_F(WindowTest, DiffKeepsOnlyWhatWasRecordedInBetween) {
  for (double v : {10.0, 20.0, 30.0}) h_.Record(v);
  const HistogramCounts before = Cumulative(h_);
  for (double v : {20.0, 25.0}) h_.Record(v);
  const HistogramCounts d = Diff(Cumulative(h_), before);
  EXPECT_EQ(d.count, 2u);
  EXPECT_DOUBLE_EQ(d.sum, 45);
  uint64_t total = 0;
  for (const BucketCount& b : d.buckets) total += b.count;
  EXPECT_EQ(total, 2u);
  // Neither extreme is new (10 and 30 came before): bucket bounds, within the bucket error.
  EXPECT_LE(d.min, 20.0);
  EXPECT_GE(d.min, 20.0 * (1 - 1.0 / kSubBuckets));
  EXPECT_GE(d.max, 25.0);
  EXPECT_LE(d.max, 25.0 * (1 + 1.0 / kSubBuckets));
}

TEST_F(WindowTest, DiffExtremesAreExactWhenNewOrFirst) {
  h_.Record(50);
  const HistogramCounts empty;
  HistogramCounts first = Diff(Cumulative(h_), empty);
  EXPECT_EQ(first.min, 50);
  EXPECT_EQ(first.max, 50);
  const HistogramCounts before = Cumulative(h_);
  h_.Record(3);
  h_.Record(900);
  HistogramCounts d = Diff(Cumulative(h_), before);
  EXPECT_EQ(d.min, 3);
  EXPECT_EQ(d.max, 900);
}

TEST_F(WindowTest, DiffOfNothingIsEmpty) {
  h_.Record(5);
  const HistogramCounts c = Cumulative(h_);
  HistogramCounts d = Diff(c, c);
  EXPECT_EQ(d.count, 0u);
  EXPECT_TRUE(d.buckets.empty());
  EXPECT_EQ(d.sum, 0);
}

TEST_F(WindowTest, RepresentativesAreClampedMidpointsInOrder) {
  // 103 and 103.5 share [100, 104) (midpoint 102, under min); 290 is in [288, 304) (midpoint
  // 296, over max).
  for (double v : {103.0, 103.5, 200.0, 290.0}) h_.Record(v);
  HistogramCounts d = Diff(Cumulative(h_), HistogramCounts{});
  std::vector<std::pair<double, uint64_t>> reps = Representatives(d, 0.5);
  ASSERT_EQ(reps.size(), 3u);
  EXPECT_EQ(reps[0].first, 103 * 0.5);
  EXPECT_EQ(reps[0].second, 2u);
  const double lo = HistogramBucketLower(HistogramBucketIndex(200));
  const double hi = HistogramBucketUpper(HistogramBucketIndex(200));
  EXPECT_DOUBLE_EQ(reps[1].first, (lo + hi) / 2 * 0.5);
  EXPECT_EQ(reps[1].second, 1u);
  EXPECT_EQ(reps[2].first, 290 * 0.5);
}

TEST_F(WindowTest, DenseCountsBecomeAQuantileableSnapshot) {
  std::vector<uint64_t> dense(kHistogramBucketCount, 0);
  for (int v = 1; v <= 100; ++v) h_.Record(v);
  AddTo(dense, Cumulative(h_));
  AddTo(dense, Cumulative(h_));  // the same counts twice: twice as many, same shape
  HistogramSnapshot s = SnapshotOf(dense, 2 * 5050, 1, 100);
  EXPECT_EQ(s.count, 200u);
  EXPECT_NEAR(s.Quantile(0.5), 50, 50.0 / kSubBuckets);
  EXPECT_EQ(s.Quantile(1.0), 100);
}

TEST(NearestRankTest, PicksTheSmallestValueWithEnoughAtOrBelow) {
  std::vector<double> v = {5, 1, 4, 2, 3};
  EXPECT_EQ(NearestRank(v, 0.5), 3);
  EXPECT_EQ(NearestRank(v, 0.95), 5);
  EXPECT_EQ(NearestRank(v, 0.0), 1);
  std::vector<double> none;
  EXPECT_EQ(NearestRank(none, 0.5), 0);
}

}  // namespace
}  // namespace hasivu::metrics::window
