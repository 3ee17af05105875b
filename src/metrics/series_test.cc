#include "metrics/series.h"

#include <gtest/gtest.h>

namespace hasivu::metrics {
namespace {

TEST(UnitNameTest, UsesCloudWatchSpelling) {
  EXPECT_EQ(UnitName(Unit::kMilliseconds), "Milliseconds");
  EXPECT_EQ(UnitName(Unit::kCountPerSecond), "Count/Second");
  EXPECT_EQ(UnitName(Unit::kPercent), "Percent");
}

TEST(IntervalDataTest, QuantileIsNearestRankOverTheValues) {
  IntervalData d;
  d.count = 10;
  d.values = {{1.0, 5}, {2.0, 4}, {9.0, 1}};
  EXPECT_EQ(d.Quantile(0.0), 1.0);
  EXPECT_EQ(d.Quantile(0.5), 1.0);   // rank 5
  EXPECT_EQ(d.Quantile(0.51), 2.0);  // rank 6
  EXPECT_EQ(d.Quantile(0.9), 2.0);   // rank 9
  EXPECT_EQ(d.Quantile(0.95), 9.0);  // rank 10
  EXPECT_EQ(d.Quantile(1.0), 9.0);
}

TEST(IntervalDataTest, QuantileOfNothingIsZero) { EXPECT_EQ(IntervalData{}.Quantile(0.5), 0.0); }

}  // namespace
}  // namespace hasivu::metrics
