#include "bench/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace hasivu::bench {
namespace {

TEST(PercentileTest, InterpolatesBetweenTheClosestRanks) {
  const std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(Percentile(v, 0.0), 1);
  EXPECT_DOUBLE_EQ(Percentile(v, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(Percentile(v, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(Percentile(v, 1.0), 4);
  EXPECT_DOUBLE_EQ(Percentile(std::vector<double>{7}, 0.99), 7);
  EXPECT_DOUBLE_EQ(Percentile(std::vector<double>{}, 0.5), 0);
  EXPECT_DOUBLE_EQ(Percentile(v, 1.5), 4);  // clamped, never past the end
  EXPECT_DOUBLE_EQ(Percentile(v, -1), 1);
  // numpy.percentile(range(1, 101), 99) == 99.01
  std::vector<double> hundred;
  for (int i = 1; i <= 100; ++i) hundred.push_back(i);
  EXPECT_NEAR(Percentile(hundred, 0.99), 99.01, 1e-9);
  EXPECT_NEAR(Percentile(hundred, 0.999), 99.901, 1e-9);
}

TEST(SummarizeTest, ExactFiguresOfASmallSample) {
  auto s = Summarize({5, 1, 4, 2, 3});  // unsorted on purpose
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->count, 5u);
  EXPECT_DOUBLE_EQ(s->min, 1);
  EXPECT_DOUBLE_EQ(s->max, 5);
  EXPECT_DOUBLE_EQ(s->mean, 3);
  EXPECT_DOUBLE_EQ(s->stddev, std::sqrt(2.5));  // sum of squares 10 over n - 1 = 4
  EXPECT_DOUBLE_EQ(s->p50, 3);
  EXPECT_DOUBLE_EQ(s->p90, 4.6);
  EXPECT_DOUBLE_EQ(s->p99, 4.96);
}

TEST(SummarizeTest, EmptyAndSingleSamples) {
  auto empty = Summarize({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->count, 0u);
  EXPECT_EQ(empty->p99, 0);
  auto one = Summarize({0.25});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->count, 1u);
  EXPECT_EQ(one->stddev, 0);
  EXPECT_EQ(one->p999, 0.25);
  EXPECT_EQ(one->min, one->max);
}

TEST(SummarizeTest, RefusesWhatIsNotANumber) {
  EXPECT_EQ(Summarize({1, std::nan(""), 2}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Summarize({std::numeric_limits<double>::infinity()}).status().code(),
            StatusCode::kInvalidArgument);
}

// Large samples of known distributions: the sample's figures are within a few standard errors
// of the distribution's own (fixed seeds, so the test is deterministic and still a real check).
TEST(SummarizeTest, KnownDistributions) {
  constexpr int kN = 200'000;
  std::mt19937_64 rng(14);

  std::vector<double> uniform;
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < kN; ++i) uniform.push_back(u(rng));
  auto su = Summarize(uniform);
  ASSERT_TRUE(su.ok());
  EXPECT_NEAR(su->mean, 0.5, 0.003);
  EXPECT_NEAR(su->stddev, 1 / std::sqrt(12.0), 0.003);
  EXPECT_NEAR(su->p50, 0.50, 0.004);
  EXPECT_NEAR(su->p95, 0.95, 0.002);
  EXPECT_NEAR(su->p99, 0.99, 0.001);
  EXPECT_NEAR(su->p999, 0.999, 0.0003);

  // Exponential (rate 2): quantile q at -ln(1 - q) / 2; mean and stddev 1/2.
  std::vector<double> expo;
  std::exponential_distribution<double> e(2.0);
  for (int i = 0; i < kN; ++i) expo.push_back(e(rng));
  auto se = Summarize(expo);
  ASSERT_TRUE(se.ok());
  const auto q = [](double p) { return -std::log(1 - p) / 2; };
  EXPECT_NEAR(se->mean, 0.5, 0.005);
  EXPECT_NEAR(se->stddev, 0.5, 0.006);
  EXPECT_NEAR(se->p50, q(0.50), 0.005);
  EXPECT_NEAR(se->p90, q(0.90), 0.01);
  EXPECT_NEAR(se->p99, q(0.99), 0.04);
  EXPECT_NEAR(se->p999, q(0.999), 0.2);

  // A bimodal latency: 99 % fast (1 ms), 1 % stalled (100 ms). p99 sits on the edge and p99.9
  // in the stall, the shape a mean hides.
  std::vector<double> bimodal(kN, 1.0);
  for (int i = 0; i < kN / 100; ++i) bimodal[i * 100] = 100.0;
  auto sb = Summarize(bimodal);
  ASSERT_TRUE(sb.ok());
  EXPECT_DOUBLE_EQ(sb->p50, 1.0);
  EXPECT_DOUBLE_EQ(sb->p95, 1.0);
  EXPECT_DOUBLE_EQ(sb->p999, 100.0);
  EXPECT_NEAR(sb->mean, 1.99, 1e-9);
}

TEST(SpreadTest, MedianAndRange) {
  const Spread s = SpreadOf(std::vector<double>{30, 10, 20});
  EXPECT_EQ(s.median, 20);
  EXPECT_EQ(s.min, 10);
  EXPECT_EQ(s.max, 30);
  EXPECT_EQ(SpreadOf(std::vector<double>{10, 20, 30, 40}).median, 25);
}

TEST(CompareRunsTest, AWorseMedianBeyondBothSpreadsIsARegressionByItsSize) {
  const std::vector<double> base = {100, 102, 98};
  // Latency (lower is better): +6 %, +12 %, +25 %.
  const Comparison minor = CompareRuns(base, std::vector<double>{106, 105, 107}, Better::kLower);
  EXPECT_TRUE(minor.beyond_noise);
  EXPECT_NEAR(minor.worse_by, 0.06, 1e-9);
  EXPECT_NEAR(minor.ratio, 1.06, 1e-9);
  EXPECT_EQ(minor.level, RegressionLevel::kMinor);
  EXPECT_EQ(CompareRuns(base, std::vector<double>{112, 111, 113}, Better::kLower).level,
            RegressionLevel::kModerate);
  EXPECT_EQ(CompareRuns(base, std::vector<double>{125, 124, 126}, Better::kLower).level,
            RegressionLevel::kSevere);
  // Throughput (higher is better): 12 % fewer requests/s.
  const Comparison slower = CompareRuns(base, std::vector<double>{88, 87, 89}, Better::kHigher);
  EXPECT_NEAR(slower.worse_by, 0.12, 1e-9);
  EXPECT_EQ(slower.level, RegressionLevel::kModerate);
  EXPECT_EQ(RegressionLevelName(slower.level), "moderate");
}

TEST(CompareRunsTest, BetterOrWithinTheNoiseIsNoRegression) {
  const std::vector<double> base = {100, 102, 98};
  // 25 % faster: beyond the noise, but better.
  const Comparison faster = CompareRuns(base, std::vector<double>{75, 76, 74}, Better::kLower);
  EXPECT_TRUE(faster.beyond_noise);
  EXPECT_LT(faster.worse_by, 0);
  EXPECT_EQ(faster.level, RegressionLevel::kNone);
  // A median 15 % worse, but the runs scatter so widely that each median is inside the other's
  // range: the noise, not a regression.
  const std::vector<double> noisy_base = {80, 100, 130};
  const Comparison noisy =
      CompareRuns(noisy_base, std::vector<double>{90, 115, 140}, Better::kLower);
  EXPECT_NEAR(noisy.worse_by, 0.15, 1e-9);
  EXPECT_FALSE(noisy.beyond_noise);
  EXPECT_EQ(noisy.level, RegressionLevel::kNone);
  // A tight baseline and scattered current runs: the current median is outside the baseline's
  // range, but the baseline's is inside the current runs' own spread, so they do not tell.
  const Comparison scattered = CompareRuns(std::vector<double>{99, 100, 101},
                                           std::vector<double>{80, 110, 140}, Better::kLower);
  EXPECT_FALSE(scattered.beyond_noise);
  EXPECT_EQ(scattered.level, RegressionLevel::kNone);
  // Identical runs.
  EXPECT_EQ(CompareRuns(base, base, Better::kLower).level, RegressionLevel::kNone);
}

}  // namespace
}  // namespace hasivu::bench
